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
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as QuirkText from "./internal/quirks.js"
import { RequestLog } from "./internal/requestLog.js"
import * as Wire from "./internal/wire.js"
import type * as Model from "./internal/model.js"
import { FakeTwitchSetupError } from "./internal/model.js"
import { accessTokenAlive, type AccessTokenRecord, type Ctx, type Fresh, grantLabel, type Lifetimes, noOidc, refreshTokenAlive, type State, type Transition } from "./internal/state.js"
import { discoveryTransition, generateSigningKey, idTokenClaims, isNeedsIdToken, keysTransition, type SigningKey, signingKid, signJwt, userinfoTransition } from "./internal/oidc.js"
import { helixTransition } from "./internal/helix.js"
import { type AnswerFault, helixFault, oauthFault } from "./internal/faults.js"
import { mintUserToken, revokeTransition, tokenTransition, validateTransition } from "./internal/grants.js"
import { activateTransition, authorizeTransition, decideDevice, deviceCodeStatus, deviceTransition } from "./internal/consentFlow.js"

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

/**
 * A test-setup mistake, such as minting a token for an unknown client (defined with the
 * service's types in `internal/model.ts`, where the transports read them).
 *
 * @since 0.1.0
 * @category errors
 */
export { FakeTwitchSetupError } from "./internal/model.js"
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

