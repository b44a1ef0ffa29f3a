/**
 * The one request pipeline to Twitch. `authClient` decorates the user's `HttpClient` once
 * for id.twitch.tv (base URL, `Accept: application/json`, one deadline per attempt, the body
 * cap, transient retry); `makeSend` runs an operation through it, turning an answer into a
 * value or the error a caller acts on (status → transient errors here, Twitch's message →
 * error through a table of `./refusals.js`). `TwitchAuth` and `OpenIdConnect` send every
 * request through it; `TwitchHttpClient` (Helix) shares its retry and its one reading of
 * `Ratelimit-Reset`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { flow } from "effect/Function"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { TwitchAuthConfig } from "../TwitchAuthConfig.js"
import {
  type Endpoint,
  type MalformedResponse,
  RateLimited,
  type TransportError,
  TwitchUnavailable,
  UnexpectedResponse
} from "../TwitchAuthError.js"
import * as Exchange from "./exchange.js"
import * as Lean from "./lean.js"
import * as Wire from "./wire.js"

/**
 * The seconds until a 429's limit resets, read one way for id.twitch.tv and Helix alike:
 * `Ratelimit-Reset` ("a Unix epoch timestamp of when your rate-limit window will reset":
 * https://dev.twitch.tv/docs/api/guide/#twitch-rate-limits, quoted on
 * https://discuss.dev.twitch.com/t/helix-rate-limit-for-streams-endpoint/12955) minus now,
 * rounded up so that a wait never ends before the bucket refills; without it, `Retry-After`
 * in seconds (RFC 9110 §10.2.3; guess: not documented by Twitch, which may never send it,
 * but a proxy in front of it may; an HTTP-date there is not read); else nothing.
 */
export const retryAfterSeconds = (
  headers: HttpClientResponse.HttpClientResponse["headers"],
  nowMillis: number
): number | undefined => {
  const reset = Number(headers["ratelimit-reset"])
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, Math.ceil(reset - nowMillis / 1000))
  const retryAfter = Number(headers["retry-after"])
  return Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined
}

