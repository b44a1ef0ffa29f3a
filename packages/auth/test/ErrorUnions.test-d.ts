/**
 * The error channel of each operation, pinned at the type level (Vitest typecheck, and
 * `tsc -b` through tsconfig.test.json): a test fails if an operation gains or loses an error,
 * so what a caller sees on hover is exactly this list. The lists are written out here on
 * purpose, member by member: the unions `TwitchAuthError` names are what is under test.
 */
import type {
  AppTokenSession,
  AuthorizationCode,
  DeviceFlow,
  OpenIdConnect,
  Token,
  TokenStore,
  TwitchAuth,
  TwitchAuthError as E,
  TwitchCredentials,
  TwitchSession,
  TwitchSessions
} from "@effect-twitch/auth"
import { TwitchAuthError } from "@effect-twitch/auth"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import { describe, expectTypeOf, it } from "vitest"

type Service = TwitchAuth.TwitchAuth.Service
type Errors<K extends keyof Service> = Effect.Effect.Error<ReturnType<Service[K]>>
type Success<K extends keyof Service> = Effect.Effect.Success<ReturnType<Service[K]>>
type Transient = E.RateLimited | E.TwitchUnavailable | E.TransportError | E.MalformedResponse | E.UnexpectedResponse

describe("each operation's precise error union", () => {
  it("authorizationUrl", () => {
    expectTypeOf<Errors<"authorizationUrl">>().toEqualTypeOf<E.MissingRedirectUri>()
    expectTypeOf<Success<"authorizationUrl">>().toEqualTypeOf<TwitchAuth.AuthorizationRequest>()
  })
  it("exchangeCode", () => {
    expectTypeOf<Errors<"exchangeCode">>().toEqualTypeOf<
      | E.InvalidAuthorizationCode
      | E.RedirectUriMismatch
      | E.InvalidClient
      | E.MissingClientSecret
      | E.MissingRedirectUri
      | Transient
    >()
    expectTypeOf<Success<"exchangeCode">>().toEqualTypeOf<Token.UserToken>()
  })
  it("refreshToken", () => {
    expectTypeOf<Errors<"refreshToken">>().toEqualTypeOf<
      E.InvalidRefreshToken | E.InvalidClient | E.MissingClientSecret | Transient
    >()
    expectTypeOf<Success<"refreshToken">>().toEqualTypeOf<Token.UserToken>()
  })
  it("validateToken", () => {
    expectTypeOf<Errors<"validateToken">>().toEqualTypeOf<E.InvalidAccessToken | Transient>()
    expectTypeOf<Success<"validateToken">>().toEqualTypeOf<Token.TokenInfo>()
  })
  it("revokeToken", () => {
    expectTypeOf<Errors<"revokeToken">>().toEqualTypeOf<E.InvalidAccessToken | E.InvalidClient | Transient>()
  })
  it("appToken", () => {
    expectTypeOf<Errors<"appToken">>().toEqualTypeOf<
      E.InvalidClient | E.MissingClientSecret | E.InvalidScope | Transient
    >()
    expectTypeOf<Success<"appToken">>().toEqualTypeOf<Token.AppToken>()
  })
  it("device flow", () => {
    expectTypeOf<Errors<"startDeviceAuthorization">>().toEqualTypeOf<E.InvalidClient | E.InvalidScope | Transient>()
    expectTypeOf<Errors<"pollDeviceToken">>().toEqualTypeOf<
      | E.AuthorizationPending
      | E.SlowDown
      | E.AccessDenied
      | E.DeviceCodeExpired
      | E.InvalidClient
      | E.MissingClientSecret
      | Transient
    >()
  })
  it("exchangeCodeWithIdToken: exchangeCode's errors", () => {
    expectTypeOf<Errors<"exchangeCodeWithIdToken">>().toEqualTypeOf<Errors<"exchangeCode">>()
    expectTypeOf<Success<"exchangeCodeWithIdToken">>().toEqualTypeOf<TwitchAuth.CodeExchange>()
  })
  it("grant flows", () => {
    type Err<T> = T extends Effect.Effect<infer _A, infer E, infer _R> ? E : never
    type Device = Err<ReturnType<typeof DeviceFlow.poll>>
    expectTypeOf<Device>().toEqualTypeOf<
      E.DeviceCodeExpired | E.AccessDenied | E.InvalidClient | E.MissingClientSecret | Transient
    >()
    expectTypeOf<Err<ReturnType<typeof AuthorizationCode.handleCallback>>>().toEqualTypeOf<
      | E.StateMismatch
      | E.AccessDenied
      | E.RedirectUriMismatch
      | E.AuthorizationFailed
      | E.MalformedRedirect
      | Errors<"exchangeCode">
    >()
    type Oidc = OpenIdConnect.OpenIdConnect.Service
    expectTypeOf<Err<ReturnType<Oidc["verifyIdToken"]>>>().toEqualTypeOf<E.InvalidIdToken | Transient>()
    expectTypeOf<Err<ReturnType<Oidc["exchangeCode"]>>>().toEqualTypeOf<E.InvalidIdToken | Errors<"exchangeCode">>()
    expectTypeOf<Err<ReturnType<Oidc["userInfo"]>>>().toEqualTypeOf<E.InvalidAccessToken | E.MissingScope | Transient>()
  })
  it("no operation can fail with a defect-like `unknown` or `never`-widened channel", () => {
    expectTypeOf<Errors<"validateToken">>().not.toBeUnknown()
    expectTypeOf<Errors<"validateToken">>().not.toBeNever()
  })
})

