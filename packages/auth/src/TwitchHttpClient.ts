/**
 * `TwitchHttpClient`: an `HttpClient` for the Helix API that carries the credentials for
 * you. Every attempt gets the Helix base URL, `Client-Id`, and
 * `Authorization: Bearer <current token>` — read afresh per attempt, so the retry after a
 * refresh carries the new token. One deadline, the configured `requestTimeout`, covers each
 * attempt whole: the answer's headers and its body, which is read before the response is
 * handed to you (at most `maxBodyBytes` of it, {@link defaultMaxBodyBytes} by default), so
 * reading it cannot hang. 5xx answers, resets and timeouts before an answer of idempotent
 * requests are retried on the configured `retrySchedule`. Helix's own 401 answers become
 * typed errors; a dead token (`401 Invalid OAuth token`) is refreshed (once for all
 * concurrent callers) and the request retried, and no other 401 spends a refresh; a 429 waits
 * until `Ratelimit-Reset` (rounded up; `Retry-After` when it is absent) and retries.
 *
 * Nothing that leaves this client carries the token: the responses it gives, and every
 * error (the platform's `RequestError`/`ResponseError`, including those you make from a
 * response, such as with `filterStatusOk` or `schemaBodyJson`), hold a copy of the request
 * whose `Authorization` header reads `Bearer <redacted>`. That holds outside a fiber too
 * (`JSON.stringify`, `util.inspect`, an unhandled rejection), where the platform's own
 * redaction does not apply.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { flow } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Lean from "./internal/lean.js"
import * as Pipeline from "./internal/pipeline.js"
import * as Refresh from "./internal/refresh.js"
import * as Refusals from "./internal/refusals.js"
import * as Wire from "./internal/wire.js"
import * as Retry from "./Retry.js"
import { TwitchAuthConfig } from "./TwitchAuthConfig.js"
import { type HelixUnauthorized, type InvalidAccessToken, type MissingScope, RateLimited } from "./TwitchAuthError.js"
import { type CredentialsError, TwitchCredentials } from "./TwitchCredentials.js"

/**
 * Everything a call through {@link TwitchHttpClient} can fail with, besides the
 * platform's `HttpClientError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type HelixError = InvalidAccessToken | MissingScope | HelixUnauthorized | RateLimited | CredentialsError

/**
 * The authenticated Helix client.
 *
 * @example
 * ```ts
 * import { TwitchHttpClient } from "@effect-twitch/auth"
 * import { HttpClientResponse } from "@effect/platform"
 * import { Effect, Schema } from "effect"
 *
 * const Users = Schema.Struct({ data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String })) })
 *
 * const me = Effect.gen(function*() {
 *   const helix = yield* TwitchHttpClient.TwitchHttpClient
 *   const response = yield* helix.get("/users")
 *   return yield* HttpClientResponse.schemaBodyJson(Users)(response)
 * })
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class TwitchHttpClient extends Context.Tag("@effect-twitch/auth/TwitchHttpClient")<
  TwitchHttpClient,
  HttpClient.HttpClient.With<HttpClientError.HttpClientError | HelixError>
>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How many 429 answers in a row are waited out before `RateLimited` surfaces. Default 3. */
  readonly rateLimitRetries?: number | undefined
  /** The longest single wait for `Ratelimit-Reset`. Default 60 seconds. */
  readonly maxRateLimitWait?: Duration.DurationInput | undefined
  /** Passed to `withTokenRefresh`. Default: one refresh, one retry. */
  readonly refresh?: Retry.WithTokenRefreshOptions | undefined
  /**
   * The most of an answer's body that is read, in bytes (`Infinity` for no cap). Default
   * {@link defaultMaxBodyBytes}. A longer body ends the attempt, unread past the cap, with a
   * `ResponseError` (`Decode`) that says so; it is not retried.
   */
  readonly maxBodyBytes?: number | undefined
}

/**
 * The most of a Helix answer's body that is read by default: 8 MiB. A page of Helix's
 * largest objects (100 videos, clips or streams) is a few hundred KB.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxBodyBytes = 8 * 1024 * 1024

/** Methods that may be sent twice: a POST or PATCH that timed out may have been applied. */
const idempotent: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])

