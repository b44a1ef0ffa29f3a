/**
 * OpenID Connect on Twitch: "Sign in with Twitch". Ask for the `openid` scope (with a
 * `nonce`, and `claims` such as `email`), and the code exchange returns an ID token — a JWT
 * signed by Twitch (RS256) that says who the user is. This module verifies it with `jose`
 * against Twitch's keys (`/oauth2/keys`, fetched through your `HttpClient` and cached for an
 * hour; refetched when a token names a key the set lacks, at most once per 30 seconds): signature,
 * issuer, audience and `azp` (your client id), expiry on Effect's `Clock`, and the nonce
 * (required, or skipped explicitly). It also reads `/oauth2/userinfo` and the discovery
 * document.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as Jose from "jose"
import * as AuthorizationCode from "./AuthorizationCode.js"
import * as OidcWire from "./internal/oidcWire.js"
import * as Pipeline from "./internal/pipeline.js"
import * as Refusals from "./internal/refusals.js"
import { traced } from "./internal/tracing.js"
import * as Wire from "./internal/wire.js"
import type * as Token from "./Token.js"
import { type AuthorizationRequest, type AuthorizationUrlOptions, randomToken, TwitchAuth } from "./TwitchAuth.js"
import { TwitchAuthConfig } from "./TwitchAuthConfig.js"
import type * as TwitchAuthError from "./TwitchAuthError.js"
import { type Endpoint, InvalidIdToken, type MissingRedirectUri } from "./TwitchAuthError.js"

// ---------------------------------------------------------------------------------------
// domain
// ---------------------------------------------------------------------------------------

const optionalClaims = {
  /** Twitch's display name of the user. */
  preferredUsername: Schema.OptionFromNullOr(Schema.String),
  /** Needs the `email` claim and the `user:read:email` scope. */
  email: Schema.OptionFromNullOr(Schema.String),
  emailVerified: Schema.OptionFromNullOr(Schema.Boolean),
  picture: Schema.OptionFromNullOr(Schema.String),
  updatedAt: Schema.OptionFromNullOr(Schema.String)
}

/**
 * The verified claims of an ID token.
 *
 * @since 0.1.0
 * @category models
 */
export class IdTokenClaims extends Schema.Class<IdTokenClaims>("@effect-twitch/auth/IdTokenClaims")({
  /** `sub`: the Twitch user id. */
  userId: Schema.String,
  issuer: Schema.String,
  audience: Schema.Array(Schema.String),
  /** `azp`: the client the token was issued to. */
  authorizedParty: Schema.OptionFromNullOr(Schema.String),
  nonce: Schema.OptionFromNullOr(Schema.String),
  issuedAt: Schema.DateTimeUtc,
  expiresAt: Schema.DateTimeUtc,
  ...optionalClaims
}) {}

/**
 * What `GET /oauth2/userinfo` says about the token's user.
 *
 * @since 0.1.0
 * @category models
 */
export class UserInfo extends Schema.Class<UserInfo>("@effect-twitch/auth/UserInfo")({
  /** `sub`: the Twitch user id. */
  userId: Schema.String,
  ...optionalClaims
}) {}

/**
 * Twitch's OpenID Connect configuration (the discovery document).
 *
 * @since 0.1.0
 * @category models
 */
export class Discovery extends Schema.Class<Discovery>("@effect-twitch/auth/OpenIdDiscovery")({
  issuer: Schema.String,
  authorizationEndpoint: Schema.String,
  tokenEndpoint: Schema.String,
  userinfoEndpoint: Schema.String,
  jwksUri: Schema.String,
  claimsSupported: Schema.Array(Schema.String),
  scopesSupported: Schema.Array(Schema.String),
  responseTypesSupported: Schema.Array(Schema.String),
  signingAlgorithms: Schema.Array(Schema.String)
}) {}

/**
 * A signed-in user: their token, and who they are according to the verified ID token.
 *
 * @since 0.1.0
 * @category models
 */
export interface SignIn {
  readonly token: Token.UserToken
  readonly idToken: IdTokenClaims
}

