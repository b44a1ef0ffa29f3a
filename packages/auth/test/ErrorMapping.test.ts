/**
 * Every error string of the reference's token, validate and revoke tables, answered by a
 * stub transport exactly as id.twitch.tv words it, and the tag the caller receives.
 * (The mock-server suite covers the same strings end to end where the fake produces them.)
 */
import { type TwitchAuth, type TwitchAuthError } from "@effect-twitch/auth"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { stubbed } from "./utils.js"

const envelope = (status: number, message: string, withError = false) =>
  JSON.stringify(withError ? { error: "Bad Request", status, message } : { status, message })

type Operation = "exchangeCode" | "refreshToken" | "appToken" | "pollDeviceToken" | "validateToken" | "revokeToken"

const run = (
  auth: TwitchAuth.TwitchAuth.Service,
  operation: Operation
): Effect.Effect<unknown, TwitchAuthError.TwitchAuthError> => {
  const secret = Redacted.make("some-token")
  switch (operation) {
    case "exchangeCode":
      return auth.exchangeCode("some-code")
    case "refreshToken":
      return auth.refreshToken(secret)
    case "appToken":
      return auth.appToken()
    case "pollDeviceToken":
      return auth.pollDeviceToken(secret)
    case "validateToken":
      return auth.validateToken(secret)
    case "revokeToken":
      return auth.revokeToken(secret)
  }
}

interface Row {
  readonly operation: Operation
  readonly status: number
  readonly message: string
  readonly tag: string
  readonly extra?: Record<string, unknown>
}

const tokenTable: ReadonlyArray<Row> = [
  { operation: "refreshToken", status: 400, message: "Invalid refresh token", tag: "InvalidRefreshToken" },
  {
    operation: "refreshToken",
    status: 400,
    message: "missing client secret",
    tag: "MissingClientSecret",
    extra: { source: "Twitch" }
  },
  { operation: "exchangeCode", status: 400, message: "Invalid authorization code", tag: "InvalidAuthorizationCode" },
  {
    operation: "exchangeCode",
    status: 400,
    message: "Parameter redirect_uri does not match registered URI",
    tag: "RedirectUriMismatch",
    extra: { redirectUri: "http://localhost:3000/callback" }
  },
  {
    operation: "appToken",
    status: 400,
    message: "invalid client",
    tag: "InvalidClient",
    extra: { reason: "UnknownClient" }
  },
  {
    operation: "exchangeCode",
    status: 400,
    message: "invalid client",
    tag: "InvalidClient",
    extra: { reason: "UnknownClient" }
  },
  {
    operation: "refreshToken",
    status: 400,
    message: "invalid client",
    tag: "InvalidClient",
    extra: { reason: "UnknownClient" }
  },
  {
    operation: "appToken",
    status: 403,
    message: "invalid client secret",
    tag: "InvalidClient",
    extra: { reason: "WrongSecret", status: 403 }
  },
  {
    operation: "refreshToken",
    status: 403,
    message: "invalid client secret",
    tag: "InvalidClient",
    extra: { reason: "WrongSecret" }
  },
  { operation: "refreshToken", status: 400, message: "missing refresh token", tag: "InvalidRefreshToken" },
  { operation: "appToken", status: 400, message: "invalid scope requested: 'foo:bar'", tag: "InvalidScope" },
  { operation: "refreshToken", status: 400, message: "Invalid grant", tag: "InvalidRefreshToken" },
  { operation: "refreshToken", status: 401, message: "Invalid refresh token", tag: "InvalidRefreshToken" },
  { operation: "pollDeviceToken", status: 400, message: "authorization_pending", tag: "AuthorizationPending" },
  { operation: "pollDeviceToken", status: 400, message: "invalid device code", tag: "DeviceCodeExpired" },
  // not documented by Twitch: RFC 8628's codes in Twitch's envelope (what our mock answers)
  { operation: "pollDeviceToken", status: 400, message: "slow_down", tag: "SlowDown" },
  {
    operation: "pollDeviceToken",
    status: 400,
    message: "access_denied",
    tag: "AccessDenied",
    extra: { flow: "DeviceCode", description: "access_denied" }
  },
  { operation: "pollDeviceToken", status: 400, message: "expired_token", tag: "DeviceCodeExpired" }
]

