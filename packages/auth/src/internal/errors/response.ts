/**
 * The errors of an answer rather than of a grant: transient failures (429, 5xx, transport),
 * answers that are not Twitch's documented shape, and Helix's refusals. Public through
 * `TwitchAuthError`; see that module for the unions each operation fails with.
 */
import * as Schema from "effect/Schema"
import { endpoint, quote, setTypeId, type TypeId } from "./common.js"

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
  declare readonly [TypeId]: TypeId

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
  declare readonly [TypeId]: TypeId

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
  declare readonly [TypeId]: TypeId

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
  declare readonly [TypeId]: TypeId

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
  declare readonly [TypeId]: TypeId

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
  declare readonly [TypeId]: TypeId

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
  declare readonly [TypeId]: TypeId

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

// Sets the type id the classes above declare, on their prototypes (see `common.ts`).
for (
  const error of [
    RateLimited,
    TwitchUnavailable,
    TransportError,
    MalformedResponse,
    UnexpectedResponse,
    MissingScope,
    HelixUnauthorized
  ]
) {
  setTypeId(error)
}
