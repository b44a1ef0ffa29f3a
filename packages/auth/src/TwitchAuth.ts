/**
 * `TwitchAuth`: a stateless client of id.twitch.tv. Every token operation is an `Effect`
 * whose success is a decoded domain value and whose error channel names exactly what that
 * call can fail with.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import * as Wire from "./internal/wire.js"
import type * as Scope from "./Scope.js"
import * as Token from "./internal/tokenWire.js"
import { TwitchAuthConfig } from "./TwitchAuthConfig.js"
import {
  AccessDenied,
  AuthorizationPending,
  DeviceCodeExpired,
  type Endpoint,
  InvalidAccessToken,
  InvalidAuthorizationCode,
  InvalidClient,
  InvalidRefreshToken,
  InvalidScope,
  MalformedResponse,
  MissingClientSecret,
  MissingRedirectUri,
  type RateLimited,
  RedirectUriMismatch,
  SlowDown,
  type TransportError,
  type TwitchUnavailable,
  UnexpectedResponse
} from "./TwitchAuthError.js"


/** Spans name the operation; no stack trace is captured on the hot path. */
const spanOptions = { captureStackTrace: false } as const

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
    ) => Effect.Effect<AuthorizationRequest, MissingRedirectUri>

    /**
     * Exchanges an authorization code for a user token
     * (`POST /oauth2/token`, `grant_type=authorization_code`). Needs the client secret.
     */
    readonly exchangeCode: (
      code: string,
      options?: { readonly redirectUri?: string | undefined }
    ) => Effect.Effect<
      Token.UserToken,
      | InvalidAuthorizationCode
      | RedirectUriMismatch
      | InvalidClient
      | MissingClientSecret
      | MissingRedirectUri
      | UnexpectedResponse
      | RateLimited
      | TwitchUnavailable
      | TransportError
      | MalformedResponse
    >

    /**
     * {@link exchangeCode}, also returning the OpenID Connect ID token Twitch sends along when
     * the `openid` scope was granted (unverified: `OpenIdConnect` verifies it).
     */
    readonly exchangeCodeWithIdToken: (
      code: string,
      options?: { readonly redirectUri?: string | undefined }
    ) => Effect.Effect<
      CodeExchange,
      | InvalidAuthorizationCode
      | RedirectUriMismatch
      | InvalidClient
      | MissingClientSecret
      | MissingRedirectUri
      | UnexpectedResponse
      | RateLimited
      | TwitchUnavailable
      | TransportError
      | MalformedResponse
    >

    /**
     * Gets a new user token with a refresh token (`POST /oauth2/token`,
     * `grant_type=refresh_token`). The secret is sent when configured (public clients have
     * none). Store the returned refresh token: Twitch may rotate it, and public clients'
     * refresh tokens are single-use.
     */
    readonly refreshToken: (
      refreshToken: Redacted.Redacted<string>
    ) => Effect.Effect<
      Token.UserToken,
      | InvalidRefreshToken
      | InvalidClient
      | MissingClientSecret
      | UnexpectedResponse
      | RateLimited
      | TwitchUnavailable
      | TransportError
      | MalformedResponse
    >

    /**
     * Asks Twitch whether an access token is still valid, and whose it is
     * (`GET /oauth2/validate` with `Authorization: OAuth <token>`). Twitch requires apps to
     * validate their tokens at start-up and hourly.
     */
    readonly validateToken: (
      accessToken: Redacted.Redacted<string>
    ) => Effect.Effect<
      Token.TokenInfo,
      InvalidAccessToken | UnexpectedResponse | RateLimited | TwitchUnavailable | TransportError | MalformedResponse
    >

    /**
     * Revokes an access token (`POST /oauth2/revoke`). A token that is already invalid
     * fails with `InvalidAccessToken`; to treat that as done, add
     * `Effect.catchTag("InvalidAccessToken", () => Effect.void)`.
     */
    readonly revokeToken: (
      accessToken: Redacted.Redacted<string>
    ) => Effect.Effect<
      void,
      | InvalidAccessToken
      | InvalidClient
      | UnexpectedResponse
      | RateLimited
      | TwitchUnavailable
      | TransportError
      | MalformedResponse
    >

    /**
     * Starts the device code flow (`POST /oauth2/device` with `scopes` in the body): the
     * user enters the returned code at the verification URI while the app polls with
     * {@link pollDeviceToken}. No secret is needed.
     */
    readonly startDeviceAuthorization: (
      options?: { readonly scopes?: Iterable<Scope.Requested> | undefined }
    ) => Effect.Effect<
      Token.DeviceAuthorization,
      | InvalidClient
      | InvalidScope
      | UnexpectedResponse
      | RateLimited
      | TwitchUnavailable
      | TransportError
      | MalformedResponse
    >

    /**
     * Polls once for the device flow's token (`POST /oauth2/token`,
     * `grant_type=urn:ietf:params:oauth:grant-type:device_code`). `AuthorizationPending`
     * means "not yet: poll again after the interval"; `SlowDown` "poll 5 s less often";
     * `DeviceCodeExpired` means the code expired or was used and the flow must start again;
     * `AccessDenied` that the user refused. `DeviceFlow` runs the whole polling loop.
     */
    readonly pollDeviceToken: (
      deviceCode: Redacted.Redacted<string>
    ) => Effect.Effect<
      Token.UserToken,
      | AuthorizationPending
      | SlowDown
      | AccessDenied
      | DeviceCodeExpired
      | InvalidClient
      | MissingClientSecret
      | UnexpectedResponse
      | RateLimited
      | TwitchUnavailable
      | TransportError
      | MalformedResponse
    >

    /**
     * Gets an app access token with the client credentials grant
     * (`POST /oauth2/token`, `grant_type=client_credentials`). Needs the client secret.
     */
    readonly appToken: (
      options?: { readonly scopes?: Iterable<Scope.Requested> | undefined }
    ) => Effect.Effect<
      Token.AppToken,
      | InvalidClient
      | MissingClientSecret
      | InvalidScope
      | UnexpectedResponse
      | RateLimited
      | TwitchUnavailable
      | TransportError
      | MalformedResponse
    >
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
  readonly scopes?: Iterable<Scope.Requested> | undefined
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

