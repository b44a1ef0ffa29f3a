/**
 * The errors of `@effect-twitch/auth`: one tagged class per situation a caller handles
 * differently. Every class is a `Schema.TaggedError`, so it can be matched with
 * `Effect.catchTag`, compared structurally and serialised.
 *
 * None of them ever holds a secret: no client secret, access token, refresh token or
 * authorization code reaches a field, a `message`, `toString()` or `JSON.stringify` output.
 * What they do keep is what Twitch said (its `message` string and HTTP status), which names
 * the problem but never echoes a credential.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The Twitch endpoint a request went to, as `METHOD /path` (e.g. `POST /oauth2/token`).
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint =
  | "GET /oauth2/authorize"
  | "POST /oauth2/token"
  | "GET /oauth2/validate"
  | "POST /oauth2/revoke"
  | "POST /oauth2/device"
  | "GET /oauth2/keys"
  | "GET /oauth2/userinfo"
  | "GET /oauth2/.well-known/openid-configuration"

/** Errors name the endpoint as text: `POST /oauth2/token`, or a Helix route such as `GET /helix/users`. */
const endpoint = Schema.String

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
  override get message(): string {
    return `The ID token was rejected (${this.reason}): ${this.detail}`
  }
}

/**
 * Twitch answered `429 Too Many Requests`. Transient: retried with the configured schedule
 * before it reaches you. `retryAfterSeconds` is taken from Twitch's `Ratelimit-Reset` or
 * `Retry-After` header when present.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>("@effect-twitch/auth/RateLimited")(
  "RateLimited",
  {
    endpoint,
    retryAfterSeconds: Schema.optional(Schema.Number)
  }
) {
  override get message(): string {
    return `Twitch rate-limited ${this.endpoint}${
      this.retryAfterSeconds === undefined ? "" : `; retry in ${this.retryAfterSeconds}s`
    }`
  }
}

/**
 * Twitch answered with a 5xx status. Transient: retried with the configured schedule
 * before it reaches you.
 *
 * @since 0.1.0
 * @category errors
 */
export class TwitchUnavailable extends Schema.TaggedError<TwitchUnavailable>(
  "@effect-twitch/auth/TwitchUnavailable"
)("TwitchUnavailable", {
  endpoint,
  status: Schema.Number
}) {
  override get message(): string {
    return `Twitch is unavailable: ${this.endpoint} answered HTTP ${this.status}`
  }
}

