/**
 * Reading Twitch's answers: its error envelope, safe decoding, failed exchanges as typed
 * errors (the pipeline that sends is `./pipeline.js`).
 * Everything here is careful never to put a credential into an error: request bodies are
 * never inspected, decoding failures are described by field names only, and what Twitch
 * (or whoever answered in its place) says is bounded and scrubbed of every secret the
 * request carried before it reaches an error.
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { type Endpoint, MalformedResponse, TransportError } from "../TwitchAuthError.js"
import * as Exchange from "./exchange.js"
import * as Token from "./tokenWire.js"

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
    if (value.length >= minSecretLength) { for (const variant of variantsOf(value)) variants.add(variant) }
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

const issuesOf = (
  issues: ParseResult.SingleOrNonEmpty<ParseResult.ParseIssue>
): ReadonlyArray<ParseResult.ParseIssue> => isNonEmpty(issues) ? issues : [issues]

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

/**
 * Decodes a 2xx JSON body's `text` with `schema`; any failure is a `MalformedResponse`.
 * `fast`, when given, is tried first: a hand-written check that gives the schema's value for
 * the usual body, or `undefined` (then the schema decides, and describes what is wrong).
 */
export const decodeText = <A, I>(
  endpoint: Endpoint,
  status: number,
  text: string,
  schema: Schema.Schema<A, I>,
  fast?: (json: unknown) => A | undefined
): Either.Either<A, MalformedResponse> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Either.left(new MalformedResponse({ endpoint, status, detail: "the body is not JSON" }))
  }
  const quick = fast?.(json)
  if (quick !== undefined) return Either.right(quick)
  return Either.mapLeft(
    Schema.decodeUnknownEither(schema)(json),
    (error) => new MalformedResponse({ endpoint, status, detail: describeParseError(error) })
  )
}

/**
 * Decodes a 2xx JSON body with `schema` (see {@link decodeText}) and makes the domain value
 * with `f`, given the time now; any failure is a `MalformedResponse`.
 */
export const decodeBodyWith = <A, I, B>(
  endpoint: Endpoint,
  response: HttpClientResponse.HttpClientResponse,
  schema: Schema.Schema<A, I>,
  fast: ((json: unknown) => A | undefined) | undefined,
  f: (wire: A, now: DateTime.Utc) => B
): Effect.Effect<B, MalformedResponse> =>
  Effect.matchEffect(response.text, {
    onFailure: () =>
      Effect.fail(new MalformedResponse({ endpoint, status: response.status, detail: "the body could not be read" })),
    onSuccess: (text) =>
      Either.match(decodeText(endpoint, response.status, text, schema, fast), {
        onLeft: Effect.fail,
        onRight: (wire) => Effect.map(DateTime.now, (now) => f(wire, now))
      })
  })

/** Decodes a 2xx JSON body with `schema` (see {@link decodeText}); any failure is a `MalformedResponse`. */
export const decodeBody = <A, I>(
  endpoint: Endpoint,
  response: HttpClientResponse.HttpClientResponse,
  schema: Schema.Schema<A, I>,
  fast?: (json: unknown) => A | undefined
): Effect.Effect<A, MalformedResponse> =>
  Effect.flatMap(
    Effect.mapError(
      response.text,
      () => new MalformedResponse({ endpoint, status: response.status, detail: "the body could not be read" })
    ),
    (text) => decodeText(endpoint, response.status, text, schema, fast)
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
