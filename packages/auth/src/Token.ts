/**
 * Tokens and what Twitch says about them: the domain classes (camelCase, secrets
 * `Redacted`) and the wire schemas of id.twitch.tv's JSON bodies (snake_case, every quirk
 * Twitch is known to produce).
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

// ---------------------------------------------------------------------------------------
// wire
// ---------------------------------------------------------------------------------------

/**
 * A space-separated `scope` string (`"chat:read chat:edit"`) decoded into the list: runs of
 * whitespace separate, empty entries and repeats are dropped.
 */
const SpaceSeparatedScopes = Schema.transform(Schema.String, Schema.Array(Schema.String), {
  strict: true,
  decode: (text) => Array.from(new Set(text.split(/\s+/).filter((scope) => scope.length > 0))),
  encode: (scopes) => scopes.join(" ")
})

/**
 * A `scope`/`scopes` field as Twitch sends it: an array of strings, `null`, absent, or
 * `[""]` when nothing was granted — or a space-separated string, as Twitch's own refresh
 * example shows (https://dev.twitch.tv/docs/authentication/refresh-tokens/, see also
 * twitchdev/issues#407), the form OAuth 2.0 itself uses (RFC 6749 §5.1). Either way it
 * decodes to the list of scopes.
 *
 * @since 0.1.0
 * @category wire
 */
export const WireScopes = Schema.optional(Schema.NullOr(Schema.Union(Schema.Array(Schema.String), SpaceSeparatedScopes)))

/**
 * The 200 body of `POST /oauth2/token`, for every grant. `refresh_token` and `scope` are
 * absent on app tokens; `scope` is absent when no scope was granted; `expires_in` may be
 * absent (or `0`, for legacy tokens that never expire).
 *
 * @since 0.1.0
 * @category wire
 */
