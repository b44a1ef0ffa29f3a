/**
 * Wire-level helpers shared by the FakeTwitch model: random identifiers, status reasons and
 * response builders. Not part of the public API.
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

/** Width of the base-36 serial appended to every generated identifier. */
const serialWidth = 6

/**
 * `length` lowercase alphanumeric characters: random ones followed by a base-36 serial, so two
 * identifiers made with different serials can never collide.
 */
export const randomId = (length: number, serial: number): Effect.Effect<string> =>
  Effect.gen(function*() {
    const tail = serial.toString(36).padStart(serialWidth, "0").slice(-serialWidth)
    let head = ""
    for (let i = 0; i < length - serialWidth; i++) {
      const index = yield* Random.nextIntBetween(0, alphabet.length)
      head += alphabet.charAt(index)
    }
    return head + tail
  })

/**
 * The characters every refresh token carries, like real Twitch refresh tokens
 * (`...%asdfasdf=`): a client that forgets to URL-encode the token mangles it.
 */
export const refreshTokenSuffix = "%/+&="

const reasons: Record<number, string> = {
  200: "OK",
  302: "Found",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout"
}

/** The HTTP reason phrase for a status code. */
export const reasonPhrase = (status: number): string => reasons[status] ?? "Error"

/** A response as the model produces it. */
export interface Response {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** A JSON response with `content-type: application/json`. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body)
})

/** The Twitch error envelope `{"status":N,"message":"..."}`, optionally with `"error"`. */
export const error = (
  status: number,
  message: string,
  includeErrorField: boolean,
  headers: Record<string, string> = {}
): Response =>
  json(
    status,
    includeErrorField ? { error: reasonPhrase(status), status, message } : { status, message },
    headers
  )

/** A redirect to `location` with an empty body. */
export const redirect = (location: string): Response => ({
  status: 302,
  headers: { location },
  body: ""
})

/** Appends query parameters to a URL that may already carry a query string. */
export const withQuery = (base: string, params: ReadonlyArray<readonly [string, string]>): string => {
  const query = new URLSearchParams(params.map(([k, v]) => [k, v])).toString()
  return base + (base.includes("?") ? "&" : "?") + query
}

/** Appends a fragment built from parameters to a URL. */
export const withFragment = (base: string, params: ReadonlyArray<readonly [string, string]>): string =>
  base + "#" + new URLSearchParams(params.map(([k, v]) => [k, v])).toString()

/** Space-delimited scope parameter → list of scopes (empty entries dropped). */
export const parseScopes = (raw: string | undefined): ReadonlyArray<string> =>
  raw === undefined ? [] : raw.split(/\s+/).filter((s) => s.length > 0)
