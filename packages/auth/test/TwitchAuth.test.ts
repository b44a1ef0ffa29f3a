import { type TwitchAuthError, TwitchScope } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import { assert, describe, layer } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { authWith, confidential, MockLayer, publicClient, user } from "./utils.js"

/** Opens an authorize URL like a browser, the user clicks Authorize; returns the redirect. */
const followAuthorize = (url: string) =>
  Effect.map(MockTwitchServer.consent(url, "authorize"), (location) => new URL(location))

const userToken = (scopes: ReadonlyArray<string> = ["chat:read"], clientId: string = confidential.clientId) =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.issueUserToken({ clientId, userId: user.userId, scopes }))

const token = (s: string) => Redacted.make(s)

layer(MockLayer, { excludeTestServices: true })("TwitchAuth against the mock id.twitch.tv", (it) => {
  describe("authorizationUrl", () => {
    it.effect("builds Twitch's consent URL with every parameter and a random state", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const request = yield* auth.authorizationUrl({ scopes: ["chat:read", "chat:edit"], forceVerify: true })
        const url = new URL(request.url)
        assert.strictEqual(url.pathname, "/oauth2/authorize")
        assert.strictEqual(url.searchParams.get("client_id"), confidential.clientId)
        assert.strictEqual(url.searchParams.get("redirect_uri"), confidential.redirectUris[0])
        assert.strictEqual(url.searchParams.get("response_type"), "code")
        assert.strictEqual(url.searchParams.get("scope"), "chat:read chat:edit")
        assert.strictEqual(url.searchParams.get("force_verify"), "true")
        assert.match(request.state, /^[0-9a-f]{32}$/)
        assert.strictEqual(url.searchParams.get("state"), request.state)
        const again = yield* auth.authorizationUrl()
        assert.notStrictEqual(again.state, request.state)
        assert.isNull(new URL(again.url).searchParams.get("force_verify"))
      }))

    it.effect("keeps a given state and redirect URI", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const request = yield* auth.authorizationUrl({
          state: "my-state",
          redirectUri: confidential.redirectUris[1]
        })
        const url = new URL(request.url)
        assert.strictEqual(request.state, "my-state")
        assert.strictEqual(url.searchParams.get("state"), "my-state")
        assert.strictEqual(url.searchParams.get("redirect_uri"), confidential.redirectUris[1])
      }))

    it.effect("fails with MissingRedirectUri when none is given or configured", () =>
      Effect.gen(function*() {
        const auth = yield* authWith({ redirectUri: undefined })
        const error = yield* Effect.flip(auth.authorizationUrl())
        assert.strictEqual(error._tag, "MissingRedirectUri")
        assert.include(error.message, "TWITCH_REDIRECT_URI")
      }))
  })

  describe("exchangeCode", () => {
    it.effect("turns the code from the consent redirect into a user token", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        const request = yield* auth.authorizationUrl({ scopes: ["chat:read", "chat:edit"] })
        const redirect = yield* followAuthorize(request.url)
        assert.strictEqual(redirect.searchParams.get("state"), request.state)
        const code = redirect.searchParams.get("code") ?? ""
        const before = yield* DateTime.now
        const userToken = yield* auth.exchangeCode(code)
        assert.deepStrictEqual(userToken.scopes, ["chat:read", "chat:edit"])
        assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(userToken.accessToken)))
        assert.isTrue(yield* twitch.isRefreshTokenValid(Redacted.value(userToken.refreshToken)))
        const expiresAt = Option.getOrThrow(userToken.expiresAt)
        const lifetime = DateTime.toEpochMillis(expiresAt) - DateTime.toEpochMillis(before)
        assert.isTrue(Math.abs(lifetime - FakeTwitch.defaults.userTokenTtlSeconds * 1000) < 5_000)
        const sent = (yield* twitch.requests("token")).at(-1)
        assert.strictEqual(sent?.headers["content-type"], "application/x-www-form-urlencoded")
        assert.strictEqual(sent?.params["grant_type"], "authorization_code")
        assert.strictEqual(sent?.params["redirect_uri"], confidential.redirectUris[0])
      }))

    it.effect("a code can be used once: the second exchange is InvalidAuthorizationCode", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        const code = yield* twitch.issueAuthorizationCode({
          clientId: confidential.clientId,
          userId: user.userId,
          scopes: [],
          redirectUri: confidential.redirectUris[0]
        })
        const first = yield* auth.exchangeCode(code)
        assert.deepStrictEqual(first.scopes, [])
        const error = yield* Effect.flip(auth.exchangeCode(code))
        assert.strictEqual(error._tag, "InvalidAuthorizationCode")
        const unknown = yield* Effect.flip(auth.exchangeCode("nosuchcode000000000000000000000"))
        assert.strictEqual(unknown._tag, "InvalidAuthorizationCode")
      }))

    it.effect("a redirect URI that is not registered is RedirectUriMismatch", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
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
      }))

    it.effect("without a configured secret it fails with MissingClientSecret before calling Twitch", () =>
      Effect.gen(function*() {
        const auth = yield* authWith({ clientSecret: undefined })
        const twitch = yield* FakeTwitch.FakeTwitch
        const before = yield* twitch.calls("token")
        const error = yield* Effect.flip(auth.exchangeCode("whatever"))
        assert.strictEqual(error._tag, "MissingClientSecret")
        if (error._tag === "MissingClientSecret") assert.strictEqual(error.source, "Config")
        assert.strictEqual(yield* twitch.calls("token"), before)
      }))
  })

  describe("refreshToken", () => {
    it.effect("returns a new token; a refresh token full of % / = + & round-trips exactly", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        const issued = yield* userToken(["chat:read"])
        for (const c of ["%", "/", "=", "+", "&"]) assert.include(issued.refreshToken, c)
        const refreshed = yield* auth.refreshToken(token(issued.refreshToken))
        assert.notStrictEqual(Redacted.value(refreshed.accessToken), issued.accessToken)
        assert.deepStrictEqual(refreshed.scopes, ["chat:read"])
        assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(refreshed.accessToken)))
        const sent = (yield* twitch.requests("token")).at(-1)
        assert.strictEqual(sent?.params["refresh_token"], issued.refreshToken)
        assert.strictEqual(sent?.params["client_secret"], confidential.clientSecret)
      }))

    it.effect("public clients: no secret is sent, and a spent refresh token is InvalidRefreshToken", () =>
      Effect.gen(function*() {
        const auth = yield* authWith({ clientId: publicClient.clientId, clientSecret: undefined })
        const twitch = yield* FakeTwitch.FakeTwitch
        const issued = yield* userToken(["chat:read"], publicClient.clientId)
        const refreshed = yield* auth.refreshToken(token(issued.refreshToken))
        const sent = (yield* twitch.requests("token")).at(-1)
        assert.isUndefined(sent?.params["client_secret"])
        assert.notStrictEqual(Redacted.value(refreshed.refreshToken), issued.refreshToken)
        const error = yield* Effect.flip(auth.refreshToken(token(issued.refreshToken)))
        assert.strictEqual(error._tag, "InvalidRefreshToken")
        assert.include(error.message, "authorize")
        const again = yield* auth.refreshToken(refreshed.refreshToken)
        assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(again.accessToken)))
      }))

    it.effect("a confidential client's refresh without the secret is MissingClientSecret from Twitch", () =>
      Effect.gen(function*() {
        const auth = yield* authWith({ clientSecret: undefined })
        const issued = yield* userToken()
        const error = yield* Effect.flip(auth.refreshToken(token(issued.refreshToken)))
        assert.strictEqual(error._tag, "MissingClientSecret")
        if (error._tag === "MissingClientSecret") assert.strictEqual(error.source, "Twitch")
      }))

    it.effect("a disconnected user's refresh token is InvalidRefreshToken; so is an empty one", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        const issued = yield* userToken()
        yield* twitch.disconnectUser(user.userId)
        assert.strictEqual(
          (yield* Effect.flip(auth.refreshToken(token(issued.refreshToken))))._tag,
          "InvalidRefreshToken"
        )
        assert.strictEqual((yield* Effect.flip(auth.refreshToken(token(""))))._tag, "InvalidRefreshToken")
      }))

    it.effect("Twitch answering 401 to a refresh (as its docs allow) is InvalidRefreshToken too", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        yield* twitch.setQuirks({ refreshFailureStatus: 401 })
        const error = yield* Effect.flip(auth.refreshToken(token("not-a-refresh-token")))
        yield* twitch.setQuirks({ refreshFailureStatus: 400 })
        assert.strictEqual(error._tag, "InvalidRefreshToken")
        if (error._tag === "InvalidRefreshToken") assert.strictEqual(error.status, 401)
      }))
  })

  describe("validateToken", () => {
    it.effect("decodes a user token's owner, scopes and expiry, sending Authorization: OAuth", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        const issued = yield* userToken(["chat:read", "moderator:read:chatters"])
        const info = yield* auth.validateToken(token(issued.accessToken))
        assert.strictEqual(info.clientId, confidential.clientId)
        assert.deepStrictEqual(info.login, Option.some(user.login))
        assert.deepStrictEqual(info.userId, Option.some(user.userId))
        assert.deepStrictEqual(info.scopes, ["chat:read", "moderator:read:chatters"])
        assert.isFalse(info.isAppToken)
        const left = Duration.toSeconds(Option.getOrThrow(info.expiresIn))
        assert.isTrue(
          left > FakeTwitch.defaults.userTokenTtlSeconds - 10 && left <= FakeTwitch.defaults.userTokenTtlSeconds
        )
        const sent = (yield* twitch.requests("validate")).at(-1)
        assert.strictEqual(sent?.headers["authorization"], `OAuth ${issued.accessToken}`)
      }))

    it.effect("an app token has no login or user id, whether Twitch omits them or sends null", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        const app = yield* auth.appToken()
        const absent = yield* auth.validateToken(app.accessToken)
        yield* twitch.setQuirks({ appTokenValidateIdentity: "null", emptyScopes: "null" })
        const nulls = yield* auth.validateToken(app.accessToken)
        yield* twitch.setQuirks({ appTokenValidateIdentity: "absent", emptyScopes: "empty" })
        for (const info of [absent, nulls]) {
          assert.isTrue(info.isAppToken)
          assert.isTrue(Option.isNone(info.login))
          assert.isTrue(Option.isNone(info.userId))
          assert.deepStrictEqual(info.scopes, [])
        }
      }))

    it.effect("expired, revoked, unknown and empty tokens are InvalidAccessToken", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        const expired = yield* userToken()
        yield* twitch.expireAccessToken(expired.accessToken)
        const revoked = yield* userToken()
        yield* twitch.revokeAccessToken(revoked.accessToken)
        for (const t of [expired.accessToken, revoked.accessToken, "unknowntoken00000000000000000"]) {
          const error = yield* Effect.flip(auth.validateToken(token(t)))
          assert.strictEqual(error._tag, "InvalidAccessToken")
          if (error._tag === "InvalidAccessToken") assert.strictEqual(error.twitchMessage, "invalid access token")
        }
        const empty = yield* Effect.flip(auth.validateToken(token("")))
        assert.strictEqual(empty._tag, "InvalidAccessToken")
        if (empty._tag === "InvalidAccessToken") assert.strictEqual(empty.twitchMessage, "missing authorization token")
      }))
  })

  describe("revokeToken", () => {
    it.effect("revokes: the token no longer validates, and revoking it again is InvalidAccessToken", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const issued = yield* userToken()
        yield* auth.revokeToken(token(issued.accessToken))
        const validate = yield* Effect.flip(auth.validateToken(token(issued.accessToken)))
        assert.strictEqual(validate._tag, "InvalidAccessToken")
        const again = yield* Effect.flip(auth.revokeToken(token(issued.accessToken)))
        assert.strictEqual(again._tag, "InvalidAccessToken")
        if (again._tag === "InvalidAccessToken") assert.strictEqual(again.twitchMessage, "Invalid token")
        const idempotent = yield* auth.revokeToken(token(issued.accessToken)).pipe(
          Effect.catchTag("InvalidAccessToken", () => Effect.succeed("already gone"))
        )
        assert.strictEqual(idempotent, "already gone")
      }))

    it.effect("an unknown client is InvalidClient; an empty token is InvalidAccessToken", () =>
      Effect.gen(function*() {
        const stranger = yield* authWith({ clientId: "nosuchclient000000000000000000" })
        const issued = yield* userToken()
        const error = yield* Effect.flip(stranger.revokeToken(token(issued.accessToken)))
        assert.strictEqual(error._tag, "InvalidClient")
        if (error._tag === "InvalidClient") {
          assert.strictEqual(error.reason, "UnknownClient")
          assert.strictEqual(error.status, 404)
        }
        const auth = yield* authWith()
        const empty = yield* Effect.flip(auth.revokeToken(token("")))
        assert.strictEqual(empty._tag, "InvalidAccessToken")
      }))
  })

  describe("appToken", () => {
    it.effect("gets an app token with the client credentials grant", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        const app = yield* auth.appToken()
        assert.deepStrictEqual(app.scopes, [])
        assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(app.accessToken)))
        const now = yield* DateTime.now
        const left = Duration.toSeconds(Option.getOrThrow(app.expiresIn(now)))
        assert.isTrue(left > FakeTwitch.defaults.appTokenTtlSeconds - 10)
      }))

    it.effect("wrong secret → InvalidClient(WrongSecret, 403); unknown client → InvalidClient(UnknownClient)", () =>
      Effect.gen(function*() {
        const wrong = yield* authWith({ clientSecret: "0000000000wrongsecret000000000" })
        const e1 = yield* Effect.flip(wrong.appToken())
        assert.strictEqual(e1._tag, "InvalidClient")
        if (e1._tag === "InvalidClient") {
          assert.strictEqual(e1.reason, "WrongSecret")
          assert.strictEqual(e1.status, 403)
        }
        const unknown = yield* authWith({ clientId: "nosuchclient000000000000000000" })
        const e2 = yield* Effect.flip(unknown.appToken())
        assert.strictEqual(e2._tag, "InvalidClient")
        if (e2._tag === "InvalidClient") assert.strictEqual(e2.reason, "UnknownClient")
      }))

    it.effect("a scope Twitch does not know is InvalidScope, for app tokens and device codes alike", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const app = yield* Effect.flip(auth.appToken({ scopes: ["chat:read", TwitchScope.unlisted("chat-read")] }))
        const device = yield* Effect.flip(
          auth.startDeviceAuthorization({ scopes: [TwitchScope.unlisted("NotAScope")] })
        )
        assert.deepStrictEqual([app._tag, app._tag === "InvalidScope" ? app.twitchMessage : ""], [
          "InvalidScope",
          "invalid scope requested: 'chat-read'"
        ])
        assert.deepStrictEqual([device._tag, device._tag === "InvalidScope" ? device.twitchMessage : ""], [
          "InvalidScope",
          "invalid scope requested: 'NotAScope'"
        ])
      }))
  })

  describe("retries", () => {
    it.effect("two 503s then success: 3 calls, and the caller sees only the token", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        yield* twitch.resetCounters()
        yield* twitch.failNext("token", { _tag: "ServerError", status: 503 }, 2)
        const app = yield* auth.appToken()
        assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(app.accessToken)))
        assert.strictEqual(yield* twitch.calls("token"), 3)
      }))

    it.effect("a 400 is never retried: 1 call", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        yield* twitch.resetCounters()
        const error = yield* Effect.flip(auth.refreshToken(token("definitely-not-valid")))
        assert.strictEqual(error._tag, "InvalidRefreshToken")
        assert.strictEqual(yield* twitch.calls("token"), 1)
      }))

    it.effect("a 429 is retried; a 5xx that persists surfaces as TwitchUnavailable after the schedule", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        yield* twitch.resetCounters()
        yield* twitch.failNext("validate", { _tag: "RateLimited", resetAfterSeconds: 0 }, 1)
        const issued = yield* userToken()
        yield* auth.validateToken(token(issued.accessToken))
        assert.strictEqual(yield* twitch.calls("validate"), 2)
        // exactly as many faults as attempts (fastRetry: 3 retries), so none is left for later tests
        yield* twitch.failNext("validate", { _tag: "ServerError", status: 502 }, 4)
        const error = yield* Effect.flip(auth.validateToken(token(issued.accessToken)))
        assert.strictEqual(error._tag, "TwitchUnavailable")
        if (error._tag === "TwitchUnavailable") assert.strictEqual(error.status, 502)
        assert.strictEqual(yield* twitch.calls("validate"), 2 + 4)
        yield* twitch.resetCounters()
        yield* twitch.failNext("any", { _tag: "RateLimited", resetAfterSeconds: 30 }, 4)
        const limited = yield* Effect.flip(auth.validateToken(token(issued.accessToken)))
        assert.strictEqual(limited._tag, "RateLimited")
        if (limited._tag === "RateLimited") {
          assert.isDefined(limited.retryAfterSeconds)
          assert.isTrue((limited.retryAfterSeconds ?? 0) > 20)
        }
        assert.strictEqual(yield* twitch.calls("validate"), 4)
      }))

    it.effect("a body that does not decode is MalformedResponse, not a defect, and not retried", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        yield* twitch.resetCounters()
        yield* twitch.failNext("token", { _tag: "Malformed" }, 1)
        const error = yield* Effect.flip(auth.appToken())
        assert.strictEqual(error._tag, "MalformedResponse")
        assert.strictEqual(yield* twitch.calls("token"), 1)
        yield* twitch.failNext("token", {
          _tag: "Malformed",
          body: "{\"access_token\":\"abc\",\"expires_in\":\"soon\"}"
        })
        const typed = yield* Effect.flip(auth.appToken())
        assert.strictEqual(typed._tag, "MalformedResponse")
        assert.include(typed.message, "`expires_in`")
        assert.notInclude(typed.message, "abc")
      }))

    it.effect("a slow answer times out and is retried", () =>
      Effect.gen(function*() {
        const auth = yield* authWith({ requestTimeout: "100 millis" })
        const twitch = yield* FakeTwitch.FakeTwitch
        yield* twitch.resetCounters()
        yield* twitch.failNext("token", { _tag: "Delay", duration: "1 second" }, 1)
        const app = yield* auth.appToken()
        assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(app.accessToken)))
        assert.strictEqual(yield* twitch.calls("token"), 2)
        yield* twitch.failNext("token", { _tag: "Delay", duration: "1 second" }, 4)
        const error = yield* Effect.flip(auth.appToken())
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag === "TransportError") assert.strictEqual(error.reason, "Timeout")
      }))

    it.effect("nobody listening is a TransportError after the retries", () =>
      Effect.gen(function*() {
        const auth = yield* authWith({ authUrl: "http://127.0.0.1:9/oauth2" })
        const error = yield* Effect.flip(auth.validateToken(token("abc")))
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag === "TransportError") assert.strictEqual(error.reason, "Network")
      }))
  })

  describe("secrets", () => {
    it.effect("no error message, toString, JSON or pretty cause contains a secret or token", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const twitch = yield* FakeTwitch.FakeTwitch
        const issued = yield* userToken()
        yield* twitch.revokeAccessToken(issued.accessToken)
        const wrongSecret = "0000000000wrongsecret000000000"
        const wrong = yield* authWith({ clientSecret: wrongSecret })
        yield* twitch.failNext("token", { _tag: "Malformed", body: `["${issued.refreshToken}"]` })
        const errors: Array<TwitchAuthError.TwitchAuthError> = [
          yield* Effect.flip(auth.appToken()), // malformed body carrying a token
          yield* Effect.flip(auth.validateToken(token(issued.accessToken))),
          yield* Effect.flip(auth.revokeToken(token(issued.accessToken))),
          yield* Effect.flip(wrong.appToken()),
          yield* Effect.flip(wrong.refreshToken(token(issued.refreshToken))),
          yield* Effect.flip(auth.exchangeCode(issued.refreshToken))
        ]
        yield* twitch.disconnectUser(user.userId)
        errors.push(yield* Effect.flip(auth.refreshToken(token(issued.refreshToken))))
        const texts = errors.flatMap((error) => [
          error.message,
          String(error),
          JSON.stringify(error),
          error.stack ?? "",
          Cause.pretty(Cause.fail(error)),
          JSON.stringify(Cause.fail(error))
        ])
        assert.deepStrictEqual(
          texts.filter((t) => t.length === 0),
          [],
          "every error renders to something"
        )
        const secrets = [confidential.clientSecret, wrongSecret, issued.accessToken, issued.refreshToken]
        assert.deepStrictEqual(
          secrets.filter((secret) => texts.some((text) => text.includes(secret))),
          []
        )
      }))

    it.effect("tokens print as <redacted> in toString and JSON", () =>
      Effect.gen(function*() {
        const auth = yield* authWith()
        const issued = yield* userToken()
        const refreshed = yield* auth.refreshToken(token(issued.refreshToken))
        const app = yield* auth.appToken()
        const texts = [String(refreshed), JSON.stringify(refreshed), String(app), JSON.stringify(app)]
        for (
          const secret of [
            Redacted.value(refreshed.accessToken),
            Redacted.value(refreshed.refreshToken),
            Redacted.value(app.accessToken)
          ]
        ) {
          for (const text of texts) assert.notInclude(text, secret)
        }
      }))
  })
})
