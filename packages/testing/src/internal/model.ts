/**
 * The fake's data types, below every module of it: the public `FakeTwitch` namespace
 * re-exports them (its aliases carry the documentation), the internals and the transports
 * use them from here.
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"

/** Documented as `FakeTwitch.WireRequest`. */
export interface WireRequest {
  readonly method: string
  readonly headers: Record<string, string>
  readonly params: Record<string, string>
  readonly path?: string
  /**
   * The parameters that came in the form body, when the transport knows (it then also
   * merged them into `params`). `/oauth2/device` reads `scopes` only from here, because
   * id.twitch.tv ignores `scopes` in the query string. Absent: `params` is the body.
   */
  readonly bodyParams?: Record<string, string>
  /**
   * The base of the OAuth endpoints as the client addressed them
   * (`http://127.0.0.1:PORT/oauth2`): the issuer of ID tokens and the base of the discovery
   * document's URLs. Absent: the `issuer` option (`https://id.twitch.tv/oauth2`).
   */
  readonly baseUrl?: string
}

/** Documented as `FakeTwitch.HelixRequest`. */
export type HelixRequest = WireRequest & { readonly path: string }

/** Documented as `FakeTwitch.WireResponse`. */
export interface WireResponse {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
  /**
   * `true`: there is no answer; the transport drops the connection instead (a `Reset`
   * fault). `status` is then `0` and nothing is sent.
   */
  readonly reset?: true
}

/** Documented as `FakeTwitch.Endpoint`. */
export type Endpoint =
  | "token"
  | "validate"
  | "revoke"
  | "authorize"
  | "helix"
  | "device"
  | "activate"
  | "keys"
  | "userinfo"
  | "discovery"

/** Documented as `FakeTwitch.Fault`. */
export type Fault =
  | {
    readonly _tag: "ServerError"
    readonly status?: number
    readonly body?: string
    readonly contentType?: string
  }
  | { readonly _tag: "RateLimited"; readonly resetAfterSeconds?: number; readonly resetHeader?: boolean }
  | { readonly _tag: "Malformed"; readonly body?: string }
  | {
    readonly _tag: "Raw"
    readonly status?: number
    readonly headers?: Readonly<Record<string, string>>
    readonly body: string
  }
  | { readonly _tag: "Delay"; readonly duration: Duration.DurationInput }
  | { readonly _tag: "Hang" }
  | { readonly _tag: "Reset" }

/** Documented as `FakeTwitch.Client`. */
export interface Client {
  readonly clientId: string
  readonly clientSecret?: string
  readonly type: "confidential" | "public"
  readonly redirectUris: ReadonlyArray<string>
}

/** Documented as `FakeTwitch.ClientInput`. */
export interface ClientInput {
  readonly clientId?: string
  readonly clientSecret?: string
  readonly type?: "confidential" | "public"
  readonly redirectUris?: ReadonlyArray<string>
}

/** Documented as `FakeTwitch.User`. */
export interface User {
  readonly userId: string
  readonly login: string
}

/** Documented as `FakeTwitch.UserInput`. */
export interface UserInput {
  readonly userId?: string
  readonly login: string
}

/** Documented as `FakeTwitch.Seed`. */
export interface Seed {
  readonly clients: ReadonlyArray<Client>
  readonly users: ReadonlyArray<User>
}

