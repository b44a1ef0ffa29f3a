/**
 * What both transports over the FakeTwitch model share — the socket mock (MockTwitchServer)
 * and the in-memory HttpClient (FakeTwitchHttpClient): routing a path to a wire operation,
 * reading parameters from the query string and the form body, and the final response headers.
 * Not part of the public API.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Model from "./model.js"

type Service = Model.Service
type WireRequest = Model.WireRequest
type WireResponse = Model.WireResponse

type OAuthEndpoint = Exclude<Model.Endpoint, "helix">

/**
 * Where a path goes: an id.twitch.tv operation (with `prefix`, `/oauth2` or `/auth`, the base
 * the client addressed), or Helix with the path relative to `/helix`.
 */
export type Route =
  | { readonly _tag: "OAuth"; readonly endpoint: OAuthEndpoint; readonly prefix: string }
  | { readonly _tag: "Helix"; readonly path: string }

const oauthEndpoints: ReadonlyMap<string, OAuthEndpoint> = new Map(
  [
    ["authorize", "authorize"],
    ["token", "token"],
    ["validate", "validate"],
    ["revoke", "revoke"],
    ["device", "device"],
    ["activate", "activate"],
    ["keys", "keys"],
    ["userinfo", "userinfo"],
    [".well-known/openid-configuration", "discovery"]
  ] as const
)

/**
 * `/oauth2/{authorize,token,validate,revoke,device,activate,keys,userinfo}`,
 * `/oauth2/.well-known/openid-configuration`, the same under `/auth/` (the Twitch CLI mock
 * API's convention), `/helix` and everything under it; anything else is no route.
 */
export const route = (pathname: string): Option.Option<Route> => {
  if (pathname === "/helix" || pathname.startsWith("/helix/")) {
    return Option.some({ _tag: "Helix", path: pathname.slice("/helix".length) || "/" })
  }
  const match = /^(\/(?:oauth2|auth))\/([a-z.-]+(?:\/[a-z.-]+)?)$/.exec(pathname)
  const prefix = match?.[1]
  const endpoint = match?.[2] === undefined ? undefined : oauthEndpoints.get(match[2])
  return endpoint === undefined || prefix === undefined
    ? Option.none()
    : Option.some({ _tag: "OAuth", endpoint, prefix })
}

/**
 * Merges parameter sources into one record: a later source overrides an earlier one, while
 * within one source the first occurrence of a name wins.
 */
export const mergeParams = (
  ...sources: ReadonlyArray<Iterable<readonly [string, string]>>
): Record<string, string> => {
  const params: Record<string, string> = {}
  for (const source of sources) {
    const seen = new Set<string>()
    for (const [key, value] of source) {
      if (seen.has(key)) continue
      seen.add(key)
      params[key] = value
    }
  }
  return params
}

/** Content types whose body carries parameters (as id.twitch.tv reads them). */
export const isFormContentType = (contentType: string): boolean => {
  const lower = contentType.toLowerCase()
  return lower.startsWith("application/x-www-form-urlencoded") || lower.startsWith("multipart/form-data")
}

/** A body that claims to be a form but cannot be read as one. */
export class MalformedBody extends Data.TaggedError("MalformedBody")<{}> {}

const decoder = new TextDecoder()

/**
 * The parameters in a request body: urlencoded or multipart (file parts read as text); other
 * content types carry none.
 */
export const bodyParams = (
  contentType: string,
  bytes: Uint8Array
): Effect.Effect<ReadonlyArray<readonly [string, string]>, MalformedBody> => {
  const lower = contentType.toLowerCase()
  if (lower.startsWith("application/x-www-form-urlencoded")) {
    return Effect.succeed(Array.from(new URLSearchParams(decoder.decode(bytes))))
  }
  if (!lower.startsWith("multipart/form-data")) return Effect.succeed([])
  return Effect.tryPromise({
    try: async () => {
      // The web Response parses multipart bodies; copying gives it an ArrayBuffer-backed view.
      const form = await new Response(Uint8Array.from(bytes), { headers: { "content-type": contentType } }).formData()
      const entries: Array<readonly [string, FormDataEntryValue]> = []
      form.forEach((value, key) => {
        entries.push([key, value])
      })
      const fields: Array<readonly [string, string]> = []
      for (const [key, value] of entries) {
        fields.push([key, typeof value === "string" ? value : await value.text()])
      }
      return fields
    },
    catch: () => new MalformedBody()
  })
}

/** A JSON error in id.twitch.tv's envelope, for answers the model does not give itself. */
export const jsonError = (status: number, message: string): WireResponse => ({
  status,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ status, message })
})

/** An HTTP request, as either transport sees it. */
export interface Incoming {
  readonly method: string
  /** The full URL as the client addressed it (its origin is the issuer's). */
  readonly url: URL
  /** Lowercase names. */
  readonly headers: Record<string, string>
  /** Present when the content type is a form ({@link isFormContentType}). */
  readonly body: Option.Option<Uint8Array>
}

/**
 * Permissive CORS, as id.twitch.tv's and Helix's APIs (and the Twitch CLI mock) send it: a web
 * page may call them with `fetch`.
 */
export const withCors = (wire: WireResponse): WireResponse => ({
  ...wire,
  headers: { ...wire.headers, "access-control-allow-origin": "*" }
})

/**
 * Answers an HTTP request from the model: query ∪ form body (body winning) become the
 * params, the path picks the operation; unknown paths are `{"status":404,"message":"Not Found"}`
 * and unreadable form bodies `{"status":400,"message":"malformed request body"}` (both
 * guesses: not documented by Twitch).
 *
 * Every answer carries permissive CORS except `/oauth2/authorize`'s: it is a page for the
 * user's browser, not an API, and a page of another origin must not read it (its form's
 * anti-forgery token).
 */
export const handle = (twitch: Service, incoming: Incoming): Effect.Effect<WireResponse> =>
  Effect.map(
    answer(twitch, incoming),
    (wire) =>
      Option.exists(route(incoming.url.pathname), (r) => r._tag === "OAuth" && r.endpoint === "authorize")
        ? wire
        : withCors(wire)
  )

const answer = (twitch: Service, incoming: Incoming): Effect.Effect<WireResponse> =>
  Option.match(route(incoming.url.pathname), {
    onNone: () => Effect.succeed(jsonError(404, "Not Found")),
    onSome: (target) =>
      Effect.gen(function*() {
        const fromBody = yield* Option.match(incoming.body, {
          onNone: () => Effect.succeed<ReadonlyArray<readonly [string, string]>>([]),
          onSome: (bytes) => bodyParams(incoming.headers["content-type"] ?? "", bytes)
        })
        const wire: WireRequest = {
          method: incoming.method.toUpperCase(),
          headers: incoming.headers,
          params: mergeParams(incoming.url.searchParams, fromBody),
          bodyParams: mergeParams(fromBody)
        }
        return yield* target._tag === "Helix"
          ? twitch.helix({ ...wire, path: target.path })
          : twitch[target.endpoint]({ ...wire, baseUrl: incoming.url.origin + target.prefix })
      }).pipe(Effect.catchTag("MalformedBody", () => Effect.succeed(jsonError(400, "malformed request body"))))
  })

/**
 * The headers a transport sends: the answer's (with CORS from {@link handle}), plus
 * `text/plain` for a non-empty body without a content type.
 */
export const responseHeaders = (wire: WireResponse): Record<string, string> => {
  const headers: Record<string, string> = { ...wire.headers }
  if (wire.body !== "" && headers["content-type"] === undefined) headers["content-type"] = "text/plain"
  return headers
}
