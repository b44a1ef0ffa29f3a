/**
 * `TwitchAuthTest`: the test Layer. Swap it in for `TwitchAuth.layer` and your program talks
 * to an in-memory Twitch instead of id.twitch.tv: no network, no sockets, time from
 * `TestClock`, and every failure Twitch can produce is one call away.
 *
 * It is the real client over the model, not a second implementation: `TwitchAuth.layer` (the
 * production one, with the SDK's own decoders and error mapping) runs over
 * `FakeTwitchHttpClient`, an `HttpClient` answered in memory by {@link FakeTwitch}. Whatever
 * your test sees is what the same calls against Twitch's wire format give in production, and
 * a shared contract suite runs the same tests against this Layer and against the real client
 * over a socket, so the two cannot drift apart.
 *
 * The functions below (`authorize`, `expireAccessToken`, `serverError`, `calls`, ...) are
 * the situations users test, written over the `FakeTwitch` in context.
 *
 * @since 0.1.0
 */
import * as Token from "@effect-twitch/auth/Token"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import type * as TwitchCredentials from "@effect-twitch/auth/TwitchCredentials"
import * as TwitchHttpClient from "@effect-twitch/auth/TwitchHttpClient"
import type * as TwitchScope from "@effect-twitch/auth/TwitchScope"
import * as TwitchSession from "@effect-twitch/auth/TwitchSession"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as FakeTwitch from "./FakeTwitch.js"
import * as FakeTwitchHttpClient from "./FakeTwitchHttpClient.js"

// ---------------------------------------------------------------------------------------------
// layers
// ---------------------------------------------------------------------------------------------

/**
 * The application the SDK is configured as, when it is not one of the fake's seeded clients.
 * A client with a `clientSecret` is confidential, one without is public.
 *
 * @since 0.1.0
 * @category models
 */
export interface Client {
  readonly clientId: string
  readonly clientSecret?: string | undefined
  /** Registered with the fake; the first is the configured redirect URI. Default `["http://localhost:3000/callback"]`. */
  readonly redirectUris?: ReadonlyArray<string> | undefined
  /**
   * `true` (default): the client is registered with the fake. `false`: the SDK is configured
   * with it but Twitch does not know it — every call fails with `InvalidClient`.
   */
  readonly registered?: boolean | undefined
}

/**
 * Options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Which application the SDK is configured as: `"confidential"` (default) or `"public"`,
   * the fake's seeded clients ({@link FakeTwitch.defaultSeed}), or a {@link Client} of your
   * own.
   */
  readonly client?: "confidential" | "public" | Client | undefined
  /** How the fake behaves: seed, token lifetimes, quirks. See {@link FakeTwitch.FakeTwitch.Options}. */
  readonly fake?: FakeTwitch.FakeTwitch.Options | undefined
  /** The configured redirect URI. Default: the client's first registered one. */
  readonly redirectUri?: string | undefined
  /** Time allowed to one request (a `Delay` fault longer than this is a timeout). Default 10 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /**
   * How transient failures (5xx, 429, timeouts) are retried. Default {@link retrySchedule}:
   * as many attempts as in production, without the waits.
   */
  readonly retrySchedule?: Schedule.Schedule<unknown, unknown> | undefined
}

/**
 * The default retry schedule of the test Layer: 3 retries (4 attempts, as
 * `TwitchAuthConfig.defaultRetrySchedule`) with no wait between them, so that a retry never
 * waits on a `TestClock` nobody advances.
 *
 * @since 0.1.0
 * @category constants
 */
export const retrySchedule: Schedule.Schedule<unknown, unknown> = Schedule.recurs(3)