/** Documented as `FakeTwitch.Quirks`. */
export interface Quirks {
  /** Add `"error":"<HTTP reason>"` to every error envelope (docs' refresh example). Default `false`. */
  readonly includeErrorField: boolean
  /** `/validate` on an app token: omit `login`/`user_id` (observed) or send them as `null` (docs). Default `"absent"`. */
  readonly appTokenValidateIdentity: "absent" | "null"
  /**
   * `/validate` of a token with no scopes. `"twitch"` (default): a user token answers
   * `"scopes":null` and an app token `"scopes":[]`, as Twitch does (user: twitchdev/issues#1037
   * and #1145, now in the validate docs; app: twitchdev/issues#105). `"empty"`: `[]` for both;
   * `"null"`: `null` for both.
   */
  readonly emptyScopes: "twitch" | "empty" | "null"
  /** Status of a failed refresh: 400 (observed) or 401 (docs). Default 400. */
  readonly refreshFailureStatus: 400 | 401
  /**
   * Confidential clients' refresh: `true` (default) answers a new refresh token and the one
   * sent stops working; `false` answers the same refresh token, which stays valid. Twitch
   * documents only that "refresh tokens may change" and that the app must store the new one
   * (https://dev.twitch.tv/docs/authentication/refresh-tokens/); rotating makes code that
   * ignores the returned token fail in tests. Public clients' refresh tokens are single use
   * either way.
   */
  readonly rotateRefreshTokens: boolean
  /**
   * `false` (default): `GET /oauth2/authorize` shows a consent page, as Twitch does, and only
   * the user's click (a `POST` of its form, `decision=authorize` or `cancel`) redirects.
   * `true`: the consenting user consents at once, `GET` answers the redirect (for scripts).
   */
  readonly autoConsent: boolean
}

/** Documented as `FakeTwitch.Options`. */
export interface Options extends Partial<Quirks> {
  /** `true` (default) seeds {@link defaultSeed}; `false` starts empty; or a custom seed. */
  readonly seed?: boolean | Seed
  /** Lifetime of user access tokens. Default 14400 s (4 h). */
  readonly userTokenTtlSeconds?: number
  /** Lifetime of app access tokens. Default 5011271 s (~58 days). */
  readonly appTokenTtlSeconds?: number
  /** Lifetime of refresh tokens of public clients, from creation. Default 30 days. */
  readonly publicRefreshTokenTtlSeconds?: number
  /** Lifetime of authorization codes. Default 600 s. */
  readonly authorizationCodeTtlSeconds?: number
  /**
   * Helix requests per bucket per minute before 429s (`Ratelimit-Limit`). Default 800. A
   * bucket is, as Twitch keys it, the client for app tokens and the client and user for user
   * tokens (https://dev.twitch.tv/docs/api/guide/#twitch-rate-limits); a request without a
   * known token falls in its `Client-Id`'s app bucket.
   */
  readonly helixRateLimit?: number
  /**
   * How many live access tokens one authorization's refresh tokens may have minted; the next
   * one invalidates the oldest. Default 50. Twitch: "The maximum number of valid access
   * tokens that a refresh token can be associated with is 50"
   * (https://dev.twitch.tv/docs/authentication/refresh-tokens/, multi-threaded section), and
   * "when you generate token 51 it will kill token 1" (twitchdev/issues#986). The docs do not
   * say what "a refresh token" is once it rotates: the fake counts the whole chain (the
   * access token of the grant, then every refresh of it and of its successors), so rotation
   * does not reset the count.
   */
  readonly maxAccessTokensPerRefreshToken?: number
  /** Lifetime of device codes (`expires_in` of `/oauth2/device`). Default 1800 s. */
  readonly deviceCodeTtlSeconds?: number
  /** The polling `interval` of `/oauth2/device`. Default 5 s. */
  readonly deviceIntervalSeconds?: number
  /** Lifetime of ID tokens (and of `/oauth2/userinfo` answers' `exp`). Default 900 s. */
  readonly idTokenTtlSeconds?: number
  /** Issuer when a request does not say how it was addressed. Default `https://id.twitch.tv/oauth2`. */
  readonly issuer?: string
  /** The activation page in `verification_uri`. Default `https://www.twitch.tv/activate`. */
  readonly verificationUri?: string
  /**
   * How many requests per endpoint the log keeps for `requests` and `lastRequest` (the
   * latest ones; older ones are dropped). `calls` counts every request regardless.
   * Default 10,000 (enough for the largest test here, a 1,000-call refresh storm that
   * records ~2,000 Helix requests): a long-running `pnpm mock` keeps a bounded history, and
   * recording a request costs the same whatever came before.
   */
  readonly requestLogLimit?: number
}

/** Documented as `FakeTwitch.IdTokenOverrides`. */
export interface IdTokenOverrides {
  readonly claims?: Readonly<Record<string, unknown>>
  readonly key?: "twitch" | "foreign"
  readonly kid?: string
}

