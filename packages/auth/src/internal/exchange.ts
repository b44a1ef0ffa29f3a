/**
 * One HTTP exchange under one deadline: the request, the answer's headers and its whole body,
 * read as a stream and stopped at a cap. What comes out is a buffered response whose request
 * carries no credential, so that neither it nor any error made from it (by us, by the
 * platform, or by a caller decoding it) can print one, in a fiber or outside of one.
 */
import type * as Cookies from "@effect/platform/Cookies"
import type * as Headers from "@effect/platform/Headers"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** The answer's body is larger than the cap: reading stopped there. */
export class BodyTooLarge extends Data.TaggedError("BodyTooLarge")<{ readonly maxBytes: number }> {
  override get message(): string {
    return `the body is larger than the cap of ${this.maxBytes} bytes; reading stopped there`
  }
}

/** The deadline passed after the answer's headers, while its body was still arriving. */
export class BodyTimeout extends Data.TaggedError("BodyTimeout")<{ readonly timeout: string }> {
  override get message(): string {
    return `the answer did not arrive in full within the request timeout (${this.timeout})`
  }
}

/** The deadline passed before the answer's headers arrived. */
export class RequestTimeout extends Data.TaggedError("RequestTimeout")<{ readonly timeout: string }> {
  override get message(): string {
    return `no answer within the request timeout (${this.timeout})`
  }
}

const schemes = /^(bearer|oauth|basic) /i

/**
 * The request without its credential: an `Authorization` header keeps its scheme
 * (`Bearer <redacted>`), never its value.
 */
export const redactRequest = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest => {
  const authorization = request.headers["authorization"]
  if (authorization === undefined) return request
  const scheme = schemes.exec(authorization)
  return HttpClientRequest.setHeader(
    request,
    "authorization",
    scheme === null ? "<redacted>" : `${scheme[0]}<redacted>`
  )
}

const decoder = new TextDecoder()
const emptyBytes = new Uint8Array(0)

/**
 * A response whose body has been read already (the bytes are here), and whose request is
 * the redacted one. Reading it again costs nothing and cannot hang.
 */
class BufferedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    readonly status: number,
    readonly headers: Headers.Headers,
    readonly cookies: Cookies.Cookies,
    readonly remoteAddress: Option.Option<string>,
    private readonly bytes: Uint8Array
  ) {
    super()
  }

  private decoded: string | undefined
  private get body(): string {
    return this.decoded ??= decoder.decode(this.bytes)
  }

  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.sync(() => this.body)
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.try({
      try: (): unknown => (this.body === "" ? null : JSON.parse(this.body)),
      catch: (cause) => this.decodeError(cause)
    })
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.try({
      try: () => UrlParams.fromInput(new URLSearchParams(this.body)),
      catch: (cause) => this.decodeError(cause)
    })
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.sync(() => new Uint8Array(this.bytes).buffer)
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.tryPromise({
      try: () => new Response(new Uint8Array(this.bytes), { headers: this.headers }).formData(),
      catch: (cause) => this.decodeError(cause)
    })
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return this.bytes.length === 0 ? Stream.empty : Stream.succeed(this.bytes)
  }

  toJSON(): unknown {
    return IncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

const buffered = (
  request: HttpClientRequest.HttpClientRequest,
  response: HttpClientResponse.HttpClientResponse,
  bytes: Uint8Array
): HttpClientResponse.HttpClientResponse =>
  new BufferedResponse(request, response.status, response.headers, response.cookies, response.remoteAddress, bytes)

/**
 * A buffered response made from its parts (for a transport that read the body itself: see
 * `./lean.js`). `request` must be the redacted one.
 */
export const bufferedResponse = (
  request: HttpClientRequest.HttpClientRequest,
  status: number,
  headers: Headers.Headers,
  cookies: Cookies.Cookies,
  bytes: Uint8Array = emptyBytes
): HttpClientResponse.HttpClientResponse => new BufferedResponse(request, status, headers, cookies, noAddress, bytes)

const noAddress: Option.Option<string> = Option.none()

/** The error of a deadline passed before the answer's headers, as {@link timed} gives it. */
export const requestTimeoutError = (
  redacted: HttpClientRequest.HttpClientRequest,
  timeout: string
): HttpClientError.RequestError => {
  const cause = new RequestTimeout({ timeout })
  return new HttpClientError.RequestError({ request: redacted, reason: "Transport", cause, description: cause.message })
}

/**
 * The error of a body that failed after the answer's headers, as {@link timed} gives it:
 * `cause` is a {@link BodyTimeout}, a {@link BodyTooLarge}, or the connection's own failure
 * (then described as such).
 */
export const bodyError = (
  response: HttpClientResponse.HttpClientResponse,
  cause: unknown
): HttpClientError.ResponseError =>
  new HttpClientError.ResponseError({
    request: response.request,
    response,
    reason: "Decode",
    cause,
    description: cause instanceof BodyTimeout || cause instanceof BodyTooLarge
      ? cause.message
      : "the connection failed while the body was read"
  })

const concat = (chunks: Chunk.Chunk<Uint8Array>, size: number): Uint8Array => {
  const out = new Uint8Array(size)
  Chunk.reduce(chunks, 0, (offset, chunk) => {
    out.set(chunk, offset)
    return offset + chunk.length
  })
  return out
}

/**
 * Reads a body as a stream, at most `maxBytes` of it: past the cap, reading stops (the
 * stream's end aborts the connection) and the read fails with `BodyTooLarge`. A declared
 * `Content-Length` over the cap fails before anything is read. At most the cap plus one
 * chunk is ever held.
 */
export const readBody = (
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number
): Effect.Effect<Uint8Array, BodyTooLarge | HttpClientError.ResponseError> => {
  const declared = Number(response.headers["content-length"])
  if (Number.isFinite(declared) && declared > maxBytes) return Effect.fail(new BodyTooLarge({ maxBytes }))
  return Stream.runFoldWhile(
    response.stream,
    { chunks: Chunk.empty<Uint8Array>(), size: 0 },
    (read) => read.size <= maxBytes,
    (read, chunk) => ({ chunks: Chunk.append(read.chunks, chunk), size: read.size + chunk.length })
  ).pipe(
    Effect.catchIf(
      (error) => error.reason === "EmptyBody",
      () => Effect.succeed({ chunks: Chunk.empty<Uint8Array>(), size: 0 })
    ),
    Effect.flatMap((read) =>
      read.size > maxBytes
        ? Effect.fail(new BodyTooLarge({ maxBytes }))
        : Effect.succeed(concat(read.chunks, read.size))
    )
  )
}

/** Copies of the platform's errors whose requests (and responses' requests) are redacted. */
export const redactError = (error: HttpClientError.HttpClientError): HttpClientError.HttpClientError => {
  const request = redactRequest(error.request)
  const extra = {
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    ...(error.description === undefined ? {} : { description: error.description })
  }
  return error._tag === "RequestError"
    ? new HttpClientError.RequestError({ request, reason: error.reason, ...extra })
    : new HttpClientError.ResponseError({
      request,
      response: error.response instanceof BufferedResponse
        ? error.response
        : buffered(request, error.response, emptyBytes),
      reason: error.reason,
      ...extra
    })
}

/**
 * What {@link timed} needs: the deadline of one attempt (headers and body), the cap on a
 * body, and which answers' bodies to read (a transient answer that will be retried need not
 * be).
 */
export interface Options {
  readonly timeout: Duration.Duration
  readonly maxBytes: number
  readonly readBodyOf: (status: number) => boolean
}

/**
 * One attempt under one deadline: `attempt` must give the answer's headers, and its body
 * must be read in full (at most `maxBytes` of it), before `timeout` has passed since the
 * attempt began. Gives a buffered response over the redacted request. Fails with:
 *
 * - a `RequestError` (`Transport`) when no answer came: the connection failed, or the
 *   deadline passed before the headers (its `cause` is a {@link RequestTimeout});
 * - a `ResponseError` (`Decode`) when the answer began but its body failed: the deadline
 *   passed ({@link BodyTimeout}), the body passed the cap ({@link BodyTooLarge}), or the
 *   connection failed mid-body. Twitch has acted on the request by then, so callers do not
 *   send it again.
 *
 * Every error's request is redacted. Build the client with `HttpClient.withScope` and close
 * a scope around each attempt (`HttpClient.transformResponse(Effect.scoped)` right after
 * this): its end aborts the request, so a body refused at its declared length, or not read,
 * drops the connection at once instead of when the response is garbage-collected.
 */
export const timed = (options: Options) =>
<E, R>(
  attempt: Effect.Effect<HttpClientResponse.HttpClientResponse, E, R>,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientResponse.HttpClientResponse, E | HttpClientError.HttpClientError, R> => {
  const redacted = redactRequest(request)
  const timeout = Duration.format(options.timeout)
  const budget = Duration.toMillis(options.timeout)
  return Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const response = yield* Effect.timeoutFail(attempt, {
      duration: options.timeout,
      onTimeout: () => {
        const cause = new RequestTimeout({ timeout })
        return new HttpClientError.RequestError({
          request: redacted,
          reason: "Transport",
          cause,
          description: cause.message
        })
      }
    })
    if (!options.readBodyOf(response.status)) return buffered(redacted, response, emptyBytes)
    const elapsed = (yield* Clock.currentTimeMillis) - start
    const bytes = yield* readBody(response, options.maxBytes).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(Math.max(0, budget - elapsed)),
        onTimeout: () => new BodyTimeout({ timeout })
      }),
      Effect.mapError((error) => {
        const cause = error._tag === "ResponseError" ? error.cause : error
        return new HttpClientError.ResponseError({
          request: redacted,
          response: buffered(redacted, response, emptyBytes),
          reason: "Decode",
          cause,
          description: error._tag === "ResponseError"
            ? "the connection failed while the body was read"
            : error.message
        })
      })
    )
    return buffered(redacted, response, bytes)
  }).pipe(
    Effect.mapError((error): E | HttpClientError.HttpClientError =>
      HttpClientError.isHttpClientError(error) ? redactError(error) : error
    )
  )
}
