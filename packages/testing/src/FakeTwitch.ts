/**
 * An in-memory model of Twitch's authentication server (id.twitch.tv) and of the
 * authentication rules of its API (api.twitch.tv/helix).
 *
 * It speaks Twitch's wire format on its own terms — raw requests in, raw status/headers/body
 * out — and shares no code with the SDK, so a decoding bug in a client cannot hide behind it.
 * Time comes from Effect's `Clock`, so `TestClock` drives every expiry.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as ConsentFlow from "./internal/consentFlow.js"
import * as Faults from "./internal/faults.js"
import * as Grants from "./internal/grants.js"
import * as Helix from "./internal/helix.js"
import type * as Model from "./internal/model.js"
import { FakeTwitchSetupError } from "./internal/model.js"
import * as Oidc from "./internal/oidc.js"
import * as QuirkText from "./internal/quirks.js"
import { RequestLog } from "./internal/requestLog.js"
import * as State from "./internal/state.js"
import * as Wire from "./internal/wire.js"

/**
 * The in-memory Twitch. Wire operations (`token`, `validate`, `revoke`, `authorize`, `helix`)
 * never fail: every outcome, including faults, is a {@link FakeTwitch.WireResponse}.
 *
 * @example
 * ```ts
 * import { FakeTwitch } from "@effect-twitch/testing"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const twitch = yield* FakeTwitch.FakeTwitch
 *   const client = FakeTwitch.defaultSeed.clients[0]!
 *   const response = yield* twitch.token({
 *     method: "POST",
 *     headers: {},
 *     params: { client_id: client.clientId, client_secret: client.clientSecret!, grant_type: "client_credentials" }
 *   })
 *   // response.status === 200
 * }).pipe(Effect.provide(FakeTwitch.layer()))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class FakeTwitch extends Context.Tag("@effect-twitch/testing/FakeTwitch")<FakeTwitch, FakeTwitch.Service>() {}

/**
 * @since 0.1.0
 */
export declare namespace FakeTwitch {
  /**
   * A request as id.twitch.tv sees it: header names are lowercase; `params` is the merge of
   * the query string and the form body (body wins). `path` is only used (and recorded) by
   * `helix`, where it is relative to the Helix base: `/users` for `/helix/users`.
   *
   * @since 0.1.0
   * @category models
   */
  export type WireRequest = Model.WireRequest

  /**
   * A request to api.twitch.tv/helix: a {@link WireRequest} with its `path` relative to the
   * Helix base (`/users`, `/moderation/moderators`).
   *
   * @since 0.1.0
   * @category models
   */
  export type HelixRequest = Model.HelixRequest

  /**
   * A raw response. The body is text so that malformed bodies can be expressed.
   *
   * @since 0.1.0
   * @category models
   */
  export type WireResponse = Model.WireResponse

  /**
   * The endpoints the model serves.
   *
   * @since 0.1.0
   * @category models
   */
  export type Endpoint = Model.Endpoint

  /**
   * A fault to inject in place of (or, for `Delay`, before) the next answer.
   *
   * - `ServerError`: `status` (default 503) with `{"status":503,"message":"Service Unavailable"}`,
   *   or with `body` (e.g. a proxy's HTML page) and `contentType` (default `text/html` when a
   *   body is given).
   * - `RateLimited`: 429 `{"status":429,"message":"Too Many Requests"}` with `ratelimit-limit`,
   *   `ratelimit-remaining: 0` and `ratelimit-reset` (unix seconds, `resetAfterSeconds` ahead,
   *   default 1); `resetHeader: false` leaves `ratelimit-reset` out.
   * - `Malformed`: 200 with a truncated JSON body (`{"access_tok`) or the given `body`.
   * - `Raw`: exactly this answer — `status` (default 200), `headers` (give `content-type`
   *   yourself; the transports label a non-empty body without one `text/plain`) and `body`.
   *   For wrong content types, empty, truncated or oversized bodies.
   * - `Delay`: sleeps `duration` on Effect's clock, then answers normally.
   * - `Hang`: never answers (the request is recorded, then nothing: the client's timeout
   *   must end it).
   * - `Reset`: no answer; the connection is dropped (`MockTwitchServer` destroys the socket,
   *   `FakeTwitchHttpClient` fails with a transport `RequestError`, as a reset surfaces).
   *
   * On `helix` the envelopes are Helix's (`{"error":"Too Many Requests","status":429,
   * "message":"Too Many Requests"}`), the default malformed body is `{"data":[{"id`, and every
   * answer but `Raw` carries the rate-limit headers.
   *
   * @since 0.1.0
   * @category models
   */
  export type Fault = Model.Fault