/** Documented as `FakeTwitch.DeviceCodeStatus`. */
export type DeviceCodeStatus = "pending" | "authorized" | "denied" | "consumed" | "expired"

/** Documented as `FakeTwitch.IssuedUserToken`. */
export interface IssuedUserToken {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
}

/** Documented as `FakeTwitch.Service`. */
export interface Service {
  /** POST /oauth2/token. */
  readonly token: (request: WireRequest) => Effect.Effect<WireResponse>
  /** GET /oauth2/validate. */
  readonly validate: (request: WireRequest) => Effect.Effect<WireResponse>
  /** POST /oauth2/revoke. */
  readonly revoke: (request: WireRequest) => Effect.Effect<WireResponse>
  /**
   * /oauth2/authorize. `GET` validates the request and answers the consent page (200
   * text/html: the application, the consenting user, the scopes, a form with every request
   * parameter, an anti-forgery `consent_token` and the buttons `decision=authorize` and
   * `decision=cancel`); `POST` of that form answers the redirect: `code`/`state` (or the
   * implicit fragment) for `authorize`, `error=access_denied` for `cancel`. With the
   * `autoConsent` quirk, `GET` answers the redirect at once.
   */
  readonly authorize: (request: WireRequest) => Effect.Effect<WireResponse>
  /**
   * Any method on api.twitch.tv/helix, `path` relative to `/helix`. Authenticates like Helix
   * (`Authorization: Bearer`, spelt so, and `Client-Id`) and serves `GET /users` and
   * `GET /moderation/moderators` (scope `moderation:read` or `channel:manage:moderators`,
   * `broadcaster_id` the token's user); other paths are 404. Rate limits per client (app
   * tokens) or per client and user (user tokens).
   */
  readonly helix: (request: HelixRequest) => Effect.Effect<WireResponse>

  /**
   * POST /oauth2/device: starts the device code flow (`client_id`, `scopes` in the body).
   */
  readonly device: (request: WireRequest) => Effect.Effect<WireResponse>
  /**
   * The activation page as an endpoint (not a Twitch API: Twitch's is a web page at
   * www.twitch.tv/activate). `user_code` (or `device-code`), `user_id` (default: the
   * consenting user), `decision` `approve` (default) or `deny`. 200
   * `{"user_code":…,"status":"authorized"|"denied"}`; 400 `invalid user code` (unknown,
   * expired or no longer pending), `invalid user`, `missing user_code`, `invalid decision`.
   */
  readonly activate: (request: WireRequest) => Effect.Effect<WireResponse>
  /** GET /oauth2/keys: the JWKS with the RS256 key ID tokens are signed with. */
  readonly keys: (request: WireRequest) => Effect.Effect<WireResponse>
  /** GET (or POST) /oauth2/userinfo with `Authorization: Bearer` and the `openid` scope. */
  readonly userinfo: (request: WireRequest) => Effect.Effect<WireResponse>
  /** GET /oauth2/.well-known/openid-configuration. */
  readonly discovery: (request: WireRequest) => Effect.Effect<WireResponse>

  /** Approves a pending device code as `userId` (default: the consenting user). */
  readonly approveDevice: (userCode: string, userId?: string) => Effect.Effect<void, FakeTwitchSetupError>
  /** The user denies a pending device code. */
  readonly denyDevice: (userCode: string) => Effect.Effect<void, FakeTwitchSetupError>
  /** Where a device code stands, by its user code (`None` if unknown). */
  readonly deviceCodeStatus: (userCode: string) => Effect.Effect<Option.Option<DeviceCodeStatus>>
  /** The next ID token issued (code exchange or implicit) departs from a good one as told. */
  readonly nextIdToken: (overrides: IdTokenOverrides) => Effect.Effect<void>
  /**
   * Mints a signed ID token for `clientId` and `userId` with the default claims (issuer
   * `https://id.twitch.tv/oauth2` unless overridden) and the overrides.
   */
  readonly mintIdToken: (
    input: { readonly clientId: string; readonly userId: string; readonly nonce?: string },
    overrides?: IdTokenOverrides
  ) => Effect.Effect<string>
  /**
   * Twitch rotates its signing key: a new RSA key with the next `kid` ("2", "3", …) signs
   * the ID tokens from now on, and `/oauth2/keys` serves only it.
   */
  readonly rotateSigningKey: () => Effect.Effect<void>

