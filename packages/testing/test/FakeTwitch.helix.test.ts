import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"
import { FakeTwitch } from "../src/index.js"

const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users

type WireResponse = FakeTwitch.FakeTwitch.WireResponse

const helixRequest = (
  path: string,
  headers: Record<string, string>,
  params: Record<string, string> = {},
  method = "GET"
): FakeTwitch.FakeTwitch.HelixRequest => ({ method, headers, params, path })

/** Headers of a well-formed Helix call. */
const auth = (token: string, clientId: string = confidential.clientId) => ({
  authorization: `Bearer ${token}`,
  "client-id": clientId
})

const body = (response: WireResponse): unknown => JSON.parse(response.body)

const reasons: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  429: "Too Many Requests",
  502: "Bad Gateway",
  503: "Service Unavailable"
}

const expectHelixError = (response: WireResponse, status: number, message: string) => {
  assert.strictEqual(response.status, status)
  assert.strictEqual(response.headers["content-type"], "application/json")
  assert.deepStrictEqual(body(response), { error: reasons[status], status, message })
  assert.isUndefined(response.headers["www-authenticate"])
}

const twitchdevUser = {
  id: "141981764",
  login: "twitchdev",
  display_name: "Twitchdev",
  type: "",
  broadcaster_type: "",
  description: "",
  profile_image_url: "",
  offline_image_url: "",
  view_count: 0,
  created_at: "2016-12-14T20:32:28Z"
}

/** A fake with the seed, a user token (given scopes) and an app token for the confidential client. */
const setup = (scopes: ReadonlyArray<string> = [], options: FakeTwitch.FakeTwitch.Options = {}) =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.make(options)
    const userToken = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes })
    const app = yield* twitch.token({
      method: "POST",
      headers: {},
      params: {
        client_id: confidential.clientId,
        client_secret: confidential.clientSecret,
        grant_type: "client_credentials"
      }
    })
    const appToken: string = Object(body(app))["access_token"]
    return { twitch, userToken: userToken.accessToken, appToken }
  })