const validateTable: ReadonlyArray<Row> = [
  { operation: "validateToken", status: 401, message: "invalid access token", tag: "InvalidAccessToken" },
  { operation: "validateToken", status: 401, message: "missing authorization token", tag: "InvalidAccessToken" }
]

const revokeTable: ReadonlyArray<Row> = [
  { operation: "revokeToken", status: 400, message: "Invalid token", tag: "InvalidAccessToken" },
  {
    operation: "revokeToken",
    status: 404,
    message: "client does not exist",
    tag: "InvalidClient",
    extra: { reason: "UnknownClient" }
  },
  { operation: "revokeToken", status: 400, message: "missing oauth token", tag: "InvalidAccessToken" }
]

describe("error mapping: every documented Twitch error string has its tag", () => {
  for (const [table, rows] of [["token", tokenTable], ["validate", validateTable], ["revoke", revokeTable]] as const) {
    for (const row of rows) {
      for (const withError of [false, true]) {
        it.live(
          `${table}: ${row.operation} ← ${row.status} "${row.message}"${withError ? " (+error)" : ""} → ${row.tag}`,
          () =>
            Effect.gen(function*() {
              const { auth, calls } = yield* stubbed({
                status: row.status,
                body: envelope(row.status, row.message, withError)
              })
              const error = yield* Effect.flip(run(auth, row.operation))
              assert.strictEqual(error._tag, row.tag)
              for (const [key, value] of Object.entries(row.extra ?? {})) {
                assert.deepStrictEqual(Reflect.get(error, key), value, key)
              }
              if ("twitchMessage" in error) assert.strictEqual(error.twitchMessage, row.message)
              assert.strictEqual(yield* calls, 1, "4xx answers are never retried")
            })
        )
      }
    }
  }
})

describe("error mapping: status-level answers", () => {
  it.live("5xx is retried on the schedule, then TwitchUnavailable", () =>
    Effect.gen(function*() {
      const { auth, calls } = yield* stubbed({ status: 503, body: "<html>Service Unavailable</html>" })
      const error = yield* Effect.flip(auth.validateToken(Redacted.make("t")))
      assert.strictEqual(error._tag, "TwitchUnavailable")
      assert.strictEqual(yield* calls, 4)
    }))

  it.live("429 is retried, then RateLimited with Ratelimit-Reset read", () =>
    Effect.gen(function*() {
      const reset = Math.floor(Date.now() / 1000) + 42
      const { auth, calls } = yield* stubbed({
        status: 429,
        body: envelope(429, "Too Many Requests"),
        headers: { "ratelimit-reset": String(reset) }
      })
      const error = yield* Effect.flip(auth.appToken())
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") {
        const after = error.retryAfterSeconds ?? -1
        assert.isTrue(after >= 40 && after <= 42, `retryAfterSeconds ${after}`)
      }
      assert.strictEqual(yield* calls, 4)
    }))

  it.live("issue 11 #7: a 401 with an empty body on validate is UnexpectedResponse (only Twitch's envelope says a token is dead)", () =>
    Effect.gen(function*() {
      const { auth } = yield* stubbed({ status: 401, body: "" })
      const error = yield* Effect.flip(auth.validateToken(Redacted.make("t")))
      assert.strictEqual(error._tag, "UnexpectedResponse")
    }))

  it.live("an unknown 4xx message is UnexpectedResponse carrying Twitch's words", () =>
    Effect.gen(function*() {
      const { auth, calls } = yield* stubbed({ status: 400, body: envelope(400, "something new") })
      const error = yield* Effect.flip(auth.appToken())
      assert.strictEqual(error._tag, "UnexpectedResponse")
      if (error._tag === "UnexpectedResponse") {
        assert.strictEqual(error.twitchMessage, "something new")
        assert.strictEqual(error.status, 400)
      }
      assert.strictEqual(yield* calls, 1)
    }))

  it.live("a 200 that is not JSON, or lacks a field, is MalformedResponse", () =>
    Effect.gen(function*() {
      const notJson = yield* stubbed({ status: 200, body: "<html>" })
      const e1 = yield* Effect.flip(notJson.auth.validateToken(Redacted.make("t")))
      assert.strictEqual(e1._tag, "MalformedResponse")
      const noRefresh = yield* stubbed({
        status: 200,
        body: JSON.stringify({ access_token: "abc", expires_in: 10, token_type: "bearer" })
      })
      const e2 = yield* Effect.flip(noRefresh.auth.refreshToken(Redacted.make("t")))
      assert.strictEqual(e2._tag, "MalformedResponse")
      assert.include(e2.message, "refresh_token")
      const noClient = yield* stubbed({ status: 200, body: JSON.stringify({ scopes: [], expires_in: 3 }) })
      const e3 = yield* Effect.flip(noClient.auth.validateToken(Redacted.make("t")))
      assert.strictEqual(e3._tag, "MalformedResponse")
      assert.include(e3.message, "`client_id` is missing")
    }))
})

