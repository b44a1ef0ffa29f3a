/**
 * The fake's state model: the records it keeps, the context a transition runs in, and the
 * helpers every transition shares. A transition is a plain function of the state and the
 * request: `(state, ctx) => [reply, nextState]`.
 */
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import type * as Model from "./model.js"
import * as Wire from "./wire.js"

/** What an OpenID Connect authorization asked for: `nonce` and the `claims` parameter's names. */
export interface OidcRequest {
  readonly nonce: string | undefined
  readonly idTokenClaims: ReadonlyArray<string>
  readonly userinfoClaims: ReadonlyArray<string>
}

export const noOidc: OidcRequest = { nonce: undefined, idTokenClaims: [], userinfoClaims: [] }

export interface CodeRecord {
  readonly clientId: string
  readonly userId: string
  readonly scopes: ReadonlyArray<string>
  readonly redirectUri: string
  readonly expiresAt: number
  readonly oidc?: OidcRequest
}

export interface AccessTokenRecord {
  readonly clientId: string
  readonly userId: string | undefined
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt: number
  readonly revoked: boolean
  /** The claims requested for `/oauth2/userinfo` when the token was issued. */
  readonly userinfoClaims?: ReadonlyArray<string>
}

/**
 * The access tokens one authorization's refresh tokens minted (its grant's, then every
 * refresh's, across rotations), oldest first, keyed by the authorization's chain id: at most
 * `maxAccessTokensPerRefreshToken` live ones.
 */
export type Chains = HashMap.HashMap<string, ReadonlyArray<string>>

export type DeviceDecision =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "Authorized"; readonly userId: string }
  | { readonly _tag: "Denied" }
  | { readonly _tag: "Consumed" }

export interface DeviceCodeRecord {
  readonly clientId: string
  readonly userCode: string
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt: number
  /** Seconds; grows by 5 with every `slow_down`. */
  readonly interval: number
  readonly decision: DeviceDecision
  /** When the device code was last polled. */
  readonly lastPollAt: number | undefined
}

/**
 * A consent page shown and not yet answered: what its form may submit. The page's token is
 * single-use, expires with the authorization-code lifetime and is bound to the request it was
 * shown for (every parameter) and to the user it showed.
 */
export interface ConsentRecord {
  readonly params: string
  readonly userId: string
  readonly expiresAt: number
}

export interface RefreshTokenRecord {
  readonly clientId: string
  readonly userId: string
  readonly scopes: ReadonlyArray<string>
  /** `undefined`: never expires (confidential clients). */
  readonly expiresAt: number | undefined
  /** Spent (single use, or rotated) or invalidated by a disconnect. */
  readonly dead: boolean
  /** The authorization it belongs to (see {@link Chains}). */
  readonly chain: string
}

export interface PendingFault {
  readonly endpoint: Model.Endpoint | "any"
  readonly fault: Model.Fault
  readonly remaining: number
}

/** A Helix rate-limit bucket: requests used in the minute that started at `windowStart`. */
export interface HelixBucket {
  readonly windowStart: number
  readonly used: number
}

export interface State {
  readonly clients: HashMap.HashMap<string, Model.Client>
  readonly users: HashMap.HashMap<string, Model.User>
  readonly codes: HashMap.HashMap<string, CodeRecord>
  readonly accessTokens: HashMap.HashMap<string, AccessTokenRecord>
  readonly refreshTokens: HashMap.HashMap<string, RefreshTokenRecord>
  readonly chains: Chains
  readonly consentingUser: string | undefined
  readonly denyNext: boolean
  /** Consent pages shown, by their token. */
  readonly consents: HashMap.HashMap<string, ConsentRecord>
  readonly quirks: Model.Quirks
  readonly faults: ReadonlyArray<PendingFault>
  /** Keyed by {@link helixBucketKey}. */
  readonly helixBuckets: HashMap.HashMap<string, HelixBucket>
  /** Keyed by device code. */
  readonly deviceCodes: HashMap.HashMap<string, DeviceCodeRecord>
  readonly idTokenOverrides: Model.IdTokenOverrides | undefined
}

/** Freshly generated identifiers, made before entering a pure state transition. */
export interface Fresh {
  readonly accessToken: string
  readonly refreshToken: string
  readonly code: string
  readonly deviceCode: string
  readonly userCode: string
}

export interface Lifetimes {
  readonly userTokenMs: number
  readonly appTokenMs: number
  readonly publicRefreshMs: number
  readonly codeMs: number
  readonly helixRateLimit: number
  readonly deviceCodeSeconds: number
  readonly deviceIntervalSeconds: number
  readonly idTokenSeconds: number
  readonly verificationUri: string
  readonly maxAccessTokensPerChain: number
}

export interface Ctx {
  readonly now: number
  readonly fresh: Fresh
  readonly lifetimes: Lifetimes
  /** The base of the OAuth endpoints as the request addressed them: the issuer. */
  readonly issuer: string
}

/**
 * An answer that needs an ID token signed first (signing is asynchronous, transitions are
 * not): `respond` builds the final answer from the signed JWT.
 */
