/**
 * `TwitchAuthError.TypeId` and `isTwitchAuthError` (issue 13 #3): every error class of the
 * module carries the type id, the guard recognises every one of them (built, decoded, or
 * failed by a real operation against the mock over loopback) and nothing else, and the type id
 * changes nothing of what an error prints, serialises to or compares equal with.
 */
import { TokenStore, TwitchAuthError, TwitchSession, TwitchSessions } from "@effect-twitch/auth"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Util from "node:util"
import { authWith, MockLayer } from "./utils.js"

const E = TwitchAuthError

/** One of each error class; the first test checks that no class of the module is missing. */
const samples: ReadonlyArray<TwitchAuthError.TwitchAuthError> = [
  new E.InvalidAccessToken({ endpoint: "GET /oauth2/validate", status: 401, twitchMessage: "invalid access token" }),
  new E.InvalidRefreshToken({ status: 400, twitchMessage: "Invalid refresh token" }),
  new E.InvalidAuthorizationCode({ twitchMessage: "Invalid authorization code" }),
  new E.RedirectUriMismatch({
    redirectUri: "http://localhost/cb",
    twitchMessage: "Parameter redirect_uri does not match registered URI"
  }),
  new E.InvalidClient({
    reason: "WrongSecret",
    endpoint: "POST /oauth2/token",
    status: 403,
    twitchMessage: "invalid client secret"
  }),
  new E.MissingClientSecret({ operation: "exchangeCode", source: "Config" }),
  new E.MissingRedirectUri({ operation: "authorizationUrl" }),
  new E.InvalidScope({ twitchMessage: "invalid scope requested: 'chat:reed'" }),
  new E.AuthorizationPending(),
  new E.DeviceCodeExpired({}),
  new E.SlowDown(),
  new E.AccessDenied({ flow: "DeviceCode", description: "authorization_denied" }),
  new E.StateMismatch({ reason: "Different" }),
  new E.AuthorizationFailed({ error: "invalid_scope", description: "" }),
  new E.MalformedRedirect({ detail: "it has no `code` parameter" }),
  new E.InvalidIdToken({ reason: "Nonce", detail: "the nonce is not this request's" }),
  new E.RateLimited({ endpoint: "POST /oauth2/token", retryAfterSeconds: 1 }),
  new E.TwitchUnavailable({ endpoint: "POST /oauth2/token", status: 503 }),
  new E.TransportError({ endpoint: "POST /oauth2/token", reason: "Timeout", detail: "no answer in 10s" }),
  new E.MalformedResponse({ endpoint: "POST /oauth2/token", status: 200, detail: "access_token is missing" }),
  new E.UnexpectedResponse({ endpoint: "POST /oauth2/token", status: 418, twitchMessage: "" }),
  new E.MissingScope({
    endpoint: "GET /helix/users",
    scope: "user:read:email",
    twitchMessage: "Missing scope: user:read:email"
  }),
  new E.HelixUnauthorized({
    reason: "ClientMismatch",
    endpoint: "GET /helix/users",
    twitchMessage: "Client ID and OAuth token do not match"
  })
]

/** The error classes the module exports: every export whose prototype is an `Error`'s. */
const errorClasses = Object.entries(TwitchAuthError).flatMap(([name, value]) =>
  typeof value === "function" && value.prototype instanceof Error ? [[name, value] as const] : []
)

