/**
 * `UndiciHttpClient`: a lean `HttpClient` on `undici`'s `Dispatcher.request`, the transport
 * this SDK recommends on Node. It is a general `HttpClient` (every `@effect/platform`
 * combinator works on it, and it serves your own requests as well as Twitch's), without the
 * per-request work `HttpClient.make` does for every adapter: no span with every header
 * redacted into attributes, no trace-propagation headers, no `AbortController` +
 * `FinalizationRegistry` entry per response. Interruption aborts the request (and a body
 * being read).
 *
 * Given to `TwitchAuth`, `OpenIdConnect` or `TwitchHttpClient` as it is (not wrapped in
 * `mapRequest` or the like), it also runs each of their attempts whole, in one promise: the
 * request, the answer's headers and its body under the one deadline of the attempt (a timer
 * that aborts the request), the body read up to its cap. The errors are the ones the generic
 * path gives on any other `HttpClient`.
 *
 * `undici` is an optional peer dependency of `@effect-twitch/auth`: install it to use this
 * module (`npm install undici`); nothing else in the package imports it.
 *
 * @example
 * ```ts
 * import { TwitchAuth, TwitchAuthConfig, UndiciHttpClient } from "@effect-twitch/auth"
 * import { Layer } from "effect"
 *
 * const TwitchAuthLive = TwitchAuth.layer.pipe(
 *   Layer.provide(TwitchAuthConfig.layerConfig()),
 *   Layer.provide(UndiciHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Undici from "undici"
import * as Exchange from "./internal/exchange.js"
import * as Lean from "./internal/lean.js"

type Body = string | Uint8Array | null

const encodeError = (request: HttpClientRequest.HttpClientRequest) => (cause: unknown) =>
  new HttpClientError.RequestError({ request, reason: "Encode", cause })

const requestBody = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<Body, HttpClientError.RequestError> => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(null)
    case "Uint8Array":
      return Effect.succeed(body.body)
    case "FormData":
      // Encoded by the web Response (multipart with a boundary); the header is set in send.
      return Effect.tryPromise({
        try: async () => new Uint8Array(await new Response(body.formData).arrayBuffer()),
        catch: encodeError(request)
      })
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array
        ? Effect.succeed(body.body)
        : Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Encode", description: "unsupported raw body" })
        )
    case "Stream":
      // Buffered: requests to Twitch are small forms.
      return Stream.runFold(body.stream, new Uint8Array(0), (acc, chunk) => {
        const out = new Uint8Array(acc.length + chunk.length)
        out.set(acc)
        out.set(chunk, acc.length)
        return out
      }).pipe(Effect.mapError(encodeError(request)))
  }
}

/** Reads the body once; interruption destroys it (the connection is then not reused). */
const readBody = <A>(
  response: UndiciResponse,
  read: (body: Undici.Dispatcher.ResponseData["body"]) => Promise<A>
): Effect.Effect<A, HttpClientError.ResponseError> =>
  Effect.async<A, HttpClientError.ResponseError>((resume) => {
    read(response.source.body).then(
      (value) => resume(Effect.succeed(value)),
      (cause) =>
        resume(
          Effect.fail(
            new HttpClientError.ResponseError({ request: response.request, response, reason: "Decode", cause })
          )
        )
    )
    return Effect.sync(() => {
      response.source.body.destroy()
    })
  })

class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  private cachedHeaders: Headers.Headers | undefined
  private cachedCookies: Cookies.Cookies | undefined
  private textPromise: Promise<string> | undefined
  private bytesPromise: Promise<ArrayBuffer> | undefined
  private formPromise: Promise<FormData> | undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    readonly source: Undici.Dispatcher.ResponseData
  ) {
    super()
  }

  get status(): number {
    return this.source.statusCode
  }

  get headers(): Headers.Headers {
    return (this.cachedHeaders ??= Headers.fromInput(this.source.headers))
  }

  get cookies(): Cookies.Cookies {
    if (this.cachedCookies !== undefined) return this.cachedCookies
    const header = this.source.headers["set-cookie"]
    return (this.cachedCookies = header === undefined
      ? Cookies.empty
      : Cookies.fromSetCookie(Array.isArray(header) ? header : [header]))
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return readBody(this, (body) => (this.textPromise ??= body.text()))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: (): unknown => (text === "" ? null : JSON.parse(text)),
        catch: (cause) =>
          new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
      }))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return readBody(this, (body) => (this.bytesPromise ??= body.arrayBuffer()))
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return readBody(this, (body) => (this.formPromise ??= body.formData()))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) =>
          new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
      }))
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.fromAsyncIterable(
      this.source.body,
      (cause) => new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
    ).pipe(Stream.filter((chunk): chunk is Uint8Array => chunk instanceof Uint8Array))
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