const canRetry = (request: HttpClientRequest.HttpClientRequest): boolean => idempotent.has(request.method)

const isServerError = (status: number): boolean => status === 500 || status === 502 || status === 503 || status === 504

const endpointOf = (request: HttpClientRequest.HttpClientRequest): string => {
  try {
    return `${request.method} ${new URL(request.url).pathname}`
  } catch {
    return request.method
  }
}

const bearerOf = (request: HttpClientRequest.HttpClientRequest): Option.Option<Redacted.Redacted<string>> => {
  const header = request.headers["authorization"] ?? ""
  return header.toLowerCase().startsWith("bearer ")
    ? Option.some(Redacted.make(header.slice("bearer ".length)))
    : Option.none()
}

/** Helix's own 401s, read through their table (internal/refusals.ts). */
const refusedHelix = Refusals.classifyWith(Refusals.helixUnauthorized, Refusals.helixFallback)

/**
 * Turns Helix's own 401 (its JSON envelope, `status` 401 and a `message`) into the error a
 * caller acts on. Only a dead token is an `InvalidAccessToken`, which `withTokenRefresh`
 * answers with a refresh; every other 401 of Helix's — a missing scope, a client mismatch,
 * "The ID in broadcaster_id must match the user ID found in the request's OAuth token.", a
 * message Twitch adds tomorrow — is a `MissingScope` or a `HelixUnauthorized` carrying
 * Twitch's message, and spends no refresh (a public client's refresh token is single-use).
 * Any other 401 — a proxy's page, a portal's form — says nothing about the token: it is
 * handed back as the response it is, and nothing is refreshed.
 */
const unauthorized = (
  response: HttpClientResponse.HttpClientResponse,
  token: Option.Option<Redacted.Redacted<string>>
): Effect.Effect<HttpClientResponse.HttpClientResponse, InvalidAccessToken | MissingScope | HelixUnauthorized> =>
  Effect.flatMap(
    Effect.orElseSucceed(response.text, () => ""),
    (text) =>
      Option.match(Wire.twitchMessageOf(text, 401, Option.toArray(token)), {
        onNone: () => Effect.succeed(response),
        onSome: (said) =>
          Effect.fail(
            refusedHelix(
              { endpoint: endpointOf(response.request), status: 401, ...said },
              { token: Option.getOrUndefined(token) }
            )
          )
      })
  )