describe("helix authentication", () => {
  it.effect("Bearer and Client-Id: 200", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      const response = yield* twitch.helix(
        helixRequest("/users", { authorization: `Bearer ${userToken}`, "client-id": confidential.clientId })
      )
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(body(response), { data: [twitchdevUser] })
    }))

  it.effect("issue 12 #4: Helix refuses a lowercase bearer: 401 OAuth token is missing", () =>
    Effect.gen(function*() {
      const { appToken, twitch, userToken } = yield* setup()
      for (const token of [userToken, appToken]) {
        for (const prefix of ["bearer", "BEARER", "BeArEr"]) {
          expectHelixError(
            yield* twitch.helix(
              helixRequest("/users", { authorization: `${prefix} ${token}`, "client-id": confidential.clientId }, {
                id: user.userId
              })
            ),
            401,
            "OAuth token is missing"
          )
        }
      }
      // /oauth2/userinfo documents the same `Authorization: Bearer` header (guess: the refusal's wording)
      const oidc = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["openid"]
      })
      const userinfo = (prefix: string) =>
        twitch.userinfo({ method: "GET", headers: { authorization: `${prefix} ${oidc.accessToken}` }, params: {} })
      assert.strictEqual((yield* userinfo("Bearer")).status, 200)
      const lowercase = yield* userinfo("bearer")
      assert.deepStrictEqual([lowercase.status, body(lowercase)], [401, {
        status: 401,
        message: "missing authorization token"
      }])
    }))

  it.effect("an OAuth prefix or no Authorization header: OAuth token is missing", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      // The same token that /validate accepts with `OAuth`.
      const validated = yield* twitch.validate({
        method: "GET",
        headers: { authorization: `OAuth ${userToken}` },
        params: {}
      })
      assert.strictEqual(validated.status, 200)
      expectHelixError(
        yield* twitch.helix(
          helixRequest("/users", { authorization: `OAuth ${userToken}`, "client-id": confidential.clientId })
        ),
        401,
        "OAuth token is missing"
      )
      expectHelixError(
        yield* twitch.helix(helixRequest("/users", { "client-id": confidential.clientId })),
        401,
        "OAuth token is missing"
      )
      expectHelixError(
        yield* twitch.helix(helixRequest("/users", { authorization: "Bearer", "client-id": confidential.clientId })),
        401,
        "OAuth token is missing"
      )
    }))

  it.effect("no (or an empty) Client-Id: Client ID is missing", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      expectHelixError(
        yield* twitch.helix(helixRequest("/users", { authorization: `Bearer ${userToken}` })),
        401,
        "Client ID is missing"
      )
      expectHelixError(
        yield* twitch.helix(helixRequest("/users", auth(userToken, ""))),
        401,
        "Client ID is missing"
      )
    }))

  it.effect("unknown, expired (hook or Clock), revoked or disconnected tokens: Invalid OAuth token", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      const users = (token: string) => twitch.helix(helixRequest("/users", auth(token)))
      expectHelixError(yield* users("nosuchtoken"), 401, "Invalid OAuth token")

      assert.strictEqual((yield* users(userToken)).status, 200)
      yield* twitch.expireAccessToken(userToken)
      expectHelixError(yield* users(userToken), 401, "Invalid OAuth token")

      const byClock = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      yield* TestClock.adjust(Duration.seconds(14399))
      assert.strictEqual((yield* users(byClock.accessToken)).status, 200)
      yield* TestClock.adjust(Duration.seconds(1))
      expectHelixError(yield* users(byClock.accessToken), 401, "Invalid OAuth token")

      const revoked = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      yield* twitch.revokeAccessToken(revoked.accessToken)
      expectHelixError(yield* users(revoked.accessToken), 401, "Invalid OAuth token")

      const disconnected = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: []
      })
      yield* twitch.disconnectUser(user.userId)
      expectHelixError(yield* users(disconnected.accessToken), 401, "Invalid OAuth token")
    }))

  it.effect("a token of another client: Client ID and OAuth token do not match", () =>
    Effect.gen(function*() {
      const { appToken, twitch, userToken } = yield* setup()
      expectHelixError(
        yield* twitch.helix(helixRequest("/users", auth(userToken, publicClient.clientId))),
        401,
        "Client ID and OAuth token do not match"
      )
      expectHelixError(
        yield* twitch.helix(helixRequest("/users", auth(appToken, "nosuchclient"), { id: user.userId })),
        401,
        "Client ID and OAuth token do not match"
      )
    }))

  it.effect("header names in any casing", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      const response = yield* twitch.helix(
        helixRequest("/users", { Authorization: `Bearer ${userToken}`, "Client-Id": confidential.clientId })
      )
      assert.strictEqual(response.status, 200)
    }))
})

describe("helix GET /users", () => {
  it.effect("by id, by login (any casing), both; unknown ones omitted", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      const other = yield* twitch.registerUser({ userId: "12345", login: "Other_User" })
      const users = (params: Record<string, string>) =>
        Effect.map(twitch.helix(helixRequest("/users", auth(userToken), params)), (r) => {
          assert.strictEqual(r.status, 200)
          const data: ReadonlyArray<Record<string, unknown>> = Object(body(r))["data"]
          return data.map((u) => [u["id"], u["login"], u["display_name"]])
        })
      assert.deepStrictEqual(yield* users({ id: "12345" }), [["12345", "other_user", "Other_user"]])
      assert.deepStrictEqual(yield* users({ login: "TwitchDev" }), [["141981764", "twitchdev", "Twitchdev"]])
      assert.deepStrictEqual(yield* users({ id: other.userId, login: "twitchdev" }), [
        ["12345", "other_user", "Other_user"],
        ["141981764", "twitchdev", "Twitchdev"]
      ])
      assert.deepStrictEqual(yield* users({ id: "141981764", login: "twitchdev" }), [[
        "141981764",
        "twitchdev",
        "Twitchdev"
      ]])
      assert.deepStrictEqual(yield* users({ id: "999", login: "nobody" }), [])
      assert.deepStrictEqual(yield* users({ id: "999", login: "twitchdev" }), [["141981764", "twitchdev", "Twitchdev"]])
    }))

  it.effect("an app token must name the users", () =>
    Effect.gen(function*() {
      const { appToken, twitch } = yield* setup()
      expectHelixError(
        yield* twitch.helix(helixRequest("/users", auth(appToken))),
        400,
        "Missing required parameter \"id\" or \"login\""
      )
      const byLogin = yield* twitch.helix(helixRequest("/users", auth(appToken), { login: "twitchdev" }))
      assert.strictEqual(byLogin.status, 200)
      assert.deepStrictEqual(body(byLogin), { data: [twitchdevUser] })
    }))

  it.effect("email only with user:read:email and only for the token's user", () =>
    Effect.gen(function*() {
      const { twitch, userToken: withoutScope } = yield* setup()
      yield* twitch.registerUser({ userId: "12345", login: "other" })
      const { accessToken } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["user:read:email"]
      })
      const me = yield* twitch.helix(helixRequest("/users", auth(accessToken)))
      assert.deepStrictEqual(body(me), {
        data: [{ ...twitchdevUser, email: "twitchdev@example.com" }]
      })
      const both = yield* twitch.helix(helixRequest("/users", auth(accessToken), { id: "12345", login: "twitchdev" }))
      const emails = Object(body(both))["data"].map((u: Record<string, unknown>) => u["email"])
      assert.deepStrictEqual(emails, [undefined, "twitchdev@example.com"])
      const noScope = yield* twitch.helix(helixRequest("/users", auth(withoutScope)))
      assert.notProperty(Object(body(noScope))["data"][0], "email")
    }))
})