/** Sends `parts` with undici's own timeouts off: the deadline is the caller's. */
const dispatch = (
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  parts: Parts,
  controller: AbortController
) =>
  dispatcher.request({
    origin: parts.origin,
    path: parts.path,
    method: request.method,
    headers: parts.headers,
    body: parts.body,
    signal: controller.signal,
    headersTimeout: 0,
    bodyTimeout: 0
  })

const send = (
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.flatMap(
    requestBody(request),
    (body) =>
      Either.match(partsOf(request, body), {
        onLeft: Effect.fail,
        onRight: (parts) =>
          Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>((resume) => {
            const controller = new AbortController()
            // timeouts are the caller's (Effect.timeout), as with NodeHttpClient
            dispatch(dispatcher, request, parts, controller).then(
              (response) => resume(Effect.succeed(new UndiciResponse(request, response))),
              (cause) => resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
            )
            return Effect.sync(() => controller.abort())
          })
      })
  )

/** The largest delay `setTimeout` honours; a longer (or infinite) deadline sets no timer. */
const maxTimerMillis = 2_147_483_647

const cookiesOf = (headers: Undici.Dispatcher.ResponseData["headers"]): Cookies.Cookies => {
  const header = headers["set-cookie"]
  return header === undefined ? Cookies.empty : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
}

const concat = (chunks: ReadonlyArray<Buffer>, size: number): Uint8Array =>
  chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size)

/**
 * One whole attempt in one promise (see `./internal/lean.ts`): a timer aborts the request
 * when the deadline passes, before the headers (a `RequestTimeout`) or during the body (a
 * `BodyTimeout`); the body is read up to the cap (past it, or past a declared
 * `Content-Length` over it, the body is destroyed: `BodyTooLarge`). Only the first outcome
 * counts; whatever comes after it is dropped.
 */
const attempt = (
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest,
  redacted: HttpClientRequest.HttpClientRequest,
  options: Lean.Attempt,
  parts: Parts
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
    const controller = new AbortController()
    let source: Undici.Dispatcher.ResponseData | undefined
    // the answer without its body, once its headers are here: what errors after them carry
    let answer: HttpClientResponse.HttpClientResponse | undefined
    let done = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const finish = (
      outcome: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>
    ): void => {
      if (done) return
      done = true
      if (timer !== undefined) clearTimeout(timer)
      resume(outcome)
    }
    const stop = (): void => {
      controller.abort()
      source?.body.destroy()
    }
    if (options.timeoutMillis <= maxTimerMillis) {
      timer = setTimeout(() => {
        finish(Effect.fail(
          answer === undefined
            ? Exchange.requestTimeoutError(redacted, options.timeout)
            : Exchange.bodyError(answer, new Exchange.BodyTimeout({ timeout: options.timeout }))
        ))
        stop()
      }, Math.max(0, options.timeoutMillis))
    }
    // the deadline is the timer's, over headers and body together
    dispatch(dispatcher, request, parts, controller).then(
      (data) => {
        if (done) {
          data.body.destroy()
          return
        }
        source = data
        const status = data.statusCode
        const headers = Headers.fromInput(data.headers)
        const cookies = cookiesOf(data.headers)
        if (!options.readBodyOf(status)) {
          data.body.destroy()
          return finish(Effect.succeed(Exchange.bufferedResponse(redacted, status, headers, cookies)))
        }
        const head = Exchange.bufferedResponse(redacted, status, headers, cookies)
        answer = head
        const maxBytes = options.maxBytes
        const tooLarge = () => {
          finish(Effect.fail(Exchange.bodyError(head, new Exchange.BodyTooLarge({ maxBytes }))))
          data.body.destroy()
        }
        const declared = Number(data.headers["content-length"])
        if (Number.isFinite(declared) && declared > maxBytes) return tooLarge()
        const chunks: Array<Buffer> = []
        let size = 0
        data.body.on("data", (chunk: Buffer) => {
          size += chunk.length
          if (size > maxBytes) return tooLarge()
          chunks.push(chunk)
        })
        data.body.on("end", () => {
          finish(Effect.succeed(Exchange.bufferedResponse(redacted, status, headers, cookies, concat(chunks, size))))
        })
        data.body.on("error", (cause: unknown) => finish(Effect.fail(Exchange.bodyError(head, cause))))
      },
      (cause: unknown) =>
        finish(Effect.fail(new HttpClientError.RequestError({ request: redacted, reason: "Transport", cause })))
    )
    return Effect.sync(() => {
      done = true
      if (timer !== undefined) clearTimeout(timer)
      stop()
    })
  })

