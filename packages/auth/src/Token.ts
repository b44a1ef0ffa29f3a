/**
 * Tokens and what Twitch says about them, as the SDK hands them out: camelCase classes,
 * secrets `Redacted`, expiry as instants. (Twitch's snake_case bodies are decoded in
 * `internal/tokenWire.ts` and never reach users.)
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

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
  Option.map(
    expiresAt,
    (at) =>
      DateTime.lessThan(now, at)
        ? Duration.millis(DateTime.toEpochMillis(at) - DateTime.toEpochMillis(now))
        : Duration.zero
  )

/** What a token knows of its lifetime: the `this` of {@link Expiring}'s methods. */
interface Lifetime {
  readonly obtainedAt: DateTime.Utc
  readonly expiresAt: Option.Option<DateTime.Utc>
}

/**
 * The expiry methods of {@link UserToken} and {@link AppToken}, written once: both classes
 * extend it. It holds no field of its own (so each token keeps its fields, and their
 * encoded order), and its methods read the `expiresAt` of the token they are called on.
 */
class Expiring extends Schema.Class<Expiring>("@effect-twitch/auth/Expiring")({}) {
  /**
   * Whether the token has expired at `now`, or will within `margin`.
   *
   * @since 0.1.0
   */
  isExpired(this: Lifetime, now: DateTime.Utc, margin: Duration.DurationInput = Duration.zero): boolean {
    return isExpiredAt(this.expiresAt, now, margin)
  }

  /**
   * Time left before expiry at `now` (zero once expired); `None` if it never expires.
   *
   * @since 0.1.0
   */
  expiresIn(this: Lifetime, now: DateTime.Utc): Option.Option<Duration.Duration> {
    return remaining(this.expiresAt, now)
  }
}

/**
 * A user access token with its refresh token, from the authorization code or device flow,
 * or from a refresh.
 *
 * @since 0.1.0
 * @category models
 */
export class UserToken extends Expiring.extend<UserToken>("@effect-twitch/auth/UserToken")({
  accessToken: Schema.Redacted(Schema.String),
  refreshToken: Schema.Redacted(Schema.String),
  scopes: Schema.Array(Schema.String),
  ...expiryFields
}) {}

/**
 * An app access token from the client credentials grant. It cannot be refreshed: get a
 * new one when it expires.
 *
 * @since 0.1.0
 * @category models
 */
export class AppToken extends Expiring.extend<AppToken>("@effect-twitch/auth/AppToken")({
  accessToken: Schema.Redacted(Schema.String),
  scopes: Schema.Array(Schema.String),
  ...expiryFields
}) {}

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