export interface NeedsIdToken {
  readonly _tag: "NeedsIdToken"
  readonly claims: Readonly<Record<string, unknown>>
  readonly key: "twitch" | "foreign"
  readonly kid: string | undefined
  readonly respond: (idToken: string) => Model.WireResponse
}

export type Reply = Model.WireResponse | NeedsIdToken

export type Transition = (state: State, ctx: Ctx) => readonly [Reply, State]

/** The request log's label of a token request: its `grant_type`. */
export const grantLabel = (grantType: string | undefined): string => `grant_type=${grantType ?? ""}`

export const param = (request: Model.WireRequest, name: string): string | undefined => {
  const value = request.params[name]
  return value === undefined || value === "" ? undefined : value
}

export const secondsLeft = (expiresAt: number, now: number): number => Math.max(0, Math.floor((expiresAt - now) / 1000))

export const refreshTokenAlive = (record: RefreshTokenRecord, now: number): boolean =>
  !record.dead && (record.expiresAt === undefined || now < record.expiresAt)

export const accessTokenAlive = (record: AccessTokenRecord, now: number): boolean =>
  !record.revoked && now < record.expiresAt

export const fail = (state: State, status: number, message: string): readonly [Model.WireResponse, State] => [
  Wire.error(status, message, state.quirks.includeErrorField),
  state
]

export const notFound = (state: State): readonly [Model.WireResponse, State] => fail(state, 404, "Not Found")

/** Header lookup: lowercase names per the wire contract, any casing tolerated. */
export const header = (request: Model.WireRequest, name: string): string | undefined => {
  const exact = request.headers[name]
  if (exact !== undefined) return exact
  const entry = Object.entries(request.headers).find(([key]) => key.toLowerCase() === name)
  return entry === undefined ? undefined : entry[1]
}

/**
 * Helix takes only `Bearer`, spelt so: `OAuth` is answered 401 `OAuth token is missing`
 * (twitchdev/issues#105), and so is `bearer …` — Twitch answers a lowercase `bearer` with a
 * 401 and considers it "not a bug" (twitchdev/issues#219, closed); that issue shows no body,
 * so the message for it is a guess: not documented by Twitch (the one it sends for `OAuth`).
 * `/oauth2/userinfo` documents the same `Authorization: Bearer` header and shares this.
 */
export const helixBearerPattern = /^Bearer +(\S+)\s*$/

export const displayName = (login: string): string => login.charAt(0).toUpperCase() + login.slice(1)

/** The lifetimes and limits a fake runs with: the options, or else the given defaults (the public `defaults`). */
export const lifetimesOf = (options: Model.Options, defaults: Model.Defaults): Lifetimes => ({
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
})

/** A new fake's state: the seed's clients and users (logins lowercased), its first user consenting. */
export const initialState = (seed: Model.Seed, quirks: Model.Quirks): State => ({
  clients: HashMap.fromIterable(seed.clients.map((c) => [c.clientId, c] as const)),
  users: HashMap.fromIterable(
    seed.users.map((u) => [u.userId, { userId: u.userId, login: u.login.toLowerCase() }] as const)
  ),
  codes: HashMap.empty(),
  accessTokens: HashMap.empty(),
  refreshTokens: HashMap.empty(),
  chains: HashMap.empty(),
  consentingUser: seed.users[0]?.userId,
  denyNext: false,
  consents: HashMap.empty(),
  quirks,
  faults: [],
  helixBuckets: HashMap.empty(),
  deviceCodes: HashMap.empty(),
  idTokenOverrides: undefined
})

/** Changes one access token's record (nothing when it is unknown). */
export const updateAccessToken = (
  state: State,
  accessToken: string,
  f: (record: AccessTokenRecord) => AccessTokenRecord
): State => ({ ...state, accessTokens: HashMap.modify(state.accessTokens, accessToken, f) })

/** The user disconnects the app (or, without `clientId`, every app): their access and refresh tokens die. */
export const disconnectUser = (state: State, userId: string, clientId: string | undefined): State => {
  const affected = (record: { readonly userId: string | undefined; readonly clientId: string }) =>
    record.userId === userId && (clientId === undefined || record.clientId === clientId)
  return {
    ...state,
    accessTokens: HashMap.map(state.accessTokens, (r) => (affected(r) ? { ...r, revoked: true } : r)),
    refreshTokens: HashMap.map(state.refreshTokens, (r) => (affected(r) ? { ...r, dead: true } : r))
  }
}

/** Registers (or replaces) a user; the first one becomes the consenting user if none is set. */
export const registerUser = (state: State, user: Model.User): State => ({
  ...state,
  users: HashMap.set(state.users, user.userId, user),
  consentingUser: state.consentingUser ?? user.userId
})

/** Whether an access token is known, unrevoked and unexpired at `now`. */
export const isAccessTokenValid = (state: State, accessToken: string, now: number): boolean =>
  Option.match(HashMap.get(state.accessTokens, accessToken), {
    onNone: () => false,
    onSome: (record) => accessTokenAlive(record, now)
  })

/** Whether a refresh token would be accepted at `now`. */
export const isRefreshTokenValid = (state: State, refreshToken: string, now: number): boolean =>
  Option.match(HashMap.get(state.refreshTokens, refreshToken), {
    onNone: () => false,
    onSome: (record) => refreshTokenAlive(record, now)
  })
