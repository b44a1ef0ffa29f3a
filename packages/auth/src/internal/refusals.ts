/**
 * What Twitch's refusals mean, as tables: each operation lists the messages (and statuses)
 * it knows, in order, and the error each one is. A message no row names is an
 * `UnexpectedResponse` at id.twitch.tv (or what the table's fallback says). Messages are
 * matched on `Wire.Failure.normalized` (Twitch's words, trimmed and lower-cased); only
 * Twitch's own error envelope ever reaches a table (see `Pipeline.failWith`).
 */
import type * as Redacted from "effect/Redacted"
import {
  AccessDenied,
  AuthorizationPending,
  DeviceCodeExpired,
  HelixUnauthorized,
  InvalidAccessToken,
  InvalidAuthorizationCode,
  InvalidClient,
  InvalidRefreshToken,
  InvalidScope,
  MissingClientSecret,
  MissingScope,
  RedirectUriMismatch,
  SlowDown,
  UnexpectedResponse
} from "../TwitchAuthError.js"

/** A refusal in Twitch's envelope: where, with which status, and what Twitch said. */
export interface Refusal {
  readonly endpoint: string
  readonly status: number
  /** Bounded and scrubbed: what errors repeat. */
  readonly twitchMessage: string
  /** Lower-cased and trimmed: what rows match. */
  readonly normalized: string
}

/** How a row matches Twitch's message: exactly, by its start, or by a part of it. */
export type Said =
  | { readonly is: string }
  | { readonly startsWith: string }
  | { readonly includes: string }

/**
 * One row: a refusal with this `status` (any, when absent) and one of these messages (any,
 * when absent) is this `error`. `context` is what the operation knows (the token it sent,
 * its name, the redirect URI).
 */
export interface Rule<E, C> {
  readonly status?: number
  readonly said?: ReadonlyArray<Said>
  readonly error: (refusal: Refusal, context: C) => E
}

/** An operation's rows, first match wins. */
export type Table<E, C> = ReadonlyArray<Rule<E, C>>

const matches = (said: Said, normalized: string): boolean =>
  "is" in said
    ? normalized === said.is
    : "startsWith" in said
    ? normalized.startsWith(said.startsWith)
    : normalized.includes(said.includes)

/** The first row of `table` that `refusal` matches, made into its error; else `fallback`. */
export const classifyWith = <E, C, F>(
  table: Table<E, C>,
  fallback: (refusal: Refusal, context: C) => F
) =>
(refusal: Refusal, context: C): E | F => {
  for (const rule of table) {
    if (rule.status !== undefined && rule.status !== refusal.status) continue
    if (rule.said !== undefined && !rule.said.some((said) => matches(said, refusal.normalized))) continue
    return rule.error(refusal, context)
  }
  return fallback(refusal, context)
}

/** An id.twitch.tv refusal no row names: Twitch's message, kept for the caller. */
export const unexpected = (refusal: Refusal): UnexpectedResponse =>
  new UnexpectedResponse({ endpoint: refusal.endpoint, status: refusal.status, twitchMessage: refusal.twitchMessage })

/** {@link classifyWith} at id.twitch.tv: what no row names is an `UnexpectedResponse`. */
export const classify = <E, C>(table: Table<E, C>) => classifyWith(table, unexpected)

const where = (refusal: Refusal) => ({
  endpoint: refusal.endpoint,
  status: refusal.status,
  twitchMessage: refusal.twitchMessage
})

/** What the operation knows when Twitch refuses it. */
export interface Context {
  /** The operation's name, for `MissingClientSecret`. */
  readonly operation: string
}

/** An operation on a token: the token sent, which the error keeps (`Redacted`). */
export interface TokenContext {
  readonly token: Redacted.Redacted<string>
}

const deadAccessToken = (refusal: Refusal, context: TokenContext) =>
  new InvalidAccessToken({ ...where(refusal), token: context.token })

