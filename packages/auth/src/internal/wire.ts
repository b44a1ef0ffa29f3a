/**
 * Sending requests to id.twitch.tv and turning its answers into values or typed errors.
 * Everything here is careful never to put a credential into an error: request bodies are
 * never inspected, decoding failures are described by field names only, and what Twitch
 * (or whoever answered in its place) says is bounded and scrubbed of every secret the
 * request carried before it reaches an error.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { flow } from "effect/Function"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Token from "./tokenWire.js"
import type { TwitchAuthConfig } from "../TwitchAuthConfig.js"
import {
  type Endpoint,
  MalformedResponse,
  RateLimited,
  TransportError,
  TwitchUnavailable,
  UnexpectedResponse
} from "../TwitchAuthError.js"
import * as Exchange from "./exchange.js"

/**
 * The most of an id.twitch.tv answer that is read: 64 KiB. Twitch's answers are a few
 * hundred bytes (a token, a validation, a key set of about 1 KB); past this, reading stops and
 * the call fails with `MalformedResponse`.
 */
export const maxAuthBodyBytes = 64 * 1024

/** The most of Twitch's `message` that an error repeats, in characters. */
export const maxMessageLength = 200

/** What Twitch said when it refused a request. */
export interface Failure {
  readonly endpoint: Endpoint
  readonly status: number
  /**
   * Twitch's `message`, bounded to {@link maxMessageLength} characters, every secret of the
   * request scrubbed. A `Failure` is only ever made from Twitch's own envelope (see
   * {@link twitchMessageOf}).
   */
  readonly twitchMessage: string
  /** The same, lower-cased and trimmed, for matching. */
  readonly normalized: string
}

const decodeEnvelope = Schema.decodeUnknownOption(Schema.parseJson(Token.ErrorResponse))

/**
 * What Twitch said in an answer with HTTP `status`, if `text` is its own error envelope (of
 * id.twitch.tv or Helix): a JSON object whose `status` is the answer's, with a `message`.
 * Only such an answer may say that a token is dead; a proxy's or a portal's page (HTML, or
 * JSON of another shape) never does. `twitchMessage` is bounded and scrubbed of `secrets`;
 * `normalized` is Twitch's words lower-cased for matching (they are short), never shown.
 */
export const twitchMessageOf = (
  text: string,
  status: number,
  secrets: ReadonlyArray<Redacted.Redacted<string> | string>
): Option.Option<{ readonly twitchMessage: string; readonly normalized: string }> =>
  Option.map(
    Option.filter(decodeEnvelope(text), (envelope) => envelope.status === status),
    ({ message }) => ({
      twitchMessage: bound(message, secrets),
      normalized: bound(message, [], 4 * maxMessageLength).trim().toLowerCase()
    })
  )

/** A secret as it may be echoed back: raw, URL-encoded, form-encoded, JSON-escaped. */
const variantsOf = (secret: string): ReadonlyArray<string> => [
  secret,
  encodeURIComponent(secret),
  new URLSearchParams({ s: secret }).toString().slice(2),
  JSON.stringify(secret).slice(1, -1)
]

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Secrets shorter than this are not scrubbed (they would match ordinary words). */
const minSecretLength = 4

/**
 * `text` with every occurrence of every secret — raw, URL-encoded (`%2F`, either case),
 * form-encoded (`+` for a space) or JSON-escaped — replaced by `<redacted>`.
 */
export const scrub = (text: string, secrets: ReadonlyArray<Redacted.Redacted<string> | string>): string => {
  const variants = new Set<string>()
  for (const secret of secrets) {
    const value = Redacted.isRedacted(secret) ? Redacted.value(secret) : secret
    if (value.length >= minSecretLength) for (const variant of variantsOf(value)) variants.add(variant)
  }
  if (variants.size === 0) return text
  const pattern = Array.from(variants).sort((a, b) => b.length - a.length).map(escapeRegExp).join("|")
  return text.replace(new RegExp(pattern, "gi"), "<redacted>")
}

/** C0 and C1 controls, and the Unicode marks that reorder text on a terminal. */
const isUnprintable = (code: number): boolean =>
  code <= 0x1f || (code >= 0x7f && code <= 0x9f) || code === 0x200e || code === 0x200f ||
  (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)

/**
 * A remote party's text made fit for an error: scrubbed of `secrets`, control characters
 * replaced by spaces, and at most `max` characters (then `…`).
 */
