/**
 * api.twitch.tv/helix: rate-limit buckets, authentication and the routes the fake serves.
 */
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import type * as Model from "./model.js"
import {
  accessTokenAlive,
  type AccessTokenRecord,
  type Ctx,
  displayName,
  header,
  helixBearerPattern,
  type HelixBucket,
  param,
  type State,
  type Transition
} from "./state.js"
import * as Wire from "./wire.js"

const helixWindowMs = 60_000

/** What Helix answers in `created_at` for every fake user. */
const helixCreatedAt = "2016-12-14T20:32:28Z"

interface RateLimit {
  readonly limit: number
  readonly remaining: number
  /** Unix seconds. */
  readonly reset: number
}

export const rateLimitHeaders = (rate: RateLimit): Record<string, string> => ({
  "ratelimit-limit": String(rate.limit),
  "ratelimit-remaining": String(rate.remaining),
  "ratelimit-reset": String(rate.reset)
})

/**
 * The rate-limit bucket a Helix request draws from, keyed as Twitch's API guide describes
 * (https://dev.twitch.tv/docs/api/guide/#twitch-rate-limits): app access tokens share one
 * bucket per client ID, user access tokens one per client ID and user. The `Client-Id`, plus
 * the user of the bearer token when it is a known user token; otherwise (no token, unknown
 * token, app token) the client's app bucket.
 */
const helixBucketKey = (state: State, request: Model.WireRequest): string => {
  const clientId = header(request, "client-id")?.trim() ?? ""
  const authorization = header(request, "authorization")
  const match = authorization === undefined ? null : helixBearerPattern.exec(authorization.trim())
  const userId = match?.[1] === undefined
    ? undefined
    : Option.getOrUndefined(HashMap.get(state.accessTokens, match[1]))?.userId
  return userId === undefined ? `app ${clientId}` : `user ${clientId} ${userId}`
}

/**
 * Takes one point from the request's bucket ({@link helixBucketKey}; a one-minute window
 * that starts with its first request). `exhausted`: there was none left.
 */
export const chargeHelix = (
  state: State,
  ctx: Ctx,
  request: Model.WireRequest
): readonly [RateLimit & { readonly exhausted: boolean }, State] => {
  const key = helixBucketKey(state, request)
  const limit = ctx.lifetimes.helixRateLimit
  const bucket = HashMap.get(state.helixBuckets, key).pipe(
    Option.filter((b) => ctx.now < b.windowStart + helixWindowMs),
    Option.getOrElse((): HelixBucket => ({ windowStart: ctx.now, used: 0 }))
  )
  const reset = Math.ceil((bucket.windowStart + helixWindowMs) / 1000)
  const exhausted = bucket.used >= limit
  const next: HelixBucket = exhausted ? bucket : { windowStart: bucket.windowStart, used: bucket.used + 1 }
  return [
    { limit, remaining: Math.max(0, limit - next.used), reset, exhausted },
    { ...state, helixBuckets: HashMap.set(state.helixBuckets, key, next) }
  ]
}

/** Helix's error envelope: always `{"error":"<reason>","status":N,"message":"..."}`. */
export const helixError = (status: number, message: string, headers: Record<string, string> = {}): Model.WireResponse =>
  Wire.json(status, { error: Wire.reasonPhrase(status), status, message }, headers)

export const withHeaders = (response: Model.WireResponse, headers: Record<string, string>): Model.WireResponse => ({
  ...response,
  headers: { ...response.headers, ...headers }
})

type HelixAuth =
  | { readonly _tag: "Authorized"; readonly token: AccessTokenRecord }
  | { readonly _tag: "Rejected"; readonly response: Model.WireResponse }

const rejected = (message: string): HelixAuth => ({ _tag: "Rejected", response: helixError(401, message) })