/**
 * What Twitch says of a client id it does not know: `invalid client` (token grants),
 * `client does not exist` (404, current revoke docs:
 * https://dev.twitch.tv/docs/authentication/revoke-tokens/), and `Invalid client_id: <id>`
 * (400, the older revoke answer, which carries the id sent), and of a wrong secret. Every
 * id.twitch.tv operation that sends a client id reads its refusals through these rows.
 */
export const client: Table<InvalidClient, unknown> = [
  {
    said: [{ is: "invalid client" }, { is: "client does not exist" }, { is: "invalid client_id" }, {
      startsWith: "invalid client_id:"
    }],
    error: (refusal) => new InvalidClient({ reason: "UnknownClient", ...where(refusal) })
  },
  {
    said: [{ is: "invalid client secret" }],
    error: (refusal) => new InvalidClient({ reason: "WrongSecret", ...where(refusal) })
  }
]

/** Twitch saying that the operation needs the secret, which was not sent. */
export const secret: Table<MissingClientSecret, Context> = [
  {
    said: [{ is: "missing client secret" }],
    error: (_, context) => new MissingClientSecret({ operation: context.operation, source: "Twitch" })
  }
]

/** `invalid scope` (and Twitch's `invalid scope requested: …`) of a grant that names scopes. */
const invalidScope: Table<InvalidScope, unknown> = [
  {
    said: [{ startsWith: "invalid scope" }],
    error: (refusal) => new InvalidScope({ twitchMessage: refusal.twitchMessage })
  }
]

/** `POST /oauth2/token`, `grant_type=authorization_code`. */
export const exchangeCode: Table<
  InvalidAuthorizationCode | RedirectUriMismatch | InvalidClient | MissingClientSecret,
  Context & { readonly redirectUri: string }
> = [
  {
    said: [{ is: "invalid authorization code" }],
    error: (refusal) => new InvalidAuthorizationCode({ twitchMessage: refusal.twitchMessage })
  },
  {
    said: [{ includes: "redirect_uri" }],
    error: (refusal, context) =>
      new RedirectUriMismatch({ redirectUri: context.redirectUri, twitchMessage: refusal.twitchMessage })
  },
  ...client,
  ...secret
]

/**
 * `POST /oauth2/token`, `grant_type=refresh_token`. Only Twitch's words for a dead refresh
 * token make an `InvalidRefreshToken`: a 401 from anyone else (a proxy's login page) says
 * nothing about it, and the token must then be kept.
 */
export const refreshToken: Table<InvalidRefreshToken | InvalidClient | MissingClientSecret, Context> = [
  {
    said: [{ is: "invalid refresh token" }, { is: "missing refresh token" }, { is: "invalid grant" }],
    error: (refusal) => new InvalidRefreshToken({ status: refusal.status, twitchMessage: refusal.twitchMessage })
  },
  ...client,
  ...secret
]

/**
 * `GET /oauth2/validate`: in its 401 envelope, `invalid access token` (documented:
 * https://dev.twitch.tv/docs/authentication/validate-tokens/) and `missing authorization
 * token` (observed for an empty token). Only these make an `InvalidAccessToken` (which
 * sessions answer with a refresh); any other 401 spends no refresh.
 */
export const validateToken: Table<InvalidAccessToken, TokenContext> = [
  { status: 401, said: [{ is: "invalid access token" }, { is: "missing authorization token" }], error: deadAccessToken }
]

/** `POST /oauth2/revoke`: `400 Invalid token` / `400 missing oauth token`, and the client's refusals. */
export const revokeToken: Table<InvalidAccessToken | InvalidClient, TokenContext> = [
  { said: [{ is: "invalid token" }, { is: "missing oauth token" }], error: deadAccessToken },
  ...client
]

/** `POST /oauth2/token`, `grant_type=client_credentials`. */
export const appToken: Table<InvalidScope | InvalidClient | MissingClientSecret, Context> = [
  ...invalidScope,
  ...client,
  ...secret
]

/** `POST /oauth2/device`: no secret is sent, so Twitch cannot ask for one. */
export const startDeviceAuthorization: Table<InvalidScope | InvalidClient, unknown> = [...invalidScope, ...client]

