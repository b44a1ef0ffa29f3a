/**
 * The errors of `@effect-twitch/auth`: one tagged class per situation a caller handles
 * differently. Every class is a `Schema.TaggedError`, so it can be matched with
 * `Effect.catchTag`, compared structurally and serialised, and carries {@link TypeId}, so
 * {@link isTwitchAuthError} tells it from any other failure.
 *
 * None of them ever holds a secret: no client secret, access token, refresh token or
 * authorization code reaches a field, a `message`, `toString()` or `JSON.stringify` output.
 * What they do keep is what Twitch said (its `message` string and HTTP status), which names
 * the problem but never echoes a credential.
 *
 * Each operation's error channel is named here, once: {@link CommonError} is what any request
 * to id.twitch.tv can fail with, and each operation's union adds its own errors to it
 * (`TwitchAuth.refreshToken` fails with {@link RefreshTokenError}, and so on). The modules
 * that run an operation use these names; none writes a union out again.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import { TypeId } from "./internal/errors/common.js"
import type {
  AccessDenied,
  AuthorizationFailed,
  AuthorizationPending,
  DeviceCodeExpired,
  InvalidAccessToken,
  InvalidAuthorizationCode,
  InvalidClient,
  InvalidIdToken,
  InvalidRefreshToken,
  InvalidScope,
  MalformedRedirect,
  MissingClientSecret,
  MissingRedirectUri,
  RedirectUriMismatch,
  SlowDown,
  StateMismatch
} from "./internal/errors/grant.js"
import {
  type HelixUnauthorized,
  type MalformedResponse,
  type MissingScope,
  RateLimited,
  TransportError,
  TwitchUnavailable,
  type UnexpectedResponse
} from "./internal/errors/response.js"

export {
  /**
   * The type id every error class of this module carries (on its prototype: it is in no field,
   * no `JSON.stringify` output and no structural comparison). {@link isTwitchAuthError} checks
   * it. It is `Symbol.for("@effect-twitch/auth/TwitchAuthError")`, so two copies of the package
   * in one program recognise each other's errors.
   *
   * @since 0.1.0
   * @category type ids
   */
  TypeId
}

/**
 * The errors of the grants and of consent (`InvalidClient`, `InvalidRefreshToken`,
 * `AccessDenied`, …), each documented where it is defined.
 *
 * @since 0.1.0
 * @category errors
 */
export * from "./internal/errors/grant.js"

/**
 * The errors of an answer (`RateLimited`, `TwitchUnavailable`, `TransportError`,
 * `MalformedResponse`, `UnexpectedResponse`) and of Helix, each documented where it is defined.
 *
 * @since 0.1.0
 * @category errors
 */
export * from "./internal/errors/response.js"

/**
 * The Twitch endpoint a request went to, as `METHOD /path` (e.g. `POST /oauth2/token`).
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint =
  | "GET /oauth2/authorize"
  | "POST /oauth2/token"
  | "GET /oauth2/validate"
  | "POST /oauth2/revoke"
  | "POST /oauth2/device"
  | "GET /oauth2/keys"
  | "GET /oauth2/userinfo"
  | "GET /oauth2/.well-known/openid-configuration"

/**
 * Every error of this module.
 *
 * @since 0.1.0
 * @category errors
 */
export type TwitchAuthError =
  | InvalidAccessToken
  | InvalidRefreshToken
  | InvalidAuthorizationCode
  | RedirectUriMismatch
  | InvalidClient
  | MissingClientSecret
  | MissingRedirectUri
  | InvalidScope
  | AuthorizationPending
  | DeviceCodeExpired
  | SlowDown
  | AccessDenied
  | StateMismatch
  | AuthorizationFailed
  | MalformedRedirect
  | InvalidIdToken
  | RateLimited
  | TwitchUnavailable
  | TransportError
  | MalformedResponse
  | UnexpectedResponse
  | MissingScope
  | HelixUnauthorized

// ---------------------------------------------------------------------------------------
// the common group
// ---------------------------------------------------------------------------------------

/**
 * Failures that may go away by themselves. The SDK retries them on a bounded schedule
 * before they reach the caller.
 *
 * @since 0.1.0
 * @category errors
 */
export type TransientError = RateLimited | TwitchUnavailable | TransportError

/**
 * What any request to id.twitch.tv can fail with, whatever the operation: a
 * {@link TransientError} (retried before it reaches you), an answer that does not have the
 * documented shape (`MalformedResponse`), or a refusal this library does not recognise
 * (`UnexpectedResponse`). Every operation that sends a request fails with these and with its
 * own errors below. `OpenIdConnect.RequestError` is this union.
 *
 * @since 0.1.0
 * @category errors
 */
export type CommonError = TransientError | MalformedResponse | UnexpectedResponse

// ---------------------------------------------------------------------------------------
// one union per operation of `TwitchAuth`
// ---------------------------------------------------------------------------------------

/**
 * `TwitchAuth.authorizationUrl`: no redirect URI was given and none is configured. No
 * request is made, so nothing else can fail.
 *
 * @since 0.1.0
 * @category errors
 */
export type AuthorizationUrlError = MissingRedirectUri

/**
 * `TwitchAuth.exchangeCode` and `exchangeCodeWithIdToken` (and `AuthorizationCode.ExchangeError`):
 * the code was refused or the redirect URI does not match, the client or its secret is wrong
 * or missing, no redirect URI is configured, or {@link CommonError}.
 *
 * @since 0.1.0
 * @category errors
 */
