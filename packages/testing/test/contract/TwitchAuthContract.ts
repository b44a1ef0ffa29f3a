/**
 * The contract of `TwitchAuth` over the FakeTwitch model, written once and run against every
 * adapter (`contract.test.ts`): the real client over undici and the mock server on
 * 127.0.0.1, and `TwitchAuthTest.layer()` (the real client over the in-memory transport).
 * Every case asserts what a user relies on — the decoded value, the error tag and its fields,
 * what Twitch saw — with the same expectations for every adapter, so a behaviour difference
 * between two adapters fails one of them.
 *
 * An adapter is a Layer that provides, fresh for each test:
 * - `FakeTwitch`: a new fake with the default seed and default lifetimes;
 * - `TwitchAuthConfig`: the seed's confidential client, its first redirect URI, and a retry
 *   schedule of 3 retries without waits;
 * - `TwitchAuth`: built from that configuration over the adapter's transport;
 * - `HttpClient`: that transport (the cases build other clients with it, e.g. a public one,
 *   and follow the consent redirect with it).
 *
 * Time: each test builds its adapter inside the test, on `TestClock`. The in-memory
 * transport runs the fake in the calling fiber; the mock server's request fibers are forked
 * from the Layer's scope and inherit the test's services, `TestClock` included. So on both
 * adapters the model's clock is the test's clock: expiry is driven by `TestClock.adjust`,
 * and lifetimes can be compared exactly. Only the bytes differ: over a socket they are real
 * HTTP, so a case that forks a request waits for the fake to see it (`untilCalls`) before it
 * moves the clock.
 */
import * as Token from "@effect-twitch/auth/Token"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import type * as TwitchAuthError from "@effect-twitch/auth/TwitchAuthError"
import * as TwitchCredentials from "@effect-twitch/auth/TwitchCredentials"
import * as TwitchHttpClient from "@effect-twitch/auth/TwitchHttpClient"
import * as TwitchSession from "@effect-twitch/auth/TwitchSession"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { FakeTwitch, MockTwitchServer, TwitchAuthTest } from "../../src/index.js"

/** What an adapter provides. */
export type Adapter = Layer.Layer<
  TwitchAuth.TwitchAuth | TwitchAuthConfig.TwitchAuthConfig | FakeTwitch.FakeTwitch | HttpClient.HttpClient,
  unknown
>

const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users
const userTtl = Duration.seconds(FakeTwitch.defaults.userTokenTtlSeconds)
const appTtl = Duration.seconds(FakeTwitch.defaults.appTokenTtlSeconds)
const wrongSecret = "0000000000wrongsecret000000000"
const unknownClient = "nosuchclient000000000000000000"

const redacted = (s: string) => Redacted.make(s)

/** A `TwitchAuth` like the adapter's, with some configuration changed, over the adapter's transport. */
const authAs = (overrides: Partial<TwitchAuthConfig.TwitchAuthConfig.Options>) =>
  Effect.gen(function*() {
    const config = yield* TwitchAuthConfig.TwitchAuthConfig
    return yield* TwitchAuth.make.pipe(
      Effect.provide(TwitchAuthConfig.layer({
        clientId: config.clientId,
        clientSecret: Option.getOrUndefined(config.clientSecret),
        redirectUri: Option.getOrUndefined(config.redirectUri),
        authUrl: config.authUrl,
        helixUrl: config.helixUrl,
        requestTimeout: config.requestTimeout,
        retrySchedule: config.retrySchedule,
        ...overrides
      })),
      Effect.orDie
    )
  })

const asPublicClient = authAs({ clientId: publicClient.clientId, clientSecret: undefined })

/** Opens an authorize URL like a browser and clicks `decision` on the consent page; returns the redirect. */
const followAuthorize = (url: string, decision: "authorize" | "cancel" = "authorize") =>
  Effect.map(MockTwitchServer.consent(url, decision), (location) => new URL(location))

/** One turn of the event loop: promises and socket callbacks run, no time passes. */
const turn = Effect.zipRight(
  Effect.yieldNow(),
  Effect.async<void>((resume) => {
    setImmediate(() => resume(Effect.void))
  })
)

/** Waits (in event-loop turns, never in time) until the fake has seen `n` calls to `endpoint`. */
const untilCalls = (endpoint: FakeTwitch.FakeTwitch.Endpoint, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 2000 && (yield* TwitchAuthTest.calls(endpoint)) < n; i++) yield* turn
    assert.strictEqual(yield* TwitchAuthTest.calls(endpoint), n, `${endpoint} calls`)
  })

const millisBetween = (from: DateTime.DateTime, to: DateTime.DateTime) =>
  DateTime.toEpochMillis(to) - DateTime.toEpochMillis(from)

