/**
 * The wire side of `Token`: the schemas of id.twitch.tv's JSON bodies (snake_case, every
 * quirk Twitch is known to produce) and the functions that turn them into the domain classes.
 * Internal: users see `Token`'s classes, never Twitch's bodies.
 *
 * The domain classes are re-exported so that a module that decodes and builds tokens needs
 * this one import.
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { AppToken, DeviceAuthorization, TokenInfo, UserToken } from "../Token.js"

export { AppToken, DeviceAuthorization, TokenInfo, UserToken }

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
 */
export const WireScopes = Schema.optional(
  Schema.NullOr(Schema.Union(Schema.Array(Schema.String), SpaceSeparatedScopes))
)

/**
 * The 200 body of `POST /oauth2/token`, for every grant. `refresh_token` and `scope` are
 * absent on app tokens; `scope` is absent when no scope was granted; `expires_in` may be
 * absent (or `0`, for legacy tokens that never expire).
 */
export const TokenResponse = Schema.Struct({
  access_token: Schema.NonEmptyString,
  refresh_token: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.NullOr(Schema.NonNegative)),
  scope: WireScopes,
  token_type: Schema.optional(Schema.String),
  id_token: Schema.optional(Schema.String)
})

export type TokenResponse = typeof TokenResponse.Type

/**
 * The 200 body of `GET /oauth2/validate`. `login` and `user_id` are absent (or `null`) for
 * app tokens; `scopes` may be `null`; `expires_in: 0` marks a token that never expires.
 */
export const ValidateResponse = Schema.Struct({
  client_id: Schema.String,
  login: Schema.optional(Schema.NullOr(Schema.String)),
  user_id: Schema.optional(Schema.NullOr(Schema.String)),
  scopes: WireScopes,
  expires_in: Schema.optional(Schema.NullOr(Schema.NonNegative))
})

export type ValidateResponse = typeof ValidateResponse.Type

/**
 * The 200 body of `POST /oauth2/device`, the start of the device code flow. All five
 * fields are always present.
 */
export const DeviceCodeResponse = Schema.Struct({
  device_code: Schema.NonEmptyString,
  expires_in: Schema.NonNegative,
  interval: Schema.NonNegative,
  user_code: Schema.NonEmptyString,
  verification_uri: Schema.NonEmptyString
})

export type DeviceCodeResponse = typeof DeviceCodeResponse.Type

/**
 * Twitch's error envelope: `{"status":400,"message":"Invalid refresh token"}`, sometimes
 * with `"error":"Bad Request"`. (Not the RFC 6749 `error`/`error_description` pair.)
 */
export const ErrorResponse = Schema.Struct({
  status: Schema.optional(Schema.Number),
  message: Schema.String,
  error: Schema.optional(Schema.String)
})

export type ErrorResponse = typeof ErrorResponse.Type

// ---------------------------------------------------------------------------------------
// wire → domain
// ---------------------------------------------------------------------------------------

/**
 * Normalises a wire `scope`/`scopes` value: absent, `null` and `[""]` all mean "none".
 */
export const scopesFromWire = (scopes: ReadonlyArray<string> | null | undefined): ReadonlyArray<string> =>
  (scopes ?? []).filter((scope) => scope.length > 0)

/**
 * Turns a wire `expires_in` into an expiry instant: absent, `null` and `0` mean "never", and
 * so does an absurd lifetime of more than a century.
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
 * Builds a `UserToken` from a decoded token response received at `now`. Fails with
 * the name of the missing field when the response has no refresh token.
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
      }, true)
    )

/**
 * Builds an `AppToken` from a decoded client-credentials response received at `now`.
 */
export const appTokenFromWire = (wire: TokenResponse, now: DateTime.Utc): AppToken =>
  new AppToken({
    accessToken: Redacted.make(wire.access_token),
    scopes: scopesFromWire(wire.scope),
    obtainedAt: now,
    expiresAt: expiresAtFromWire(wire.expires_in, now)
  }, true)

/**
 * Builds a `TokenInfo` from a decoded validate response received at `now`.
 */
export const tokenInfoFromWire = (wire: ValidateResponse, now: DateTime.Utc): TokenInfo =>
  new TokenInfo({
    clientId: wire.client_id,
    login: Option.fromNullable(wire.login),
    userId: Option.fromNullable(wire.user_id),
    scopes: scopesFromWire(wire.scopes),
    validatedAt: now,
    expiresAt: expiresAtFromWire(wire.expires_in, now)
  }, true)

/**
 * Builds a `DeviceAuthorization` from a decoded device response received at `now`.
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
  }, true)

// ---------------------------------------------------------------------------------------
// fast decoding of the common answers
// ---------------------------------------------------------------------------------------

const isRecord = (u: unknown): u is { readonly [key: string]: unknown } =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const isOptionalString = (u: unknown): u is string | null | undefined =>
  u === undefined || u === null || typeof u === "string"

const isOptionalNonNegative = (u: unknown): u is number | null | undefined =>
  u === undefined || u === null || (typeof u === "number" && u >= 0)

const isOptionalScopeArray = (u: unknown): u is ReadonlyArray<string> | null | undefined =>
  u === undefined || u === null || (Array.isArray(u) && u.every((scope) => typeof scope === "string"))

/**
 * `/oauth2/validate`'s usual 200 body, checked by hand: the same value `ValidateResponse`
 * decodes to, or `undefined` for anything else (then the schema decodes it, and describes
 * what is wrong). A call whose answer is as Twitch sends it skips the schema interpreter.
 */
export const fastValidateResponse = (u: unknown): ValidateResponse | undefined => {
  if (!isRecord(u)) return undefined
  const { client_id, expires_in, login, scopes, user_id } = u
  if (
    typeof client_id !== "string" || !isOptionalString(login) || !isOptionalString(user_id) ||
    !isOptionalScopeArray(scopes) || !isOptionalNonNegative(expires_in)
  ) return undefined
  return {
    client_id,
    ...(login === undefined ? {} : { login }),
    ...(user_id === undefined ? {} : { user_id }),
    ...(scopes === undefined ? {} : { scopes }),
    ...(expires_in === undefined ? {} : { expires_in })
  }
}

/** A token grant's usual 200 body, checked by hand (see {@link fastValidateResponse}). */
export const fastTokenResponse = (u: unknown): TokenResponse | undefined => {
  if (!isRecord(u)) return undefined
  const { access_token, expires_in, id_token, refresh_token, scope, token_type } = u
  if (
    typeof access_token !== "string" || access_token.length === 0 ||
    (refresh_token !== undefined && typeof refresh_token !== "string") ||
    (token_type !== undefined && typeof token_type !== "string") ||
    (id_token !== undefined && typeof id_token !== "string") ||
    !isOptionalScopeArray(scope) || !isOptionalNonNegative(expires_in)
  ) return undefined
  return {
    access_token,
    ...(refresh_token === undefined ? {} : { refresh_token }),
    ...(expires_in === undefined ? {} : { expires_in }),
    ...(scope === undefined ? {} : { scope }),
    ...(token_type === undefined ? {} : { token_type }),
    ...(id_token === undefined ? {} : { id_token })
  }
}