/**
 * Builds a FakeTwitch. See {@link FakeTwitch.Options} for the knobs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: FakeTwitch.Options = {}): Effect.Effect<FakeTwitch.Service> =>
  Effect.gen(function*() {
    const seed = resolveSeed(options.seed)
    const lifetimes: Lifetimes = {
      userTokenMs: (options.userTokenTtlSeconds ?? defaults.userTokenTtlSeconds) * 1000,
      appTokenMs: (options.appTokenTtlSeconds ?? defaults.appTokenTtlSeconds) * 1000,
      publicRefreshMs: (options.publicRefreshTokenTtlSeconds ?? defaults.publicRefreshTokenTtlSeconds) * 1000,
      codeMs: (options.authorizationCodeTtlSeconds ?? defaults.authorizationCodeTtlSeconds) * 1000,
      helixRateLimit: options.helixRateLimit ?? defaults.helixRateLimit,
      deviceCodeSeconds: options.deviceCodeTtlSeconds ?? defaults.deviceCodeTtlSeconds,
      deviceIntervalSeconds: options.deviceIntervalSeconds ?? defaults.deviceIntervalSeconds,
      idTokenSeconds: options.idTokenTtlSeconds ?? defaults.idTokenTtlSeconds,
      verificationUri: options.verificationUri ?? defaults.verificationUri,
      maxAccessTokensPerChain: options.maxAccessTokensPerRefreshToken ?? defaults.maxAccessTokensPerRefreshToken
    }
    const defaultIssuer = options.issuer ?? defaults.issuer
    // RSA key generation takes tens of milliseconds: done once, on the first OIDC request.
    // `rotateSigningKey` replaces the current one with a key of the next `kid`.
    const currentKey = yield* SynchronizedRef.make<Option.Option<SigningKey>>(Option.none())
    const twitchKey = SynchronizedRef.modifyEffect(currentKey, (current) =>
      Option.match(current, {
        onSome: (key) => Effect.succeed([key, current] as const),
        onNone: () => Effect.map(Effect.promise(() => generateSigningKey()), (key) => [key, Option.some(key)] as const)
      }))
    const foreignKey = yield* Effect.cached(Effect.promise(() => generateSigningKey()))
    const sign = (claims: Readonly<Record<string, unknown>>, key: "twitch" | "foreign", kid: string | undefined) =>
      Effect.flatMap(
        key === "foreign" ? foreignKey : twitchKey,
        (signing) => Effect.promise(() => signJwt(signing, claims, kid ?? signing.jwk.kid))
      )
    const serial = yield* Ref.make(0)
    const nextSerial = Ref.getAndUpdate(serial, (n) => n + 1)
    const freshId = (length: number) => Effect.flatMap(nextSerial, (n) => Wire.randomId(length, n))
    const freshRefreshToken = Effect.map(freshId(40), (base) => base + Wire.refreshTokenSuffix)

    // The request log lives beside the model's state, not in it: recording is O(1) and never
    // copies the history (a copy per request made a long `pnpm mock` slower with each one).
    const log = yield* Effect.sync(() =>
      new RequestLog<FakeTwitch.Endpoint, FakeTwitch.WireRequest>(options.requestLogLimit ?? defaults.requestLogLimit)
    )
    const ref = yield* Ref.make<State>({
      clients: HashMap.fromIterable(seed.clients.map((c) => [c.clientId, c] as const)),
      users: HashMap.fromIterable(seed.users.map((u) => [u.userId, { userId: u.userId, login: u.login.toLowerCase() }] as const)),
      codes: HashMap.empty(),
      accessTokens: HashMap.empty(),
      refreshTokens: HashMap.empty(),
      chains: HashMap.empty(),
      consentingUser: seed.users[0]?.userId,
      denyNext: false,
      consents: HashMap.empty(),
      quirks: quirksOf(options),
      faults: [],
      helixBuckets: HashMap.empty(),
      deviceCodes: HashMap.empty(),
      idTokenOverrides: undefined
    })

    /**
     * Records the call, consumes a matching fault if any, then runs the transition (or, for a
     * fault other than `Delay`, the endpoint's fault answer).
     */
    const serve = (
      endpoint: FakeTwitch.Endpoint,
      request: FakeTwitch.WireRequest,
      transition: Transition,
      onFault: (fault: AnswerFault) => Transition = oauthFault
    ) =>
      Effect.gen(function*() {
        yield* Effect.sync(() =>
          log.record(endpoint, request, endpoint === "token" ? grantLabel(request.params["grant_type"]) : undefined)
        )
        const fault = yield* Ref.modify(ref, (state): readonly [Option.Option<FakeTwitch.Fault>, State] => {
          const index = state.faults.findIndex((f) => f.endpoint === endpoint || f.endpoint === "any")
          const pending = state.faults[index]
          if (pending === undefined) return [Option.none(), state]
          const faults = pending.remaining <= 1
            ? state.faults.filter((_, i) => i !== index)
            : state.faults.map((f, i) => (i === index ? { ...f, remaining: f.remaining - 1 } : f))
          return [Option.some(pending.fault), { ...state, faults }]
        })
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
        const fresh: Fresh = {
          accessToken: yield* freshId(30),
          refreshToken: yield* freshRefreshToken,
          code: yield* freshId(30),
          deviceCode: yield* freshId(40),
          userCode: (yield* freshId(8)).toUpperCase()
        }
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const issuer = request.baseUrl ?? defaultIssuer
        const reply = yield* Ref.modify(ref, (state) => run(state, { now, fresh, lifetimes, issuer }))
        return isNeedsIdToken(reply) ? reply.respond(yield* sign(reply.claims, reply.key, reply.kid)) : reply
      })

    const requireClient = (state: State, clientId: string) =>
      Option.match(HashMap.get(state.clients, clientId), {
        onNone: () => Effect.fail(new FakeTwitchSetupError({ message: `FakeTwitch: unknown client ${clientId}` })),
        onSome: Effect.succeed
      })
    const requireUser = (state: State, userId: string) =>
      HashMap.has(state.users, userId)
        ? Effect.void
        : Effect.fail(new FakeTwitchSetupError({ message: `FakeTwitch: unknown user ${userId}` }))

    const decide = (
      userCode: string,
      decision: "approve" | "deny",
      userId: string | undefined
    ): Effect.Effect<void, FakeTwitchSetupError> =>
      Effect.gen(function*() {
        const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
        const refused = yield* Ref.modify(ref, (state): readonly [Option.Option<string>, State] =>
          Either.match(decideDevice(state, now, userCode, decision, userId), {
            onLeft: (reason) => [Option.some(reason), state],
            onRight: (next) => [Option.none(), next]
          }))
        if (Option.isSome(refused)) {
          return yield* Effect.fail(new FakeTwitchSetupError({ message: `FakeTwitch: ${refused.value} (${userCode})` }))
        }
      })

    const updateAccessToken = (accessToken: string, f: (record: AccessTokenRecord) => AccessTokenRecord) =>
      Ref.update(ref, (state) => ({
        ...state,
        accessTokens: HashMap.modify(state.accessTokens, accessToken, f)
      }))

    const service: FakeTwitch.Service = {
      token: (request) => serve("token", request, tokenTransition(request)),
      validate: (request) => serve("validate", request, validateTransition(request)),
      revoke: (request) => serve("revoke", request, revokeTransition(request)),
      authorize: (request) => serve("authorize", request, authorizeTransition(request)),
      helix: (request) => serve("helix", request, helixTransition(request), helixFault(request)),
      device: (request) => serve("device", request, deviceTransition(request)),
      activate: (request) => serve("activate", request, activateTransition(request)),
      keys: (request) => Effect.flatMap(twitchKey, (key) => serve("keys", request, keysTransition(request, key.jwk))),
      userinfo: (request) => serve("userinfo", request, userinfoTransition(request)),
      discovery: (request) => serve("discovery", request, discoveryTransition(request)),

      approveDevice: (userCode, userId) => decide(userCode, "approve", userId),
      denyDevice: (userCode) => decide(userCode, "deny", undefined),
      deviceCodeStatus: (userCode) =>
        Effect.zipWith(
          Ref.get(ref),
          Effect.clockWith((clock) => clock.currentTimeMillis),
          (state, now) => deviceCodeStatus(state, now, userCode)
        ),
      nextIdToken: (overrides) => Ref.update(ref, (state) => ({ ...state, idTokenOverrides: overrides })),
      mintIdToken: ({ clientId, nonce, userId }, overrides = {}) =>
        Effect.gen(function*() {
          const state = yield* Ref.get(ref)
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          const ctx: Ctx = {
            now,
            lifetimes,
            issuer: defaultIssuer,
            fresh: { accessToken: "", refreshToken: "", code: "", deviceCode: "", userCode: "" }
          }
          const claims = idTokenClaims(state, ctx, clientId, userId, [], { ...noOidc, nonce })
          return yield* sign({ ...claims, ...overrides.claims }, overrides.key ?? "twitch", overrides.kid)
        }),
      rotateSigningKey: () =>
        SynchronizedRef.updateEffect(currentKey, (current) =>
          Effect.gen(function*() {
            const previous = Option.isSome(current) ? Number(current.value.jwk.kid) : Number(signingKid)
            const next = yield* Effect.promise(() => generateSigningKey(String(previous + 1)))
            return Option.some(next)
          })),

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
          yield* Ref.update(ref, (state) => ({
            ...state,
            users: HashMap.set(state.users, userId, user),
            consentingUser: state.consentingUser ?? userId
          }))
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
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          yield* Ref.update(ref, (state) => ({
            ...state,
            codes: HashMap.set(state.codes, code, {
              clientId,
              userId,
              scopes,
              redirectUri,
              expiresAt: now + lifetimes.codeMs
            })
          }))
          return code
        }),
      issueUserToken: ({ clientId, scopes, userId }) =>
        Effect.gen(function*() {
          const current = yield* Ref.get(ref)
          const client = yield* requireClient(current, clientId)
          yield* requireUser(current, userId)
          const fresh: Fresh = {
            accessToken: yield* freshId(30),
            refreshToken: yield* freshRefreshToken,
            code: "",
            deviceCode: "",
            userCode: ""
          }
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          yield* Ref.update(ref, (state) =>
            mintUserToken(state, { now, fresh, lifetimes, issuer: defaultIssuer }, client, userId, scopes))
          return { accessToken: fresh.accessToken, refreshToken: fresh.refreshToken, expiresIn: lifetimes.userTokenMs / 1000 }
        }),
      expireAccessToken: (accessToken) =>
        Effect.flatMap(
          Effect.clockWith((clock) => clock.currentTimeMillis),
          (now) => updateAccessToken(accessToken, (record) => ({ ...record, expiresAt: Math.min(record.expiresAt, now) }))
        ),
      revokeAccessToken: (accessToken) => updateAccessToken(accessToken, (record) => ({ ...record, revoked: true })),
      disconnectUser: (userId, clientId) =>
        Ref.update(ref, (state) => {
          const affected = (record: { readonly userId: string | undefined; readonly clientId: string }) =>
            record.userId === userId && (clientId === undefined || record.clientId === clientId)
          return {
            ...state,
            accessTokens: HashMap.map(state.accessTokens, (r) => (affected(r) ? { ...r, revoked: true } : r)),
            refreshTokens: HashMap.map(state.refreshTokens, (r) => (affected(r) ? { ...r, dead: true } : r))
          }
        }),
      isAccessTokenValid: (accessToken) =>
        Effect.gen(function*() {
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          const state = yield* Ref.get(ref)
          return Option.match(HashMap.get(state.accessTokens, accessToken), {
            onNone: () => false,
            onSome: (record) => accessTokenAlive(record, now)
          })
        }),
      isRefreshTokenValid: (refreshToken) =>
        Effect.gen(function*() {
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          const state = yield* Ref.get(ref)
          return Option.match(HashMap.get(state.refreshTokens, refreshToken), {
            onNone: () => false,
            onSome: (record) => refreshTokenAlive(record, now)
          })
        }),
      calls: (endpoint) => Effect.sync(() => log.count(endpoint)),
      grantCalls: (grantType) => Effect.sync(() => log.tally(grantLabel(grantType))),
      requests: (endpoint) => Effect.sync(() => log.entries(endpoint)),
      lastRequest: (endpoint) => Effect.sync(() => Option.fromNullable(log.last(endpoint))),
      resetCounters: () => Effect.sync(() => log.reset()),
      failNext: (endpoint, fault, times = 1) =>
        times <= 0
          ? Effect.void
          : Ref.update(ref, (state) => ({ ...state, faults: [...state.faults, { endpoint, fault, remaining: times }] }))
    }
    return service
  })

/**
 * A layer with a fresh FakeTwitch, seeded with {@link defaultSeed} unless `seed` says otherwise.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: FakeTwitch.Options = {}): Layer.Layer<FakeTwitch> => Layer.effect(FakeTwitch, make(options))
