/**
 * The errors of the OAuth grants and of consent: a token, code or client that Twitch refused,
 * what is missing from the configuration, the device flow's answers and the redirects of the
 * authorization page. Public through `TwitchAuthError`; see that module for the unions each
 * operation fails with.
 */
import * as Schema from "effect/Schema"
import { endpoint, quote, setTypeId, type TypeId } from "./common.js"

/**
 * The access token was rejected: it expired, was revoked, was never valid, or was empty.
 * Get a new one (refresh it, or ask the user to authorize again).
 *
 * Twitch answers `401 invalid access token` / `401 missing authorization token` on validate,
 * `400 Invalid token` / `400 missing oauth token` on revoke, and
 * `401 Invalid OAuth token` on Helix.
 *
 * `token` is the rejected token (kept `Redacted`; it prints as `<redacted>`), so that a
 * session can tell whether it was already replaced: see `TwitchSession.refresh`.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidAccessToken extends Schema.TaggedError<InvalidAccessToken>(
  "@effect-twitch/auth/InvalidAccessToken"
)("InvalidAccessToken", {
  endpoint,
  status: Schema.Number,
  twitchMessage: Schema.String,
  token: Schema.optional(Schema.RedactedFromSelf(Schema.String))
}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `Twitch rejected the access token at ${this.endpoint} (HTTP ${this.status}: ${
      quote(this.twitchMessage)
    }); refresh it or authorize again`
  }
}

/**
 * The refresh token is dead: used already (public clients rotate them), expired, revoked
 * because the user disconnected the app or changed their password, or not URL-encoded.
 * This is terminal: the user must authorize again.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRefreshToken extends Schema.TaggedError<InvalidRefreshToken>(
  "@effect-twitch/auth/InvalidRefreshToken"
)("InvalidRefreshToken", {
  status: Schema.Number,
  twitchMessage: Schema.String
}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `Twitch rejected the refresh token (HTTP ${this.status}: ${
      quote(this.twitchMessage)
    }); the user must authorize the app again`
  }
}

/**
 * The authorization code was unknown, already exchanged, or expired. Codes are single-use:
 * send the user through the authorization flow again.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidAuthorizationCode extends Schema.TaggedError<InvalidAuthorizationCode>(
  "@effect-twitch/auth/InvalidAuthorizationCode"
)("InvalidAuthorizationCode", {
  twitchMessage: Schema.String
}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `Twitch rejected the authorization code (${
      quote(this.twitchMessage)
    }); codes are single-use and short-lived, start the authorization again`
  }
}

/**
 * The `redirect_uri` sent with a code exchange is not exactly one of the URLs registered
 * for the application in the Twitch developer console (or differs from the one used in
 * the authorization request).
 *
 * @since 0.1.0
 * @category errors
 */
export class RedirectUriMismatch extends Schema.TaggedError<RedirectUriMismatch>(
  "@effect-twitch/auth/RedirectUriMismatch"
)("RedirectUriMismatch", {
  redirectUri: Schema.String,
  twitchMessage: Schema.String
}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `Twitch says the redirect URI ${
      quote(this.redirectUri)
    } does not match the URIs registered for this application`
  }
}

/**
 * Twitch does not accept the application's credentials: the client id is unknown
 * (`UnknownClient`) or the client secret is wrong (`WrongSecret`). Check
 * `TWITCH_CLIENT_ID` / `TWITCH_CLIENT_SECRET`; retrying will not help.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidClient extends Schema.TaggedError<InvalidClient>("@effect-twitch/auth/InvalidClient")(
  "InvalidClient",
  {
    reason: Schema.Literal("UnknownClient", "WrongSecret"),
    endpoint,
    status: Schema.Number,
    twitchMessage: Schema.String
  }
) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return this.reason === "UnknownClient"
      ? `Twitch does not know this client id (${this.endpoint}, HTTP ${this.status}: ${
        quote(this.twitchMessage)
      }); check TWITCH_CLIENT_ID`
      : `Twitch rejected the client secret (${this.endpoint}, HTTP ${this.status}: ${
        quote(this.twitchMessage)
      }); check TWITCH_CLIENT_SECRET`
  }
}

/**
 * The operation needs the application's client secret, and none was configured
 * (`source: "Config"`, nothing was sent), or Twitch asked for it (`source: "Twitch"`, e.g.
 * refreshing a confidential client's token without the secret).
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingClientSecret extends Schema.TaggedError<MissingClientSecret>(
  "@effect-twitch/auth/MissingClientSecret"
)("MissingClientSecret", {
  operation: Schema.String,
  source: Schema.Literal("Config", "Twitch")
}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return this.source === "Config"
      ? `${this.operation} needs the application's client secret, and none is configured (set TWITCH_CLIENT_SECRET or the clientSecret option)`
      : `Twitch requires the client secret for ${this.operation} (the application is a confidential client); configure TWITCH_CLIENT_SECRET`
  }
}

/**
 * No redirect URI was given to an operation that needs one, and none is configured.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingRedirectUri extends Schema.TaggedError<MissingRedirectUri>(
  "@effect-twitch/auth/MissingRedirectUri"
)("MissingRedirectUri", {
  operation: Schema.String
}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `${this.operation} needs a redirect URI: pass redirectUri or set TWITCH_REDIRECT_URI`
  }
}

/**
 * Twitch refused a requested scope (`invalid scope requested: '<scope>'`).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidScope extends Schema.TaggedError<InvalidScope>("@effect-twitch/auth/InvalidScope")(
  "InvalidScope",
  {
    twitchMessage: Schema.String
  }
) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `Twitch refused the requested scopes: ${quote(this.twitchMessage)}`
  }
}

/**
 * The device code flow is still waiting for the user to enter the code
 * (`400 authorization_pending`). Poll again after the interval.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthorizationPending extends Schema.TaggedError<AuthorizationPending>(
  "@effect-twitch/auth/AuthorizationPending"
)("AuthorizationPending", {}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return "The user has not yet entered the device code; poll again after the interval"
  }
}

/**
 * The device code is unknown, expired or already used: Twitch said so
 * (`400 invalid device code`, with `twitchMessage`), or `DeviceFlow` reached the code's
 * `expiresAt` and stopped without asking Twitch again (no `twitchMessage`). Start the device
 * flow again.
 *
 * @since 0.1.0
 * @category errors
 */