/**
 * Builds the client from the credentials in context, the configuration (Helix URL, client
 * id) and the transport.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<
  HttpClient.HttpClient.With<HttpClientError.HttpClientError | HelixError>,
  never,
  TwitchCredentials | TwitchAuthConfig | HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const config = yield* TwitchAuthConfig
    const credentials = yield* TwitchCredentials
    const retries = Math.max(0, Math.floor(options.rateLimitRetries ?? 3))
    const maxWait = Duration.decode(options.maxRateLimitWait ?? "60 seconds")
    const maxBytes = options.maxBodyBytes !== undefined && options.maxBodyBytes >= 0
      ? options.maxBodyBytes
      : defaultMaxBodyBytes

    const waitOutRateLimit = <E, R>(
      effect: Effect.Effect<HttpClientResponse.HttpClientResponse, E | RateLimited, R>
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, E | RateLimited, R> => {
      const loop = (left: number): Effect.Effect<HttpClientResponse.HttpClientResponse, E | RateLimited, R> =>
        Effect.catchIf(effect, (error): error is RateLimited => error instanceof RateLimited, (error) =>
          left <= 0
            ? Effect.fail(error)
            : Effect.sleep(Duration.min(Duration.seconds(error.retryAfterSeconds ?? 1), maxWait)).pipe(
              Effect.zipRight(loop(left - 1))
            ))
      return loop(retries)
    }

    // Helix's own 401s and 429s become typed errors where the token sent is known.
    const inspect = (
      response: HttpClientResponse.HttpClientResponse,
      token: Option.Option<Redacted.Redacted<string>>
    ): Effect.Effect<
      HttpClientResponse.HttpClientResponse,
      InvalidAccessToken | MissingScope | HelixUnauthorized | RateLimited
    > =>
      response.status === 401
        ? unauthorized(response, token)
        : response.status === 429
        ? Pipeline.rateLimited(endpointOf(response.request), response)
        : Effect.succeed(response)
    // One deadline per attempt, `requestTimeout`, covers the answer's headers and its whole
    // body (read here, at most `maxBodyBytes`); no answer in time is a transport failure like
    // a reset. The response and every error from here on carry a redacted request.
    const exchange = { timeout: config.requestTimeout, maxBytes, readBodyOf: () => true }
    const refreshSchedule = options.refresh?.schedule ?? Schedule.recurs(1)
    const client = yield* HttpClient.HttpClient
    const lean = Lean.exchangeOf(client)

    if (lean !== undefined) {
      // The transport runs each attempt whole (see internal/lean.ts): the fixed headers are
      // set in one copy of the request, the token read per attempt (a retry after a refresh
      // carries the new one), and nothing else is built per call.
      const attempt = Pipeline.leanAttempt(exchange)
      const retry = Pipeline.retryTransient(config.retrySchedule, isServerError, canRetry)
      const once = (request: HttpClientRequest.HttpClientRequest) =>
        Effect.flatMap(credentials.accessToken, (token) => {
          const prefixed = HttpClientRequest.prependUrl(request, config.helixUrl)
          const full = HttpClientRequest.setHeaders(prefixed, {
            "client-id": config.clientId,
            accept: "application/json",
            authorization: `Bearer ${Redacted.value(token)}`
          })
          const redacted = HttpClientRequest.setHeaders(prefixed, {
            "client-id": config.clientId,
            accept: "application/json",
            authorization: "Bearer <redacted>"
          })
          return Effect.flatMap(lean(full, redacted, attempt), (response) => inspect(response, Option.some(token)))
        })
      const call = (request: HttpClientRequest.HttpClientRequest) =>
        Refresh.onInvalidToken(
          waitOutRateLimit(retry(once(request))),
          refreshSchedule,
          (error) =>
            error.token === undefined
              ? Effect.flatMap(credentials.accessToken, credentials.refreshAccessToken)
              : credentials.refreshAccessToken(error.token)
        )
      return HttpClient.makeWith(
        (request: Effect.Effect<HttpClientRequest.HttpClientRequest>) => Effect.flatMap(request, call),
        Effect.succeed
      )
    }

    return Pipeline.decorate(
      client,
      flow(
        HttpClient.mapRequest(flow(
          HttpClientRequest.prependUrl(config.helixUrl),
          HttpClientRequest.setHeader("client-id", config.clientId),
          HttpClientRequest.acceptJson
        )),
        // Read per attempt: a retry after a refresh carries the new token.
        HttpClient.mapRequestEffect((request) =>
          Effect.map(credentials.accessToken, (token) => HttpClientRequest.bearerToken(request, token))
        )
      ),
      {
        exchange,
        inspect: (response, request) => inspect(response, bearerOf(request)),
        // 5xx answers, resets and timeouts before an answer of idempotent requests are retried
        // on the configured schedule (429 has its own wait below); each retry reads the token
        // again.
        schedule: config.retrySchedule,
        isTransientStatus: isServerError,
        canRetry
      }
    ).pipe(
      HttpClient.transformResponse(waitOutRateLimit),
      HttpClient.transformResponse((effect) =>
        effect.pipe(Retry.withTokenRefresh(options.refresh), Effect.provideService(TwitchCredentials, credentials))
      )
    )
  })

/**
 * Provides {@link TwitchHttpClient} over the `TwitchCredentials` in context (a
 * `TwitchSession` or an `AppTokenSession`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<TwitchHttpClient, never, TwitchCredentials | TwitchAuthConfig | HttpClient.HttpClient> =>
  Layer.effect(TwitchHttpClient, make(options))