  /**
   * A registered application.
   *
   * @since 0.1.0
   * @category models
   */
  export type Client = Model.Client

  /**
   * What `registerClient` needs; a missing id or (confidential) secret is generated.
   *
   * @since 0.1.0
   * @category models
   */
  export type ClientInput = Model.ClientInput

  /**
   * A Twitch user.
   *
   * @since 0.1.0
   * @category models
   */
  export type User = Model.User

  /**
   * What `registerUser` needs; a missing id is generated, the login is lowercased.
   *
   * @since 0.1.0
   * @category models
   */
  export type UserInput = Model.UserInput

  /**
   * Initial clients and users.
   *
   * @since 0.1.0
   * @category models
   */
  export type Seed = Model.Seed

  /**
   * Knobs for the behaviours where observed Twitch and its documentation disagree.
   *
   * @since 0.1.0
   * @category models
   */
  export type Quirks = Model.Quirks

  /**
   * Options for {@link make} and {@link layer}.
   *
   * @since 0.1.0
   * @category models
   */
  export type Options = Model.Options

  /**
   * How the next ID token the fake issues (or one minted with `mintIdToken`) departs from a
   * good one: `claims` are merged over the real claims (a claim set to `undefined` is
   * removed), `key: "foreign"` signs it with a key that is not in `/oauth2/keys` (same
   * `kid`, so only the signature check can catch it), and `kid` puts another key id in its
   * header (one the key set may not have: a verifier then refetches `/oauth2/keys`).
   *
   * @since 0.1.0
   * @category models
   */
  export type IdTokenOverrides = Model.IdTokenOverrides

  /**
   * Where a device code stands: waiting for the user, approved by a user, denied, or used
   * (a token was issued, or the denial was reported).
   *
   * @since 0.1.0
   * @category models
   */
  export type DeviceCodeStatus = Model.DeviceCodeStatus

  /**
   * A user token minted directly by a test.
   *
   * @since 0.1.0
   * @category models
   */
  export type IssuedUserToken = Model.IssuedUserToken

  /**
   * The service.
   *
   * @since 0.1.0
   * @category models
   */
  export type Service = Model.Service
}

export {
  /**
   * A test-setup mistake, such as minting a token for an unknown client (defined with the
   * service's types in `internal/model.ts`, where the transports read them).
   *
   * @since 0.1.0
   * @category errors
   */
  FakeTwitchSetupError
} from "./internal/model.js"

/**
 * The seed used by {@link layer} unless told otherwise: one confidential client, one public
 * client and the user `twitchdev`. These are fakes, not credentials.
 *
 * @since 0.1.0
 * @category seed
 */
export const defaultSeed = {
  clients: [
    {
      clientId: "hof5gwx0su6owfnys0yan9c87zr6t1",
      clientSecret: "41vpdji4e9gif29md0ouet6fktd2mk",
      type: "confidential",
      redirectUris: ["http://localhost:3000/callback", "http://localhost:3000/other"]
    },
    {
      clientId: "uo6dggojyb8d6soh92zknwmi5ej1q2",
      type: "public",
      redirectUris: ["http://localhost:3000/callback", "http://localhost:3000/other"]
    }
  ],
  users: [{ userId: "141981764", login: "twitchdev" }]
} as const satisfies FakeTwitch.Seed

