/**
 * `TwitchAuth`: a stateless client of id.twitch.tv. Every token operation is an `Effect`
 * whose success is a decoded domain value and whose error channel names exactly what that
 * call can fail with.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Grants from "./internal/grants.js"
import * as Pipeline from "./internal/pipeline.js"
import * as Refusals from "./internal/refusals.js"
import { traced } from "./internal/tracing.js"
import type * as Token from "./Token.js"
import { TwitchAuthConfig } from "./TwitchAuthConfig.js"
import type * as TwitchAuthError from "./TwitchAuthError.js"
import { MissingClientSecret, MissingRedirectUri } from "./TwitchAuthError.js"
import type * as TwitchScope from "./TwitchScope.js"

/**
 * The Twitch authentication client.
 *
 * @example
 * ```ts
 * import { TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const auth = yield* TwitchAuth.TwitchAuth
 *   const info = yield* auth.validateToken(Redacted.make("my-access-token"))
 *   console.log(info.login, info.scopes)
 * }).pipe(Effect.catchTag("InvalidAccessToken", () => Effect.log("token is dead")))
 *
 * const TwitchAuthLive = TwitchAuth.layer.pipe(
 *   Layer.provide(TwitchAuthConfig.layerConfig()),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * Effect.runPromise(Effect.provide(program, TwitchAuthLive))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class TwitchAuth extends Context.Tag("@effect-twitch/auth/TwitchAuth")<TwitchAuth, TwitchAuth.Service>() {}

/**
 * @since 0.1.0
 */
export declare namespace TwitchAuth {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /**
     * Builds the URL of Twitch's consent page (`GET /oauth2/authorize`): the authorization
     * code flow by default (`response_type=code`), the implicit flow with
     * `responseType: "token"`, OpenID Connect with the `openid` scope and `nonce`/`claims`.
     * A cryptographically random `state` is generated when none is given; keep the returned
     * `state` and compare it with the one on the redirect (`AuthorizationCode.handleCallback`
     * does).
     */
    readonly authorizationUrl: (
      options?: AuthorizationUrlOptions
    ) => Effect.Effect<AuthorizationRequest, TwitchAuthError.AuthorizationUrlError>

    /**
     * Exchanges an authorization code for a user token
     * (`POST /oauth2/token`, `grant_type=authorization_code`). Needs the client secret.
     */
    readonly exchangeCode: (
      code: string,
      options?: { readonly redirectUri?: string | undefined }
    ) => Effect.Effect<Token.UserToken, TwitchAuthError.ExchangeCodeError>

    /**
     * {@link exchangeCode}, also returning the OpenID Connect ID token Twitch sends along when
     * the `openid` scope was granted (unverified: `OpenIdConnect` verifies it).
     */
    readonly exchangeCodeWithIdToken: (
      code: string,
      options?: { readonly redirectUri?: string | undefined }
    ) => Effect.Effect<CodeExchange, TwitchAuthError.ExchangeCodeError>

    /**
     * Gets a new user token with a refresh token (`POST /oauth2/token`,
     * `grant_type=refresh_token`). The secret is sent when configured (public clients have
     * none). Store the returned refresh token: Twitch may rotate it, and public clients'
     * refresh tokens are single-use.
     */
    readonly refreshToken: (
      refreshToken: Redacted.Redacted<string>
    ) => Effect.Effect<Token.UserToken, TwitchAuthError.RefreshTokenError>

    /**
     * Asks Twitch whether an access token is still valid, and whose it is
     * (`GET /oauth2/validate` with `Authorization: OAuth <token>`). Twitch requires apps to
     * validate their tokens at start-up and hourly.
     */
    readonly validateToken: (
      accessToken: Redacted.Redacted<string>
    ) => Effect.Effect<Token.TokenInfo, TwitchAuthError.ValidateTokenError>

    /**
     * Revokes an access token (`POST /oauth2/revoke`). A token that is already invalid
     * fails with `InvalidAccessToken`; to treat that as done, add
     * `Effect.catchTag("InvalidAccessToken", () => Effect.void)`.
     */
    readonly revokeToken: (
      accessToken: Redacted.Redacted<string>
    ) => Effect.Effect<void, TwitchAuthError.RevokeTokenError>

    /**
     * Starts the device code flow (`POST /oauth2/device` with `scopes` in the body): the
     * user enters the returned code at the verification URI while the app polls with
     * {@link pollDeviceToken}. No secret is needed.
     */
    readonly startDeviceAuthorization: (
      options?: { readonly scopes?: Iterable<TwitchScope.Requested> | undefined }
    ) => Effect.Effect<Token.DeviceAuthorization, TwitchAuthError.DeviceAuthorizationError>

    /**
     * Polls once for the device flow's token (`POST /oauth2/token`,
     * `grant_type=urn:ietf:params:oauth:grant-type:device_code`). `AuthorizationPending`
     * means "not yet: poll again after the interval"; `SlowDown` "poll 5 s less often";
     * `DeviceCodeExpired` means the code expired or was used and the flow must start again;
     * `AccessDenied` that the user refused. `DeviceFlow` runs the whole polling loop.
     */
    readonly pollDeviceToken: (
      deviceCode: Redacted.Redacted<string>
    ) => Effect.Effect<Token.UserToken, TwitchAuthError.DevicePollError>