/**
 * `POST /oauth2/token`, `grant_type=urn:ietf:params:oauth:grant-type:device_code`: RFC 8628
 * §3.5's codes as Twitch sends them, then the client's refusals.
 */
export const pollDeviceToken: Table<
  AuthorizationPending | SlowDown | AccessDenied | DeviceCodeExpired | InvalidClient | MissingClientSecret,
  Context
> = [
  { said: [{ is: "authorization_pending" }], error: () => new AuthorizationPending() },
  { said: [{ is: "slow_down" }], error: () => new SlowDown() },
  {
    said: [{ is: "access_denied" }],
    error: (refusal) => new AccessDenied({ flow: "DeviceCode", description: refusal.twitchMessage })
  },
  {
    said: [{ is: "invalid device code" }, { is: "expired_token" }],
    error: (refusal) => new DeviceCodeExpired({ twitchMessage: refusal.twitchMessage })
  },
  ...client,
  ...secret
]

/**
 * `GET /oauth2/userinfo`: any 401 in Twitch's envelope is a dead token; a 403 that names a
 * scope is the missing `openid`.
 */
export const userInfo: Table<InvalidAccessToken | MissingScope, TokenContext> = [
  { status: 401, error: deadAccessToken },
  {
    status: 403,
    said: [{ includes: "scope" }],
    error: (refusal) =>
      new MissingScope({ endpoint: refusal.endpoint, scope: "openid", twitchMessage: refusal.twitchMessage })
  }
]

/** A Helix 401 names the token it refused only when one was sent. */
export interface HelixContext {
  readonly token: Redacted.Redacted<string> | undefined
}

/**
 * Helix's own 401s. Only a dead token is an `InvalidAccessToken`, which `withTokenRefresh`
 * answers with a refresh: `{"error":"Unauthorized","status":401,"message":"Invalid OAuth
 * token"}` for an expired or fake bearer (mikeyaworski/Twitch-Lurker#11, 2022; live captures
 * quoted in public clients, 2026). Twitch documents no other token-death message for Helix;
 * its docs say only that a call with an invalid token "returns 401 Unauthorized"
 * (https://dev.twitch.tv/docs/authentication/refresh-tokens/). The older `Token invalid or
 * missing required scope` is, per Twitch's forum wiki
 * (https://discuss.dev.twitch.tv/t/authenticating-with-the-twitch-api/29237), about scopes,
 * and a refresh does not add scopes: no row makes it a dead token. Every other 401 of
 * Helix's — a missing scope, a client mismatch, a message Twitch adds tomorrow — is a
 * `MissingScope` or a `HelixUnauthorized` (see {@link helixFallback}) and spends no refresh.
 */
export const helixUnauthorized: Table<InvalidAccessToken | MissingScope | HelixUnauthorized, HelixContext> = [
  {
    said: [{ is: "invalid oauth token" }],
    error: (refusal, context) =>
      new InvalidAccessToken(context.token === undefined ? where(refusal) : { ...where(refusal), token: context.token })
  },
  {
    said: [{ startsWith: "missing scope" }],
    error: (refusal) =>
      new MissingScope({
        endpoint: refusal.endpoint,
        scope: refusal.twitchMessage.slice(refusal.twitchMessage.indexOf(":") + 1).trim(),
        twitchMessage: refusal.twitchMessage
      })
  },
  ...helixRefusal("ClientMismatch", "client id and oauth token do not match"),
  ...helixRefusal("MissingToken", "oauth token is missing"),
  ...helixRefusal("MissingClientId", "client id is missing")
]

function helixRefusal(reason: HelixUnauthorized["reason"], message: string): Table<HelixUnauthorized, unknown> {
  return [{
    said: [{ is: message }],
    error: (refusal) =>
      new HelixUnauthorized({ reason, endpoint: refusal.endpoint, twitchMessage: refusal.twitchMessage })
  }]
}

/** A Helix 401 no row names: refused, with Twitch's message. */
export const helixFallback = (refusal: Refusal): HelixUnauthorized =>
  new HelixUnauthorized({ reason: "Refused", endpoint: refusal.endpoint, twitchMessage: refusal.twitchMessage })