/**
 * An authorization request with OpenID Connect: the `nonce` the ID token must carry.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenIdAuthorizationRequest extends AuthorizationRequest {
  readonly nonce: string
}

/**
 * What `verifyIdToken` checks the token's `nonce` claim against: the `nonce` of the
 * authorization request that produced it (the token must carry exactly that), or
 * `{ skip: true }` for a token that was requested without a nonce — an explicit choice at
 * the call site, never a default, because a token without a nonce check can be replayed.
 *
 * @example
 * ```ts
 * import { OpenIdConnect } from "@effect-twitch/auth"
 * import { Effect, type Redacted } from "effect"
 *
 * const verify = (idToken: Redacted.Redacted<string>, nonce: string) =>
 *   Effect.flatMap(OpenIdConnect.OpenIdConnect, (oidc) => oidc.verifyIdToken(idToken, { nonce }))
 *
 * // a token from a flow that sent no nonce: say so
 * const verifyWithoutNonce = (idToken: Redacted.Redacted<string>) =>
 *   Effect.flatMap(OpenIdConnect.OpenIdConnect, (oidc) => oidc.verifyIdToken(idToken, { nonce: { skip: true } }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type NonceCheck = string | { readonly skip: true }

/**
 * Failures of a request to Twitch that are not about the token or the user:
 * `TwitchAuthError.CommonError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type RequestError = TwitchAuthError.CommonError

// ---------------------------------------------------------------------------------------
// service
// ---------------------------------------------------------------------------------------

/**
 * OpenID Connect with Twitch.
 *
 * @example
 * ```ts
 * import { OpenIdConnect } from "@effect-twitch/auth"
 * import { Effect } from "effect"
 *
 * const start = Effect.gen(function*() {
 *   const oidc = yield* OpenIdConnect.OpenIdConnect
 *   // keep request.state and request.nonce in the user's session
 *   return yield* oidc.authorizationUrl({ claims: { idToken: ["email", "picture"] }, scopes: ["user:read:email"] })
 * })
 *
 * const callback = (url: string, state: string, nonce: string) =>
 *   Effect.flatMap(OpenIdConnect.OpenIdConnect, (oidc) => oidc.handleCallback(url, { state, nonce }))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class OpenIdConnect extends Context.Tag("@effect-twitch/auth/OpenIdConnect")<
  OpenIdConnect,
  OpenIdConnect.Service
>() {}

/**
 * @since 0.1.0
 */
export declare namespace OpenIdConnect {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /**
     * The consent URL with `openid` added to the scopes and a `nonce` (random unless given).
     * Keep the returned `state` and `nonce` for the callback.
     */
    readonly authorizationUrl: (
      options?: AuthorizationUrlOptions
    ) => Effect.Effect<OpenIdAuthorizationRequest, MissingRedirectUri>

    /**
     * Verifies an ID token: RS256 signature against Twitch's keys, issuer, audience (the
     * configured client id), `azp` (when present, or when there are several audiences, it
     * must be the configured client id), expiry (on Effect's `Clock`) and the nonce. The
     * nonce is required: pass the request's nonce, or `{ skip: true }` to say in the code
     * that this token was requested without one (see {@link NonceCheck}).
     */
    readonly verifyIdToken: (
      idToken: Redacted.Redacted<string>,
      options: { readonly nonce: NonceCheck }
    ) => Effect.Effect<IdTokenClaims, TwitchAuthError.VerifyIdTokenError>

    /**
     * Exchanges an authorization code and verifies the ID token that comes with it.
     */
    readonly exchangeCode: (
      code: string,
      options: { readonly nonce: string; readonly redirectUri?: string | undefined }
    ) => Effect.Effect<SignIn, TwitchAuthError.SignInError>

    /**
     * The callback of an OpenID Connect sign-in: `AuthorizationCode.handleCallback`'s checks,
     * then {@link exchangeCode}.
     */
    readonly handleCallback: (
      query: AuthorizationCode.CallbackQuery,
      expected: AuthorizationCode.Expected & { readonly nonce: string }
    ) => Effect.Effect<SignIn, AuthorizationCode.CallbackError | TwitchAuthError.SignInError>