describe("helix GET /moderation/moderators", () => {
  it.effect("without moderation:read: Missing scope", () =>
    Effect.gen(function*() {
      const { appToken, twitch, userToken } = yield* setup(["chat:read"])
      const params = { broadcaster_id: user.userId }
      expectHelixError(
        yield* twitch.helix(helixRequest("/moderation/moderators", auth(userToken), params)),
        401,
        "Missing scope: moderation:read"
      )
      expectHelixError(
        yield* twitch.helix(helixRequest("/moderation/moderators", auth(appToken), params)),
        401,
        "Missing scope: moderation:read"
      )
    }))

  it.effect("issue 12 #7: another broadcaster's ID is 401 with Twitch's message; the token's own is served", () =>
    Effect.gen(function*() {
      const { appToken, twitch } = yield* setup()
      const other = yield* twitch.registerUser({ login: "someoneelse" })
      const { accessToken } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["moderation:read"]
      })
      const mismatch = "The ID in broadcaster_id must match the user ID found in the request's OAuth token."
      expectHelixError(
        yield* twitch.helix(
          helixRequest("/moderation/moderators", auth(accessToken), { broadcaster_id: other.userId })
        ),
        401,
        mismatch
      )
      assert.strictEqual(
        (yield* twitch.helix(
          helixRequest("/moderation/moderators", auth(accessToken), { broadcaster_id: user.userId })
        ))
          .status,
        200
      )
      // GET /users takes any user's ID: Twitch checks broadcaster_id only where the token acts for the broadcaster.
      const users = yield* twitch.helix(helixRequest("/users", auth(accessToken), { id: other.userId }))
      assert.strictEqual(users.status, 200)
      assert.strictEqual(Object(body(users)).data.length, 1)
      // an app token (no scope) is still refused for the scope first
      expectHelixError(
        yield* twitch.helix(helixRequest("/moderation/moderators", auth(appToken), { broadcaster_id: user.userId })),
        401,
        "Missing scope: moderation:read"
      )
    }))

  it.effect("with moderation:read or channel:manage:moderators: an empty page", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      for (const scope of ["moderation:read", "channel:manage:moderators"]) {
        const { accessToken } = yield* twitch.issueUserToken({
          clientId: confidential.clientId,
          userId: user.userId,
          scopes: [scope]
        })
        const response = yield* twitch.helix(
          helixRequest("/moderation/moderators", auth(accessToken), { broadcaster_id: user.userId })
        )
        assert.strictEqual(response.status, 200, scope)
        assert.strictEqual(response.body, "{\"data\":[],\"pagination\":{}}")
        expectHelixError(
          yield* twitch.helix(helixRequest("/moderation/moderators", auth(accessToken))),
          400,
          "Missing required parameter \"broadcaster_id\""
        )
      }
    }))
})

