/**
 * The same HTTP requests against both transports over the FakeTwitch model: the socket mock
 * (MockTwitchServer + FetchHttpClient on 127.0.0.1) and the in-memory FakeTwitchHttpClient.
 * Both must give the same answers.
 */
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { FakeTwitch, FakeTwitchHttpClient, MockTwitchServer } from "../src/index.js"

const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users
const callback = "http://localhost:3000/callback"

class Bases extends Context.Tag("test/Bases")<Bases, { readonly authUrl: string; readonly helixUrl: string }>() {}

type Services = FakeTwitch.FakeTwitch | HttpClient.HttpClient | Bases

const socket: Layer.Layer<Services, unknown> = Layer.mergeAll(
  MockTwitchServer.layerTest,
  FetchHttpClient.layer,
  // Do not follow redirects: the authorize tests look at the 302 itself.
  Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" })
).pipe(
  (services) =>
    Layer.provideMerge(
      Layer.effect(
        Bases,
        Effect.map(MockTwitchServer.MockTwitchServer, ({ authUrl, helixUrl }) => ({ authUrl, helixUrl }))
      ),
      services
    )
)

const inMemory: Layer.Layer<Services> = Layer.merge(
  FakeTwitchHttpClient.layerTest,
  Layer.succeed(Bases, { authUrl: "https://id.twitch.tv/oauth2", helixUrl: "https://api.twitch.tv/helix" })
)

const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, text }
  })

const json = (text: string): Record<string, unknown> => Object(JSON.parse(text))
const auth = (path: string) => Effect.map(Bases, ({ authUrl }) => authUrl + path)
const helix = (path: string) => Effect.map(Bases, ({ helixUrl }) => helixUrl + path)

const clientCredentials = {
  client_id: confidential.clientId,
  client_secret: confidential.clientSecret,
  grant_type: "client_credentials"
}

/** GET helix `path` with `Authorization` and `Client-Id` headers (either may be left out). */
const helixGet = (
  path: string,
  headers: { readonly authorization?: string; readonly clientId?: string },
  params: Record<string, string> = {}
) =>
  Effect.gen(function*() {
    let request = HttpClientRequest.get(yield* helix(path)).pipe(HttpClientRequest.setUrlParams(params))
    if (headers.authorization !== undefined) {
      request = HttpClientRequest.setHeader(request, "Authorization", headers.authorization)
    }
    if (headers.clientId !== undefined) {
      request = HttpClientRequest.setHeader(request, "Client-Id", headers.clientId)
    }
    return yield* send(request)
  })

const bearer = (token: string, clientId: string = confidential.clientId) => ({
  authorization: `Bearer ${token}`,
  clientId
})

const expectHelixError = (
  response: { readonly status: number; readonly headers: Record<string, string>; readonly text: string },
  status: number,
  error: string,
  message: string
) => {
  assert.strictEqual(response.status, status)
  assert.include(response.headers["content-type"], "application/json")
  assert.deepStrictEqual(json(response.text), { error, status, message })
  assert.isUndefined(response.headers["www-authenticate"])
}

const userToken = (scopes: ReadonlyArray<string> = []) =>
  Effect.flatMap(
    FakeTwitch.FakeTwitch,
    (twitch) =>
      Effect.map(twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes }), (t) =>
        t.accessToken)
  )

const transports: ReadonlyArray<readonly [string, Layer.Layer<Services, unknown>]> = [
  ["socket (MockTwitchServer)", socket],
  ["in-memory (FakeTwitchHttpClient)", inMemory]
]