export const bound = (
  text: string,
  secrets: ReadonlyArray<Redacted.Redacted<string> | string>,
  max: number = maxMessageLength
): string => {
  const clean = scrub(text, secrets)
  const characters = Array.from(
    clean.length > 4 * max ? clean.slice(0, 4 * max) : clean,
    (character) => (isUnprintable(character.codePointAt(0) ?? 0) ? " " : character)
  )
  return characters.length > max ? `${characters.slice(0, max).join("")}…` : characters.join("")
}

/** A path segment as shown: JSON keys are short, but one from a hostile body need not be. */
const segment = (key: PropertyKey): string => {
  const text = String(key)
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

const describePath = (path: ReadonlyArray<PropertyKey>, root: string): string => {
  if (path.length === 0) return root
  const shown = path.length > 8 ? [...path.slice(0, 8).map(segment), "…"] : path.map(segment)
  return `\`${shown.join(".")}\``
}

const pathOf = (path: ParseResult.Path): ReadonlyArray<PropertyKey> => (isNonEmpty(path) ? path : [path])

const issuesOf = (issues: ParseResult.SingleOrNonEmpty<ParseResult.ParseIssue>): ReadonlyArray<ParseResult.ParseIssue> =>
  isNonEmpty(issues) ? issues : [issues]

const isNonEmpty = <A>(value: ParseResult.SingleOrNonEmpty<A>): value is readonly [A, ...Array<A>] =>
  Array.isArray(value)

/**
 * Describes a decoding failure by the paths of the offending fields, never by their values
 * (which may be tokens). `root` names the whole input (for an issue with an empty path);
 * at most `max` distinct issues are listed (default 5), then how many more there are.
 *
 * The issue tree is walked with an explicit stack and no value is ever formatted: Effect's
 * formatters render each offending value, recursively, and a body nested a few thousand
 * levels deep overflowed the stack there.
 */
export const describeParseError = (
  error: ParseResult.ParseError,
  options: { readonly root?: string; readonly max?: number } = {}
): string => {
  const root = options.root ?? "the body"
  const max = options.max ?? 5
  const parts = new Set<string>()
  const stack: Array<{ readonly path: ReadonlyArray<PropertyKey>; readonly issue: ParseResult.ParseIssue }> = [
    { path: [], issue: error.issue }
  ]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { issue, path } = next
    switch (issue._tag) {
      case "Missing":
        parts.add(`${describePath(path, root)} is missing`)
        break
      case "Unexpected":
        parts.add(`${describePath(path, root)} is not expected`)
        break
      case "Type":
      case "Forbidden":
        parts.add(`${describePath(path, root)} has the wrong type or value`)
        break
      case "Pointer":
        stack.push({ path: path.concat(pathOf(issue.path)), issue: issue.issue })
        break
      case "Refinement":
      case "Transformation":
        stack.push({ path, issue: issue.issue })
        break
      case "Composite": {
        const issues = issuesOf(issue.issues)
        // pushed in reverse, so that they are described in order
        for (let i = issues.length - 1; i >= 0; i--) {
          const child = issues[i]
          if (child !== undefined) stack.push({ path, issue: child })
        }
        break
      }
    }
  }
  const all = Array.from(parts)
  const shown = all.slice(0, max).join("; ")
  return all.length > max ? `${shown}; and ${all.length - max} more` : shown
}

const causeText = (cause: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; depth < 3 && current !== undefined; depth++) {
    if (Predicate.hasProperty(current, "code") && typeof current.code === "string") parts.push(current.code)
    else if (current instanceof Error && current.message.length > 0) parts.push(current.message)
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return parts.join(": ")
}

/**
 * Maps a failed exchange (see `Exchange.timed`) to the error a caller acts on: no answer is
 * a `TransportError` (`Timeout` when the deadline passed, before the headers or during the
 * body), a body past the cap is a `MalformedResponse`. `secrets` are scrubbed from the text.
 */
export const exchangeError = (
  endpoint: Endpoint,
  error: HttpClientError.HttpClientError | Cause.TimeoutException,
  secrets: ReadonlyArray<Redacted.Redacted<string> | string> = []
): TransportError | MalformedResponse => {
  if (error._tag === "TimeoutException") {
    return new TransportError({ endpoint, reason: "Timeout", detail: "no answer within the request timeout" })
  }
  const cause = error.cause
  if (cause instanceof Exchange.RequestTimeout || cause instanceof Exchange.BodyTimeout) {
    return new TransportError({ endpoint, reason: "Timeout", detail: cause.message })
  }
  if (cause instanceof Exchange.BodyTooLarge && error._tag === "ResponseError") {
    return new MalformedResponse({ endpoint, status: error.response.status, detail: cause.message })
  }
  const detail = [error.reason, error.description, causeText(cause)]
    .filter((s): s is string => s !== undefined && s.length > 0)
    .join(": ")
  return new TransportError({ endpoint, reason: "Network", detail: bound(detail, secrets, 300) })
}