/**
 * The user every helper acts on unless told otherwise: `twitchdev` (`141981764`), the user of
 * {@link FakeTwitch.defaultSeed}.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultUser: FakeTwitch.FakeTwitch.User = FakeTwitch.defaultSeed.users[0]

const defaultRedirectUris: ReadonlyArray<string> = ["http://localhost:3000/callback"]

const resolveClient = (client: Options["client"]): {
  readonly registration: Option.Option<FakeTwitch.FakeTwitch.ClientInput>
  readonly clientId: string
  readonly clientSecret: string | undefined
  readonly redirectUri: string | undefined
} => {
  if (client === undefined || client === "confidential" || client === "public") {
    const seeded = client === "public" ? FakeTwitch.defaultSeed.clients[1] : FakeTwitch.defaultSeed.clients[0]
    return {
      registration: Option.some(seeded),
      clientId: seeded.clientId,
      clientSecret: "clientSecret" in seeded ? seeded.clientSecret : undefined,
      redirectUri: seeded.redirectUris[0]
    }
  }
  const redirectUris = client.redirectUris ?? defaultRedirectUris
  const base = { clientId: client.clientId, redirectUris }
  const input: FakeTwitch.FakeTwitch.ClientInput = client.clientSecret === undefined
    ? { ...base, type: "public" }
    : { ...base, type: "confidential", clientSecret: client.clientSecret }
  return {
    registration: client.registered === false ? Option.none() : Option.some(input),
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    redirectUri: redirectUris[0]
  }
}

/**
 * Everything {@link layer} provides: `TwitchAuth` and its configuration, the `FakeTwitch`
 * behind them (to seed, break and inspect), and the in-memory `HttpClient` (so
 * `TwitchHttpClient` reaches the fake's Helix too).
 *
 * @since 0.1.0
 * @category models
 */
export type Provided =
  | TwitchAuth.TwitchAuth
  | TwitchAuthConfig.TwitchAuthConfig
  | FakeTwitch.FakeTwitch
  | HttpClient.HttpClient

/**
 * The test Layer: the real `TwitchAuth` over a fresh in-memory Twitch. Everything runs in the
 * calling fiber, so `TestClock` drives token expiry, `Delay` faults and request timeouts, and
 * retries do not wait (see {@link retrySchedule}).
 *
 * `TwitchSession`, `TwitchSessions`, `AppTokenSession`, `withTokenRefresh` and
 * `TwitchHttpClient` run on it unchanged. Each use of the returned Layer builds a new fake,
 * so a test that provides it gets a Twitch of its own.
 *
 * The `HttpClient` it provides answers only Twitch's paths (`/oauth2/*`, `/helix/*`); if your
 * program calls other services through `HttpClient`, give those calls their own client.
 *
 * @example
 * ```ts
 * import { TwitchAuth } from "@effect-twitch/auth"
 * import { TwitchAuthTest } from "@effect-twitch/testing"
 * import { assert, it } from "@effect/vitest"
 * import { Effect } from "effect"
 *
 * it.effect("a revoked token is InvalidAccessToken", () =>
 *   Effect.gen(function*() {
 *     const auth = yield* TwitchAuth.TwitchAuth
 *     const token = yield* TwitchAuthTest.authorize({ scopes: ["chat:read"] })
 *     yield* TwitchAuthTest.revokeAccessToken(token)
 *     const error = yield* Effect.flip(auth.validateToken(token.accessToken))
 *     assert.strictEqual(error._tag, "InvalidAccessToken")
 *   }).pipe(Effect.provide(TwitchAuthTest.layer())))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Provided, TwitchAuthConfig.TwitchAuthConfigError> => {
  const client = resolveClient(options.client)
  const fake = Layer.effect(
    FakeTwitch.FakeTwitch,
    Effect.tap(FakeTwitch.make(options.fake), (twitch) =>
      Option.match(client.registration, {
        onNone: () => Effect.void,
        onSome: (input) => twitch.registerClient(input)
      }))
  )
  const config = TwitchAuthConfig.layer({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    redirectUri: options.redirectUri ?? client.redirectUri,
    requestTimeout: options.requestTimeout,
    retrySchedule: options.retrySchedule ?? retrySchedule
  })
  return TwitchAuth.layer.pipe(
    Layer.provideMerge(config),
    Layer.provideMerge(FakeTwitchHttpClient.layer),
    Layer.provideMerge(fake)
  )
}

/**
 * Options of {@link layerSession}: those of {@link layer}, and whose session it is.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionOptions extends Options {
  /** The scopes the user granted. Default none. */
  readonly scopes?: ReadonlyArray<TwitchScope.Requested> | undefined
  /** The user, seeded into the fake. Default {@link defaultUser}. */
  readonly user?: FakeTwitch.FakeTwitch.User | undefined
  /** Session options (refresh margin, validation period, daemon retry). The key is the user id. */
  readonly session?: Omit<TwitchSession.TwitchSession.Options, "key" | "token"> | undefined
  /** Options of the Helix client. */
  readonly helix?: TwitchHttpClient.Options | undefined
}