for (const [name, transport] of transports) {
  layer(transport)(name, (it) => {
    it.effect("helix /users with a user token: 200, Helix body, rate-limit headers", () =>
      Effect.gen(function*() {
        const token = yield* userToken()
        for (const prefix of ["Bearer"]) {
          const response = yield* helixGet("/users", {
            authorization: `${prefix} ${token}`,
            clientId: confidential.clientId
          })
          assert.strictEqual(response.status, 200)
          assert.include(response.headers["content-type"], "application/json")
          assert.deepStrictEqual(json(response.text), {
            data: [{
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
            }]
          })
          assert.strictEqual(response.headers["ratelimit-limit"], "800")
          assert.match(response.headers["ratelimit-remaining"] ?? "", /^\d+$/)
          assert.isBelow(Number(response.headers["ratelimit-remaining"]), 800)
          assert.match(response.headers["ratelimit-reset"] ?? "", /^\d+$/)
          assert.isUndefined(response.headers["www-authenticate"])
        }
      }))

    it.effect("issue 12 #4: Helix refuses a lowercase bearer (and any other spelling than Bearer) with 401", () =>
      Effect.gen(function*() {
        const token = yield* userToken()
        for (const prefix of ["bearer", "BEARER", "oauth"]) {
          expectHelixError(
            yield* helixGet("/users", { authorization: `${prefix} ${token}`, clientId: confidential.clientId }),
            401,
            "Unauthorized",
            "OAuth token is missing"
          )
        }
        const ok = yield* helixGet("/users", bearer(token))
        assert.strictEqual(ok.status, 200)
      }))

    it.effect("issue 12 #7: /moderation/moderators for another broadcaster is 401 with Twitch's message", () =>
      Effect.gen(function*() {
        const token = yield* userToken(["moderation:read"])
        expectHelixError(
          yield* helixGet("/moderation/moderators", bearer(token), { broadcaster_id: "12345" }),
          401,
          "Unauthorized",
          "The ID in broadcaster_id must match the user ID found in the request's OAuth token."
        )
        const own = yield* helixGet("/moderation/moderators", bearer(token), { broadcaster_id: user.userId })
        assert.strictEqual(own.status, 200)
      }))

    it.effect("helix: OAuth prefix or no token, missing Client-Id, invalid token, client mismatch", () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const token = yield* userToken()
        const missingToken = "OAuth token is missing"
        expectHelixError(
          yield* helixGet("/users", { authorization: `OAuth ${token}`, clientId: confidential.clientId }),
          401,
          "Unauthorized",
          missingToken
        )
        expectHelixError(
          yield* helixGet("/users", { clientId: confidential.clientId }),
          401,
          "Unauthorized",
          missingToken
        )
        expectHelixError(
          yield* helixGet("/users", { authorization: `Bearer ${token}` }),
          401,
          "Unauthorized",
          "Client ID is missing"
        )
        expectHelixError(yield* helixGet("/users", bearer("nosuchtoken")), 401, "Unauthorized", "Invalid OAuth token")
        expectHelixError(
          yield* helixGet("/users", bearer(token, publicClient.clientId)),
          401,
          "Unauthorized",
          "Client ID and OAuth token do not match"
        )
        yield* twitch.expireAccessToken(token)
        expectHelixError(yield* helixGet("/users", bearer(token)), 401, "Unauthorized", "Invalid OAuth token")
      }))

    it.effect("helix /users by id and login from the query; an app token must name users", () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        yield* twitch.registerUser({ userId: "555", login: "someone" })
        const app = yield* send(
          HttpClientRequest.post(yield* auth("/token")).pipe(HttpClientRequest.bodyUrlParams(clientCredentials))
        )
        const appToken = String(json(app.text)["access_token"])
        expectHelixError(
          yield* helixGet("/users", bearer(appToken)),
          400,
          "Bad Request",
          "Missing required parameter \"id\" or \"login\""
        )
        const ids = (text: string) => Object(json(text)["data"]).map((u: Record<string, unknown>) => u["id"])
        const byId = yield* helixGet("/users", bearer(appToken), { id: "555" })
        assert.deepStrictEqual([byId.status, ids(byId.text)], [200, ["555"]])
        const byLogin = yield* helixGet("/users", bearer(appToken), { login: "TwitchDev" })
        assert.deepStrictEqual(ids(byLogin.text), ["141981764"])
        const both = yield* helixGet("/users", bearer(appToken), { id: "555", login: "twitchdev" })
        assert.deepStrictEqual(ids(both.text), ["555", "141981764"])
        const unknown = yield* helixGet("/users", bearer(appToken), { login: "nobody" })
        assert.deepStrictEqual([unknown.status, ids(unknown.text)], [200, []])
      }))

    it.effect("helix /moderation/moderators: Missing scope, then an empty page with the scope", () =>
      Effect.gen(function*() {
        const params = { broadcaster_id: user.userId }
        expectHelixError(
          yield* helixGet("/moderation/moderators", bearer(yield* userToken(["chat:read"])), params),
          401,
          "Unauthorized",
          "Missing scope: moderation:read"
        )
        const ok = yield* helixGet("/moderation/moderators", bearer(yield* userToken(["moderation:read"])), params)
        assert.strictEqual(ok.status, 200)
        assert.deepStrictEqual(json(ok.text), { data: [], pagination: {} })
      }))

    it.effect("helix: unknown paths and methods are Helix 404s; other unknown paths are id.twitch.tv 404s", () =>
      Effect.gen(function*() {
        const token = yield* userToken()
        expectHelixError(yield* helixGet("/nope", bearer(token)), 404, "Not Found", "")
        expectHelixError(yield* helixGet("", bearer(token)), 404, "Not Found", "")
        const post = yield* send(
          HttpClientRequest.post(yield* helix("/users")).pipe(
            HttpClientRequest.bearerToken(token),
            HttpClientRequest.setHeader("Client-Id", confidential.clientId)
          )
        )
        expectHelixError(post, 404, "Not Found", "")
        const other = yield* send(HttpClientRequest.get((yield* auth("")).replace("/oauth2", "/kraken/users")))
        assert.strictEqual(other.status, 404)
        assert.deepStrictEqual(json(other.text), { status: 404, message: "Not Found" })
      }))

    it.effect("helix: a RateLimited fault is a 429 with Ratelimit-Remaining 0", () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const token = yield* userToken()
        yield* twitch.failNext("helix", { _tag: "RateLimited", resetAfterSeconds: 30 })
        const limited = yield* helixGet("/users", bearer(token))
        expectHelixError(limited, 429, "Too Many Requests", "Too Many Requests")
        assert.strictEqual(limited.headers["ratelimit-limit"], "800")
        assert.strictEqual(limited.headers["ratelimit-remaining"], "0")
        assert.match(limited.headers["ratelimit-reset"] ?? "", /^\d+$/)
        assert.strictEqual((yield* helixGet("/users", bearer(token))).status, 200)
      }))

    it.effect("helix requests are recorded with path, params and headers; a retry shows the new Bearer", () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const first = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
        yield* twitch.expireAccessToken(first.accessToken)
        const before = yield* twitch.calls("helix")
        assert.strictEqual((yield* helixGet("/users", bearer(first.accessToken), { login: "twitchdev" })).status, 401)
        const refreshed = yield* send(
          HttpClientRequest.post(yield* auth("/token")).pipe(
            HttpClientRequest.bodyUrlParams({
              client_id: confidential.clientId,
              client_secret: confidential.clientSecret,
              grant_type: "refresh_token",
              refresh_token: first.refreshToken
            })
          )
        )
        const next = String(json(refreshed.text)["access_token"])
        assert.strictEqual((yield* helixGet("/users", bearer(next), { login: "twitchdev" })).status, 200)
        assert.strictEqual((yield* twitch.calls("helix")) - before, 2)
        const recorded = (yield* twitch.requests("helix")).slice(-2)
        assert.deepStrictEqual(recorded.map((r) => r.headers["authorization"]), [
          `Bearer ${first.accessToken}`,
          `Bearer ${next}`
        ])
        const last = yield* twitch.lastRequest("helix")
        assert.isTrue(Option.isSome(last))
        if (Option.isSome(last)) {
          assert.strictEqual(last.value.method, "GET")
          assert.strictEqual(last.value.path, "/users")
          assert.deepStrictEqual(last.value.params, { login: "twitchdev" })
          assert.strictEqual(last.value.headers["client-id"], confidential.clientId)
        }
      }))

    it.effect("oauth: client_credentials, with the body winning over the query", () =>
      Effect.gen(function*() {
        const url = yield* auth("/token")
        const ok = yield* send(
          HttpClientRequest.post(url).pipe(
            HttpClientRequest.setUrlParams({ client_secret: "wrong" }),
            HttpClientRequest.bodyUrlParams(clientCredentials)
          )
        )
        assert.strictEqual(ok.status, 200)
        assert.strictEqual(ok.headers["content-type"], "application/json")
        assert.deepStrictEqual(Object.keys(json(ok.text)), ["access_token", "expires_in", "token_type"])
        assert.strictEqual(json(ok.text)["expires_in"], 5011271)
        const bad = yield* send(
          HttpClientRequest.post(url).pipe(
            HttpClientRequest.setUrlParams({ client_secret: confidential.clientSecret }),
            HttpClientRequest.bodyUrlParams({ ...clientCredentials, client_secret: "wrong" })
          )
        )
        assert.deepStrictEqual([bad.status, json(bad.text)], [403, { status: 403, message: "invalid client secret" }])
        const fromQuery = yield* send(
          HttpClientRequest.post(url).pipe(HttpClientRequest.setUrlParams(clientCredentials))
        )
        assert.strictEqual(fromQuery.status, 200)
      }))

    it.effect("oauth: a multipart body is read, and wins over the query", () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const form = new FormData()
        form.append("client_id", confidential.clientId)
        form.append("client_secret", "wrong")
        form.append("grant_type", "client_credentials")
        const bad = yield* send(
          HttpClientRequest.post(yield* auth("/token")).pipe(
            HttpClientRequest.setUrlParams({ client_secret: confidential.clientSecret }),
            HttpClientRequest.bodyFormData(form)
          )
        )
        assert.strictEqual(bad.status, 403)
        const last = yield* twitch.lastRequest("token")
        assert.strictEqual(Option.getOrUndefined(last)?.params["client_secret"], "wrong")
        assert.match(Option.getOrUndefined(last)?.headers["content-type"] ?? "", /^multipart\/form-data; ?boundary=/)
      }))

    it.effect("oauth: a refresh token with % / = + & works sent with bodyUrlParams, not unencoded", () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const url = yield* auth("/token")
        const { refreshToken } = yield* twitch.issueUserToken({
          clientId: confidential.clientId,
          userId: user.userId,
          scopes: []
        })
        for (const c of ["%", "/", "=", "+", "&"]) assert.include(refreshToken, c)
        const params = {
          grant_type: "refresh_token",
          client_id: confidential.clientId,
          client_secret: confidential.clientSecret,
          refresh_token: refreshToken
        }
        // unencoded first: the refresh token is still valid, only its spelling is wrong
        const raw = Object.entries(params).map(([k, v]) => `${k}=${v}`).join("&")
        const unencoded = yield* send(
          HttpClientRequest.post(url).pipe(HttpClientRequest.bodyText(raw, "application/x-www-form-urlencoded"))
        )
        assert.deepStrictEqual([unencoded.status, json(unencoded.text)], [400, {
          status: 400,
          message: "Invalid refresh token"
        }])
        const encoded = yield* send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams(params)))
        assert.strictEqual(encoded.status, 200)
        assert.notStrictEqual(json(encoded.text)["refresh_token"], refreshToken)
      }))

    it.effect("issue 12 #8: client_credentials and /oauth2/device refuse a scope Twitch does not know", () =>
      Effect.gen(function*() {
        const refused = { status: 400, message: "invalid scope requested: 'chat:reed'" }
        const app = yield* send(
          HttpClientRequest.post(yield* auth("/token")).pipe(
            HttpClientRequest.bodyUrlParams({ ...clientCredentials, scope: "chat:read chat:reed" })
          )
        )
        assert.deepStrictEqual([app.status, json(app.text)], [400, refused])
        const device = yield* send(
          HttpClientRequest.post(yield* auth("/device")).pipe(
            HttpClientRequest.bodyUrlParams({ client_id: publicClient.clientId, scopes: "chat:reed" })
          )
        )
        assert.deepStrictEqual([device.status, json(device.text)], [400, refused])
        // scopes Twitch documents pass, including the three-part ones
        const known = yield* send(
          HttpClientRequest.post(yield* auth("/device")).pipe(
            HttpClientRequest.bodyUrlParams({
              client_id: publicClient.clientId,
              scopes: "chat:read moderator:manage:shield_mode"
            })
          )
        )
        assert.strictEqual(known.status, 200)
      }))

    it.effect("oauth: validate with the OAuth header; the /auth alias", () =>
      Effect.gen(function*() {
        const token = yield* userToken(["chat:read"])
        const ok = yield* send(
          HttpClientRequest.get(yield* auth("/validate")).pipe(
            HttpClientRequest.setHeader("Authorization", `OAuth ${token}`)
          )
        )
        assert.strictEqual(ok.status, 200)
        assert.deepStrictEqual(json(ok.text), {
          client_id: confidential.clientId,
          login: "twitchdev",
          scopes: ["chat:read"],
          user_id: "141981764",
          expires_in: 14400
        })
        const alias = yield* send(
          HttpClientRequest.get((yield* auth("/validate")).replace("/oauth2/", "/auth/")).pipe(
            HttpClientRequest.setHeader("Authorization", `OAuth ${token}`)
          )
        )
        assert.strictEqual(alias.status, 200)
        const missing = yield* send(HttpClientRequest.get(yield* auth("/validate")))
        assert.deepStrictEqual([missing.status, json(missing.text)], [401, {
          status: 401,
          message: "missing authorization token"
        }])
      }))

    it.effect("oauth: authorize answers the consent page; its form answers a 302 that is not followed", () =>
      Effect.gen(function*() {
        const url = new URL(yield* auth("/authorize"))
        for (
          const [name, value] of Object.entries({
            client_id: confidential.clientId,
            redirect_uri: callback,
            response_type: "code",
            scope: "chat:read",
            state: "xyz"
          })
        ) url.searchParams.set(name, value)
        const page = yield* send(HttpClientRequest.get(url.toString()))
        assert.strictEqual(page.status, 200)
        assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8")
        assert.isUndefined(page.headers["access-control-allow-origin"])
        const location = yield* MockTwitchServer.consent(url.toString(), "authorize")
        assert.match(location, /^http:\/\/localhost:3000\/callback\?code=[a-z0-9]{30}&scope=chat%3Aread&state=xyz$/)
      }))
  })
}