const allOperations: ReadonlyArray<Operation> = [
  "exchangeCode",
  "refreshToken",
  "appToken",
  "pollDeviceToken",
  "validateToken",
  "revokeToken"
]

/** 401s and 400s that did not come from Twitch: a proxy's login page, a gateway's JSON, an envelope whose status lies. */
const notTwitch: ReadonlyArray<{ readonly name: string; readonly status: number; readonly body: string }> = [
  {
    name: "a proxy's 401 HTML page",
    status: 401,
    body: "<html><body><h1>401 Authorization Required</h1></body></html>"
  },
  { name: "a gateway's 401 JSON without status", status: 401, body: JSON.stringify({ message: "Unauthorized" }) },
  { name: "an empty 401", status: 401, body: "" },
  {
    name: "Twitch's words under another status",
    status: 401,
    body: JSON.stringify({ status: 400, message: "Invalid refresh token" })
  },
  { name: "Twitch's words without a status", status: 400, body: JSON.stringify({ message: "Invalid refresh token" }) }
]

describe("issue 11 #7: only Twitch's own envelope classifies a token as dead", () => {
  for (const answer of notTwitch) {
    for (const operation of allOperations) {
      it.live(`${operation} ← ${answer.name} → UnexpectedResponse, asked once`, () =>
        Effect.gen(function*() {
          const { auth, calls } = yield* stubbed(answer)
          const error = yield* Effect.flip(run(auth, operation))
          assert.strictEqual(error._tag, "UnexpectedResponse")
          assert.strictEqual(yield* calls, 1)
        }))
    }
  }

  it.live("refreshToken ← Twitch's 401 envelope with a message it does not use for dead tokens → UnexpectedResponse", () =>
    Effect.gen(function*() {
      const { auth } = yield* stubbed({ status: 401, body: envelope(401, "Unauthorized") })
      const error = yield* Effect.flip(auth.refreshToken(Redacted.make("some-token")))
      assert.strictEqual(error._tag, "UnexpectedResponse")
    }))

  it.live("refreshToken ← Twitch's 401 envelope saying \"Invalid refresh token\" → InvalidRefreshToken (as before)", () =>
    Effect.gen(function*() {
      const { auth } = yield* stubbed({ status: 401, body: envelope(401, "Invalid refresh token") })
      const error = yield* Effect.flip(auth.refreshToken(Redacted.make("some-token")))
      assert.strictEqual(error._tag, "InvalidRefreshToken")
    }))
})