const retryAfterSeconds = (response: HttpClientResponse.HttpClientResponse, nowMillis: number) => {
  const reset = Number(response.headers["ratelimit-reset"])
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, Math.ceil(reset - nowMillis / 1000))
  const retryAfter = Number(response.headers["retry-after"])
  return Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined
}

/**
 * Reads a non-2xx answer. 429 and 5xx become the transient errors. Anything else is handed
 * to `classify` when it is Twitch's own error envelope (see {@link twitchMessageOf}), and
 * is an `UnexpectedResponse` when it is not: only Twitch can say that a token is dead.
 * Twitch's message is bounded and scrubbed of `secrets`.
 */
export const failWith = <E>(
  endpoint: Endpoint,
  response: HttpClientResponse.HttpClientResponse,
  classify: (failure: Failure) => E,
  secrets: ReadonlyArray<Redacted.Redacted<string> | string> = []
): Effect.Effect<never, E | UnexpectedResponse | RateLimited | TwitchUnavailable> =>
  Effect.gen(function*() {
    if (response.status === 429) {
      const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
      const seconds = retryAfterSeconds(response, now)
      return yield* Effect.fail(
        new RateLimited(seconds === undefined ? { endpoint } : { endpoint, retryAfterSeconds: seconds })
      )
    }
    if (response.status >= 500) {
      return yield* Effect.fail(new TwitchUnavailable({ endpoint, status: response.status }))
    }
    const text = yield* Effect.orElseSucceed(response.text, () => "")
    const said = twitchMessageOf(text, response.status, secrets)
    if (Option.isNone(said)) {
      return yield* Effect.fail(new UnexpectedResponse({ endpoint, status: response.status, twitchMessage: "" }))
    }
    return yield* Effect.fail(classify({ endpoint, status: response.status, ...said.value }))
  })

/** Decodes a 2xx JSON body with `schema`; any failure is a `MalformedResponse`. */
export const decodeBody = <A, I>(
  endpoint: Endpoint,
  response: HttpClientResponse.HttpClientResponse,
  schema: Schema.Schema<A, I>
): Effect.Effect<A, MalformedResponse> =>
  Effect.flatMap(
    Effect.mapError(
      response.text,
      () => new MalformedResponse({ endpoint, status: response.status, detail: "the body could not be read" })
    ),
    (text) => {
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        return Effect.fail(
          new MalformedResponse({ endpoint, status: response.status, detail: "the body is not JSON" })
        )
      }
      return Either.match(Schema.decodeUnknownEither(schema)(json), {
        onLeft: (error) =>
          Effect.fail(new MalformedResponse({ endpoint, status: response.status, detail: describeParseError(error) })),
        onRight: Effect.succeed
      })
    }
  )

/**
 * Reads a 2xx answer that Twitch sends without a body (revocation): a body there (a proxy's
 * page, a portal's login form) means Twitch did not answer, so nothing can be assumed done.
 */