const claimsParameter = (claims: ClaimsRequest): string => {
  const section = (names: ReadonlyArray<ClaimName> | undefined) =>
    names === undefined || names.length === 0 ? undefined : Object.fromEntries(names.map((name) => [name, null]))
  return JSON.stringify({ id_token: section(claims.idToken), userinfo: section(claims.userinfo) })
}


const tokenEndpoint: Endpoint = "POST /oauth2/token"
const validateEndpoint: Endpoint = "GET /oauth2/validate"
const revokeEndpoint: Endpoint = "POST /oauth2/revoke"
const deviceEndpoint: Endpoint = "POST /oauth2/device"

const unexpected = (failure: Wire.Failure) =>
  new UnexpectedResponse({
    endpoint: failure.endpoint,
    status: failure.status,
    twitchMessage: failure.twitchMessage
  })

/**
 * What Twitch says of a client id it does not know: `invalid client` (token grants),
 * `client does not exist` (404, current revoke docs:
 * https://dev.twitch.tv/docs/authentication/revoke-tokens/), and `Invalid client_id: <id>`
 * (400, the older revoke answer, which carries the id sent). Every id.twitch.tv operation
 * reads its refusals through here, so each maps all three.
 */
const isUnknownClient = (normalized: string): boolean =>
  normalized === "invalid client" || normalized === "client does not exist" ||
  normalized === "invalid client_id" || normalized.startsWith("invalid client_id:")

const clientFailure = (failure: Wire.Failure): Option.Option<InvalidClient> => {
  const reason = isUnknownClient(failure.normalized)
    ? Option.some("UnknownClient" as const)
    : failure.normalized === "invalid client secret"
    ? Option.some("WrongSecret" as const)
    : Option.none()
  return Option.map(reason, (reason) =>
    new InvalidClient({
      reason,
      endpoint: failure.endpoint,
      status: failure.status,
      twitchMessage: failure.twitchMessage
    }))
}

const missingSecretFromTwitch = (failure: Wire.Failure, operation: string): Option.Option<MissingClientSecret> =>
  failure.normalized === "missing client secret"
    ? Option.some(new MissingClientSecret({ operation, source: "Twitch" }))
    : Option.none()