export class DeviceCodeExpired extends Schema.TaggedError<DeviceCodeExpired>(
  "@effect-twitch/auth/DeviceCodeExpired"
)("DeviceCodeExpired", {
  twitchMessage: Schema.optionalWith(Schema.String, { exact: true })
}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return this.twitchMessage === undefined
      ? "The device code expired (its expires_in has passed) before the user approved it; start the device flow again"
      : `Twitch rejected the device code (${
        quote(this.twitchMessage)
      }); it expired or was used already, start the device flow again`
  }
}

/**
 * Twitch is still waiting for the user in the device code flow and asks the client to poll
 * less often (`400 slow_down`). Twitch does not document this answer, but RFC 8628 defines it
 * and clients tolerate it: wait 5 seconds longer between polls from now on. `DeviceFlow`
 * does this for you.
 *
 * @since 0.1.0
 * @category errors
 */
export class SlowDown extends Schema.TaggedError<SlowDown>("@effect-twitch/auth/SlowDown")("SlowDown", {}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return "Twitch asks to poll for the device token less often; add 5 seconds to the interval"
  }
}

/**
 * The user refused to authorize the application: on the consent page (a redirect with
 * `error=access_denied`) or, in the device code flow, on the activation page.
 * Terminal for this attempt; ask the user again only if they want to.
 *
 * @since 0.1.0
 * @category errors
 */
export class AccessDenied extends Schema.TaggedError<AccessDenied>("@effect-twitch/auth/AccessDenied")(
  "AccessDenied",
  {
    flow: Schema.Literal("AuthorizationCode", "Implicit", "DeviceCode"),
    /** What Twitch said (`error_description` of the redirect, or the poll's message). */
    description: Schema.String
  }
) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `The user did not authorize the application (${this.flow} flow${
      this.description === "" ? "" : `: ${quote(this.description)}`
    })`
  }
}

/**
 * The `state` on the redirect is missing or is not the one this authorization request was
 * made with: the redirect did not come from this request (a forged or replayed callback,
 * CSRF) and its code or token must not be used. Neither value is kept: a state is a
 * per-request secret.
 *
 * @since 0.1.0
 * @category errors
 */
export class StateMismatch extends Schema.TaggedError<StateMismatch>("@effect-twitch/auth/StateMismatch")(
  "StateMismatch",
  {
    reason: Schema.Literal("Missing", "Different")
  }
) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return this.reason === "Missing"
      ? "The redirect carries no state; it was not produced by this authorization request, ignore it"
      : "The redirect's state is not this authorization request's; it may be forged, ignore it"
  }
}

/**
 * Twitch redirected back with an OAuth error other than `access_denied` and
 * `redirect_mismatch` (which have their own errors), e.g. `invalid_scope`.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthorizationFailed extends Schema.TaggedError<AuthorizationFailed>(
  "@effect-twitch/auth/AuthorizationFailed"
)("AuthorizationFailed", {
  error: Schema.String,
  description: Schema.String
}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `Twitch refused the authorization: ${quote(this.error)}${
      this.description === "" ? "" : ` (${quote(this.description)})`
    }`
  }
}

/**
 * A redirect from Twitch that carries neither a result (`code`, `access_token`) nor an
 * error: not a callback of the flow, or a truncated URL. `detail` names what is missing.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedRedirect extends Schema.TaggedError<MalformedRedirect>(
  "@effect-twitch/auth/MalformedRedirect"
)("MalformedRedirect", {
  detail: Schema.String
}) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `The redirect is not a Twitch authorization callback: ${this.detail}`
  }
}

/**
 * An OpenID Connect ID token was refused: missing from the answer (`Missing`), not a JWT
 * (`Malformed`), not signed by one of Twitch's keys (`Signature`), issued by someone else
 * (`Issuer`), for another application (`Audience`: `aud` does not name this client;
 * `AuthorizedParty`: `azp` names another client, or is missing with several audiences),
 * expired (`Expired`), or not carrying the nonce of this request (`Nonce`). Do not trust anything it says. The token itself is
 * never kept.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidIdToken extends Schema.TaggedError<InvalidIdToken>("@effect-twitch/auth/InvalidIdToken")(
  "InvalidIdToken",
  {
    reason: Schema.Literal(
      "Missing",
      "Malformed",
      "Signature",
      "Issuer",
      "Audience",
      "AuthorizedParty",
      "Expired",
      "Nonce"
    ),
    detail: Schema.String
  }
) {
  declare readonly [TypeId]: TypeId

  override get message(): string {
    return `The ID token was rejected (${this.reason}): ${this.detail}`
  }
}

// Sets the type id the classes above declare, on their prototypes (see `common.ts`).
for (
  const error of [
    InvalidAccessToken,
    InvalidRefreshToken,
    InvalidAuthorizationCode,
    RedirectUriMismatch,
    InvalidClient,
    MissingClientSecret,
    MissingRedirectUri,
    InvalidScope,
    AuthorizationPending,
    DeviceCodeExpired,
    SlowDown,
    AccessDenied,
    StateMismatch,
    AuthorizationFailed,
    MalformedRedirect,
    InvalidIdToken
  ]
) {
  setTypeId(error)
}