export const TokenResponse = Schema.Struct({
  access_token: Schema.NonEmptyString,
  refresh_token: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.NullOr(Schema.NonNegative)),
  scope: WireScopes,
  token_type: Schema.optional(Schema.String),
  id_token: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category wire
 */
export type TokenResponse = typeof TokenResponse.Type

/**
 * The 200 body of `GET /oauth2/validate`. `login` and `user_id` are absent (or `null`) for
 * app tokens; `scopes` may be `null`; `expires_in: 0` marks a token that never expires.
 *
 * @since 0.1.0
 * @category wire
 */
export const ValidateResponse = Schema.Struct({
  client_id: Schema.String,
  login: Schema.optional(Schema.NullOr(Schema.String)),
  user_id: Schema.optional(Schema.NullOr(Schema.String)),
  scopes: WireScopes,
  expires_in: Schema.optional(Schema.NullOr(Schema.NonNegative))
})

/**
 * @since 0.1.0
 * @category wire
 */
export type ValidateResponse = typeof ValidateResponse.Type

/**
 * The 200 body of `POST /oauth2/device`, the start of the device code flow. All five
 * fields are always present.
 *
 * @since 0.1.0
 * @category wire
 */
export const DeviceCodeResponse = Schema.Struct({
  device_code: Schema.NonEmptyString,
  expires_in: Schema.NonNegative,
  interval: Schema.NonNegative,
  user_code: Schema.NonEmptyString,
  verification_uri: Schema.NonEmptyString
})

/**
 * @since 0.1.0
 * @category wire
 */
export type DeviceCodeResponse = typeof DeviceCodeResponse.Type

/**
 * Twitch's error envelope: `{"status":400,"message":"Invalid refresh token"}`, sometimes
 * with `"error":"Bad Request"`. (Not the RFC 6749 `error`/`error_description` pair.)
 *
 * @since 0.1.0
 * @category wire
 */
export const ErrorResponse = Schema.Struct({
  status: Schema.optional(Schema.Number),
  message: Schema.String,
  error: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category wire
 */
export type ErrorResponse = typeof ErrorResponse.Type

// ---------------------------------------------------------------------------------------
// domain
// ---------------------------------------------------------------------------------------

const expiryFields = {
  /** When the token was received (from Effect's `Clock`). */
  obtainedAt: Schema.DateTimeUtc,
  /** When the token expires; `None` when Twitch says it never does. */
  expiresAt: Schema.OptionFromNullOr(Schema.DateTimeUtc)
}

const isExpiredAt = (expiresAt: Option.Option<DateTime.Utc>, now: DateTime.Utc, margin: Duration.DurationInput) =>
  Option.match(expiresAt, {
    onNone: () => false,
    onSome: (at) => !DateTime.lessThan(now, DateTime.subtractDuration(at, Duration.decode(margin)))
  })

const remaining = (expiresAt: Option.Option<DateTime.Utc>, now: DateTime.Utc): Option.Option<Duration.Duration> =>
  Option.map(expiresAt, (at) =>
    DateTime.lessThan(now, at) ? Duration.millis(DateTime.toEpochMillis(at) - DateTime.toEpochMillis(now)) : Duration.zero)

/**
 * A user access token with its refresh token, from the authorization code or device flow,
 * or from a refresh.
 *
 * @since 0.1.0
 * @category models
 */
export class UserToken extends Schema.Class<UserToken>("@effect-twitch/auth/UserToken")({
  accessToken: Schema.Redacted(Schema.String),
  refreshToken: Schema.Redacted(Schema.String),
  scopes: Schema.Array(Schema.String),
  ...expiryFields
}) {
  /**
   * Whether the token has expired at `now`, or will within `margin`.
   *
   * @since 0.1.0
   */
  isExpired(now: DateTime.Utc, margin: Duration.DurationInput = Duration.zero): boolean {
    return isExpiredAt(this.expiresAt, now, margin)
  }

  /**
   * Time left before expiry at `now` (zero once expired); `None` if it never expires.
   *
   * @since 0.1.0
   */
  expiresIn(now: DateTime.Utc): Option.Option<Duration.Duration> {
    return remaining(this.expiresAt, now)
  }
}

/**
 * An app access token from the client credentials grant. It cannot be refreshed: get a
 * new one when it expires.
 *
 * @since 0.1.0
 * @category models
 */
export class AppToken extends Schema.Class<AppToken>("@effect-twitch/auth/AppToken")({
  accessToken: Schema.Redacted(Schema.String),
  scopes: Schema.Array(Schema.String),
  ...expiryFields
}) {
  /**
   * Whether the token has expired at `now`, or will within `margin`.
   *
   * @since 0.1.0
   */
  isExpired(now: DateTime.Utc, margin: Duration.DurationInput = Duration.zero): boolean {
    return isExpiredAt(this.expiresAt, now, margin)
  }

  /**
   * Time left before expiry at `now` (zero once expired); `None` if it never expires.
   *
   * @since 0.1.0
   */
  expiresIn(now: DateTime.Utc): Option.Option<Duration.Duration> {
    return remaining(this.expiresAt, now)
  }
}

/**
 * What `GET /oauth2/validate` says about a token: the client it belongs to, the user
 * (absent for app tokens), its scopes and its expiry.
 *
 * @since 0.1.0
 * @category models
 */
export class TokenInfo extends Schema.Class<TokenInfo>("@effect-twitch/auth/TokenInfo")({
  clientId: Schema.String,
  login: Schema.OptionFromNullOr(Schema.String),
  userId: Schema.OptionFromNullOr(Schema.String),
  scopes: Schema.Array(Schema.String),
  /** When Twitch answered (from Effect's `Clock`). */
  validatedAt: Schema.DateTimeUtc,
  /** When the token expires; `None` for legacy tokens that never expire. */
  expiresAt: Schema.OptionFromNullOr(Schema.DateTimeUtc)
}) {
  /**
   * Whether this is an app token (no user).
   *
   * @since 0.1.0
   */
  get isAppToken(): boolean {
    return Option.isNone(this.userId)
  }

  /**
   * Time left before expiry, as Twitch reported it; `None` if it never expires.
   *
   * @since 0.1.0
   */
  get expiresIn(): Option.Option<Duration.Duration> {
    return remaining(this.expiresAt, this.validatedAt)
  }
}

/**
 * A started device code flow: show `userCode` and `verificationUri` to the user, then poll
 * with `deviceCode` no faster than every `intervalSeconds` until `expiresAt`.
 *
 * @since 0.1.0
 * @category models
 */
export class DeviceAuthorization extends Schema.Class<DeviceAuthorization>("@effect-twitch/auth/DeviceAuthorization")({
  deviceCode: Schema.Redacted(Schema.String),
  userCode: Schema.String,
  verificationUri: Schema.String,
  intervalSeconds: Schema.NonNegative,
  scopes: Schema.Array(Schema.String),
  expiresAt: Schema.DateTimeUtc
}) {}

// ---------------------------------------------------------------------------------------
// wire → domain
// ---------------------------------------------------------------------------------------

/**
 * Normalises a wire `scope`/`scopes` value: absent, `null` and `[""]` all mean "none".
 *
 * @since 0.1.0
 * @category wire
 */
export const scopesFromWire = (scopes: ReadonlyArray<string> | null | undefined): ReadonlyArray<string> =>
  (scopes ?? []).filter((scope) => scope.length > 0)

/**
 * Turns a wire `expires_in` into an expiry instant: absent, `null` and `0` mean "never", and
 * so does an absurd lifetime of more than a century.
 *
 * @since 0.1.0
 * @category wire
 */
export const expiresAtFromWire = (
  expiresIn: number | null | undefined,
  now: DateTime.Utc
): Option.Option<DateTime.Utc> =>
  expiresIn === undefined || expiresIn === null || expiresIn === 0 || expiresIn > maxExpiresInSeconds
    ? Option.none()
    : Option.some(DateTime.addDuration(now, Duration.seconds(Math.floor(expiresIn))))

/** A lifetime beyond a century is no expiry at all (and would not fit in a date). */
const maxExpiresInSeconds = 100 * 365 * 24 * 60 * 60

/**
 * Builds a {@link UserToken} from a decoded token response received at `now`. Fails with
 * the name of the missing field when the response has no refresh token.
 *
 * @since 0.1.0
 * @category wire
 */
export const userTokenFromWire = (wire: TokenResponse, now: DateTime.Utc): Either.Either<UserToken, string> =>
  wire.refresh_token === undefined || wire.refresh_token.length === 0
    ? Either.left("refresh_token is missing")
    : Either.right(
      new UserToken({
        accessToken: Redacted.make(wire.access_token),
        refreshToken: Redacted.make(wire.refresh_token),
        scopes: scopesFromWire(wire.scope),
        obtainedAt: now,
        expiresAt: expiresAtFromWire(wire.expires_in, now)
      })
    )

/**
 * Builds an {@link AppToken} from a decoded client-credentials response received at `now`.
 *
 * @since 0.1.0
 * @category wire
 */
export const appTokenFromWire = (wire: TokenResponse, now: DateTime.Utc): AppToken =>
  new AppToken({
    accessToken: Redacted.make(wire.access_token),
    scopes: scopesFromWire(wire.scope),
    obtainedAt: now,
    expiresAt: expiresAtFromWire(wire.expires_in, now)
  })

/**
 * Builds a {@link TokenInfo} from a decoded validate response received at `now`.
 *
 * @since 0.1.0
 * @category wire
 */
export const tokenInfoFromWire = (wire: ValidateResponse, now: DateTime.Utc): TokenInfo =>
  new TokenInfo({
    clientId: wire.client_id,
    login: Option.fromNullable(wire.login),
    userId: Option.fromNullable(wire.user_id),
    scopes: scopesFromWire(wire.scopes),
    validatedAt: now,
    expiresAt: expiresAtFromWire(wire.expires_in, now)
  })

/**
 * Builds a {@link DeviceAuthorization} from a decoded device response received at `now`.
 *
 * @since 0.1.0
 * @category wire
 */
export const deviceAuthorizationFromWire = (
  wire: DeviceCodeResponse,
  scopes: ReadonlyArray<string>,
  now: DateTime.Utc
): DeviceAuthorization =>
  new DeviceAuthorization({
    deviceCode: Redacted.make(wire.device_code),
    userCode: wire.user_code,
    verificationUri: wire.verification_uri,
    intervalSeconds: wire.interval,
    scopes,
    expiresAt: DateTime.addDuration(now, Duration.seconds(wire.expires_in))
  })