describe("issue 13 #3: TwitchAuthError.TypeId and isTwitchAuthError", () => {
  it("issue 13 #3: every error class of the module carries the type id, and each is sampled here", () => {
    assert.strictEqual(errorClasses.length, 23)
    for (const [name, errorClass] of errorClasses) {
      assert.strictEqual(Reflect.get(errorClass.prototype, E.TypeId), E.TypeId, name)
    }
    assert.sameMembers(samples.map((error) => error._tag), errorClasses.map(([name]) => name))
    assert.strictEqual(E.TypeId, Symbol.for("@effect-twitch/auth/TwitchAuthError"))
  })

  it("issue 13 #3: isTwitchAuthError recognises every error of the module, built or decoded", () => {
    for (const error of samples) assert.isTrue(E.isTwitchAuthError(error), error._tag)
    // decoded from the encoded form (a Schema class decodes to an instance of the class)
    const roundTrip = <A, I>(schema: Schema.Schema<A, I>, error: A): unknown => {
      const encoded = Schema.encodeSync(schema)(error)
      assert.isFalse(E.isTwitchAuthError(encoded), "the encoded form is a plain object")
      return Schema.decodeUnknownSync(schema)(encoded)
    }
    const invalidClient = {
      reason: "UnknownClient",
      endpoint: "POST /oauth2/token",
      status: 400,
      twitchMessage: "invalid client"
    } as const
    assert.isTrue(E.isTwitchAuthError(roundTrip(E.InvalidClient, new E.InvalidClient(invalidClient))))
    assert.isTrue(E.isTwitchAuthError(roundTrip(E.RateLimited, new E.RateLimited({ endpoint: "GET /helix/users" }))))
    assert.isTrue(E.isTwitchAuthError(roundTrip(E.DeviceCodeExpired, new E.DeviceCodeExpired({}))))
  })

  it("issue 13 #3: isTwitchAuthError is false for every other failure, and for look-alikes", () => {
    const request = HttpClientRequest.get("http://127.0.0.1/")
    const others: ReadonlyArray<unknown> = [
      new TwitchSession.NoStoredToken({ key: "1234" }),
      new TwitchSessions.MissingUserId(),
      new TokenStore.TokenStoreError({ reason: "Io", path: "", detail: "disk full" }),
      new HttpClientError.RequestError({ request, reason: "Transport" }),
      new Error("InvalidClient"),
      // the shape and tag of an InvalidClient, but not one
      { _tag: "InvalidClient", reason: "WrongSecret", endpoint: "POST /oauth2/token", status: 403, twitchMessage: "" },
      { [Symbol.for("@effect-twitch/auth/TwitchAuthErrors")]: true },
      "InvalidClient",
      null,
      undefined,
      42
    ]
    for (const other of others) assert.isFalse(E.isTwitchAuthError(other), String(other))
  })

  it.scoped("issue 13 #3: a real operation's failure over loopback is a TwitchAuthError", () =>
    Effect.gen(function*() {
      const auth = yield* authWith()
      const refused = yield* Effect.flip(auth.refreshToken(Redacted.make("not-a-refresh-token")))
      assert.strictEqual(refused._tag, "InvalidRefreshToken")
      assert.isTrue(E.isTwitchAuthError(refused))
      const dead = yield* Effect.flip(auth.validateToken(Redacted.make("not-an-access-token")))
      assert.strictEqual(dead._tag, "InvalidAccessToken")
      assert.isTrue(E.isTwitchAuthError(dead))
    }).pipe(Effect.provide(MockLayer)))

  it("issue 13 #3: the type id is in no field: printing, JSON and equality are unchanged", () => {
    const make = () =>
      new E.InvalidClient({
        reason: "WrongSecret",
        endpoint: "POST /oauth2/token",
        status: 403,
        twitchMessage: "invalid client secret"
      })
    const error = make()
    assert.notInclude(Object.getOwnPropertySymbols(error), E.TypeId)
    assert.notInclude(Object.keys(error), "TypeId")
    assert.deepStrictEqual(JSON.parse(JSON.stringify(error)), {
      _tag: "InvalidClient",
      reason: "WrongSecret",
      endpoint: "POST /oauth2/token",
      status: 403,
      twitchMessage: "invalid client secret"
    })
    assert.notInclude(Util.inspect(error), "@effect-twitch/auth/TwitchAuthError")
    assert.notInclude(String(error), "@effect-twitch/auth/TwitchAuthError")
    assert.isTrue(Equal.equals(error, make()))
  })
})