/**
 * Default token lifetimes, in seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  userTokenTtlSeconds: 14400,
  appTokenTtlSeconds: 5011271,
  publicRefreshTokenTtlSeconds: 30 * 24 * 60 * 60,
  authorizationCodeTtlSeconds: 600,
  helixRateLimit: 800,
  deviceCodeTtlSeconds: 1800,
  deviceIntervalSeconds: 5,
  idTokenTtlSeconds: 900,
  issuer: "https://id.twitch.tv/oauth2",
  verificationUri: "https://www.twitch.tv/activate",
  requestLogLimit: 10_000,
  maxAccessTokensPerRefreshToken: 50
} as const

/**
 * The quirks a fake starts with unless {@link FakeTwitch.Options} says otherwise: Twitch's
 * observed behaviour where it is known.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultQuirks: FakeTwitch.Quirks = {
  includeErrorField: false,
  appTokenValidateIdentity: "absent",
  emptyScopes: "twitch",
  refreshFailureStatus: 400,
  rotateRefreshTokens: true,
  autoConsent: false
}

/**
 * The values each non-boolean quirk takes (boolean quirks take `true` and `false`). A new
 * non-boolean quirk must be listed here, or this does not compile.
 */
const quirkChoices = {
  appTokenValidateIdentity: ["absent", "null"],
  emptyScopes: ["twitch", "empty", "null"],
  refreshFailureStatus: [400, 401]
} as const satisfies QuirkText.Choices<FakeTwitch.Quirks>

/**
 * Reads quirk settings written `name=value` (as `pnpm mock --quirk name=value` takes them):
 * booleans are `true`/`false`, numbers and names are written as in {@link FakeTwitch.Quirks}.
 * A later setting of the same quirk wins. `Left` is a message naming the bad setting and
 * listing every quirk with its values. Every quirk in {@link defaultQuirks} is covered.
 *
 * @example
 * ```ts
 * import { FakeTwitch } from "@effect-twitch/testing"
 * import { Either } from "effect"
 *
 * const quirks = FakeTwitch.parseQuirks(["emptyScopes=empty", "rotateRefreshTokens=false"])
 * // Either.right({ emptyScopes: "empty", rotateRefreshTokens: false })
 * const bad = FakeTwitch.parseQuirks(["rotate=no"])
 * // Either.left('unknown quirk "rotate"; valid quirks: includeErrorField=false|true, …')
 * if (Either.isRight(quirks)) FakeTwitch.layer({ ...quirks.right })
 * ```
 *
 * @since 0.1.0
 * @category quirks
 */
export const parseQuirks = (specs: ReadonlyArray<string>): Either.Either<Partial<FakeTwitch.Quirks>, string> =>
  QuirkText.parseQuirkSpecs(defaultQuirks, quirkChoices, specs)

/**
 * Reads quirk settings from one string, `name=value` pairs separated by commas, as the
 * {@link quirksEnvVariable} environment variable carries them (`undefined` or blank: none).
 * Same values and errors as {@link parseQuirks}.
 *
 * @since 0.1.0
 * @category quirks
 */
export const parseQuirksList = (list: string | undefined): Either.Either<Partial<FakeTwitch.Quirks>, string> =>
  list === undefined ? Either.right({}) : parseQuirks(QuirkText.splitQuirkList(list))

/**
 * The environment variable `pnpm mock` reads quirks from: `TWITCH_MOCK_QUIRKS="name=value,name=value"`.
 *
 * @since 0.1.0
 * @category quirks
 */
export const quirksEnvVariable = "TWITCH_MOCK_QUIRKS"

/**
 * Reads the quirks in an environment's {@link quirksEnvVariable} (`TWITCH_MOCK_QUIRKS`), as
 * {@link parseQuirksList} does; a `Left` message starts with the variable's name.
 *
 * @example
 * ```ts
 * import { FakeTwitch } from "@effect-twitch/testing"
 *
 * const quirks = FakeTwitch.parseQuirksEnv(process.env)
 * ```
 *
 * @since 0.1.0
 * @category quirks
 */