    /**
     * `GET /oauth2/userinfo`: the claims of the token's user (the token needs `openid`).
     */
    readonly userInfo: (
      accessToken: Redacted.Redacted<string>
    ) => Effect.Effect<UserInfo, TwitchAuthError.UserInfoError>

    /** `GET /oauth2/.well-known/openid-configuration`. */
    readonly discovery: Effect.Effect<Discovery, RequestError>
  }
}

const keysEndpoint: Endpoint = "GET /oauth2/keys"
const userinfoEndpoint: Endpoint = "GET /oauth2/userinfo"
const discoveryEndpoint: Endpoint = "GET /oauth2/.well-known/openid-configuration"

const refusedUserInfo = Refusals.classify(Refusals.userInfo)

const invalid = (reason: InvalidIdToken["reason"], detail: string) => new InvalidIdToken({ reason, detail })

/** jose's verdict → our reason. Signature checks come before claim checks in `jwtVerify`. */
const fromJose = (error: unknown): InvalidIdToken => {
  if (error instanceof Jose.errors.JWTExpired) return invalid("Expired", "its `exp` has passed")
  if (error instanceof Jose.errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "iss":
        return invalid("Issuer", "it was not issued by Twitch (`iss`)")
      case "aud":
        return invalid("Audience", "it was issued to another application (`aud`)")
      default:
        return invalid("Malformed", `its \`${error.claim}\` claim is not acceptable`)
    }
  }
  if (
    error instanceof Jose.errors.JWSSignatureVerificationFailed ||
    error instanceof Jose.errors.JWKSNoMatchingKey ||
    error instanceof Jose.errors.JWKSMultipleMatchingKeys ||
    error instanceof Jose.errors.JOSEAlgNotAllowed
  ) {
    return invalid("Signature", "it is not signed by one of Twitch's keys")
  }
  return invalid("Malformed", "it is not a well-formed signed JWT")
}

const toAudience = (aud: string | ReadonlyArray<string>): ReadonlyArray<string> => typeof aud === "string" ? [aud] : aud

const fromEpochSeconds = (seconds: number, claim: string) =>
  Option.match(DateTime.make(seconds * 1000), {
    onNone: () => Effect.fail(invalid("Malformed", `its \`${claim}\` is not a time`)),
    onSome: Effect.succeed
  })

const decodePayload = Schema.decodeUnknownEither(OidcWire.IdTokenPayload)

/** The `kid` a compact JWS's protected header names, if any; a header that cannot be read is `Malformed`. */
const headerKid = (jwt: string): Effect.Effect<string | undefined, InvalidIdToken> =>
  Effect.try({
    try: () => Jose.decodeProtectedHeader(jwt).kid,
    catch: () => invalid("Malformed", "it is not a well-formed signed JWT")
  })

interface KeySetCache {
  readonly keys: Option.Option<Jose.JSONWebKeySet>
  /** When `keys` was fetched (Clock milliseconds). */
  readonly fetchedAt: number
  /** When a fetch was last tried, successful or not. */
  readonly attemptedAt: number
}

/**
 * How long the key set from `/oauth2/keys` is used before it is fetched again: one hour. If
 * that fetch fails, the old set stays in use (retried every {@link keySetRefetchInterval}).
 *
 * @since 0.1.0
 * @category constants
 */
export const keySetTtl: Duration.Duration = Duration.hours(1)

/**
 * The least time between two attempts to refetch `/oauth2/keys` (for ID tokens naming a
 * `kid` the cached set lacks, or a set past {@link keySetTtl}), failed attempts included:
 * 30 seconds. A token signed with a key Twitch has just rotated in is accepted once the set
 * is refetched (at worst 30 seconds after the previous attempt); a flood of forged tokens
 * naming unknown `kid`s costs at most one fetch per 30 seconds, even while the endpoint
 * fails, and a bad signature under a known `kid` none at all. Only a service that has never
 * obtained the key set fetches it on every verification until it succeeds.
 *
 * @since 0.1.0
 * @category constants
 */
export const keySetRefetchInterval: Duration.Duration = Duration.seconds(30)