/**
 * Everything {@link layerSession} provides: {@link Provided}, plus a live `TwitchSession`
 * (also as `TwitchCredentials`), the memory `TokenStore` it persists to, and
 * `TwitchHttpClient` over it.
 *
 * @since 0.1.0
 * @category models
 */
export type SessionProvided =
  | Provided
  | TwitchSession.TwitchSession
  | TwitchCredentials.TwitchCredentials
  | TokenStore.TokenStore
  | TwitchHttpClient.TwitchHttpClient

/**
 * A signed-in user, ready for a bot's code: {@link layer}, plus the user seeded into the
 * fake, authorized with `scopes`, and a `TwitchSession` started with their token (stored in
 * a memory `TokenStore` under their user id), with `TwitchHttpClient` over it. The session
 * validates its token at start, like in production: the fake has seen one `validate` call
 * when your test begins.
 *
 * @example
 * ```ts
 * import { TwitchHttpClient } from "@effect-twitch/auth"
 * import { TwitchAuthTest } from "@effect-twitch/testing"
 * import { assert, it } from "@effect/vitest"
 * import { Effect } from "effect"
 *
 * it.scoped("calls Helix as the user", () =>
 *   Effect.gen(function*() {
 *     const helix = yield* TwitchHttpClient.TwitchHttpClient
 *     const response = yield* helix.get("/users")
 *     assert.strictEqual(response.status, 200)
 *   }).pipe(Effect.provide(TwitchAuthTest.layerSession({ scopes: ["chat:read"] }))))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSession = (
  options: SessionOptions = {}
): Layer.Layer<
  SessionProvided,
  | TwitchAuthConfig.TwitchAuthConfigError
  | FakeTwitch.FakeTwitchSetupError
  | TwitchSession.NoStoredToken
  | TokenStore.TokenStoreError
> => {
  const { helix, scopes, session, user = defaultUser, ...base } = options
  const started = Layer.unwrapEffect(
    Effect.gen(function*() {
      yield* seedUser(user)
      const token = yield* authorize({ userId: user.userId, scopes: scopes ?? [] })
      return TwitchSession.layer({ ...session, key: user.userId, token })
    })
  )
  return TwitchHttpClient.layer(helix).pipe(
    Layer.provideMerge(started),
    Layer.provideMerge(TokenStore.layerMemory),
    Layer.provideMerge(layer(base))
  )
}

// ---------------------------------------------------------------------------------------------
// seeding and authorizing
// ---------------------------------------------------------------------------------------------

/**
 * Adds (or replaces) a user in the fake. A missing `userId` is generated.
 *
 * @since 0.1.0
 * @category seeding
 */
export const seedUser = (
  user: FakeTwitch.FakeTwitch.UserInput
): Effect.Effect<FakeTwitch.FakeTwitch.User, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.registerUser(user))

/**
 * Registers (or replaces) an application with the fake. A missing id, or a confidential
 * client's missing secret, is generated.
 *
 * @since 0.1.0
 * @category seeding
 */
export const seedClient = (
  client?: FakeTwitch.FakeTwitch.ClientInput
): Effect.Effect<FakeTwitch.FakeTwitch.Client, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.registerClient(client))

/**
 * Options of {@link authorize}.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizeOptions {
  /** The scopes the user grants. Default none. */
  readonly scopes?: ReadonlyArray<TwitchScope.Requested> | undefined
  /** Default {@link defaultUser}. */
  readonly userId?: string | undefined
  /** Default: the configured client id. */
  readonly clientId?: string | undefined
}

/**
 * The user authorizes the application: the fake mints an access and a refresh token (as if
 * the user had gone through the consent page), returned as the `UserToken` the SDK would
 * hold — ready for `TwitchSession.make({ key, token })` or `TokenStore.set`. Twitch sees no
 * request, so call counts are untouched. Fails with `FakeTwitchSetupError` for an unknown
 * user or client.
 *
 * @since 0.1.0
 * @category seeding
 */
export const authorize = (
  options: AuthorizeOptions = {}
): Effect.Effect<
  Token.UserToken,
  FakeTwitch.FakeTwitchSetupError,
  FakeTwitch.FakeTwitch | TwitchAuthConfig.TwitchAuthConfig