export const emptyBody = (
  endpoint: Endpoint,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<void, MalformedResponse> =>
  Effect.flatMap(
    Effect.mapError(
      response.text,
      () => new MalformedResponse({ endpoint, status: response.status, detail: "the body could not be read" })
    ),
    (text) =>
      text.trim() === ""
        ? Effect.void
        : Effect.fail(
          new MalformedResponse({ endpoint, status: response.status, detail: "the body should be empty, and is not" })
        )
  )

/**
 * The id.twitch.tv pipeline `TwitchAuth` and `OpenIdConnect` share: the base URL and
 * `Accept: application/json` on every request; one deadline (`requestTimeout`) per attempt
 * covering the answer's headers and its whole body, read up to {@link maxAuthBodyBytes};
 * transient answers and failures before an answer retried on `retrySchedule` (an answer
 * whose body then fails is not sent again: Twitch has acted on it, and a refresh token may
 * be spent already).
 */
export const authClient = (
  client: HttpClient.HttpClient,
  config: TwitchAuthConfig.Service
): HttpClient.HttpClient.With<HttpClientError.HttpClientError> =>
  client.pipe(
    HttpClient.withScope,
    HttpClient.mapRequest(flow(HttpClientRequest.prependUrl(config.authUrl), HttpClientRequest.acceptJson)),
    HttpClient.transform(Exchange.timed({
      timeout: config.requestTimeout,
      maxBytes: maxAuthBodyBytes,
      // a transient answer is retried or becomes its error by status alone
      readBodyOf: (status) => !isRetriedStatus(status)
    })),
    // each attempt's end aborts its request: a connection is never left behind
    HttpClient.transformResponse(Effect.scoped),
    HttpClient.transformResponse(retryTransient(config.retrySchedule, isRetriedStatus))
  )

/**
 * Sends requests through {@link authClient}: a 2xx answer goes to `onSuccess`, any other to
 * `classify` (through {@link failWith}); a failed exchange becomes a `TransportError` or a
 * `MalformedResponse`. `secrets` are what the request carries (the client secret is always
 * added): they are scrubbed from every error's text.
 */
export const makeSend = (client: HttpClient.HttpClient.With<HttpClientError.HttpClientError>, config: TwitchAuthConfig.Service) =>
<A, E>(
  endpoint: Endpoint,
  request: HttpClientRequest.HttpClientRequest,
  onSuccess: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, MalformedResponse>,
  classify: (failure: Failure) => E,
  secrets: ReadonlyArray<Redacted.Redacted<string> | string> = []
): Effect.Effect<A, E | UnexpectedResponse | RateLimited | TwitchUnavailable | TransportError | MalformedResponse> => {
  const all = Option.match(config.clientSecret, { onNone: () => secrets, onSome: (secret) => [...secrets, secret] })
  return client.execute(request).pipe(
    Effect.mapError((error) => exchangeError(endpoint, error, all)),
    Effect.flatMap((response): Effect.Effect<
      A,
      E | UnexpectedResponse | RateLimited | TwitchUnavailable | MalformedResponse
    > =>
      response.status >= 200 && response.status < 300
        ? onSuccess(response)
        : failWith(endpoint, response, classify, all)
    )
  )
}

/** A transient answer carried through the retry as a failure, and given back when retries run out. */
class TransientAnswer extends Data.TaggedError("TransientAnswer")<{
  readonly response: HttpClientResponse.HttpClientResponse
}> {}

const isTransientAnswer = (u: unknown): u is TransientAnswer => u instanceof TransientAnswer

/**
 * Retries an HTTP attempt on one `schedule`, whatever mix of transient failures it meets:
 * answers whose status `isTransientStatus` accepts, transport failures (a `RequestError`
 * with reason `Transport`: refused, reset, timed out when the caller maps its timeout so)
 * and per-attempt `TimeoutException`s. (The platform's `retryTransient` runs a schedule for
 * answers inside another for failures, so alternating 503s and resets could take up to
 * (n+1)² attempts.) `canRetry` can exclude requests (by method, say). When the schedule ends
 * on a transient answer, that answer is returned, not an error.
 */
export const retryTransient = (
  schedule: Schedule.Schedule<unknown, unknown>,
  isTransientStatus: (status: number) => boolean,
  canRetry: (request: HttpClientRequest.HttpClientRequest) => boolean = () => true
) =>
<E, R>(
  attempt: Effect.Effect<HttpClientResponse.HttpClientResponse, E, R>
): Effect.Effect<HttpClientResponse.HttpClientResponse, E, R> => {
  const checked = Effect.flatMap(attempt, (response) =>
    isTransientStatus(response.status) ? Effect.fail(new TransientAnswer({ response })) : Effect.succeed(response))
  const retriable = (error: E | TransientAnswer): boolean =>
    isTransientAnswer(error)
      ? canRetry(error.response.request)
      : Cause.isTimeoutException(error) ||
        (HttpClientError.isHttpClientError(error) && error._tag === "RequestError" &&
          error.reason === "Transport" && canRetry(error.request))
  // The schedule's driver is made only after a first transient failure: the common path (one
  // attempt, a good answer) pays for no retry machinery.
  return Effect.catchAll(checked, (first) =>
    retriable(first)
      ? Effect.flatMap(Schedule.driver(schedule), (driver) => {
        const again = (
          error: E | TransientAnswer
        ): Effect.Effect<HttpClientResponse.HttpClientResponse, E | TransientAnswer, R> =>
          Effect.matchEffect(driver.next(error), {
            onFailure: () => Effect.fail(error),
            onSuccess: () => Effect.catchAll(checked, (next) => retriable(next) ? again(next) : Effect.fail(next))
          })
        return again(first)
      })
      : Effect.fail(first)).pipe(
      Effect.catchIf(isTransientAnswer, (error) => Effect.succeed(error.response))
    )
}

/** The answers id.twitch.tv calls are retried on: 408, 429, 500, 502, 503 and 504 (as the platform's `retryTransient`). */
export const isRetriedStatus = (status: number): boolean =>
  status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504
