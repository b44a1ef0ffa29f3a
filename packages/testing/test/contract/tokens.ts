/** The TwitchAuth contract's cases for refreshToken, validateToken and revokeToken (see TwitchAuthContract.ts). */
import * as Token from "@effect-twitch/auth/Token"
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import { assert, describe } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { FakeTwitch, TwitchAuthTest } from "../../src/index.js"
import {
  appTtl,
  asPublicClient,
  authAs,
  confidential,
  millisBetween,
  publicClient,
  redacted,
  type Test,
  unknownClient,
  user,
  userTtl,
  wrongSecret
} from "./support.js"

/** The contract's cases for refreshToken, validateToken and revokeToken. */
export const tokenCases = (test: Test) => {
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
          const token of [
            expired.accessToken,
            revoked.accessToken,
            disconnected.accessToken,
            redacted("unknowntoken0000000000000000")
          ]
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
        assert.deepStrictEqual(sent.params, {
          client_id: confidential.clientId,
          token: Redacted.value(issued.accessToken)
        })
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
}