> =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    const config = yield* TwitchAuthConfig.TwitchAuthConfig
    const scopes = options.scopes ?? []
    const issued = yield* twitch.issueUserToken({
      clientId: options.clientId ?? config.clientId,
      userId: options.userId ?? defaultUser.userId,
      scopes
    })
    const now = yield* DateTime.now
    return new Token.UserToken({
      accessToken: Redacted.make(issued.accessToken),
      refreshToken: Redacted.make(issued.refreshToken),
      scopes,
      obtainedAt: now,
      expiresAt: Option.some(DateTime.addDuration(now, Duration.seconds(issued.expiresIn)))
    })
  })

// ---------------------------------------------------------------------------------------------
// breaking tokens
// ---------------------------------------------------------------------------------------------

/**
 * An access token as a test holds it: the raw string, the `Redacted` one, or a token value
 * (`UserToken`, `AppToken`).
 *
 * @since 0.1.0
 * @category models
 */
export type AccessTokenLike = string | Redacted.Redacted<string> | { readonly accessToken: Redacted.Redacted<string> }

const rawAccessToken = (token: AccessTokenLike): string =>
  typeof token === "string"
    ? token
    : Redacted.isRedacted(token)
    ? Redacted.value(token)
    : Redacted.value(token.accessToken)

/**
 * The access token expires now: Twitch answers 401 to it from here on (`/validate`,
 * `/revoke`, Helix's `Invalid OAuth token`). Its refresh token still works. To let it expire
 * by time instead, `TestClock.adjust` past its lifetime (4 hours by default).
 *
 * @since 0.1.0
 * @category faults
 */
export const expireAccessToken = (token: AccessTokenLike): Effect.Effect<void, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.expireAccessToken(rawAccessToken(token)))

/**
 * The access token is revoked, as `POST /oauth2/revoke` would. Its refresh token still works.
 *
 * @since 0.1.0
 * @category faults
 */
export const revokeAccessToken = (token: AccessTokenLike): Effect.Effect<void, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.revokeAccessToken(rawAccessToken(token)))

/**
 * The user disconnects the application (or, without `clientId`, every application): all
 * their access tokens are revoked and their refresh tokens die, so the next refresh is
 * `InvalidRefreshToken` and a session ends. Default user: {@link defaultUser}.
 *
 * @since 0.1.0
 * @category faults
 */
export const disconnectUser = (
  options: { readonly userId?: string | undefined; readonly clientId?: string | undefined } = {}
): Effect.Effect<void, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(
    FakeTwitch.FakeTwitch,
    (twitch) => twitch.disconnectUser(options.userId ?? defaultUser.userId, options.clientId)
  )

// ---------------------------------------------------------------------------------------------
// faults
// ---------------------------------------------------------------------------------------------

/**
 * Which endpoint a fault applies to: one of the fake's endpoints, or `"any"` (the next calls,
 * wherever they go).
 *
 * @since 0.1.0
 * @category models
 */
export type FaultTarget = FakeTwitch.FakeTwitch.Endpoint | "any"

const failNext = (target: FaultTarget, fault: FakeTwitch.FakeTwitch.Fault, times: number | undefined) =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.failNext(target, fault, times ?? 1))

/**
 * The next `times` (default 1) calls to `target` answer `status` (default 503) with Twitch's
 * error envelope. `TwitchAuth` retries them (3 times, see {@link retrySchedule}) before a
 * `TwitchUnavailable` reaches the caller; Helix's answers reach your code as they are.
 *
 * @since 0.1.0
 * @category faults
 */
export const serverError = (
  target: FaultTarget,
  options: { readonly times?: number | undefined; readonly status?: number | undefined } = {}
): Effect.Effect<void, never, FakeTwitch.FakeTwitch> =>
  failNext(
    target,
    options.status === undefined ? { _tag: "ServerError" } : { _tag: "ServerError", status: options.status },
    options.times
  )

/**
 * The next `times` (default 1) calls to `target` answer 429 with `Ratelimit-Reset`
 * `resetAfterSeconds` (default 1) ahead. `TwitchAuth` retries them before a `RateLimited`
 * reaches the caller; `TwitchHttpClient` waits until the reset (on `TestClock`) and retries.
 *
 * @since 0.1.0
 * @category faults
 */
export const rateLimit = (
  target: FaultTarget,
  options: { readonly times?: number | undefined; readonly resetAfterSeconds?: number | undefined } = {}
): Effect.Effect<void, never, FakeTwitch.FakeTwitch> =>
  failNext(
    target,
    options.resetAfterSeconds === undefined
      ? { _tag: "RateLimited" }
      : { _tag: "RateLimited", resetAfterSeconds: options.resetAfterSeconds },
    options.times
  )