describe("issue 13 #3: each error union is named once, in TwitchAuthError", () => {
  type Err<T> = T extends Effect.Effect<infer _A, infer E, infer _R> ? E : never
  type StreamErr<T> = T extends Stream.Stream<infer _A, infer E, infer _R> ? E : never

  it("issue 13 #3: each TwitchAuth operation fails with its named union", () => {
    expectTypeOf<Errors<"authorizationUrl">>().toEqualTypeOf<E.AuthorizationUrlError>()
    expectTypeOf<Errors<"exchangeCode">>().toEqualTypeOf<E.ExchangeCodeError>()
    expectTypeOf<Errors<"exchangeCodeWithIdToken">>().toEqualTypeOf<E.ExchangeCodeError>()
    expectTypeOf<Errors<"refreshToken">>().toEqualTypeOf<E.RefreshTokenError>()
    expectTypeOf<Errors<"validateToken">>().toEqualTypeOf<E.ValidateTokenError>()
    expectTypeOf<Errors<"revokeToken">>().toEqualTypeOf<E.RevokeTokenError>()
    expectTypeOf<Errors<"appToken">>().toEqualTypeOf<E.AppTokenError>()
    expectTypeOf<Errors<"startDeviceAuthorization">>().toEqualTypeOf<E.DeviceAuthorizationError>()
    expectTypeOf<Errors<"pollDeviceToken">>().toEqualTypeOf<E.DevicePollError>()
  })

  it("issue 13 #3: the common group is the transient errors, MalformedResponse and UnexpectedResponse", () => {
    expectTypeOf<E.TransientError>().toEqualTypeOf<E.RateLimited | E.TwitchUnavailable | E.TransportError>()
    expectTypeOf<E.CommonError>().toEqualTypeOf<Transient>()
    expectTypeOf<OpenIdConnect.RequestError>().toEqualTypeOf<E.CommonError>()
  })

  it("issue 13 #3: the flows and sessions fail with the same named unions", () => {
    expectTypeOf<AuthorizationCode.ExchangeError>().toEqualTypeOf<E.ExchangeCodeError>()
    expectTypeOf<AuthorizationCode.CallbackError>().toEqualTypeOf<E.CallbackError>()
    expectTypeOf<Err<ReturnType<typeof AuthorizationCode.handleCallback>>>().toEqualTypeOf<
      E.CallbackError | E.ExchangeCodeError
    >()
    expectTypeOf<DeviceFlow.StartError>().toEqualTypeOf<E.DeviceAuthorizationError>()
    expectTypeOf<DeviceFlow.PollError>().toEqualTypeOf<E.DeviceFlowError>()
    expectTypeOf<Err<ReturnType<typeof DeviceFlow.start>>>().toEqualTypeOf<E.DeviceAuthorizationError>()
    expectTypeOf<StreamErr<ReturnType<typeof DeviceFlow.states>>>().toEqualTypeOf<E.DeviceFlowError>()
    expectTypeOf<AppTokenSession.AppTokenError>().toEqualTypeOf<E.AppTokenError>()
    expectTypeOf<Err<AppTokenSession.AppTokenSession.Service["token"]>>().toEqualTypeOf<E.AppTokenError>()
    expectTypeOf<TwitchSession.RefreshError>().toEqualTypeOf<E.RefreshTokenError | TokenStore.TokenStoreError>()
    expectTypeOf<TwitchCredentials.CredentialsError>().toEqualTypeOf<
      | E.InvalidRefreshToken
      | E.InvalidClient
      | E.MissingClientSecret
      | E.InvalidScope
      | Transient
      | TokenStore.TokenStoreError
    >()
    expectTypeOf<Err<TwitchSession.TwitchSession.Service["validate"]>>().toEqualTypeOf<
      E.RefreshTokenError | TokenStore.TokenStoreError | E.InvalidAccessToken
    >()
    expectTypeOf<Err<ReturnType<TwitchSessions.TwitchSessions.Service["add"]>>>().toEqualTypeOf<
      TwitchSession.NoStoredToken | TokenStore.TokenStoreError | E.ValidateTokenError | TwitchSessions.MissingUserId
    >()
    type Oidc = OpenIdConnect.OpenIdConnect.Service
    expectTypeOf<Err<ReturnType<Oidc["verifyIdToken"]>>>().toEqualTypeOf<E.VerifyIdTokenError>()
    expectTypeOf<Err<ReturnType<Oidc["exchangeCode"]>>>().toEqualTypeOf<E.SignInError>()
    expectTypeOf<Err<ReturnType<Oidc["handleCallback"]>>>().toEqualTypeOf<E.CallbackError | E.SignInError>()
    expectTypeOf<Err<ReturnType<Oidc["userInfo"]>>>().toEqualTypeOf<E.UserInfoError>()
  })

  it("issue 13 #3: every error class carries the type id, and isTwitchAuthError narrows to the union", () => {
    expectTypeOf<E.TwitchAuthError[E.TypeId]>().toEqualTypeOf<E.TypeId>()
    expectTypeOf<E.InvalidRefreshToken[E.TypeId]>().toEqualTypeOf<E.TypeId>()
    expectTypeOf<E.HelixUnauthorized[E.TypeId]>().toEqualTypeOf<E.TypeId>()
    expectTypeOf(TwitchAuthError.isTwitchAuthError).guards.toEqualTypeOf<E.TwitchAuthError>()
    const failure = (error: E.RefreshTokenError | TokenStore.TokenStoreError) => {
      if (TwitchAuthError.isTwitchAuthError(error)) {
        expectTypeOf(error).toEqualTypeOf<E.RefreshTokenError>()
      }
    }
    expectTypeOf(failure).toBeFunction()
  })
})