/** A 429 answer as the `RateLimited` error, with {@link retryAfterSeconds} read on the `Clock`. */
export const rateLimited = (
  endpoint: string,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<never, RateLimited> =>
  Effect.flatMap(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => {
    const seconds = retryAfterSeconds(response.headers, now)
    return Effect.fail(new RateLimited(seconds === undefined ? { endpoint } : { endpoint, retryAfterSeconds: seconds }))
  })

/**
 * Reads a non-2xx answer. 429 and 5xx become the transient errors. Anything else is handed
 * to `classify` when it is Twitch's own error envelope (see `Wire.twitchMessageOf`), and
 * is an `UnexpectedResponse` when it is not: only Twitch can say that a token is dead.
 * Twitch's message is bounded and scrubbed of `secrets`.
 */
export const failWith = <E>(
  endpoint: Endpoint,
  response: HttpClientResponse.HttpClientResponse,
  classify: (failure: Wire.Failure) => E,
  secrets: ReadonlyArray<Redacted.Redacted<string> | string> = []
): Effect.Effect<never, E | UnexpectedResponse | RateLimited | TwitchUnavailable> =>
  Effect.gen(function*() {
    if (response.status === 429) return yield* rateLimited(endpoint, response)
    if (response.status >= 500) {
      return yield* Effect.fail(new TwitchUnavailable({ endpoint, status: response.status }))
    }
    const text = yield* Effect.orElseSucceed(response.text, () => "")
    const said = Wire.twitchMessageOf(text, response.status, secrets)
    if (Option.isNone(said)) {
      return yield* Effect.fail(new UnexpectedResponse({ endpoint, status: response.status, twitchMessage: "" }))
    }
    return yield* Effect.fail(classify({ endpoint, status: response.status, ...said.value }))
  })

/** How {@link decorate} runs and retries each attempt. */
export interface AttemptOptions<E> {
  /** The deadline of one attempt, the cap on a body, and which answers' bodies are read. */
  readonly exchange: Exchange.Options
  /** What an answer becomes before the retry sees it (an error, say); default: itself. */
  readonly inspect?: (
    response: HttpClientResponse.HttpClientResponse,
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, E>
  readonly schedule: Schedule.Schedule<unknown, unknown>
  /** Which answers are transient (retried; given back when the schedule ends). */
  readonly isTransientStatus: (status: number) => boolean
  /** Which requests may be sent again (default: all). */
  readonly canRetry?: (request: HttpClientRequest.HttpClientRequest) => boolean
}

/**
 * The attempt pipeline every Twitch client is built on (id.twitch.tv here, Helix in
 * `TwitchHttpClient`): the client made scoped, `prepare`'s decoration of each request (base
 * URL, headers; run again for every attempt), one deadline per attempt over the answer's
 * headers and its body (`Exchange.timed`: a buffered response over the redacted request),
 * `inspect` on each answer, the attempt's scope closed at its end (which aborts its request:
 * a connection is never left behind), and {@link retryTransient} over it all.
 */
export const decorate = <E, E2 = never>(
  client: HttpClient.HttpClient,
  prepare: (
    client: HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope>
  ) => HttpClient.HttpClient.With<E, Scope.Scope>,
  options: AttemptOptions<E2>
): HttpClient.HttpClient.With<E | E2 | HttpClientError.HttpClientError> => {
  const timed = Exchange.timed(options.exchange)
  const inspect = options.inspect
  return prepare(HttpClient.withScope(client)).pipe(
    HttpClient.transform((attempt, request) =>
      inspect === undefined
        ? timed(attempt, request)
        : Effect.flatMap(timed(attempt, request), (response) => inspect(response, request))
    ),
    HttpClient.transformResponse(Effect.scoped),
    HttpClient.transformResponse(retryTransient(options.schedule, options.isTransientStatus, options.canRetry))
  )
}

/** Sends one id.twitch.tv request (its path relative to `authUrl`) and gives its buffered answer. */
export type AuthSend = (
  request: HttpClientRequest.HttpClientRequest
) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>

/**
 * The id.twitch.tv client `TwitchAuth` and `OpenIdConnect` share: the base URL and
 * `Accept: application/json` on every request; one deadline (`requestTimeout`) per attempt
 * covering the answer's headers and its whole body, read up to `Wire.maxAuthBodyBytes`;
 * transient answers and failures before an answer retried on `retrySchedule` (an answer
 * whose body then fails is not sent again: Twitch has acted on it, and a refresh token may
 * be spent already).
 *
 * When the transport runs whole attempts itself (`UndiciHttpClient`, see `./lean.js`), each
 * attempt is one call into it; on any other `HttpClient`, the generic {@link decorate}. Both
 * give the same answers and the same errors.
 */
export const authClient = (client: HttpClient.HttpClient, config: TwitchAuthConfig.Service): AuthSend => {
  const exchange: Exchange.Options = {
    timeout: config.requestTimeout,
    maxBytes: Wire.maxAuthBodyBytes,
    // a transient answer is retried or becomes its error by status alone
    readBodyOf: (status) => !isRetriedStatus(status)
  }
  const lean = Lean.exchangeOf(client)
  if (lean === undefined) {
    const decorated = decorate(
      client,
      HttpClient.mapRequest(flow(HttpClientRequest.prependUrl(config.authUrl), HttpClientRequest.acceptJson)),
      { exchange, schedule: config.retrySchedule, isTransientStatus: isRetriedStatus }
    )
    return (request) => decorated.execute(request)
  }
  const attempt = leanAttempt(exchange)
  const retry = retryTransient(config.retrySchedule, isRetriedStatus)
  const base = config.authUrl
  return (request) => {
    const full = HttpClientRequest.setHeader(HttpClientRequest.prependUrl(request, base), "accept", "application/json")
    return retry(lean(full, Exchange.redactRequest(full), attempt))
  }
}

/** {@link Exchange.Options} as a lean transport takes them (the deadline in milliseconds, formatted once). */
export const leanAttempt = (options: Exchange.Options): Lean.Attempt => ({
  timeoutMillis: Duration.toMillis(options.timeout),
  timeout: Duration.format(options.timeout),
  maxBytes: options.maxBytes,
  readBodyOf: options.readBodyOf
})

/**
 * Sends requests through {@link authClient}: a 2xx answer goes to `onSuccess`, any other to
 * `classify` (through {@link failWith}); a failed exchange becomes a `TransportError` or a
 * `MalformedResponse`. `secrets` are what the request carries (the client secret is always
 * added): they are scrubbed from every error's text.
 */
export const makeSend = (send: AuthSend, config: TwitchAuthConfig.Service) => {
  const clientSecret = Option.getOrUndefined(config.clientSecret)
  return <A, E>(
    endpoint: Endpoint,
    request: HttpClientRequest.HttpClientRequest,
    onSuccess: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, MalformedResponse>,
    classify: (failure: Wire.Failure) => E,
    secrets: ReadonlyArray<Redacted.Redacted<string> | string> = []
  ): Effect.Effect<
    A,
    E | UnexpectedResponse | RateLimited | TwitchUnavailable | TransportError | MalformedResponse
  > => {
    // the secrets are gathered only when an error needs them
    const all = () => clientSecret === undefined ? secrets : [...secrets, clientSecret]
    return Effect.matchEffect(send(request), {
      onFailure: (error) => Effect.fail(Wire.exchangeError(endpoint, error, all())),
      onSuccess: (response): Effect.Effect<
        A,
        E | UnexpectedResponse | RateLimited | TwitchUnavailable | MalformedResponse
      > =>
        response.status >= 200 && response.status < 300
          ? onSuccess(response)
          : failWith(endpoint, response, classify, all())
    })
  }
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
  const checked = Effect.flatMap(
    attempt,
    (response) =>
      isTransientStatus(response.status) ? Effect.fail(new TransientAnswer({ response })) : Effect.succeed(response)
  )
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