/**
 * The next `times` (default 1) calls to `target` answer 200 with a body that does not decode
 * (truncated JSON, or `body`): `MalformedResponse`, never retried.
 *
 * @since 0.1.0
 * @category faults
 */
export const malformedBody = (
  target: FaultTarget,
  options: { readonly times?: number | undefined; readonly body?: string | undefined } = {}
): Effect.Effect<void, never, FakeTwitch.FakeTwitch> =>
  failNext(
    target,
    options.body === undefined ? { _tag: "Malformed" } : { _tag: "Malformed", body: options.body },
    options.times
  )

/**
 * The next `times` (default 1) calls to `target` answer only after `duration` on Effect's
 * clock: advance `TestClock` to let them through, or past the request timeout (10 seconds by
 * default) to make them time out.
 *
 * @since 0.1.0
 * @category faults
 */
export const delay = (
  target: FaultTarget,
  duration: Duration.DurationInput,
  options: { readonly times?: number | undefined } = {}
): Effect.Effect<void, never, FakeTwitch.FakeTwitch> => failNext(target, { _tag: "Delay", duration }, options.times)

// ---------------------------------------------------------------------------------------------
// what Twitch saw
// ---------------------------------------------------------------------------------------------

/**
 * How many requests an endpoint received (faulted ones and retries included).
 *
 * @since 0.1.0
 * @category inspecting
 */
export const calls = (endpoint: FakeTwitch.FakeTwitch.Endpoint): Effect.Effect<number, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.calls(endpoint))

/**
 * The requests an endpoint received, oldest first: method, lowercase headers, and the
 * parameters (query and form body merged; Helix requests also carry their `path`).
 *
 * @since 0.1.0
 * @category inspecting
 */
export const requests = (
  endpoint: FakeTwitch.FakeTwitch.Endpoint
): Effect.Effect<ReadonlyArray<FakeTwitch.FakeTwitch.WireRequest>, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.requests(endpoint))

/**
 * The latest request an endpoint received, if any — e.g. to read the `authorization` or
 * `client-id` header your code sent.
 *
 * @since 0.1.0
 * @category inspecting
 */
export const lastRequest = (
  endpoint: FakeTwitch.FakeTwitch.Endpoint
): Effect.Effect<Option.Option<FakeTwitch.FakeTwitch.WireRequest>, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.lastRequest(endpoint))

/**
 * How many `POST /oauth2/token` requests carried `grant_type` — e.g. `"refresh_token"` to
 * count refreshes, `"client_credentials"` to count app tokens. Exact, however many requests
 * the log keeps.
 *
 * @since 0.1.0
 * @category inspecting
 */
export const grantCount = (
  grantType:
    | "refresh_token"
    | "authorization_code"
    | "client_credentials"
    | "urn:ietf:params:oauth:grant-type:device_code"
): Effect.Effect<number, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.grantCalls(grantType))

/**
 * Forgets counted calls and recorded requests, e.g. after a test's set-up.
 *
 * @since 0.1.0
 * @category inspecting
 */
export const resetCounters: Effect.Effect<void, never, FakeTwitch.FakeTwitch> = Effect.flatMap(
  FakeTwitch.FakeTwitch,
  (twitch) => twitch.resetCounters()
)

/**
 * Whether Twitch would accept an access token now (known, unrevoked, unexpired).
 *
 * @since 0.1.0
 * @category inspecting
 */
export const isAccessTokenValid = (token: AccessTokenLike): Effect.Effect<boolean, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.isAccessTokenValid(rawAccessToken(token)))

/**
 * Whether Twitch would accept a refresh token now (a public client's is spent once used).
 *
 * @since 0.1.0
 * @category inspecting
 */
export const isRefreshTokenValid = (
  token: string | Redacted.Redacted<string> | { readonly refreshToken: Redacted.Redacted<string> }
): Effect.Effect<boolean, never, FakeTwitch.FakeTwitch> =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) =>
    twitch.isRefreshTokenValid(
      typeof token === "string"
        ? token
        : Redacted.isRedacted(token)
        ? Redacted.value(token)
        : Redacted.value(token.refreshToken)
    ))