describe("helix routing", () => {
  it.effect("unknown paths and methods are Helix 404s, before authentication", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      expectHelixError(yield* twitch.helix(helixRequest("/nope", auth(userToken))), 404, "")
      expectHelixError(yield* twitch.helix(helixRequest("/nope", {})), 404, "")
      expectHelixError(yield* twitch.helix(helixRequest("/users", auth(userToken), {}, "POST")), 404, "")
      expectHelixError(yield* twitch.helix(helixRequest("/", auth(userToken))), 404, "")
      // a path without its leading slash still routes
      assert.strictEqual((yield* twitch.helix(helixRequest("users", auth(userToken)))).status, 200)
    }))
})

describe("helix rate limits", () => {
  it.effect("every answer carries Ratelimit-* headers from the Clock", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      yield* TestClock.adjust(Duration.seconds(1000))
      const first = yield* twitch.helix(helixRequest("/users", auth(userToken)))
      assert.strictEqual(first.headers["ratelimit-limit"], "800")
      assert.strictEqual(first.headers["ratelimit-remaining"], "799")
      assert.strictEqual(first.headers["ratelimit-reset"], "1060")
      const missing = yield* twitch.helix(helixRequest("/nope", auth(userToken)))
      assert.strictEqual(missing.headers["ratelimit-remaining"], "798")
      assert.strictEqual(missing.headers["ratelimit-reset"], "1060")
    }))

  it.effect("a spent bucket answers 429 until its minute is over; buckets are per Client-Id", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup([], { helixRateLimit: 2 })
      const users = twitch.helix(helixRequest("/users", auth(userToken)))
      assert.strictEqual((yield* users).headers["ratelimit-remaining"], "1")
      yield* TestClock.adjust(Duration.seconds(30))
      assert.strictEqual((yield* users).headers["ratelimit-remaining"], "0")
      const limited = yield* users
      expectHelixError(limited, 429, "Too Many Requests")
      assert.deepStrictEqual(
        [
          limited.headers["ratelimit-limit"],
          limited.headers["ratelimit-remaining"],
          limited.headers["ratelimit-reset"]
        ],
        ["2", "0", "60"]
      )
      // another client's bucket is untouched (its answer is a mismatch, with a full bucket)
      const other = yield* twitch.helix(helixRequest("/users", auth(userToken, publicClient.clientId)))
      assert.strictEqual(other.headers["ratelimit-remaining"], "1")
      yield* TestClock.adjust(Duration.seconds(30))
      const refilled = yield* users
      assert.strictEqual(refilled.status, 200)
      assert.deepStrictEqual([refilled.headers["ratelimit-remaining"], refilled.headers["ratelimit-reset"]], [
        "1",
        "120"
      ])
    }))

  it.effect("issue 12 #8: user tokens draw from a bucket per client and user, app tokens from the client's", () =>
    Effect.gen(function*() {
      const { appToken, twitch, userToken } = yield* setup([], { helixRateLimit: 2 })
      const other = yield* twitch.registerUser({ login: "otheruser" })
      const otherToken = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: other.userId,
        scopes: []
      })
      const remaining = (token: string) =>
        Effect.map(twitch.helix(helixRequest("/users", auth(token), { id: user.userId })), (r) => [
          r.status,
          r.headers["ratelimit-remaining"]
        ])
      assert.deepStrictEqual(yield* remaining(userToken), [200, "1"])
      assert.deepStrictEqual(yield* remaining(userToken), [200, "0"])
      assert.deepStrictEqual(yield* remaining(userToken), [429, "0"])
      // the same client, another user: a bucket of its own
      assert.deepStrictEqual(yield* remaining(otherToken.accessToken), [200, "1"])
      // the client's app token: the app bucket, untouched by the users' calls
      assert.deepStrictEqual(yield* remaining(appToken), [200, "1"])
      assert.deepStrictEqual(yield* remaining(appToken), [200, "0"])
      assert.deepStrictEqual(yield* remaining(appToken), [429, "0"])
      // a second token of the first user shares that user's (spent) bucket
      const again = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      assert.deepStrictEqual(yield* remaining(again.accessToken), [429, "0"])
    }))

  it.effect("RateLimited fault: Helix 429 with remaining 0 and reset from the Clock", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      yield* TestClock.adjust(Duration.seconds(500))
      yield* twitch.failNext("helix", { _tag: "RateLimited", resetAfterSeconds: 30 })
      const limited = yield* twitch.helix(helixRequest("/users", auth(userToken)))
      expectHelixError(limited, 429, "Too Many Requests")
      assert.deepStrictEqual(
        [
          limited.headers["ratelimit-limit"],
          limited.headers["ratelimit-remaining"],
          limited.headers["ratelimit-reset"]
        ],
        ["800", "0", "530"]
      )
      const next = yield* twitch.helix(helixRequest("/users", auth(userToken)))
      assert.strictEqual(next.status, 200)
      assert.strictEqual(yield* twitch.calls("helix"), 2)
    }))

  it.effect("ServerError and Malformed faults on helix; `any` faults reach helix too", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      yield* twitch.failNext("any", { _tag: "ServerError" })
      const unavailable = yield* twitch.helix(helixRequest("/users", auth(userToken)))
      expectHelixError(unavailable, 503, "Service Unavailable")
      assert.strictEqual(unavailable.headers["ratelimit-limit"], "800")
      yield* twitch.failNext("helix", { _tag: "Malformed" })
      const malformed = yield* twitch.helix(helixRequest("/users", auth(userToken)))
      assert.deepStrictEqual([malformed.status, malformed.body], [200, "{\"data\":[{\"id"])
      assert.throws(() => JSON.parse(malformed.body))
      // a helix fault does not leak to the token endpoint
      yield* twitch.failNext("helix", { _tag: "ServerError", status: 502 })
      const token = yield* twitch.validate({
        method: "GET",
        headers: { authorization: `OAuth ${userToken}` },
        params: {}
      })
      assert.strictEqual(token.status, 200)
      expectHelixError(yield* twitch.helix(helixRequest("/users", auth(userToken))), 502, "Bad Gateway")
    }))

  it.effect("Delay fault: the answer comes after the delay on the Clock", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      yield* twitch.failNext("helix", { _tag: "Delay", duration: "5 seconds" })
      const fiber = yield* Effect.fork(twitch.helix(helixRequest("/users", auth(userToken))))
      yield* TestClock.adjust(Duration.seconds(4))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(Duration.seconds(1))
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.status, 200)
    }))
})