  /** Registers (or replaces) an application. */
  readonly registerClient: (input?: ClientInput) => Effect.Effect<Client>
  /** Registers (or replaces) a user. The first user registered becomes the consenting user if none is set. */
  readonly registerUser: (input: UserInput) => Effect.Effect<User>
  /** Sets which user consents on `authorize`. */
  readonly setConsentingUser: (userId: string) => Effect.Effect<void, FakeTwitchSetupError>
  /** The next `authorize` that reaches consent is denied by the user (`access_denied`). */
  readonly denyNextAuthorization: () => Effect.Effect<void>
  /** Changes the quirk knobs at run time. */
  readonly setQuirks: (quirks: Partial<Quirks>) => Effect.Effect<void>
  /** Mints an authorization code as if the user had consented. */
  readonly issueAuthorizationCode: (input: {
    readonly clientId: string
    readonly userId: string
    readonly scopes: ReadonlyArray<string>
    readonly redirectUri: string
  }) => Effect.Effect<string, FakeTwitchSetupError>
  /** Mints a user access token and refresh token. */
  readonly issueUserToken: (input: {
    readonly clientId: string
    readonly userId: string
    readonly scopes: ReadonlyArray<string>
  }) => Effect.Effect<IssuedUserToken, FakeTwitchSetupError>
  /** Makes an access token expire now. */
  readonly expireAccessToken: (accessToken: string) => Effect.Effect<void>
  /** Revokes an access token (as `/revoke` would). */
  readonly revokeAccessToken: (accessToken: string) => Effect.Effect<void>
  /** The user disconnects the app (or every app): their access and refresh tokens die. */
  readonly disconnectUser: (userId: string, clientId?: string) => Effect.Effect<void>
  /** Whether an access token is known, unrevoked and unexpired. */
  readonly isAccessTokenValid: (accessToken: string) => Effect.Effect<boolean>
  /** Whether a refresh token would be accepted now. */
  readonly isRefreshTokenValid: (refreshToken: string) => Effect.Effect<boolean>
  /** How many requests an endpoint received (faulted ones included), exactly. */
  readonly calls: (endpoint: Endpoint) => Effect.Effect<number>
  /** How many `POST /oauth2/token` requests carried this `grant_type`, exactly. */
  readonly grantCalls: (grantType: string) => Effect.Effect<number>
  /**
   * The latest requests an endpoint received, oldest first: at most `requestLogLimit`
   * (default 10,000); `calls` tells how many there were in all.
   */
  readonly requests: (endpoint: Endpoint) => Effect.Effect<ReadonlyArray<WireRequest>>
  /** The latest request an endpoint received, if any. */
  readonly lastRequest: (endpoint: Endpoint) => Effect.Effect<Option.Option<WireRequest>>
  /** Forgets counted calls and recorded requests. */
  readonly resetCounters: () => Effect.Effect<void>
  /** The next `times` requests to `endpoint` (or to any endpoint) get `fault`. */
  readonly failNext: (endpoint: Endpoint | "any", fault: Fault, times?: number) => Effect.Effect<void>
}

/**
 * A test-setup mistake, such as minting a token for an unknown client.
 *
 * @since 0.1.0
 * @category errors
 */
export class FakeTwitchSetupError extends Data.TaggedError("FakeTwitchSetupError")<{
  readonly message: string
}> {}

/** The values the fake's lifetimes and limits take when `Options` leaves them out. */
export type Defaults = Required<
  Pick<
    Options,
    | "userTokenTtlSeconds"
    | "appTokenTtlSeconds"
    | "publicRefreshTokenTtlSeconds"
    | "authorizationCodeTtlSeconds"
    | "helixRateLimit"
    | "deviceCodeTtlSeconds"
    | "deviceIntervalSeconds"
    | "idTokenTtlSeconds"
    | "verificationUri"
    | "maxAccessTokensPerRefreshToken"
  >
>