/**
 * The request did not complete: the connection failed or the request timed out
 * (`requestTimeout` covers the whole exchange, the answer's body included). Transient:
 * retried with the configured schedule before it reaches you — except when the failure came
 * after Twitch had begun to answer (a body cut off or too slow), since Twitch has acted on
 * the request then, and a refresh token may already be spent.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@effect-twitch/auth/TransportError")(
  "TransportError",
  {
    endpoint,
    reason: Schema.Literal("Network", "Timeout"),
    detail: Schema.String
  }
) {
  override get message(): string {
    return this.reason === "Timeout"
      ? `${this.endpoint} timed out: ${this.detail}`
      : `${this.endpoint} failed to reach Twitch: ${this.detail}`
  }
}

/**
 * Twitch's answer did not have the documented shape: a body that is not JSON, a missing or
 * mistyped field, or a body longer than the 64 KiB read from id.twitch.tv (reading stops
 * there). `detail` names the fields at fault, never their values (they may be tokens).
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>(
  "@effect-twitch/auth/MalformedResponse"
)("MalformedResponse", {
  endpoint,
  status: Schema.Number,
  detail: Schema.String
}) {
  override get message(): string {
    return `Twitch's answer to ${this.endpoint} (HTTP ${this.status}) could not be decoded: ${this.detail}`
  }
}

/**
 * Twitch refused the request with an error this library does not recognise, or the answer
 * was not Twitch's at all. `status` is the HTTP status; `twitchMessage` is Twitch's message
 * (at most 200 characters, every secret of the request replaced by `<redacted>`), or `""`
 * when the body was not Twitch's JSON error envelope — a proxy's or a captive portal's page,
 * which never says anything about a token: the token is kept.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>(
  "@effect-twitch/auth/UnexpectedResponse"
)("UnexpectedResponse", {
  endpoint,
  status: Schema.Number,
  twitchMessage: Schema.String
}) {
  override get message(): string {
    return this.twitchMessage === ""
      ? `${this.endpoint} answered HTTP ${this.status} with a body that is not Twitch's error envelope (a proxy or a captive portal?)`
      : `${this.endpoint} answered HTTP ${this.status}: ${quote(this.twitchMessage)}`
  }
}

/**
 * Helix refused a call because the token lacks a scope (`401 Missing scope: <scope>`).
 * Refreshing does not add scopes: the user must authorize again with the scope.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingScope extends Schema.TaggedError<MissingScope>("@effect-twitch/auth/MissingScope")(
  "MissingScope",
  {
    endpoint,
    scope: Schema.String,
    twitchMessage: Schema.String
  }
) {
  override get message(): string {
    return `${this.endpoint} needs the scope ${
      quote(this.scope)
    }, which the token does not have; ask the user to authorize it`
  }
}

/**
 * Helix refused a call with a 401 that is not about the token being dead, so refreshing does
 * not help: the token was issued to another application than the `Client-Id` sent
 * (`ClientMismatch`, `401 Client ID and OAuth token do not match`), a token or client id was
 * missing (`MissingToken`, `MissingClientId`), or anything else Helix says in its 401
 * envelope (`Refused`), such as `The ID in broadcaster_id must match the user ID found in the
 * request's OAuth token.` (a call made for another user than the token's). `twitchMessage`
 * is Twitch's own words.
 *
 * @since 0.1.0
 * @category errors
 */
export class HelixUnauthorized extends Schema.TaggedError<HelixUnauthorized>(
  "@effect-twitch/auth/HelixUnauthorized"
)("HelixUnauthorized", {
  reason: Schema.Literal("ClientMismatch", "MissingToken", "MissingClientId", "Refused"),
  endpoint,
  twitchMessage: Schema.String
}) {
  override get message(): string {
    switch (this.reason) {
      case "ClientMismatch":
        return `${this.endpoint}: the token belongs to another application than the configured client id (${
          quote(this.twitchMessage)
        })`
      case "MissingToken":
        return `${this.endpoint}: Helix received no usable token (${quote(this.twitchMessage)})`
      case "MissingClientId":
        return `${this.endpoint}: Helix received no client id (${quote(this.twitchMessage)})`
      case "Refused":
        return `${this.endpoint}: Helix refused the call (${
          quote(this.twitchMessage)
        }); refreshing the token would not help`
    }
  }
}

/**
 * Failures that may go away by themselves. The SDK retries them on a bounded schedule
 * before they reach the caller.
 *
 * @since 0.1.0
 * @category errors
 */
export type TransientError = RateLimited | TwitchUnavailable | TransportError

/**
 * Every error of this module.
 *
 * @since 0.1.0
 * @category errors
 */
export type TwitchAuthError =
  | InvalidAccessToken
  | InvalidRefreshToken
  | InvalidAuthorizationCode
  | RedirectUriMismatch
  | InvalidClient
  | MissingClientSecret
  | MissingRedirectUri
  | InvalidScope
  | AuthorizationPending
  | DeviceCodeExpired
  | SlowDown
  | AccessDenied
  | StateMismatch
  | AuthorizationFailed
  | MalformedRedirect
  | InvalidIdToken
  | RateLimited
  | TwitchUnavailable
  | TransportError
  | MalformedResponse
  | UnexpectedResponse
  | MissingScope
  | HelixUnauthorized

/**
 * Whether a value is one of the transient errors (`RateLimited`, `TwitchUnavailable`,
 * `TransportError`).
 *
 * @since 0.1.0
 * @category refinements
 */
export const isTransientError = (u: unknown): u is TransientError =>
  u instanceof RateLimited || u instanceof TwitchUnavailable || u instanceof TransportError

const quote = (s: string): string => JSON.stringify(s)