describe("helix recording", () => {
  it.effect("requests, calls and lastRequest carry method, headers, params and path", () =>
    Effect.gen(function*() {
      const { twitch, userToken } = yield* setup()
      assert.isTrue(Option.isNone(yield* twitch.lastRequest("helix")))
      yield* twitch.helix(helixRequest("/users", auth(userToken), { login: "twitchdev" }))
      yield* twitch.helix(helixRequest("/moderation/moderators", auth(userToken), { broadcaster_id: "1" }))
      assert.strictEqual(yield* twitch.calls("helix"), 2)
      assert.strictEqual(yield* twitch.calls("validate"), 0)
      const recorded = yield* twitch.requests("helix")
      assert.deepStrictEqual(recorded, [
        { method: "GET", headers: auth(userToken), params: { login: "twitchdev" }, path: "/users" },
        { method: "GET", headers: auth(userToken), params: { broadcaster_id: "1" }, path: "/moderation/moderators" }
      ])
      assert.deepStrictEqual(yield* twitch.lastRequest("helix"), Option.some(recorded[1]))
      assert.isTrue(Option.isNone(yield* twitch.lastRequest("revoke")))
      yield* twitch.resetCounters()
      assert.strictEqual(yield* twitch.calls("helix"), 0)
      assert.isTrue(Option.isNone(yield* twitch.lastRequest("helix")))
    }))

  it.effect("a retry after a refresh is visible: the second request carries the new Bearer token", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const first = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      yield* twitch.expireAccessToken(first.accessToken)
      expectHelixError(yield* twitch.helix(helixRequest("/users", auth(first.accessToken))), 401, "Invalid OAuth token")
      const refreshed = yield* twitch.token({
        method: "POST",
        headers: {},
        params: {
          client_id: confidential.clientId,
          client_secret: confidential.clientSecret,
          grant_type: "refresh_token",
          refresh_token: first.refreshToken
        }
      })
      const next: string = Object(body(refreshed))["access_token"]
      assert.notStrictEqual(next, first.accessToken)
      assert.strictEqual((yield* twitch.helix(helixRequest("/users", auth(next)))).status, 200)
      const sent = (yield* twitch.requests("helix")).map((r) => r.headers["authorization"])
      assert.deepStrictEqual(sent, [`Bearer ${first.accessToken}`, `Bearer ${next}`])
    }))
})