    /**
     * Gets an app access token with the client credentials grant
     * (`POST /oauth2/token`, `grant_type=client_credentials`). Needs the client secret.
     */
    readonly appToken: (
      options?: { readonly scopes?: Iterable<TwitchScope.Requested> | undefined }
    ) => Effect.Effect<Token.AppToken, TwitchAuthError.AppTokenError>
  }
}

/**
 * What the authorize redirect should carry: `code` (authorization code flow), `token`
 * (implicit flow), and for OpenID Connect `id_token` alone or with `token`.
 *
 * @since 0.1.0
 * @category models
 */
export type ResponseType = "code" | "token" | "id_token" | "token id_token"

/**
 * The OpenID Connect claims Twitch serves beyond the defaults. `email` and `email_verified`
 * also need the `user:read:email` scope.
 *
 * @since 0.1.0
 * @category models
 */
export type ClaimName = "email" | "email_verified" | "picture" | "preferred_username" | "updated_at"

/**
 * The OpenID Connect `claims` parameter: which claims to add to the ID token and to the
 * `/oauth2/userinfo` answer. Sent as `{"id_token":{"email":null},"userinfo":{"picture":null}}`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClaimsRequest {
  readonly idToken?: ReadonlyArray<ClaimName> | undefined
  readonly userinfo?: ReadonlyArray<ClaimName> | undefined
}

/**
 * Options of {@link TwitchAuth.Service.authorizationUrl}.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizationUrlOptions {
  /** The scopes to ask for; sent space-separated. Add `openid` for OpenID Connect. */
  readonly scopes?: Iterable<TwitchScope.Requested> | undefined
  /** Defaults to the configured redirect URI. */
  readonly redirectUri?: string | undefined
  /** Defaults to 32 random hex characters from a cryptographic source. */
  readonly state?: string | undefined
  /** Makes Twitch show the consent page even if the user already authorized the app. */
  readonly forceVerify?: boolean | undefined
  /** Defaults to `"code"`. */
  readonly responseType?: ResponseType | undefined
  /** OpenID Connect: a value the ID token must echo (replay protection). */
  readonly nonce?: string | undefined
  /** OpenID Connect: the extra claims to ask for. */
  readonly claims?: ClaimsRequest | undefined
}

/**
 * An authorization URL with what the callback must be checked against.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizationRequest {
  readonly url: string
  readonly state: string
  readonly redirectUri: string
  readonly scopes: ReadonlyArray<string>
  readonly responseType: ResponseType
  /** The `nonce` sent, if any: the ID token must carry it. */
  readonly nonce?: string | undefined
}

/**
 * What an authorization code exchange gives: the user token and, when the `openid` scope
 * was granted, the raw (unverified) ID token.
 *
 * @since 0.1.0
 * @category models
 */
export interface CodeExchange {
  readonly token: Token.UserToken
  readonly idToken: Option.Option<Redacted.Redacted<string>>
}

/**
 * A random value from a cryptographic source (32 hex characters): what `state` and `nonce`
 * default to.
 *
 * @since 0.1.0
 * @category constructors
 */
export const randomToken: Effect.Effect<string> = Effect.sync(() => {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
})

// Each operation reads Twitch's refusals through its table (internal/refusals.ts).
const refusedExchange = Refusals.classify(Refusals.exchangeCode)
const refusedRefresh = Refusals.classify(Refusals.refreshToken)
const refusedValidate = Refusals.classify(Refusals.validateToken)
const refusedRevoke = Refusals.classify(Refusals.revokeToken)
const refusedAppToken = Refusals.classify(Refusals.appToken)
const refusedDevice = Refusals.classify(Refusals.startDeviceAuthorization)
const refusedPoll = Refusals.classify(Refusals.pollDeviceToken)

const scopes = (input: Iterable<TwitchScope.Requested> | undefined): ReadonlyArray<string> =>
  input === undefined ? [] : Array.from(input)