const helixAuthenticate = (state: State, now: number, request: Model.WireRequest): HelixAuth => {
  const authorization = header(request, "authorization")
  const match = authorization === undefined ? null : helixBearerPattern.exec(authorization.trim())
  const token = match === null ? undefined : match[1]
  // guess: not documented by Twitch ("Client ID is missing", two lines down); "OAuth token is missing" is observed (twitchdev/issues#105).
  if (token === undefined) return rejected("OAuth token is missing")
  const clientId = header(request, "client-id")?.trim()
  if (clientId === undefined || clientId === "") return rejected("Client ID is missing")
  const record = HashMap.get(state.accessTokens, token)
  if (Option.isNone(record) || !accessTokenAlive(record.value, now)) return rejected("Invalid OAuth token")
  if (record.value.clientId !== clientId) return rejected("Client ID and OAuth token do not match")
  return { _tag: "Authorized", token: record.value }
}

type HelixHandler = (state: State, token: AccessTokenRecord, request: Model.WireRequest) => Model.WireResponse

const helixUser = (user: Model.User, withEmail: boolean) => ({
  id: user.userId,
  login: user.login,
  display_name: displayName(user.login),
  type: "",
  broadcaster_type: "",
  description: "",
  profile_image_url: "",
  offline_image_url: "",
  view_count: 0,
  ...(withEmail ? { email: `${user.login}@example.com` } : {}),
  created_at: helixCreatedAt
})

/** `GET /users`: the token's user, or the users named by `id` / `login` (unknown ones omitted). */
const getUsers: HelixHandler = (state, token, request) => {
  const id = param(request, "id")
  const login = param(request, "login")
  const found: Array<Model.User> = []
  if (id === undefined && login === undefined) {
    // guess: not documented by Twitch (the message).
    if (token.userId === undefined) return helixError(400, "Missing required parameter \"id\" or \"login\"")
    found.push(...Option.toArray(HashMap.get(state.users, token.userId)))
  } else {
    if (id !== undefined) found.push(...Option.toArray(HashMap.get(state.users, id)))
    if (login !== undefined) {
      const lower = login.toLowerCase()
      for (const user of HashMap.values(state.users)) {
        if (user.login === lower && !found.some((u) => u.userId === user.userId)) found.push(user)
      }
    }
  }
  // Like Helix, the email is only shown for the user who granted `user:read:email`.
  const emailOf = token.scopes.includes("user:read:email") ? token.userId : undefined
  return Wire.json(200, { data: found.map((user) => helixUser(user, user.userId === emailOf)) })
}

/**
 * The message Helix answers (401) when a route acting for the broadcaster gets another user's
 * ID: the Get Moderators reference's response codes
 * (https://dev.twitch.tv/docs/api/reference/#get-moderators), whose `broadcaster_id` "must
 * match the user ID in the access token".
 */
const broadcasterMismatch = "The ID in broadcaster_id must match the user ID found in the request's OAuth token."

/**
 * `GET /moderation/moderators`: scope-guarded, for the token's own channel only (the
 * `broadcaster_id` must be the token's user); the fake has no moderators.
 */
const getModerators: HelixHandler = (_state, token, request) => {
  if (!token.scopes.includes("moderation:read") && !token.scopes.includes("channel:manage:moderators")) {
    return helixError(401, "Missing scope: moderation:read")
  }
  const broadcasterId = param(request, "broadcaster_id")
  // guess: not documented by Twitch (the message).
  if (broadcasterId === undefined) return helixError(400, "Missing required parameter \"broadcaster_id\"")
  if (broadcasterId !== token.userId) return helixError(401, broadcasterMismatch)
  return Wire.json(200, { data: [], pagination: {} })
}

const helixRoutes: ReadonlyMap<string, HelixHandler> = new Map([
  ["GET /users", getUsers],
  ["GET /moderation/moderators", getModerators]
])

export const helixTransition: (request: Model.HelixRequest) => Transition = (request) => (state, ctx) => {
  const [rate, charged] = chargeHelix(state, ctx, request)
  const headers = rateLimitHeaders(rate)
  if (rate.exhausted) return [helixError(429, "Too Many Requests", headers), charged]
  const path = request.path.startsWith("/") ? request.path : `/${request.path}`
  const handler = helixRoutes.get(`${request.method.toUpperCase()} ${path}`)
  // guess: not documented by Twitch (a 404 envelope with an empty message).
  if (handler === undefined) return [helixError(404, "", headers), charged]
  const auth = helixAuthenticate(charged, ctx.now, request)
  const response = auth._tag === "Rejected" ? auth.response : handler(charged, auth.token, request)
  return [withHeaders(response, headers), charged]
}