export const parseQuirksEnv = (
  env: Readonly<Record<string, string | undefined>>
): Either.Either<Partial<FakeTwitch.Quirks>, string> =>
  Either.mapLeft(parseQuirksList(env[quirksEnvVariable]), (message) => `${quirksEnvVariable}: ${message}`)

/**
 * Every quirk with the values it takes, `name=a|b, …`: for help texts.
 *
 * @since 0.1.0
 * @category quirks
 */
export const describeQuirks = (): string => QuirkText.describeQuirks(defaultQuirks, quirkChoices)

/** The quirks of a new fake: the defaults, overridden by those the options set. */
const quirksOf = (options: Partial<FakeTwitch.Quirks>): FakeTwitch.Quirks =>
  QuirkText.withQuirks(defaultQuirks, options)

const resolveSeed = (seed: FakeTwitch.Options["seed"]): FakeTwitch.Seed =>
  seed === undefined || seed === true ? defaultSeed : seed === false ? { clients: [], users: [] } : seed

const noFresh: State.Fresh = { accessToken: "", refreshToken: "", code: "", deviceCode: "", userCode: "" }

/**
 * Builds a FakeTwitch. See {@link FakeTwitch.Options} for the knobs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: FakeTwitch.Options = {}): Effect.Effect<FakeTwitch.Service> =>
  Effect.gen(function*() {
    const lifetimes = State.lifetimesOf(options, defaults)
    const defaultIssuer = options.issuer ?? defaults.issuer
    const signer = yield* Oidc.makeSigner
    const serial = yield* Ref.make(0)
    const nextSerial = Ref.getAndUpdate(serial, (n) => n + 1)
    const freshId = (length: number) => Effect.flatMap(nextSerial, (n) => Wire.randomId(length, n))
    const freshRefreshToken = Effect.map(freshId(40), (base) => base + Wire.refreshTokenSuffix)
    const now = Effect.clockWith((clock) => clock.currentTimeMillis)

    // The request log lives beside the model's state, not in it: recording is O(1) and never
    // copies the history (a copy per request made a long `pnpm mock` slower with each one).
    const log = yield* Effect.sync(() =>
      new RequestLog<FakeTwitch.Endpoint, FakeTwitch.WireRequest>(options.requestLogLimit ?? defaults.requestLogLimit)
    )
    const ref = yield* Ref.make(State.initialState(resolveSeed(options.seed), quirksOf(options)))

    /**
     * Records the call, consumes a matching fault if any, then runs the transition (or, for a
     * fault other than `Delay`, the endpoint's fault answer).
     */
    const serve = (
      endpoint: FakeTwitch.Endpoint,
      request: FakeTwitch.WireRequest,
      transition: State.Transition,
      onFault: (fault: Faults.AnswerFault) => State.Transition = Faults.oauthFault
    ) =>
      Effect.gen(function*() {
        yield* Effect.sync(() =>
          log.record(
            endpoint,
            request,
            endpoint === "token" ? State.grantLabel(request.params["grant_type"]) : undefined
          )
        )
        const fault = yield* Ref.modify(ref, (state) => Faults.takeFault(state, endpoint))
        let run = transition
        if (Option.isSome(fault)) {
          const f = fault.value
          if (f._tag === "Delay") {
            yield* Effect.sleep(f.duration)
          } else if (f._tag === "Hang") {
            // Recorded, then no answer ever: the client's timeout (or interruption) ends it.
            return yield* Effect.never
          } else {
            run = onFault(f)
          }
        }
        const fresh: State.Fresh = {
          accessToken: yield* freshId(30),
          refreshToken: yield* freshRefreshToken,
          code: yield* freshId(30),
          deviceCode: yield* freshId(40),
          userCode: (yield* freshId(8)).toUpperCase()
        }
        const ctx: State.Ctx = { now: yield* now, fresh, lifetimes, issuer: request.baseUrl ?? defaultIssuer }
        const reply = yield* Ref.modify(ref, (state) => run(state, ctx))
        return Oidc.isNeedsIdToken(reply)
          ? reply.respond(yield* signer.sign(reply.claims, reply.key, reply.kid))
          : reply
      })

    const setupError = (message: string) => new FakeTwitchSetupError({ message: `FakeTwitch: ${message}` })
    const requireClient = (state: State.State, clientId: string) =>
      Option.match(HashMap.get(state.clients, clientId), {
        onNone: () => Effect.fail(setupError(`unknown client ${clientId}`)),
        onSome: Effect.succeed
      })
    const requireUser = (state: State.State, userId: string) =>
      HashMap.has(state.users, userId) ? Effect.void : Effect.fail(setupError(`unknown user ${userId}`))

    const decide = (
      userCode: string,
      decision: "approve" | "deny",
      userId: string | undefined
    ): Effect.Effect<void, FakeTwitchSetupError> =>
      Effect.gen(function*() {
        const at = yield* now
        const refused = yield* Ref.modify(ref, (state): readonly [Option.Option<string>, State.State] =>
          Either.match(ConsentFlow.decideDevice(state, at, userCode, decision, userId), {
            onLeft: (reason) => [Option.some(reason), state],
            onRight: (next) => [Option.none(), next]
          }))
        if (Option.isSome(refused)) {
          return yield* Effect.fail(setupError(`${refused.value} (${userCode})`))
        }
      })

    const service: FakeTwitch.Service = {
      token: (request) => serve("token", request, Grants.tokenTransition(request)),
      validate: (request) => serve("validate", request, Grants.validateTransition(request)),
      revoke: (request) => serve("revoke", request, Grants.revokeTransition(request)),
      authorize: (request) => serve("authorize", request, ConsentFlow.authorizeTransition(request)),
      helix: (request) => serve("helix", request, Helix.helixTransition(request), Faults.helixFault(request)),
      device: (request) => serve("device", request, ConsentFlow.deviceTransition(request)),
      activate: (request) => serve("activate", request, ConsentFlow.activateTransition(request)),
      keys: (request) =>
        Effect.flatMap(signer.twitchKey, (key) => serve("keys", request, Oidc.keysTransition(request, key.jwk))),
      userinfo: (request) => serve("userinfo", request, Oidc.userinfoTransition(request)),
      discovery: (request) => serve("discovery", request, Oidc.discoveryTransition(request)),

      approveDevice: (userCode, userId) => decide(userCode, "approve", userId),
      denyDevice: (userCode) => decide(userCode, "deny", undefined),
      deviceCodeStatus: (userCode) =>
        Effect.zipWith(Ref.get(ref), now, (state, at) => ConsentFlow.deviceCodeStatus(state, at, userCode)),
      nextIdToken: (overrides) => Ref.update(ref, (state) => ({ ...state, idTokenOverrides: overrides })),
      mintIdToken: ({ clientId, nonce, userId }, overrides = {}) =>
        Effect.gen(function*() {
          const state = yield* Ref.get(ref)
          const ctx: State.Ctx = { now: yield* now, lifetimes, issuer: defaultIssuer, fresh: noFresh }
          const claims = Oidc.idTokenClaims(state, ctx, clientId, userId, [], { ...State.noOidc, nonce })
          return yield* signer.sign({ ...claims, ...overrides.claims }, overrides.key ?? "twitch", overrides.kid)
        }),
      rotateSigningKey: () => signer.rotate,

      registerClient: (input = {}) =>
        Effect.gen(function*() {
          const type = input.type ?? "confidential"
          const clientId = input.clientId ?? (yield* freshId(30))
          const redirectUris = input.redirectUris ?? ["http://localhost:3000/callback"]
          const clientSecret = input.clientSecret ?? (type === "confidential" ? yield* freshId(30) : undefined)
          const client: FakeTwitch.Client = clientSecret === undefined
            ? { clientId, type, redirectUris }
            : { clientId, clientSecret, type, redirectUris }
          yield* Ref.update(ref, (state) => ({ ...state, clients: HashMap.set(state.clients, clientId, client) }))
          return client
        }),
      registerUser: (input) =>
        Effect.gen(function*() {
          const userId = input.userId ?? String(100000000 + (yield* nextSerial))
          const user: FakeTwitch.User = { userId, login: input.login.toLowerCase() }
          yield* Ref.update(ref, (state) => State.registerUser(state, user))
          return user
        }),
      setConsentingUser: (userId) =>
        Effect.flatMap(Ref.get(ref), (state) => requireUser(state, userId)).pipe(
          Effect.zipRight(Ref.update(ref, (state) => ({ ...state, consentingUser: userId })))
        ),
      denyNextAuthorization: () => Ref.update(ref, (state) => ({ ...state, denyNext: true })),
      setQuirks: (quirks) => Ref.update(ref, (state) => ({ ...state, quirks: { ...state.quirks, ...quirks } })),
      issueAuthorizationCode: ({ clientId, redirectUri, scopes, userId }) =>
        Effect.gen(function*() {
          const current = yield* Ref.get(ref)
          yield* requireClient(current, clientId)
          yield* requireUser(current, userId)
          const code = yield* freshId(30)
          const expiresAt = (yield* now) + lifetimes.codeMs
          yield* Ref.update(ref, (state) => ({
            ...state,
            codes: HashMap.set(state.codes, code, { clientId, userId, scopes, redirectUri, expiresAt })
          }))
          return code
        }),
      issueUserToken: ({ clientId, scopes, userId }) =>
        Effect.gen(function*() {
          const current = yield* Ref.get(ref)
          const client = yield* requireClient(current, clientId)
          yield* requireUser(current, userId)
          const fresh: State.Fresh = {
            ...noFresh,
            accessToken: yield* freshId(30),
            refreshToken: yield* freshRefreshToken
          }
          const ctx: State.Ctx = { now: yield* now, fresh, lifetimes, issuer: defaultIssuer }
          yield* Ref.update(ref, (state) => Grants.mintUserToken(state, ctx, client, userId, scopes))
          return {
            accessToken: fresh.accessToken,
            refreshToken: fresh.refreshToken,
            expiresIn: lifetimes.userTokenMs / 1000
          }
        }),
      expireAccessToken: (accessToken) =>
        Effect.flatMap(now, (at) =>
          Ref.update(ref, (state) =>
            State.updateAccessToken(state, accessToken, (r) => ({ ...r, expiresAt: Math.min(r.expiresAt, at) })))),
      revokeAccessToken: (accessToken) =>
        Ref.update(ref, (state) =>
          State.updateAccessToken(state, accessToken, (r) => ({ ...r, revoked: true }))),
      disconnectUser: (userId, clientId) =>
        Ref.update(ref, (state) => State.disconnectUser(state, userId, clientId)),
      isAccessTokenValid: (accessToken) =>
        Effect.zipWith(Ref.get(ref), now, (state, at) => State.isAccessTokenValid(state, accessToken, at)),
      isRefreshTokenValid: (refreshToken) =>
        Effect.zipWith(Ref.get(ref), now, (state, at) => State.isRefreshTokenValid(state, refreshToken, at)),
      calls: (endpoint) => Effect.sync(() => log.count(endpoint)),
      grantCalls: (grantType) => Effect.sync(() => log.tally(State.grantLabel(grantType))),
      requests: (endpoint) => Effect.sync(() => log.entries(endpoint)),
      lastRequest: (endpoint) => Effect.sync(() => Option.fromNullable(log.last(endpoint))),
      resetCounters: () => Effect.sync(() => log.reset()),
      failNext: (endpoint, fault, times = 1) =>
        Ref.update(ref, (state) => Faults.addFault(state, endpoint, fault, times))
    }
    return service
  })

/**
 * A layer with a fresh FakeTwitch, seeded with {@link defaultSeed} unless `seed` says otherwise.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: FakeTwitch.Options = {}): Layer.Layer<FakeTwitch> =>
  Layer.effect(FakeTwitch, make(options))