export type ExchangeCodeError =
  | InvalidAuthorizationCode
  | RedirectUriMismatch
  | InvalidClient
  | MissingClientSecret
  | MissingRedirectUri
  | CommonError

/**
 * `TwitchAuth.refreshToken`: the refresh token is dead (`InvalidRefreshToken`: the user must
 * authorize again), the client or its secret is wrong or missing, or {@link CommonError}.
 *
 * @since 0.1.0
 * @category errors
 */
export type RefreshTokenError = InvalidRefreshToken | InvalidClient | MissingClientSecret | CommonError

/**
 * `TwitchAuth.validateToken`: the access token is dead, or {@link CommonError}.
 *
 * @since 0.1.0
 * @category errors
 */
export type ValidateTokenError = InvalidAccessToken | CommonError

/**
 * `TwitchAuth.revokeToken`: the access token is already dead, the client id is wrong, or
 * {@link CommonError}.
 *
 * @since 0.1.0
 * @category errors
 */
export type RevokeTokenError = InvalidAccessToken | InvalidClient | CommonError

/**
 * `TwitchAuth.appToken` (and `AppTokenSession`): the client or its secret is wrong or
 * missing, a scope was refused, or {@link CommonError}.
 *
 * @since 0.1.0
 * @category errors
 */
export type AppTokenError = InvalidClient | MissingClientSecret | InvalidScope | CommonError

/**
 * `TwitchAuth.startDeviceAuthorization` (and `DeviceFlow.start`): the client id is wrong, a
 * scope was refused, or {@link CommonError}.
 *
 * @since 0.1.0
 * @category errors
 */
export type DeviceAuthorizationError = InvalidClient | InvalidScope | CommonError

/**
 * `TwitchAuth.pollDeviceToken`, one poll: not yet (`AuthorizationPending`, `SlowDown`), the
 * user refused, the code expired, the client or its secret is wrong or missing, or
 * {@link CommonError}.
 *
 * @since 0.1.0
 * @category errors
 */
export type DevicePollError =
  | AuthorizationPending
  | SlowDown
  | AccessDenied
  | DeviceCodeExpired
  | InvalidClient
  | MissingClientSecret
  | CommonError

// ---------------------------------------------------------------------------------------
// the flows built on them
// ---------------------------------------------------------------------------------------

/**
 * A redirect refused before any request is made (`AuthorizationCode.parseCallback`, and
 * `AuthorizationCode.CallbackError`): not this request's state, the user refused, the
 * redirect URI is not registered, another OAuth error, or no code.
 *
 * @since 0.1.0
 * @category errors
 */
export type CallbackError = StateMismatch | AccessDenied | RedirectUriMismatch | AuthorizationFailed | MalformedRedirect

/**
 * The device flow's polling (`DeviceFlow.poll`, `DeviceFlow.states`, and
 * `DeviceFlow.PollError`): a poll's errors but the two the flow answers itself by polling
 * again (`AuthorizationPending`, `SlowDown`).
 *
 * @since 0.1.0
 * @category errors
 */
export type DeviceFlowError = Exclude<DevicePollError, AuthorizationPending | SlowDown>

/**
 * `OpenIdConnect.verifyIdToken`: the ID token is refused, or fetching Twitch's keys failed
 * ({@link CommonError}).
 *
 * @since 0.1.0
 * @category errors
 */
export type VerifyIdTokenError = InvalidIdToken | CommonError

/**
 * `OpenIdConnect.exchangeCode`: the code exchange's errors, or the ID token that came with it
 * is refused.
 *
 * @since 0.1.0
 * @category errors
 */
export type SignInError = InvalidIdToken | ExchangeCodeError

/**
 * `OpenIdConnect.userInfo`: the access token is dead or lacks `openid`, or
 * {@link CommonError}.
 *
 * @since 0.1.0
 * @category errors
 */
export type UserInfoError = InvalidAccessToken | MissingScope | CommonError

// ---------------------------------------------------------------------------------------
// refinements
// ---------------------------------------------------------------------------------------

/**
 * Whether a value is one of this module's errors, whichever operation failed: it checks the
 * {@link TypeId} every error class carries, so it tells them from `@effect/platform`'s
 * errors, a session's `NoStoredToken`, a store's errors, defects, and plain objects that only
 * copy a `_tag`.
 *
 * @example
 * ```ts
 * import { TwitchAuthError } from "@effect-twitch/auth"
 * import { Effect } from "effect"
 *
 * // log the SDK's errors by tag, pass every other failure on untouched
 * const logged = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
 *   Effect.tapError(effect, (error) =>
 *     TwitchAuthError.isTwitchAuthError(error) ? Effect.logWarning(error._tag, error.message) : Effect.void
 *   )
 * ```
 *
 * @since 0.1.0
 * @category refinements
 */
export const isTwitchAuthError = (u: unknown): u is TwitchAuthError => Predicate.hasProperty(u, TypeId)

/**
 * Whether a value is one of the transient errors (`RateLimited`, `TwitchUnavailable`,
 * `TransportError`).
 *
 * @since 0.1.0
 * @category refinements
 */
export const isTransientError = (u: unknown): u is TransientError =>
  u instanceof RateLimited || u instanceof TwitchUnavailable || u instanceof TransportError