/**
 * What `/oauth2/validate` says, in its 401 envelope, of a token that cannot be used:
 * `invalid access token` (documented: https://dev.twitch.tv/docs/authentication/validate-tokens/)
 * and `missing authorization token` (observed for an empty token).
 */
const deadAccessToken: ReadonlySet<string> = new Set(["invalid access token", "missing authorization token"])

/** What Twitch says, in its envelope, of a refresh token that is dead. */
const deadRefreshToken: ReadonlySet<string> = new Set(["invalid refresh token", "missing refresh token", "invalid grant"])

const scopes = (input: Iterable<Scope.Requested> | undefined): ReadonlyArray<string> =>
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
    const send = Wire.makeSend(Wire.authClient(yield* HttpClient.HttpClient, config), config)

    const decode = <A, I>(schema: Schema.Schema<A, I>, endpoint: Endpoint) =>
    (response: HttpClientResponse.HttpClientResponse) => Wire.decodeBody(endpoint, response, schema)

    const postForm = (path: string, params: Record<string, string>) =>
      HttpClientRequest.post(path).pipe(HttpClientRequest.bodyUrlParams(params))

    const credentials = (secret: Redacted.Redacted<string>) => ({
      client_id: config.clientId,
      client_secret: Redacted.value(secret)
    })

    /** The client id, with the secret when one is configured (public clients have none). */
    const clientCredentials: Record<string, string> = Option.match(config.clientSecret, {
      onNone: () => ({ client_id: config.clientId }),
      onSome: credentials
    })

    const requireSecret = (operation: string) =>
      Option.match(config.clientSecret, {
        onNone: () => Effect.fail(new MissingClientSecret({ operation, source: "Config" })),
        onSome: Effect.succeed
      })

    const toUserToken = (endpoint: Endpoint) => (response: HttpClientResponse.HttpClientResponse) =>
      Effect.flatMap(decode(Token.TokenResponse, endpoint)(response), (wire) =>
        Effect.flatMap(DateTime.now, (now) =>
          Either.match(Token.userTokenFromWire(wire, now), {
            onLeft: (detail) => Effect.fail(new MalformedResponse({ endpoint, status: response.status, detail })),
            onRight: Effect.succeed
          })))

    const authorizationUrl: TwitchAuth.Service["authorizationUrl"] = (options = {}) =>
      Effect.gen(function*() {
        const redirectUri = yield* Option.match(
          Option.orElse(Option.fromNullable(options.redirectUri), () => config.redirectUri),
          {
            onNone: () => Effect.fail(new MissingRedirectUri({ operation: "authorizationUrl" })),
            onSome: Effect.succeed
          }
        )
        const state = options.state ?? (yield* randomToken)
        const requested = scopes(options.scopes)
        const responseType = options.responseType ?? "code"
        const params = new URLSearchParams({
          client_id: config.clientId,
          redirect_uri: redirectUri,
          response_type: responseType,
          scope: requested.join(" "),
          state
        })
        if (options.forceVerify === true) params.set("force_verify", "true")
        if (options.nonce !== undefined) params.set("nonce", options.nonce)
        if (options.claims !== undefined) params.set("claims", claimsParameter(options.claims))
        const url = `${config.authUrl}/authorize?${params.toString()}`
        return options.nonce === undefined
          ? { url, state, redirectUri, scopes: requested, responseType }
          : { url, state, redirectUri, scopes: requested, responseType, nonce: options.nonce }
      })

    const exchangeCodeWithIdToken: TwitchAuth.Service["exchangeCodeWithIdToken"] = (code, options = {}) =>
      Effect.gen(function*() {
        const secret = yield* requireSecret("exchangeCode")
        const redirectUri = yield* Option.match(
          Option.orElse(Option.fromNullable(options.redirectUri), () => config.redirectUri),
          {
            onNone: () => Effect.fail(new MissingRedirectUri({ operation: "exchangeCode" })),
            onSome: Effect.succeed
          }
        )
        return yield* send(
          tokenEndpoint,
          postForm("/token", {
            ...credentials(secret),
            code,
            grant_type: "authorization_code",
            redirect_uri: redirectUri
          }),
          (response) =>
            Effect.flatMap(decode(Token.TokenResponse, tokenEndpoint)(response), (wire) =>
              Effect.flatMap(DateTime.now, (now) =>
                Either.match(Token.userTokenFromWire(wire, now), {
                  onLeft: (detail) =>
                    Effect.fail(new MalformedResponse({ endpoint: tokenEndpoint, status: response.status, detail })),
                  onRight: (token): Effect.Effect<CodeExchange> =>
                    Effect.succeed({
                      token,
                      idToken: Option.map(
                        Option.filter(Option.fromNullable(wire.id_token), (s) => s.length > 0),
                        Redacted.make
                      )
                    })
                }))),
          (failure): InvalidAuthorizationCode | RedirectUriMismatch | InvalidClient | MissingClientSecret | UnexpectedResponse =>
            failure.normalized === "invalid authorization code"
              ? new InvalidAuthorizationCode({ twitchMessage: failure.twitchMessage })
              : failure.normalized.includes("redirect_uri")
              ? new RedirectUriMismatch({ redirectUri, twitchMessage: failure.twitchMessage })
              : Option.getOrElse(
                Option.orElse(clientFailure(failure), () => missingSecretFromTwitch(failure, "exchangeCode")),
                () => unexpected(failure)
              ),
          [code]
        )
      }).pipe(Effect.withSpan("TwitchAuth.exchangeCode", spanOptions))

    const exchangeCode: TwitchAuth.Service["exchangeCode"] = (code, options) =>
      Effect.map(exchangeCodeWithIdToken(code, options), (exchange) => exchange.token)

    const refreshToken: TwitchAuth.Service["refreshToken"] = (refreshToken) =>
      send(
        tokenEndpoint,
        postForm("/token", {
          ...clientCredentials,
          grant_type: "refresh_token",
          refresh_token: Redacted.value(refreshToken)
        }),
        toUserToken(tokenEndpoint),
        (failure): InvalidRefreshToken | InvalidClient | MissingClientSecret | UnexpectedResponse =>
          // Only Twitch's words: a 401 from anyone else (a proxy's login page) says nothing
          // about the refresh token, which must then be kept.
          deadRefreshToken.has(failure.normalized)
            ? new InvalidRefreshToken({ status: failure.status, twitchMessage: failure.twitchMessage })
            : Option.getOrElse(
              Option.orElse(clientFailure(failure), () => missingSecretFromTwitch(failure, "refreshToken")),
              () => unexpected(failure)
            ),
        [refreshToken]
      ).pipe(Effect.withSpan("TwitchAuth.refreshToken", spanOptions))

    const validateToken: TwitchAuth.Service["validateToken"] = (accessToken) =>
      send(
        validateEndpoint,
        HttpClientRequest.get("/validate").pipe(
          HttpClientRequest.setHeader("authorization", `OAuth ${Redacted.value(accessToken)}`)
        ),
        (response) =>
          Effect.zipWith(
            decode(Token.ValidateResponse, validateEndpoint)(response),
            DateTime.now,
            Token.tokenInfoFromWire
          ),
        // Reached only with Twitch's own envelope: a bare 401 (a proxy's page, an empty body)
        // is an UnexpectedResponse. Only Twitch's words for a dead or absent token make an
        // InvalidAccessToken (which sessions answer with a refresh); any other 401 is
        // UnexpectedResponse, and spends no refresh.
        (failure): InvalidAccessToken | UnexpectedResponse =>
          failure.status === 401 && deadAccessToken.has(failure.normalized)
            ? new InvalidAccessToken({
              endpoint: failure.endpoint,
              status: failure.status,
              twitchMessage: failure.twitchMessage,
              token: accessToken
            })
            : unexpected(failure),
        [accessToken]
      ).pipe(Effect.withSpan("TwitchAuth.validateToken", spanOptions))

    const revokeToken: TwitchAuth.Service["revokeToken"] = (accessToken) =>
      send(
        revokeEndpoint,
        postForm("/revoke", { client_id: config.clientId, token: Redacted.value(accessToken) }),
        (response) => Wire.emptyBody(revokeEndpoint, response),
        (failure): InvalidAccessToken | InvalidClient | UnexpectedResponse =>
          failure.normalized === "invalid token" || failure.normalized === "missing oauth token"
            ? new InvalidAccessToken({
              endpoint: failure.endpoint,
              status: failure.status,
              twitchMessage: failure.twitchMessage,
              token: accessToken
            })
            : Option.getOrElse(clientFailure(failure), () => unexpected(failure)),
        [accessToken]
      ).pipe(Effect.withSpan("TwitchAuth.revokeToken", spanOptions))

    const appToken: TwitchAuth.Service["appToken"] = (options = {}) =>
      Effect.gen(function*() {
        const secret = yield* requireSecret("appToken")
        const requested = scopes(options.scopes)
        return yield* send(
          tokenEndpoint,
          postForm("/token", {
            ...credentials(secret),
            grant_type: "client_credentials",
            ...(requested.length > 0 ? { scope: requested.join(" ") } : {})
          }),
          (response) =>
            Effect.zipWith(
              decode(Token.TokenResponse, tokenEndpoint)(response),
              DateTime.now,
              Token.appTokenFromWire
            ),
          (failure): InvalidClient | MissingClientSecret | InvalidScope | UnexpectedResponse =>
            failure.normalized.startsWith("invalid scope")
              ? new InvalidScope({ twitchMessage: failure.twitchMessage })
              : Option.getOrElse(
                Option.orElse(clientFailure(failure), () => missingSecretFromTwitch(failure, "appToken")),
                () => unexpected(failure)
              )
        )
      }).pipe(Effect.withSpan("TwitchAuth.appToken", spanOptions))

    const startDeviceAuthorization: TwitchAuth.Service["startDeviceAuthorization"] = (options = {}) => {
      const requested = scopes(options.scopes)
      return send(
        deviceEndpoint,
        postForm("/device", { client_id: config.clientId, scopes: requested.join(" ") }),
        (response) =>
          Effect.zipWith(
            decode(Token.DeviceCodeResponse, deviceEndpoint)(response),
            DateTime.now,
            (wire, now) => Token.deviceAuthorizationFromWire(wire, requested, now)
          ),
        (failure): InvalidClient | InvalidScope | UnexpectedResponse =>
          failure.normalized.startsWith("invalid scope")
            ? new InvalidScope({ twitchMessage: failure.twitchMessage })
            : Option.getOrElse(clientFailure(failure), () => unexpected(failure))
      ).pipe(Effect.withSpan("TwitchAuth.startDeviceAuthorization", spanOptions))
    }

    const pollDeviceToken: TwitchAuth.Service["pollDeviceToken"] = (deviceCode) =>
      send(
        tokenEndpoint,
        postForm("/token", {
          ...clientCredentials,
          device_code: Redacted.value(deviceCode),
          grant_type: "urn:ietf:params:oauth:grant-type:device_code"
        }),
        toUserToken(tokenEndpoint),
        (
          failure
        ):
          | AuthorizationPending
          | SlowDown
          | AccessDenied
          | DeviceCodeExpired
          | InvalidClient
          | MissingClientSecret
          | UnexpectedResponse =>
          failure.normalized === "authorization_pending"
            ? new AuthorizationPending()
            : failure.normalized === "slow_down"
            ? new SlowDown()
            : failure.normalized === "access_denied"
            ? new AccessDenied({ flow: "DeviceCode", description: failure.twitchMessage })
            : failure.normalized === "invalid device code" || failure.normalized === "expired_token"
            ? new DeviceCodeExpired({ twitchMessage: failure.twitchMessage })
            : Option.getOrElse(
              Option.orElse(clientFailure(failure), () => missingSecretFromTwitch(failure, "pollDeviceToken")),
              () => unexpected(failure)
            ),
        [deviceCode]
      ).pipe(Effect.withSpan("TwitchAuth.pollDeviceToken", spanOptions))

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
 * `NodeHttpClient.layerUndici` (fastest on Node) or `FetchHttpClient.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<TwitchAuth, never, TwitchAuthConfig | HttpClient.HttpClient> = Layer.effect(
  TwitchAuth,
  make
)
