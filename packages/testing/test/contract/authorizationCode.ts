/** The TwitchAuth contract's cases for the authorization code flow (see TwitchAuthContract.ts). */
import * as Token from "@effect-twitch/auth/Token"
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import { assert, describe } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { FakeTwitch, TwitchAuthTest } from "../../src/index.js"
import { authAs, confidential, followAuthorize, millisBetween, type Test, user, userTtl } from "./support.js"

/** The contract's cases for the authorization code flow. */
export const authorizationCodeCases = (test: Test) => {
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
        assert.strictEqual(
          millisBetween(token.obtainedAt, Option.getOrThrow(token.expiresAt)),
          Duration.toMillis(userTtl)
        )
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
        if (again._tag === "InvalidAuthorizationCode") {
          assert.strictEqual(again.twitchMessage, "Invalid authorization code")
        }
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
}
