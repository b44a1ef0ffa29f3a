/**
 * Sending requests to id.twitch.tv and turning its answers into values or typed errors.
 * Everything here is careful never to put a credential into an error: request bodies are
 * never inspected, and decoding failures are described by field names only.
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Token from "../Token.js"
import {
  type Endpoint,
  MalformedResponse,
  RateLimited,
  TransportError,
  TwitchUnavailable
} from "../TwitchAuthError.js"

/** What Twitch said when it refused a request. */
export interface Failure {
  readonly endpoint: Endpoint
  readonly status: number
  /** Twitch's `message`, or `""` when the body was not Twitch's error envelope. */
  readonly twitchMessage: string
  /** The same, lower-cased and trimmed, for matching. */
  readonly normalized: string
}

const decodeEnvelope = Schema.decodeUnknownOption(Schema.parseJson(Token.ErrorResponse))

/**
 * Describes a decoding failure by the paths of the offending fields, never by their values
 * (which may be tokens). `root` names the whole input (for an issue with an empty path);
 * at most `max` distinct issues are listed, then how many more there are.
 */
export const describeParseError = (
  error: ParseResult.ParseError,
  options: { readonly root?: string; readonly max?: number } = {}
): string => {
  const root = options.root ?? "the body"
  const max = options.max ?? Infinity
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const parts = Array.from(
    new Set(issues.map((issue) => {
      const path = issue.path.length === 0 ? root : `\`${issue.path.map(String).join(".")}\``
      switch (issue._tag) {
        case "Missing":
          return `${path} is missing`
        case "Unexpected":
          return `${path} is not expected`
        default:
          return `${path} has the wrong type or value`
      }
    }))
  )
  const shown = parts.slice(0, max).join("; ")
  return parts.length > max ? `${shown}; and ${parts.length - max} more` : shown
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

/** Maps a platform failure (or a per-attempt timeout) to a `TransportError`. */
export const transportError = (
  endpoint: Endpoint,
  error: HttpClientError.HttpClientError | Cause.TimeoutException
): TransportError => {
  if (error._tag === "TimeoutException") {
    return new TransportError({ endpoint, reason: "Timeout", detail: "no answer within the request timeout" })
  }
  const detail = [error.reason, error.description, causeText(error.cause)]
    .filter((s): s is string => s !== undefined && s.length > 0)
    .join(": ")
  return new TransportError({ endpoint, reason: "Network", detail })
}

const retryAfterSeconds = (response: HttpClientResponse.HttpClientResponse, nowMillis: number) => {
  const reset = Number(response.headers["ratelimit-reset"])
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, Math.ceil(reset - nowMillis / 1000))
  const retryAfter = Number(response.headers["retry-after"])
  return Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined
}

/**
 * Reads a non-2xx answer. 429 and 5xx become the transient errors; anything else is handed
 * to `classify` with Twitch's message.
 */
export const failWith = <E>(
  endpoint: Endpoint,
  response: HttpClientResponse.HttpClientResponse,
  classify: (failure: Failure) => E
): Effect.Effect<never, E | RateLimited | TwitchUnavailable> =>
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
    const twitchMessage = Option.match(decodeEnvelope(text), {
      onNone: () => "",
      onSome: (envelope) => envelope.message
    })
    return yield* Effect.fail(
      classify({ endpoint, status: response.status, twitchMessage, normalized: twitchMessage.trim().toLowerCase() })
    )
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