/** Where and what undici sends for a request. */
interface Parts {
  readonly origin: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: Body
}

/**
 * The parts of `request` as undici takes them; `Left` when the URL is invalid. Bodies that
 * are already bytes or a string are taken as they are (no effect to run).
 */
const partsOf = (
  request: HttpClientRequest.HttpClientRequest,
  body: Body
): Either.Either<Parts, HttpClientError.RequestError> => {
  const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
  if (Either.isLeft(url)) {
    return Either.left(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left }))
  }
  const headers = request.body._tag === "FormData"
    ? { ...request.headers, "content-type": new Response(request.body.formData).headers.get("content-type") ?? "" }
    : request.headers
  return Either.right({ origin: url.right.origin, path: url.right.pathname + url.right.search, headers, body })
}

/** The body when it needs no encoding, else `undefined`. */
const plainBody = (request: HttpClientRequest.HttpClientRequest): Body | undefined => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return null
    case "Uint8Array":
      return body.body
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array ? body.body : undefined
    default:
      return undefined
  }
}

const exchange = (dispatcher: Undici.Dispatcher): Lean.Exchange => (request, redacted, options) => {
  const withBody = (body: Body) =>
    Either.match(partsOf(request, body), {
      onLeft: (error) =>
        Effect.fail(new HttpClientError.RequestError({ request: redacted, reason: error.reason, cause: error.cause })),
      onRight: (parts) => attempt(dispatcher, request, redacted, options, parts)
    })
  const body = plainBody(request)
  return body === undefined
    ? Effect.flatMap(
      Effect.mapError(
        requestBody(request),
        (error) =>
          new HttpClientError.RequestError({
            request: redacted,
            reason: error.reason,
            ...(error.cause === undefined ? {} : { cause: error.cause }),
            ...(error.description === undefined ? {} : { description: error.description })
          })
      ),
      withBody
    )
    : withBody(body)
}

/**
 * An `HttpClient` over an undici `Dispatcher` (an `Agent`, a `Pool`, or undici's global
 * dispatcher: `getGlobalDispatcher()`). Timeouts are the caller's (`Effect.timeout`), as with
 * the platform's adapters; `TwitchAuth`, `OpenIdConnect` and `TwitchHttpClient` give this
 * client their own deadline per attempt.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dispatcher: Undici.Dispatcher): HttpClient.HttpClient =>
  Lean.register(
    HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
      (request) => Effect.flatMap(request, (request) => send(dispatcher, request)),
      Effect.succeed
    ),
    exchange(dispatcher)
  )

/**
 * Provides `HttpClient` on a fresh undici `Agent` (keep-alive connections, closed with the
 * layer). `undici` is loaded when the layer is built, so that importing this package does not
 * need it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = Layer.scoped(
  HttpClient.HttpClient,
  Effect.map(
    Effect.acquireRelease(
      Effect.promise(() => import("undici").then((undici) => new undici.Agent())),
      (agent) => Effect.promise(() => agent.destroy())
    ),
    make
  )
)