/**
 * Builds the service from the configuration, an `HttpClient` and `TwitchAuth`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  OpenIdConnect.Service,
  never,
  TwitchAuthConfig | HttpClient.HttpClient | TwitchAuth
> = Effect.gen(function*() {
  const config = yield* TwitchAuthConfig
  const auth = yield* TwitchAuth
  // The id.twitch.tv pipeline TwitchAuth uses: one deadline per attempt, body included, and
  // the 64 KiB cap on what is read.
  const send = Pipeline.makeSend(Pipeline.authClient(yield* HttpClient.HttpClient, config), config)
  const issuer = config.authUrl

  const fetchKeys: Effect.Effect<Jose.JSONWebKeySet, RequestError> = send(
    keysEndpoint,
    HttpClientRequest.get("/keys"),
    (response) =>
      Effect.map(Wire.decodeBody(keysEndpoint, response, OidcWire.KeysResponse), (jwks) => ({
        keys: jwks.keys.map((key) => ({ ...key }))
      })),
    Refusals.unexpected
  )
  // The key set is fetched on first use and kept for `keySetTtl`. A token naming a `kid` the
  // set lacks (Twitch rotated its key), or a set past its TTL, refetches it — at most once per
  // `keySetRefetchInterval`, counting failed attempts: a bad signature under a known key
  // never refetches, so forged tokens cannot make this service hammer `/oauth2/keys`, not
  // even while it fails. A set past its TTL that cannot be refreshed keeps being used (the
  // keys it holds are still Twitch's). One fetch at a time; concurrent verifications share it.
  const keySet = yield* SynchronizedRef.make<KeySetCache>({ keys: Option.none(), fetchedAt: 0, attemptedAt: 0 })
  const keysFor = (kid: string | undefined): Effect.Effect<Jose.JSONWebKeySet, RequestError> =>
    Effect.flatten(SynchronizedRef.modifyEffect(keySet, (cache) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const fetched = (keys: Jose.JSONWebKeySet) =>
          [Either.right(keys), { keys: Option.some(keys), fetchedAt: now, attemptedAt: now }] as const
        // nothing to verify with yet: fetch (a failure is not remembered)
        if (Option.isNone(cache.keys)) {
          return Effect.match(fetchKeys, {
            onFailure: (error) => [Either.left(error), cache] as const,
            onSuccess: fetched
          })
        }
        const keys = cache.keys.value
        const fresh = now - cache.fetchedAt < Duration.toMillis(keySetTtl)
        const known = kid === undefined || keys.keys.some((key) => key.kid === kid)
        if ((fresh && known) || now - cache.attemptedAt < Duration.toMillis(keySetRefetchInterval)) {
          return Effect.succeed([Either.right(keys), cache] as const)
        }
        return Effect.match(fetchKeys, {
          // the old set still verifies tokens under the kids it has; an unknown kid cannot be verified
          onFailure: (error) =>
            [known ? Either.right(keys) : Either.left(error), { ...cache, attemptedAt: now }] as const,
          onSuccess: fetched
        })
      })))

  const verifyWith = (jwt: string, keys: Jose.JSONWebKeySet, now: DateTime.Utc) =>
    Effect.tryPromise({
      try: () =>
        Jose.jwtVerify(jwt, Jose.createLocalJWKSet(keys), {
          issuer,
          audience: config.clientId,
          algorithms: ["RS256"],
          currentDate: DateTime.toDate(now)
        }),
      catch: fromJose
    })

  const verifyIdToken: OpenIdConnect.Service["verifyIdToken"] = (idToken, options) =>
    Effect.gen(function*() {
      const jwt = Redacted.value(idToken)
      const kid = yield* headerKid(jwt)
      const now = yield* DateTime.now
      const verified = yield* Effect.flatMap(keysFor(kid), (keys) => verifyWith(jwt, keys, now))
      const payload = yield* Either.match(decodePayload(verified.payload), {
        onLeft: (error) => Effect.fail(invalid("Malformed", Wire.describeParseError(error))),
        onRight: Effect.succeed
      })
      const audience = toAudience(payload.aud)
      // OIDC Core 3.1.3.7: with several audiences `azp` must be present; when present, it
      // must be this client (a token issued to another client that lists us is not ours).
      if (payload.azp === undefined && audience.length > 1) {
        return yield* Effect.fail(invalid("AuthorizedParty", "it has several audiences and no `azp`"))
      }
      if (payload.azp !== undefined && payload.azp !== config.clientId) {
        return yield* Effect.fail(invalid("AuthorizedParty", "it was issued to another application (`azp`)"))
      }
      if (typeof options.nonce === "string" && payload.nonce !== options.nonce) {
        return yield* Effect.fail(
          invalid("Nonce", payload.nonce === undefined ? "it carries no nonce" : "its nonce is not this request's")
        )
      }
      return new IdTokenClaims({
        userId: payload.sub,
        issuer: payload.iss,
        audience,
        authorizedParty: Option.fromNullable(payload.azp),
        nonce: Option.fromNullable(payload.nonce),
        issuedAt: yield* fromEpochSeconds(payload.iat, "iat"),
        expiresAt: yield* fromEpochSeconds(payload.exp, "exp"),
        ...OidcWire.optionalClaimsFromWire(payload)
      })
    }).pipe(traced("OpenIdConnect.verifyIdToken"))

  const authorizationUrl: OpenIdConnect.Service["authorizationUrl"] = (options = {}) =>
    Effect.gen(function*() {
      const nonce = options.nonce ?? (yield* randomToken)
      const scopes = new Set(options.scopes ?? [])
      const request = yield* auth.authorizationUrl({ ...options, scopes: ["openid", ...scopes], nonce })
      return { ...request, nonce }
    })

  const exchangeCode: OpenIdConnect.Service["exchangeCode"] = (code, options) =>
    Effect.gen(function*() {
      const exchange = yield* auth.exchangeCodeWithIdToken(code, { redirectUri: options.redirectUri })
      const idToken = yield* Option.match(exchange.idToken, {
        onNone: () =>
          Effect.fail(invalid("Missing", "Twitch sent no ID token; was the `openid` scope requested and granted?")),
        onSome: Effect.succeed
      })
      const claims = yield* verifyIdToken(idToken, { nonce: options.nonce })
      return { token: exchange.token, idToken: claims }
    }).pipe(traced("OpenIdConnect.exchangeCode"))

  const handleCallback: OpenIdConnect.Service["handleCallback"] = (query, expected) =>
    Effect.flatMap(
      AuthorizationCode.parseCallback(query, expected),
      (callback) =>
        exchangeCode(Redacted.value(callback.code), { nonce: expected.nonce, redirectUri: expected.redirectUri })
    )

  const userInfo: OpenIdConnect.Service["userInfo"] = (accessToken) =>
    send(
      userinfoEndpoint,
      HttpClientRequest.get("/userinfo").pipe(HttpClientRequest.bearerToken(Redacted.value(accessToken))),
      (response) =>
        Effect.map(Wire.decodeBody(userinfoEndpoint, response, OidcWire.UserInfoResponse), (wire) =>
          new UserInfo(OidcWire.userInfoFromWire(wire))),
      (failure) =>
        refusedUserInfo(failure, { token: accessToken }),
      [accessToken]
    ).pipe(traced("OpenIdConnect.userInfo"))

  const discovery: OpenIdConnect.Service["discovery"] = send(
    discoveryEndpoint,
    HttpClientRequest.get("/.well-known/openid-configuration"),
    (response) =>
      Effect.map(
        Wire.decodeBody(discoveryEndpoint, response, OidcWire.DiscoveryResponse),
        (wire) => new Discovery(OidcWire.discoveryFromWire(wire))
      ),
    Refusals.unexpected
  )

  return OpenIdConnect.of({ authorizationUrl, verifyIdToken, exchangeCode, handleCallback, userInfo, discovery })
})

/**
 * Provides {@link OpenIdConnect}. Needs `TwitchAuth` (for the code exchange), its config and
 * an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<OpenIdConnect, never, TwitchAuthConfig | HttpClient.HttpClient | TwitchAuth> = Layer
  .effect(OpenIdConnect, make)