/**
 * Builds the service from the configuration and an `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<TwitchAuth.Service, never, TwitchAuthConfig | HttpClient.HttpClient> = Effect.gen(
  function*() {
    const config = yield* TwitchAuthConfig
    const send = Pipeline.makeSend(Pipeline.authClient(yield* HttpClient.HttpClient, config), config)

    /** The client id, with the secret when one is configured (public clients have none). */
    const clientCredentials: Record<string, string> = Option.match(config.clientSecret, {
      onNone: () => ({ client_id: config.clientId }),
      onSome: (secret) => ({ client_id: config.clientId, client_secret: Redacted.value(secret) })
    })

    /** The client id and the secret, for the grants that need it. */
    const requireSecret = (operation: string) =>
      Option.isSome(config.clientSecret)
        ? Effect.succeed(clientCredentials)
        : Effect.fail(new MissingClientSecret({ operation, source: "Config" }))

    const redirectUriFor = (operation: string, given: string | undefined) =>
      Option.match(Option.orElse(Option.fromNullable(given), () => config.redirectUri), {
        onNone: () => Effect.fail(new MissingRedirectUri({ operation })),
        onSome: Effect.succeed
      })

    const authorizationUrl: TwitchAuth.Service["authorizationUrl"] = (options = {}) =>
      Effect.gen(function*() {
        const redirectUri = yield* redirectUriFor("authorizationUrl", options.redirectUri)
        const state = options.state ?? (yield* randomToken)
        const requested = scopes(options.scopes)
        const responseType = options.responseType ?? "code"
        const url = Grants.authorizeUrl(config.authUrl, config.clientId, {
          ...options,
          redirectUri,
          responseType,
          scopes: requested,
          state
        })
        return options.nonce === undefined
          ? { url, state, redirectUri, scopes: requested, responseType }
          : { url, state, redirectUri, scopes: requested, responseType, nonce: options.nonce }
      })

    const exchangeCodeWithIdToken: TwitchAuth.Service["exchangeCodeWithIdToken"] = (code, options = {}) =>
      Effect.gen(function*() {
        const credentials = yield* requireSecret("exchangeCode")
        const redirectUri = yield* redirectUriFor("exchangeCode", options.redirectUri)
        return yield* send(
          Grants.tokenEndpoint,
          Grants.codeGrant(credentials, code, redirectUri),
          Grants.readUserToken,
          (failure) => refusedExchange(failure, { operation: "exchangeCode", redirectUri }),
          [code]
        )
      }).pipe(traced("TwitchAuth.exchangeCode"))

    const exchangeCode: TwitchAuth.Service["exchangeCode"] = (code, options) =>
      Effect.map(exchangeCodeWithIdToken(code, options), (exchange) => exchange.token)

    const refreshToken: TwitchAuth.Service["refreshToken"] = (refreshToken) =>
      send(
        Grants.tokenEndpoint,
        Grants.refreshGrant(clientCredentials, refreshToken),
        Grants.readToken,
        (failure) => refusedRefresh(failure, { operation: "refreshToken" }),
        [refreshToken]
      ).pipe(traced("TwitchAuth.refreshToken"))

    const validateToken: TwitchAuth.Service["validateToken"] = (accessToken) =>
      send(
        Grants.validateEndpoint,
        Grants.validateRequest(accessToken),
        Grants.readTokenInfo,
        (failure) => refusedValidate(failure, { token: accessToken }),
        [accessToken]
      ).pipe(traced("TwitchAuth.validateToken"))

    const revokeToken: TwitchAuth.Service["revokeToken"] = (accessToken) =>
      send(
        Grants.revokeEndpoint,
        Grants.revokeRequest(config.clientId, accessToken),
        Grants.readRevoked,
        (failure) => refusedRevoke(failure, { token: accessToken }),
        [accessToken]
      ).pipe(traced("TwitchAuth.revokeToken"))

    const appToken: TwitchAuth.Service["appToken"] = (options = {}) =>
      Effect.flatMap(requireSecret("appToken"), (credentials) =>
        send(
          Grants.tokenEndpoint,
          Grants.clientCredentialsGrant(credentials, scopes(options.scopes)),
          Grants.readAppToken,
          (failure) => refusedAppToken(failure, { operation: "appToken" })
        )).pipe(traced("TwitchAuth.appToken"))

    const startDeviceAuthorization: TwitchAuth.Service["startDeviceAuthorization"] = (options = {}) => {
      const requested = scopes(options.scopes)
      return send(
        Grants.deviceEndpoint,
        Grants.deviceRequest(config.clientId, requested),
        Grants.readDeviceAuthorization(requested),
        (failure) => refusedDevice(failure, undefined)
      ).pipe(traced("TwitchAuth.startDeviceAuthorization"))
    }

    const pollDeviceToken: TwitchAuth.Service["pollDeviceToken"] = (deviceCode) =>
      send(
        Grants.tokenEndpoint,
        Grants.deviceCodeGrant(clientCredentials, deviceCode),
        Grants.readToken,
        (failure) => refusedPoll(failure, { operation: "pollDeviceToken" }),
        [deviceCode]
      ).pipe(traced("TwitchAuth.pollDeviceToken"))

    return TwitchAuth.of({
      authorizationUrl,
      exchangeCode,
      exchangeCodeWithIdToken,
      refreshToken,
      validateToken,
      revokeToken,
      startDeviceAuthorization,
      pollDeviceToken,
      appToken
    })
  }
)

/**
 * Provides {@link TwitchAuth}. Needs {@link TwitchAuthConfig} and an `HttpClient`: provide
 * `UndiciHttpClient.layer` (fastest on Node: each attempt runs whole in the transport), or
 * any other (`NodeHttpClient.layerUndici`, `FetchHttpClient.layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<TwitchAuth, never, TwitchAuthConfig | HttpClient.HttpClient> = Layer.effect(
  TwitchAuth,
  make
)