const Users = Schema.Struct({ data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String })) })

/**
 * Runs the contract against `adapter`. Every test gets a fresh adapter (a fresh fake).
 */
export const contract = (name: string, adapter: Adapter) =>
  describe(`TwitchAuth contract — ${name}`, () => {
    const test = <A, E>(title: string, body: Effect.Effect<A, E, Layer.Layer.Success<Adapter>>) =>
      it.effect(title, () => Effect.provide(body, adapter))

    describe("authorization code flow", () => {
      test(
        "authorize URL → 302 with code and state → exchangeCode → a user token with the granted scopes",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const request = yield* auth.authorizationUrl({ scopes: ["chat:read", "chat:edit"], state: "s-1" })
          const url = new URL(request.url)
          assert.strictEqual(url.pathname, "/oauth2/authorize")
          assert.strictEqual(url.searchParams.get("client_id"), confidential.clientId)
          assert.strictEqual(url.searchParams.get("redirect_uri"), confidential.redirectUris[0])
          assert.strictEqual(url.searchParams.get("scope"), "chat:read chat:edit")

          const redirect = yield* followAuthorize(request.url)
          assert.strictEqual(`${redirect.origin}${redirect.pathname}`, confidential.redirectUris[0])
          assert.strictEqual(redirect.searchParams.get("state"), "s-1")
          const code = redirect.searchParams.get("code") ?? ""
          assert.isAbove(code.length, 0)

          const token = yield* auth.exchangeCode(code)
          assert.instanceOf(token, Token.UserToken)
          assert.deepStrictEqual(token.scopes, ["chat:read", "chat:edit"])
          assert.strictEqual(millisBetween(token.obtainedAt, Option.getOrThrow(token.expiresAt)), Duration.toMillis(userTtl))
          assert.isTrue(yield* TwitchAuthTest.isAccessTokenValid(token))
          assert.isTrue(yield* TwitchAuthTest.isRefreshTokenValid(token))

          const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("token"))
          assert.strictEqual(sent.method, "POST")
          assert.match(sent.headers["content-type"] ?? "", /^application\/x-www-form-urlencoded/)
          assert.deepStrictEqual(sent.params, {
            client_id: confidential.clientId,
            client_secret: confidential.clientSecret,
            code,
            grant_type: "authorization_code",
            redirect_uri: confidential.redirectUris[0]
          })
          assert.strictEqual(yield* TwitchAuthTest.calls("token"), 1)
        })
      )

      test(
        "a code is single-use and unknown codes are refused: InvalidAuthorizationCode",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const twitch = yield* FakeTwitch.FakeTwitch
          const code = yield* twitch.issueAuthorizationCode({
            clientId: confidential.clientId,
            userId: user.userId,
            scopes: [],
            redirectUri: confidential.redirectUris[0]
          })
          const first = yield* auth.exchangeCode(code)
          assert.deepStrictEqual(first.scopes, [])
          const again = yield* Effect.flip(auth.exchangeCode(code))
          assert.strictEqual(again._tag, "InvalidAuthorizationCode")
          if (again._tag === "InvalidAuthorizationCode") assert.strictEqual(again.twitchMessage, "Invalid authorization code")
          const unknown = yield* Effect.flip(auth.exchangeCode("nosuchcode000000000000000000000"))
          assert.strictEqual(unknown._tag, "InvalidAuthorizationCode")
          assert.strictEqual(yield* TwitchAuthTest.calls("token"), 3, "4xx answers are not retried")
        })
      )

      test(
        "a code expires after its lifetime (TestClock)",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const twitch = yield* FakeTwitch.FakeTwitch
          const issue = twitch.issueAuthorizationCode({
            clientId: confidential.clientId,
            userId: user.userId,
            scopes: [],
            redirectUri: confidential.redirectUris[0]
          })
          const fresh = yield* issue
          const stale = yield* issue
          yield* TestClock.adjust(Duration.seconds(FakeTwitch.defaults.authorizationCodeTtlSeconds - 1))
          yield* auth.exchangeCode(fresh)
          yield* TestClock.adjust("1 second")
          assert.strictEqual((yield* Effect.flip(auth.exchangeCode(stale)))._tag, "InvalidAuthorizationCode")
        })
      )

      test(
        "another redirect URI than the code's: RedirectUriMismatch naming it",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const twitch = yield* FakeTwitch.FakeTwitch
          const code = yield* twitch.issueAuthorizationCode({
            clientId: confidential.clientId,
            userId: user.userId,
            scopes: ["chat:read"],
            redirectUri: confidential.redirectUris[0]
          })
          const error = yield* Effect.flip(auth.exchangeCode(code, { redirectUri: "http://localhost:9999/elsewhere" }))
          assert.strictEqual(error._tag, "RedirectUriMismatch")
          if (error._tag === "RedirectUriMismatch") {
            assert.strictEqual(error.redirectUri, "http://localhost:9999/elsewhere")
            assert.strictEqual(error.twitchMessage, "Parameter redirect_uri does not match registered URI")
          }
        })
      )

      test(
        "the user denies consent: the redirect carries error=access_denied and the state",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const request = yield* auth.authorizationUrl({ scopes: ["chat:read"] })
          const redirect = yield* followAuthorize(request.url, "cancel")
          assert.strictEqual(redirect.searchParams.get("error"), "access_denied")
          assert.strictEqual(redirect.searchParams.get("state"), request.state)
          assert.isNull(redirect.searchParams.get("code"))
        })
      )

      test(
        "MissingRedirectUri and MissingClientSecret(Config) fail before anything is sent",
        Effect.gen(function*() {
          const bare = yield* authAs({ redirectUri: undefined })
          assert.strictEqual((yield* Effect.flip(bare.authorizationUrl()))._tag, "MissingRedirectUri")
          assert.strictEqual((yield* Effect.flip(bare.exchangeCode("code")))._tag, "MissingRedirectUri")
          const secretless = yield* authAs({ clientSecret: undefined })
          const error = yield* Effect.flip(secretless.exchangeCode("code"))
          assert.strictEqual(error._tag, "MissingClientSecret")
          if (error._tag === "MissingClientSecret") assert.strictEqual(error.source, "Config")
          assert.strictEqual(yield* TwitchAuthTest.calls("token"), 0)
        })
      )

      test(
        "an empty code is a refusal this SDK does not classify: UnexpectedResponse with Twitch's words",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const error = yield* Effect.flip(auth.exchangeCode(""))
          assert.strictEqual(error._tag, "UnexpectedResponse")
          if (error._tag === "UnexpectedResponse") {
            assert.strictEqual(error.status, 400)
            assert.strictEqual(error.twitchMessage, "missing code")
            assert.strictEqual(error.endpoint, "POST /oauth2/token")
          }
        })
      )
    })

    describe("refreshToken", () => {
      test(
        "confidential client: a new access token and (rotated) a new refresh token, sent URL-encoded with the secret",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const issued = yield* TwitchAuthTest.authorize({ scopes: ["chat:read"] })
          const raw = Redacted.value(issued.refreshToken)
          for (const c of ["%", "/", "+", "&", "="]) assert.include(raw, c)
          const refreshed = yield* auth.refreshToken(issued.refreshToken)
          assert.notStrictEqual(Redacted.value(refreshed.accessToken), Redacted.value(issued.accessToken))
          // Twitch's refresh tokens may change: the mock rotates them, and the spent one is refused
          assert.notStrictEqual(Redacted.value(refreshed.refreshToken), raw)
          assert.isFalse(yield* TwitchAuthTest.isRefreshTokenValid(issued))
          assert.isTrue(yield* TwitchAuthTest.isRefreshTokenValid(refreshed))
          assert.deepStrictEqual(refreshed.scopes, ["chat:read"])
          assert.strictEqual(
            millisBetween(refreshed.obtainedAt, Option.getOrThrow(refreshed.expiresAt)),
            Duration.toMillis(userTtl)
          )
          assert.isTrue(yield* TwitchAuthTest.isAccessTokenValid(refreshed))
          const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("token"))
          assert.strictEqual(sent.params["refresh_token"], raw)
          assert.strictEqual(sent.params["client_secret"], confidential.clientSecret)
          assert.strictEqual(yield* TwitchAuthTest.grantCount("refresh_token"), 1)
        })
      )

      test(
        "public client: no secret is sent; the refresh token rotates and the spent one is InvalidRefreshToken",
        Effect.gen(function*() {
          const auth = yield* asPublicClient
          const issued = yield* TwitchAuthTest.authorize({ clientId: publicClient.clientId, scopes: ["chat:read"] })
          const first = yield* auth.refreshToken(issued.refreshToken)
          assert.isUndefined(Option.getOrThrow(yield* TwitchAuthTest.lastRequest("token")).params["client_secret"])
          assert.notStrictEqual(Redacted.value(first.refreshToken), Redacted.value(issued.refreshToken))
          assert.isFalse(yield* TwitchAuthTest.isRefreshTokenValid(issued))
          const spent = yield* Effect.flip(auth.refreshToken(issued.refreshToken))
          assert.strictEqual(spent._tag, "InvalidRefreshToken")
          if (spent._tag === "InvalidRefreshToken") {
            assert.strictEqual(spent.status, 400)
            assert.strictEqual(spent.twitchMessage, "Invalid refresh token")
          }
          const second = yield* auth.refreshToken(first.refreshToken)
          assert.isTrue(yield* TwitchAuthTest.isAccessTokenValid(second))
          assert.isTrue(yield* TwitchAuthTest.isRefreshTokenValid(second))
        })
      )

      test(
        "public client: a refresh token dies 30 days after it was issued (TestClock)",
        Effect.gen(function*() {
          const auth = yield* asPublicClient
          const early = yield* TwitchAuthTest.authorize({ clientId: publicClient.clientId })
          const late = yield* TwitchAuthTest.authorize({ clientId: publicClient.clientId })
          yield* TestClock.adjust(Duration.seconds(FakeTwitch.defaults.publicRefreshTokenTtlSeconds - 1))
          yield* auth.refreshToken(early.refreshToken)
          yield* TestClock.adjust("1 second")
          assert.strictEqual((yield* Effect.flip(auth.refreshToken(late.refreshToken)))._tag, "InvalidRefreshToken")
        })
      )

      test(
        "a disconnected user's refresh token, an unknown one and an empty one are InvalidRefreshToken",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const issued = yield* TwitchAuthTest.authorize()
          yield* TwitchAuthTest.disconnectUser()
          assert.isFalse(yield* TwitchAuthTest.isAccessTokenValid(issued))
          for (const refreshToken of [Redacted.value(issued.refreshToken), "not-a-refresh-token", ""]) {
            const error = yield* Effect.flip(auth.refreshToken(redacted(refreshToken)))
            assert.strictEqual(error._tag, "InvalidRefreshToken", JSON.stringify(refreshToken))
          }
        })
      )

      test(
        "Twitch answering 401 to a refresh (as its docs say it may) is InvalidRefreshToken with status 401",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const twitch = yield* FakeTwitch.FakeTwitch
          yield* twitch.setQuirks({ refreshFailureStatus: 401 })
          const error = yield* Effect.flip(auth.refreshToken(redacted("not-a-refresh-token")))
          assert.strictEqual(error._tag, "InvalidRefreshToken")
          if (error._tag === "InvalidRefreshToken") assert.strictEqual(error.status, 401)
        })
      )

      test(
        "confidential client without its secret: MissingClientSecret from Twitch; wrong secret: InvalidClient(WrongSecret)",
        Effect.gen(function*() {
          const issued = yield* TwitchAuthTest.authorize()
          const secretless = yield* authAs({ clientSecret: undefined })
          const missing = yield* Effect.flip(secretless.refreshToken(issued.refreshToken))
          assert.strictEqual(missing._tag, "MissingClientSecret")
          if (missing._tag === "MissingClientSecret") assert.strictEqual(missing.source, "Twitch")
          const wrong = yield* authAs({ clientSecret: wrongSecret })
          const error = yield* Effect.flip(wrong.refreshToken(issued.refreshToken))
          assert.strictEqual(error._tag, "InvalidClient")
          if (error._tag === "InvalidClient") {
            assert.strictEqual(error.reason, "WrongSecret")
            assert.strictEqual(error.status, 403)
          }
          assert.isTrue(yield* TwitchAuthTest.isRefreshTokenValid(issued), "a refused refresh spends nothing")
        })
      )
    })

    describe("validateToken", () => {
      test(
        "a user token: owner, scopes and expiry, asked with Authorization: OAuth <token>",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const issued = yield* TwitchAuthTest.authorize({ scopes: ["chat:read", "moderator:read:chatters"] })
          yield* TestClock.adjust("1 hour")
          const info = yield* auth.validateToken(issued.accessToken)
          assert.instanceOf(info, Token.TokenInfo)
          assert.strictEqual(info.clientId, confidential.clientId)
          assert.deepStrictEqual(info.login, Option.some(user.login))
          assert.deepStrictEqual(info.userId, Option.some(user.userId))
          assert.deepStrictEqual(info.scopes, ["chat:read", "moderator:read:chatters"])
          assert.isFalse(info.isAppToken)
          assert.deepStrictEqual(info.expiresIn, Option.some(Duration.hours(3)))
          const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("validate"))
          assert.strictEqual(sent.method, "GET")
          assert.strictEqual(sent.headers["authorization"], `OAuth ${Redacted.value(issued.accessToken)}`)
        })
      )

      test(
        "an app token has no owner and no scopes, whether Twitch omits the fields or sends null",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const twitch = yield* FakeTwitch.FakeTwitch
          const app = yield* auth.appToken()
          const absent = yield* auth.validateToken(app.accessToken)
          yield* twitch.setQuirks({ appTokenValidateIdentity: "null", emptyScopes: "null" })
          const nulls = yield* auth.validateToken(app.accessToken)
          for (const info of [absent, nulls]) {
            assert.isTrue(info.isAppToken)
            assert.isTrue(Option.isNone(info.login))
            assert.isTrue(Option.isNone(info.userId))
            assert.deepStrictEqual(info.scopes, [])
            assert.deepStrictEqual(info.expiresIn, Option.some(appTtl))
          }
        })
      )

      test(
        "expiry by time (TestClock): valid one second before the end of its lifetime, InvalidAccessToken at it",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const issued = yield* TwitchAuthTest.authorize()
          yield* TestClock.adjust(Duration.subtract(userTtl, Duration.seconds(1)))
          const info = yield* auth.validateToken(issued.accessToken)
          assert.deepStrictEqual(info.expiresIn, Option.some(Duration.seconds(1)))
          assert.isFalse(issued.isExpired(yield* DateTime.now))
          yield* TestClock.adjust("1 second")
          assert.isTrue(issued.isExpired(yield* DateTime.now))
          const error = yield* Effect.flip(auth.validateToken(issued.accessToken))
          assert.strictEqual(error._tag, "InvalidAccessToken")
          if (error._tag === "InvalidAccessToken") {
            assert.strictEqual(error.status, 401)
            assert.strictEqual(error.twitchMessage, "invalid access token")
            assert.strictEqual(Redacted.value(error.token ?? redacted("")), Redacted.value(issued.accessToken))
          }
          // the refresh token outlives it
          yield* auth.refreshToken(issued.refreshToken)
        })
      )

      test(
        "expired on demand, revoked, disconnected, unknown: InvalidAccessToken; empty: 'missing authorization token'",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const expired = yield* TwitchAuthTest.authorize()
          yield* TwitchAuthTest.expireAccessToken(expired)
          const revoked = yield* TwitchAuthTest.authorize()
          yield* TwitchAuthTest.revokeAccessToken(revoked.accessToken)
          const disconnected = yield* TwitchAuthTest.authorize({ clientId: publicClient.clientId })
          yield* TwitchAuthTest.disconnectUser({ clientId: publicClient.clientId })
          const alive = yield* TwitchAuthTest.authorize()
          for (
            const token of [expired.accessToken, revoked.accessToken, disconnected.accessToken, redacted("unknowntoken0000000000000000")]
          ) {
            const error = yield* Effect.flip(auth.validateToken(token))
            assert.strictEqual(error._tag, "InvalidAccessToken")
            if (error._tag === "InvalidAccessToken") assert.strictEqual(error.twitchMessage, "invalid access token")
          }
          const empty = yield* Effect.flip(auth.validateToken(redacted("")))
          assert.strictEqual(empty._tag, "InvalidAccessToken")
          if (empty._tag === "InvalidAccessToken") assert.strictEqual(empty.twitchMessage, "missing authorization token")
          // disconnecting from one client leaves the user's other tokens alone
          yield* auth.validateToken(alive.accessToken)
        })
      )
    })

    describe("revokeToken", () => {
      test(
        "revokes: the token stops validating; revoking again is InvalidAccessToken('Invalid token')",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const issued = yield* TwitchAuthTest.authorize()
          yield* auth.revokeToken(issued.accessToken)
          const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("revoke"))
          assert.deepStrictEqual(sent.params, { client_id: confidential.clientId, token: Redacted.value(issued.accessToken) })
          assert.isFalse(yield* TwitchAuthTest.isAccessTokenValid(issued))
          assert.strictEqual((yield* Effect.flip(auth.validateToken(issued.accessToken)))._tag, "InvalidAccessToken")
          const again = yield* Effect.flip(auth.revokeToken(issued.accessToken))
          assert.strictEqual(again._tag, "InvalidAccessToken")
          if (again._tag === "InvalidAccessToken") {
            assert.strictEqual(again.status, 400)
            assert.strictEqual(again.twitchMessage, "Invalid token")
          }
          const empty = yield* Effect.flip(auth.revokeToken(redacted("")))
          assert.strictEqual(empty._tag, "InvalidAccessToken")
          if (empty._tag === "InvalidAccessToken") assert.strictEqual(empty.twitchMessage, "missing oauth token")
        })
      )

      test(
        "another client's token cannot be revoked; an unknown client is InvalidClient(UnknownClient, 404)",
        Effect.gen(function*() {
          const issued = yield* TwitchAuthTest.authorize()
          const other = yield* asPublicClient
          assert.strictEqual((yield* Effect.flip(other.revokeToken(issued.accessToken)))._tag, "InvalidAccessToken")
          assert.isTrue(yield* TwitchAuthTest.isAccessTokenValid(issued))
          const stranger = yield* authAs({ clientId: unknownClient })
          const error = yield* Effect.flip(stranger.revokeToken(issued.accessToken))
          assert.strictEqual(error._tag, "InvalidClient")
          if (error._tag === "InvalidClient") {
            assert.strictEqual(error.reason, "UnknownClient")
            assert.strictEqual(error.status, 404)
          }
        })
      )
    })

    describe("appToken", () => {
      test(
        "client credentials: an app token living appTokenTtlSeconds, sent with the secret",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const app = yield* auth.appToken()
          assert.instanceOf(app, Token.AppToken)
          assert.deepStrictEqual(app.scopes, [])
          assert.strictEqual(millisBetween(app.obtainedAt, Option.getOrThrow(app.expiresAt)), Duration.toMillis(appTtl))
          assert.isTrue(yield* TwitchAuthTest.isAccessTokenValid(app))
          const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("token"))
          assert.deepStrictEqual(sent.params, {
            client_id: confidential.clientId,
            client_secret: confidential.clientSecret,
            grant_type: "client_credentials"
          })
          assert.strictEqual(yield* TwitchAuthTest.grantCount("client_credentials"), 1)
        })
      )

      test(
        "wrong secret: InvalidClient(WrongSecret, 403); unknown client: InvalidClient(UnknownClient); no secret: MissingClientSecret(Config)",
        Effect.gen(function*() {
          const wrong = yield* Effect.flip((yield* authAs({ clientSecret: wrongSecret })).appToken())
          assert.strictEqual(wrong._tag, "InvalidClient")
          if (wrong._tag === "InvalidClient") {
            assert.strictEqual(wrong.reason, "WrongSecret")
            assert.strictEqual(wrong.status, 403)
            assert.strictEqual(wrong.twitchMessage, "invalid client secret")
          }
          const unknown = yield* Effect.flip((yield* authAs({ clientId: unknownClient })).appToken())
          assert.strictEqual(unknown._tag, "InvalidClient")
          if (unknown._tag === "InvalidClient") {
            assert.strictEqual(unknown.reason, "UnknownClient")
            assert.strictEqual(unknown.status, 400)
          }
          assert.strictEqual(yield* TwitchAuthTest.calls("token"), 2)
          const secretless = yield* Effect.flip((yield* asPublicClient).appToken())
          assert.strictEqual(secretless._tag, "MissingClientSecret")
          if (secretless._tag === "MissingClientSecret") assert.strictEqual(secretless.source, "Config")
          assert.strictEqual(yield* TwitchAuthTest.calls("token"), 2)
        })
      )
    })

    describe("device code flow", () => {
      test(
        "start → pending → approved → a user token; the code is then spent",
        Effect.gen(function*() {
          const twitch = yield* FakeTwitch.FakeTwitch
          const auth = yield* asPublicClient
          const device = yield* auth.startDeviceAuthorization({ scopes: ["chat:read", "chat:edit"] })
          assert.match(device.userCode, /^[A-Z0-9]{4,}$/)
          assert.include(device.verificationUri, device.userCode)
          assert.include(device.verificationUri, "public=true")
          assert.strictEqual(device.intervalSeconds, 5)
          assert.deepStrictEqual(device.scopes, ["chat:read", "chat:edit"])
          const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("device"))
          assert.strictEqual(sent.params["scopes"], "chat:read chat:edit")
          assert.isUndefined(sent.params["client_secret"])

          const pending = yield* Effect.flip(auth.pollDeviceToken(device.deviceCode))
          assert.strictEqual(pending._tag, "AuthorizationPending")
          yield* Effect.orDie(twitch.approveDevice(device.userCode, user.userId))
          yield* TestClock.adjust("5 seconds")
          const token = yield* auth.pollDeviceToken(device.deviceCode)
          assert.deepStrictEqual(token.scopes, ["chat:read", "chat:edit"])
          assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(token.accessToken)))
          const info = yield* auth.validateToken(token.accessToken)
          assert.deepStrictEqual(info.userId, Option.some(user.userId))

          yield* TestClock.adjust("5 seconds")
          const spent = yield* Effect.flip(auth.pollDeviceToken(device.deviceCode))
          assert.strictEqual(spent._tag, "DeviceCodeExpired")
        })
      )

      test(
        "a confidential client sends its secret; a denied code is AccessDenied",
        Effect.gen(function*() {
          const twitch = yield* FakeTwitch.FakeTwitch
          const auth = yield* TwitchAuth.TwitchAuth
          const device = yield* auth.startDeviceAuthorization({ scopes: ["chat:read"] })
          assert.notInclude(device.verificationUri, "public=true")
          yield* Effect.orDie(twitch.denyDevice(device.userCode))
          const denied = yield* Effect.flip(auth.pollDeviceToken(device.deviceCode))
          assert.strictEqual(denied._tag, "AccessDenied")
          const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("token"))
          assert.strictEqual(sent.params["client_secret"], confidential.clientSecret)
        })
      )

      test(
        "polling faster than the interval is SlowDown; after expiry (TestClock) the code is DeviceCodeExpired",
        Effect.gen(function*() {
          const auth = yield* asPublicClient
          const device = yield* auth.startDeviceAuthorization({ scopes: [] })
          assert.strictEqual((yield* Effect.flip(auth.pollDeviceToken(device.deviceCode)))._tag, "AuthorizationPending")
          yield* TestClock.adjust("1 second")
          assert.strictEqual((yield* Effect.flip(auth.pollDeviceToken(device.deviceCode)))._tag, "SlowDown")
          const lifetime = millisBetween(yield* DateTime.now, device.expiresAt)
          assert.strictEqual(lifetime, 1800_000 - 1000)
          yield* TestClock.adjust(Duration.millis(lifetime))
          assert.strictEqual((yield* Effect.flip(auth.pollDeviceToken(device.deviceCode)))._tag, "DeviceCodeExpired")
        })
      )

      test(
        "polling with an unknown device code: DeviceCodeExpired; from an unknown client: InvalidClient",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const error = yield* Effect.flip(auth.pollDeviceToken(redacted("nosuchdevicecode0000000000000")))
          assert.strictEqual(error._tag, "DeviceCodeExpired")
          if (error._tag === "DeviceCodeExpired") assert.strictEqual(error.twitchMessage, "invalid device code")
          const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("token"))
          assert.strictEqual(sent.params["grant_type"], "urn:ietf:params:oauth:grant-type:device_code")
          assert.strictEqual(sent.params["device_code"], "nosuchdevicecode0000000000000")
          const stranger = yield* authAs({ clientId: unknownClient })
          const unknown = yield* Effect.flip(stranger.pollDeviceToken(redacted("nosuchdevicecode0000000000000")))
          assert.strictEqual(unknown._tag, "InvalidClient")
          assert.strictEqual(yield* TwitchAuthTest.calls("token"), 2)
        })
      )
    })

    describe("transient failures", () => {
      /** Each operation, with the endpoint it calls and a call that succeeds on a healthy Twitch. */
      const operations: ReadonlyArray<{
        readonly name: string
        readonly endpoint: FakeTwitch.FakeTwitch.Endpoint
        readonly run: Effect.Effect<
          unknown,
          TwitchAuthError.TwitchAuthError | FakeTwitch.FakeTwitchSetupError,
          TwitchAuth.TwitchAuth | TwitchAuthConfig.TwitchAuthConfig | FakeTwitch.FakeTwitch
        >
      }> = [
        {
          name: "appToken",
          endpoint: "token",
          run: Effect.flatMap(TwitchAuth.TwitchAuth, (auth) => auth.appToken())
        },
        {
          name: "refreshToken",
          endpoint: "token",
          run: Effect.gen(function*() {
            const auth = yield* TwitchAuth.TwitchAuth
            const issued = yield* TwitchAuthTest.authorize()
            return yield* auth.refreshToken(issued.refreshToken)
          })
        },
        {
          name: "validateToken",
          endpoint: "validate",
          run: Effect.gen(function*() {
            const auth = yield* TwitchAuth.TwitchAuth
            const issued = yield* TwitchAuthTest.authorize()
            return yield* auth.validateToken(issued.accessToken)
          })
        },
        {
          name: "revokeToken",
          endpoint: "revoke",
          run: Effect.gen(function*() {
            const auth = yield* TwitchAuth.TwitchAuth
            const issued = yield* TwitchAuthTest.authorize()
            return yield* auth.revokeToken(issued.accessToken)
          })
        },
        {
          name: "exchangeCode",
          endpoint: "token",
          run: Effect.gen(function*() {
            const auth = yield* TwitchAuth.TwitchAuth
            const twitch = yield* FakeTwitch.FakeTwitch
            const code = yield* twitch.issueAuthorizationCode({
              clientId: confidential.clientId,
              userId: user.userId,
              scopes: [],
              redirectUri: confidential.redirectUris[0]
            })
            return yield* auth.exchangeCode(code)
          })
        }
      ]

      for (const operation of operations) {
        test(
          `${operation.name}: 503 twice then an answer → the caller sees only the answer (3 calls); 503 four times → TwitchUnavailable`,
          Effect.gen(function*() {
            yield* TwitchAuthTest.serverError(operation.endpoint, { times: 2 })
            yield* operation.run
            assert.strictEqual(yield* TwitchAuthTest.calls(operation.endpoint), 3)
            yield* TwitchAuthTest.resetCounters
            yield* TwitchAuthTest.serverError(operation.endpoint, { times: 4, status: 502 })
            const error = yield* Effect.flip(operation.run)
            assert.strictEqual(error._tag, "TwitchUnavailable")
            if (error._tag === "TwitchUnavailable") assert.strictEqual(error.status, 502)
            assert.strictEqual(yield* TwitchAuthTest.calls(operation.endpoint), 4)
          })
        )

        test(
          `${operation.name}: 429 that persists → RateLimited with the seconds until Ratelimit-Reset`,
          Effect.gen(function*() {
            yield* TwitchAuthTest.rateLimit(operation.endpoint, { times: 4, resetAfterSeconds: 30 })
            const error = yield* Effect.flip(operation.run)
            assert.strictEqual(error._tag, "RateLimited")
            if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterSeconds, 30)
            assert.strictEqual(yield* TwitchAuthTest.calls(operation.endpoint), 4)
          })
        )
      }

      for (const operation of operations.filter((o) => o.name !== "revokeToken")) {
        test(
          `${operation.name}: a body that does not decode → MalformedResponse naming fields, not values, and no retry`,
          Effect.gen(function*() {
            yield* TwitchAuthTest.malformedBody(operation.endpoint)
            const error = yield* Effect.flip(operation.run)
            assert.strictEqual(error._tag, "MalformedResponse")
            if (error._tag === "MalformedResponse") assert.strictEqual(error.detail, "the body is not JSON")
            yield* TwitchAuthTest.malformedBody(operation.endpoint, {
              body: "{\"access_token\":\"secretvalue\",\"client_id\":7,\"expires_in\":\"soon\"}"
            })
            const typed = yield* Effect.flip(operation.run)
            assert.strictEqual(typed._tag, "MalformedResponse")
            assert.notInclude(typed.message, "secretvalue")
            assert.strictEqual(yield* TwitchAuthTest.calls(operation.endpoint), 2)
          })
        )
      }

      test(
        "an answer slower than the request timeout is retried (TestClock); always slow → TransportError(Timeout)",
        Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          yield* TwitchAuthTest.delay("token", "1 hour")
          const first = yield* Effect.fork(auth.appToken())
          yield* untilCalls("token", 1)
          yield* TestClock.adjust(TwitchAuthConfig.defaultRequestTimeout)
          const app = yield* Fiber.join(first)
          assert.isTrue(yield* TwitchAuthTest.isAccessTokenValid(app))
          assert.strictEqual(yield* TwitchAuthTest.calls("token"), 2)

          yield* TwitchAuthTest.resetCounters
          yield* TwitchAuthTest.delay("token", "1 hour", { times: 4 })
          const second = yield* Effect.fork(Effect.flip(auth.appToken()))
          for (let attempt = 1; attempt <= 4; attempt++) {
            yield* untilCalls("token", attempt)
            yield* TestClock.adjust(TwitchAuthConfig.defaultRequestTimeout)
          }
          const error = yield* Fiber.join(second)
          assert.strictEqual(error._tag, "TransportError")
          if (error._tag === "TransportError") assert.strictEqual(error.reason, "Timeout")
        })
      )
    })

    describe("on top: a session and Helix", () => {
      test(
        "a Helix call with an expired token is refreshed once and retried with the new token",
        Effect.gen(function*() {
          const token = yield* TwitchAuthTest.authorize({ scopes: ["user:read:email"] })
          const session = yield* TwitchSession.make({ key: user.userId, token })
          const helix = yield* TwitchHttpClient.make().pipe(
            Effect.provideService(TwitchCredentials.TwitchCredentials, session)
          )
          yield* TwitchAuthTest.expireAccessToken(token)
          const me = yield* Effect.flatMap(helix.get("/users"), HttpClientResponse.schemaBodyJson(Users))
          assert.deepStrictEqual(me.data.map((u) => u.login), [user.login])
          const current = yield* session.token
          const bearers = (yield* TwitchAuthTest.requests("helix")).map((r) => r.headers["authorization"])
          assert.deepStrictEqual(bearers, [
            `Bearer ${Redacted.value(token.accessToken)}`,
            `Bearer ${Redacted.value(current.accessToken)}`
          ])
          assert.strictEqual(Option.getOrThrow(yield* TwitchAuthTest.lastRequest("helix")).headers["client-id"], confidential.clientId)
          assert.strictEqual(yield* TwitchAuthTest.grantCount("refresh_token"), 1)
        }).pipe(Effect.scoped, Effect.provide(TokenStore.layerMemory))
      )
    })
  })
