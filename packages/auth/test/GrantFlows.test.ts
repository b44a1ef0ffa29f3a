/**
 * The browser flows end to end against the mock server on 127.0.0.1 (real sockets, real
 * redirects): authorization code with its state check and error redirects, implicit, and
 * OpenID Connect with every way an ID token must be refused.
 */
import { AuthorizationCode, ImplicitFlow, OpenIdConnect, TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import { assert, describe, layer } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { confidential, fastRetry, leaks, MockLayer, user } from "./utils.js"

/** Opens an authorize URL like a browser, the user clicks Authorize; returns the redirect. */
const follow = (url: string) => MockTwitchServer.consent(url, "authorize")

/** TwitchAuth and OpenIdConnect pointed at the running mock, with the confidential seed client. */
const clients = Effect.gen(function*() {
  const server = yield* MockTwitchServer.MockTwitchServer
  const config = Layer.orDie(TwitchAuthConfig.layer({
    clientId: confidential.clientId,
    clientSecret: confidential.clientSecret,
    redirectUri: confidential.redirectUris[0],
    authUrl: server.authUrl,
    retrySchedule: fastRetry
  }))
  const services = OpenIdConnect.layer.pipe(Layer.provideMerge(TwitchAuth.layer), Layer.provide(config))
  const [auth, oidc] = yield* Effect.provide(Effect.all([TwitchAuth.TwitchAuth, OpenIdConnect.OpenIdConnect]), services)
  return { auth, oidc, server }
})

const twitch = FakeTwitch.FakeTwitch
const tokenCalls = Effect.flatMap(twitch, (t) => t.calls("token"))

layer(MockLayer, { excludeTestServices: true })("grant flows against the mock id.twitch.tv", (it) => {
  describe("authorization code: handleCallback", () => {
    it.effect("good state: the code is exchanged for the user's token", () =>
      Effect.gen(function*() {
        const { auth } = yield* clients
        const request = yield* auth.authorizationUrl({ scopes: ["chat:read", "chat:edit"] })
        const redirect = yield* follow(request.url)
        const token = yield* AuthorizationCode.handleCallback(redirect, { state: request.state }).pipe(
          Effect.provideService(TwitchAuth.TwitchAuth, auth)
        )
        assert.deepStrictEqual(token.scopes, ["chat:read", "chat:edit"])
        const info = yield* auth.validateToken(token.accessToken)
        assert.strictEqual(Option.getOrNull(info.userId), user.userId)
        // a framework's parsed query works too
        const again = yield* auth.authorizationUrl({ scopes: ["bits:read"] })
        const query = Object.fromEntries(new URL(yield* follow(again.url)).searchParams)
        const second = yield* AuthorizationCode.handleCallback(query, { state: again.state }).pipe(
          Effect.provideService(TwitchAuth.TwitchAuth, auth)
        )
        assert.deepStrictEqual(second.scopes, ["bits:read"])
      }))

    it.effect("forged or missing state: StateMismatch, and the code is not spent", () =>
      Effect.gen(function*() {
        const { auth } = yield* clients
        const request = yield* auth.authorizationUrl({ scopes: ["chat:read"] })
        const redirect = new URL(yield* follow(request.url))
        const before = yield* tokenCalls
        const forged = new URL(redirect)
        forged.searchParams.set("state", "attacker-chosen")
        const handle = (url: URL) =>
          AuthorizationCode.handleCallback(url, { state: request.state }).pipe(
            Effect.provideService(TwitchAuth.TwitchAuth, auth)
          )
        const error = yield* Effect.flip(handle(forged))
        assert.strictEqual(error._tag, "StateMismatch")
        assert.strictEqual(error._tag === "StateMismatch" ? error.reason : "", "Different")
        assert.deepStrictEqual(leaks([error.message, JSON.stringify(error)], [request.state, "attacker-chosen"]), [])
        const stripped = new URL(redirect)
        stripped.searchParams.delete("state")
        const missing = yield* Effect.flip(handle(stripped))
        assert.strictEqual(missing._tag === "StateMismatch" ? missing.reason : "", "Missing")
        assert.strictEqual(yield* tokenCalls, before)
        // the real callback still works: nothing was exchanged
        const token = yield* handle(redirect)
        assert.deepStrictEqual(token.scopes, ["chat:read"])
      }))

    it.effect("the user denies: AccessDenied; an unregistered redirect URI: RedirectUriMismatch", () =>
      Effect.gen(function*() {
        const { auth } = yield* clients
        const denied = yield* auth.authorizationUrl({ scopes: ["chat:read"] })
        const deniedRedirect = yield* MockTwitchServer.consent(denied.url, "cancel")
        const error = yield* Effect.flip(
          AuthorizationCode.handleCallback(deniedRedirect, { state: denied.state }).pipe(
            Effect.provideService(TwitchAuth.TwitchAuth, auth)
          )
        )
        assert.strictEqual(error._tag, "AccessDenied")
        assert.strictEqual(error._tag === "AccessDenied" ? error.description : "", "The user denied you access")

        const unregistered = "http://localhost:9999/nope"
        const mismatch = yield* auth.authorizationUrl({ redirectUri: unregistered })
        const mismatchRedirect = yield* follow(mismatch.url)
        assert.isTrue(mismatchRedirect.startsWith(confidential.redirectUris[0]))
        const error2 = yield* Effect.flip(
          AuthorizationCode.handleCallback(mismatchRedirect, { state: mismatch.state, redirectUri: unregistered }).pipe(
            Effect.provideService(TwitchAuth.TwitchAuth, auth)
          )
        )
        assert.strictEqual(error2._tag, "RedirectUriMismatch")
        assert.strictEqual(error2._tag === "RedirectUriMismatch" ? error2.redirectUri : "", unregistered)
      }))

    it("parseCallback: other errors and a redirect without a code", () => {
      const failed = AuthorizationCode.parseCallback("?error=invalid_scope&error_description=bad&state=s", {
        state: "s"
      })
      assert.isTrue(Either.isLeft(failed) && failed.left._tag === "AuthorizationFailed")
      const empty = AuthorizationCode.parseCallback("http://localhost:3000/callback?state=s", { state: "s" })
      assert.isTrue(Either.isLeft(empty) && empty.left._tag === "MalformedRedirect")
      const ok = AuthorizationCode.parseCallback("code=abc&scope=chat%3Aread+chat%3Aedit&state=s", { state: "s" })
      assert.isTrue(Either.isRight(ok))
      if (Either.isRight(ok)) {
        assert.strictEqual(Redacted.value(ok.right.code), "abc")
        assert.deepStrictEqual(ok.right.scopes, ["chat:read", "chat:edit"])
        assert.notInclude(String(ok.right.code), "abc")
      }
    })
  })

  describe("implicit flow", () => {
    it.effect("response_type=token; the fragment parsed into a working token; forged state refused", () =>
      Effect.gen(function*() {
        const { auth } = yield* clients
        const request = yield* ImplicitFlow.authorizationUrl({ scopes: ["user:read:email"] }).pipe(
          Effect.provideService(TwitchAuth.TwitchAuth, auth)
        )
        assert.strictEqual(new URL(request.url).searchParams.get("response_type"), "token")
        const redirect = yield* follow(request.url)
        assert.include(redirect, "#access_token=")
        const parsed = ImplicitFlow.parseRedirect(redirect, { state: request.state })
        assert.isTrue(Either.isRight(parsed))
        const token = Either.getOrThrow(parsed)
        assert.deepStrictEqual(token.scopes, ["user:read:email"])
        assert.isTrue(Option.isNone(token.idToken))
        const info = yield* auth.validateToken(token.accessToken)
        assert.deepStrictEqual(info.scopes, ["user:read:email"])
        // the fragment alone (location.hash) works too
        const hash = new URL(redirect).hash
        assert.isTrue(Either.isRight(ImplicitFlow.parseRedirect(hash, { state: request.state })))
        const forged = ImplicitFlow.parseRedirect(redirect.replace(`state=${request.state}`, "state=evil"), {
          state: request.state
        })
        assert.isTrue(Either.isLeft(forged) && forged.left._tag === "StateMismatch")
      }))

    it.effect("errors come in the query string: AccessDenied (Implicit)", () =>
      Effect.gen(function*() {
        const { auth } = yield* clients
        const request = yield* ImplicitFlow.authorizationUrl().pipe(Effect.provideService(TwitchAuth.TwitchAuth, auth))
        const parsed = ImplicitFlow.parseRedirect(yield* MockTwitchServer.consent(request.url, "cancel"), {
          state: request.state
        })
        assert.isTrue(Either.isLeft(parsed) && parsed.left._tag === "AccessDenied" && parsed.left.flow === "Implicit")
      }))

    it.effect("token id_token: the fragment's ID token verifies", () =>
      Effect.gen(function*() {
        const { auth, oidc } = yield* clients
        const request = yield* ImplicitFlow.authorizationUrl({
          scopes: ["openid"],
          responseType: "token id_token",
          nonce: "implicit-nonce"
        }).pipe(Effect.provideService(TwitchAuth.TwitchAuth, auth))
        const token = Either.getOrThrow(
          ImplicitFlow.parseRedirect(yield* follow(request.url), { state: request.state })
        )
        const idToken = Option.getOrThrow(token.idToken)
        const claims = yield* oidc.verifyIdToken(idToken, { nonce: "implicit-nonce" })
        assert.strictEqual(claims.userId, user.userId)
      }))
  })

  describe("OpenID Connect", () => {
    /** Runs the sign-in up to the callback; `before` may tamper with the next ID token. */
    const signIn = (nonce?: string) =>
      Effect.gen(function*() {
        const { oidc } = yield* clients
        const request = yield* oidc.authorizationUrl({
          scopes: ["user:read:email"],
          claims: { idToken: ["email", "email_verified", "picture"], userinfo: ["picture", "updated_at"] }
        })
        const redirect = yield* follow(request.url)
        return yield* oidc.handleCallback(redirect, { state: request.state, nonce: nonce ?? request.nonce })
      })

    it.effect("a valid ID token: typed claims; userinfo; discovery names the mock as issuer", () =>
      Effect.gen(function*() {
        const { oidc, server } = yield* clients
        const request = yield* oidc.authorizationUrl({ claims: { idToken: ["email"] }, scopes: ["user:read:email"] })
        const url = new URL(request.url)
        assert.deepStrictEqual(url.searchParams.get("scope")?.split(" "), ["openid", "user:read:email"])
        assert.strictEqual(url.searchParams.get("nonce"), request.nonce)
        assert.deepStrictEqual(JSON.parse(url.searchParams.get("claims") ?? ""), { id_token: { email: null } })

        const before = yield* DateTime.now
        const { idToken, token } = yield* signIn()
        assert.strictEqual(idToken.userId, user.userId)
        assert.strictEqual(idToken.issuer, server.authUrl)
        assert.deepStrictEqual(idToken.audience, [confidential.clientId])
        assert.strictEqual(Option.getOrNull(idToken.preferredUsername), "Twitchdev")
        assert.strictEqual(Option.getOrNull(idToken.email), "twitchdev@example.com")
        assert.strictEqual(Option.getOrNull(idToken.emailVerified), true)
        assert.isTrue(Option.isSome(idToken.picture))
        assert.isTrue(DateTime.greaterThan(idToken.expiresAt, before))
        assert.includeMembers([...token.scopes], ["openid", "user:read:email"])

        const info = yield* oidc.userInfo(token.accessToken)
        assert.strictEqual(info.userId, user.userId)
        assert.strictEqual(Option.getOrNull(info.updatedAt), "2022-02-03T16:16:16.968509Z")

        const discovery = yield* oidc.discovery
        assert.strictEqual(discovery.issuer, server.authUrl)
        assert.strictEqual(discovery.jwksUri, `${server.authUrl}/keys`)
      }))

    const rejected = (reason: string, tamper: Effect.Effect<void, never, FakeTwitch.FakeTwitch>, nonce?: string) =>
      Effect.gen(function*() {
        yield* tamper
        const error = yield* Effect.flip(signIn(nonce))
        assert.strictEqual(error._tag, "InvalidIdToken")
        assert.strictEqual(error._tag === "InvalidIdToken" ? error.reason : "", reason)
        return error
      })

    it.effect("a wrong nonce: InvalidIdToken Nonce", () => rejected("Nonce", Effect.void, "not-the-nonce-we-sent"))

    it.effect("a wrong audience: InvalidIdToken Audience", () =>
      rejected("Audience", Effect.flatMap(twitch, (t) => t.nextIdToken({ claims: { aud: "someone-else" } }))))

    it.effect("an expired ID token: InvalidIdToken Expired", () =>
      rejected("Expired", Effect.flatMap(twitch, (t) => t.nextIdToken({ claims: { iat: 1000, exp: 1900 } }))))

    it.effect("a bad signature (a key that is not Twitch's): InvalidIdToken Signature", () =>
      Effect.gen(function*() {
        const error = yield* rejected("Signature", Effect.flatMap(twitch, (t) => t.nextIdToken({ key: "foreign" })))
        // the token is never in the error
        const pretty = Cause.pretty(Cause.fail(error))
        assert.notInclude(pretty, "eyJ")
        assert.notInclude(JSON.stringify(error), "eyJ")
      }))

    it.effect("issue 11 #12: an azp of another client, this client the only audience: InvalidIdToken AuthorizedParty", () =>
      rejected("AuthorizedParty", Effect.flatMap(twitch, (t) => t.nextIdToken({ claims: { azp: "someone-else" } }))))

    it.effect("issue 11 #12: 100 forged ID tokens over HTTP: one fetch of /oauth2/keys, not one per token", () =>
      Effect.gen(function*() {
        const { oidc } = yield* clients
        const before = yield* Effect.flatMap(twitch, (t) => t.calls("keys"))
        const forged = Redacted.make(
          yield* Effect.flatMap(
            twitch,
            (t) =>
              t.mintIdToken({ clientId: confidential.clientId, userId: user.userId, nonce: "n" }, { key: "foreign" })
          )
        )
        for (let i = 0; i < 100; i++) {
          const error = yield* Effect.flip(oidc.verifyIdToken(forged, { nonce: "n" }))
          assert.strictEqual(error._tag === "InvalidIdToken" ? error.reason : error._tag, "Signature")
        }
        assert.strictEqual((yield* Effect.flatMap(twitch, (t) => t.calls("keys"))) - before, 1)
      }))

    it.effect("another issuer: InvalidIdToken Issuer", () =>
      rejected(
        "Issuer",
        Effect.flatMap(twitch, (t) => t.nextIdToken({ claims: { iss: "https://id.example.com/oauth2" } }))
      ))

    it.effect("not a JWT, or no ID token at all", () =>
      Effect.gen(function*() {
        const { auth, oidc } = yield* clients
        const malformed = yield* Effect.flip(oidc.verifyIdToken(Redacted.make("not.a.jwt"), { nonce: { skip: true } }))
        assert.strictEqual(malformed._tag === "InvalidIdToken" ? malformed.reason : "", "Malformed")
        // a plain code flow (no openid): the exchange works, but there is no ID token to verify
        const request = yield* auth.authorizationUrl({ scopes: ["chat:read"] })
        const redirect = yield* follow(request.url)
        const missing = yield* Effect.flip(oidc.handleCallback(redirect, { state: request.state, nonce: "n" }))
        assert.strictEqual(missing._tag === "InvalidIdToken" ? missing.reason : "", "Missing")
      }))

    it.effect("userinfo without the openid scope: MissingScope; with a dead token: InvalidAccessToken", () =>
      Effect.gen(function*() {
        const { oidc } = yield* clients
        const issued = yield* Effect.orDie(
          Effect.flatMap(
            twitch,
            (t) => t.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: ["chat:read"] })
          )
        )
        const noScope = yield* Effect.flip(oidc.userInfo(Redacted.make(issued.accessToken)))
        assert.strictEqual(noScope._tag, "MissingScope")
        const dead = yield* Effect.flip(oidc.userInfo(Redacted.make("nope")))
        assert.strictEqual(dead._tag, "InvalidAccessToken")
      }))
  })
})
