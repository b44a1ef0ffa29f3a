/**
 * The error channel of each operation, pinned at the type level: `pnpm check` fails if an
 * operation gains or loses an error, so what a caller sees on hover is exactly this list.
 */
import type {
  AuthorizationCode,
  DeviceFlow,
  OpenIdConnect,
  Token,
  TwitchAuth,
  TwitchAuthError as E
} from "@effect-twitch/auth"
import { describe, expectTypeOf, it } from "@effect/vitest"
import type * as Effect from "effect/Effect"

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
