/**
 * A lean `HttpClient` on `undici`'s `Dispatcher.request`: the `@effect/platform` `HttpClient`
 * interface (so every combinator — `mapRequest`, `retryTransient`, `filterStatus`… — works on
 * it), without the per-request work `HttpClient.make` does for every adapter: no span with
 * every header redacted into attributes, no trace-propagation headers, no `AbortController` +
 * `FinalizationRegistry` entry per response. Interruption still aborts the request (and a body
 * being read).
 *
 * Written in `bench/` first (undici is not a dependency of `@effect-twitch/auth`); see
 * BENCHMARKS.md for what it buys and why.
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
import * as Undici from "undici"

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

const send = (
  dispatcher: Undici.Dispatcher,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
  const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
  if (Either.isLeft(url)) {
    return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left }))
  }
  const { origin, pathname, search } = url.right
  const headers = request.body._tag === "FormData"
    ? { ...request.headers, "content-type": new Response(request.body.formData).headers.get("content-type") ?? "" }
    : request.headers
  return Effect.flatMap(
    requestBody(request),
    (body) =>
      Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>((resume) => {
        const controller = new AbortController()
        dispatcher.request({
          origin,
          path: pathname + search,
          method: request.method,
          headers,
          body,
          signal: controller.signal,
          // timeouts are the caller's (Effect.timeout), as with NodeHttpClient
          headersTimeout: 0,
          bodyTimeout: 0
        }).then(
          (response) => resume(Effect.succeed(new UndiciResponse(request, response))),
          (cause) => resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
        )
        return Effect.sync(() => controller.abort())
      })
  )
}

/**
 * An `HttpClient` over `dispatcher` (default: undici's global dispatcher).
 */
export const make = (dispatcher: Undici.Dispatcher = Undici.getGlobalDispatcher()): HttpClient.HttpClient =>
  HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    (request) => Effect.flatMap(request, (request) => send(dispatcher, request)),
    Effect.succeed
  )

/**
 * Provides `HttpClient` on a fresh undici `Agent`, closed with the layer.
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = Layer.scoped(
  HttpClient.HttpClient,
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new Undici.Agent()),
      (agent) => Effect.promise(() => agent.destroy())
    ),
    make
  )
)
