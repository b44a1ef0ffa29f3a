/**
 * An `HttpClient` that answers from {@link FakeTwitch} in memory: no sockets, no server, and
 * everything runs in the calling fiber, so `TestClock` drives token expiry and `Delay` faults.
 * A `Hang` fault never answers (a timeout on the `Clock` ends it) and a `Reset` fault fails
 * with a transport `RequestError` whose cause has the code `ECONNRESET`.
 *
 * Whatever the host, a path `/oauth2/{authorize,token,validate,revoke,device,activate,keys,
 * userinfo}` or `/oauth2/.well-known/openid-configuration` (or the same under `/auth/`) goes
 * to the matching wire operation (the request's origin + `/oauth2` is the ID tokens' issuer)
 * and `/helix/*` to `FakeTwitch.helix`; other paths are 404 `{"status":404,"message":"Not Found"}`. Parameters are read like
 * `MockTwitchServer` reads them: query string ∪ urlencoded or multipart body, body winning.
 * Redirects are returned, never followed.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as FakeTwitch from "./FakeTwitch.js"
import * as Transport from "./internal/http.js"

/** A request body as bytes, with the content type its encoding implies (if any). */
interface EncodedBody {
  readonly contentType: string | undefined
  readonly bytes: Uint8Array
}

const encoder = new TextEncoder()

type WebBody = string | ArrayBuffer | URLSearchParams | FormData | Blob | ReadableStream

const isWebBody = (body: unknown): body is WebBody =>
  typeof body === "string" || body instanceof ArrayBuffer || body instanceof URLSearchParams ||
  body instanceof FormData || body instanceof Blob || body instanceof ReadableStream

/** Encodes a web body as fetch would send it (FormData becomes multipart with a boundary). */
const encodeWebBody = (body: WebBody): Effect.Effect<EncodedBody, unknown> =>
  Effect.tryPromise({
    try: async () => {
      const response = new Response(body)
      return {
        contentType: response.headers.get("content-type") ?? undefined,
        bytes: new Uint8Array(await response.arrayBuffer())
      }
    },
    catch: (cause) => cause
  })

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(Chunk.reduce(chunks, 0, (n, chunk) => n + chunk.length))
  Chunk.reduce(chunks, 0, (offset, chunk) => {
    out.set(chunk, offset)
    return offset + chunk.length
  })
  return out
}

const encodeBody = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<Option.Option<EncodedBody>, HttpClientError.RequestError> => {
  const body = request.body
  const encoded: Effect.Effect<Option.Option<EncodedBody>, unknown> = (() => {
    switch (body._tag) {
      case "Empty":
        return Effect.succeedNone
      case "Uint8Array":
        return Effect.succeedSome({ contentType: body.contentType, bytes: body.body })
      case "FormData":
        return Effect.asSome(encodeWebBody(body.formData))
      case "Stream":
        return Effect.map(
          Stream.runCollect(body.stream),
          (chunks) => Option.some({ contentType: body.contentType, bytes: concat(chunks) })
        )
      case "Raw": {
        const raw = body.body
        if (raw instanceof Uint8Array) return Effect.succeedSome({ contentType: undefined, bytes: raw })
        if (typeof raw === "string") return Effect.succeedSome({ contentType: undefined, bytes: encoder.encode(raw) })
        return isWebBody(raw) ? Effect.asSome(encodeWebBody(raw)) : Effect.succeedNone
      }
    }
  })()
  return Effect.mapError(
    encoded,
    (cause) =>
      new HttpClientError.RequestError({
        request,
        reason: "Encode",
        cause,
        description: "cannot read the request body"
      })
  )
}

const toWebResponse = (
  request: HttpClientRequest.HttpClientRequest,
  wire: FakeTwitch.FakeTwitch.WireResponse
): Effect.Effect<Response, HttpClientError.RequestError> =>
  Effect.try({
    try: () =>
      new Response(wire.body === "" ? null : wire.body, {
        status: wire.status,
        headers: Transport.responseHeaders(wire)
      }),
    catch: (cause) =>
      new HttpClientError.RequestError({
        request,
        reason: "Transport",
        cause,
        description: `FakeTwitch answered status ${wire.status}, which a web Response cannot carry`
      })
  })

/** What Node reports when the peer drops the connection. */
class ConnectionResetError extends Error {
  readonly code = "ECONNRESET"
  constructor() {
    super("socket hang up")
  }
}

/** A `Reset` fault, surfacing as it does over a socket: a transport `RequestError`. */
const connectionReset = (request: HttpClientRequest.HttpClientRequest) =>
  new HttpClientError.RequestError({
    request,
    reason: "Transport",
    cause: new ConnectionResetError(),
    description: "the connection was reset before an answer arrived"
  })

/**
 * The in-memory client over the FakeTwitch in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<HttpClient.HttpClient, never, FakeTwitch.FakeTwitch> = Effect.map(
  FakeTwitch.FakeTwitch,
  (twitch) =>
    HttpClient.make((request, url) =>
      Effect.gen(function*() {
        const body = yield* encodeBody(request)
        const headers: Record<string, string> = { ...request.headers }
        if (Option.isSome(body)) {
          const { bytes, contentType } = body.value
          if (headers["content-type"] === undefined && contentType !== undefined) headers["content-type"] = contentType
          headers["content-length"] = String(bytes.length)
        }
        const isForm = Transport.isFormContentType(headers["content-type"] ?? "")
        const wire = yield* Transport.handle(twitch, {
          method: request.method,
          url,
          headers,
          body: isForm ? Option.map(body, (b) => b.bytes) : Option.none()
        })
        if (wire.reset === true) return yield* Effect.fail(connectionReset(request))
        return HttpClientResponse.fromWeb(request, yield* toWebResponse(request, wire))
      })
    )
)

/**
 * Provides `HttpClient` as the in-memory Twitch: any code that talks to `https://id.twitch.tv`
 * or `https://api.twitch.tv/helix` through `HttpClient` talks to the FakeTwitch in context.
 *
 * @example
 * ```ts
 * import { FakeTwitch, FakeTwitchHttpClient } from "@effect-twitch/testing"
 * import { HttpClient, HttpClientRequest } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 *
 * const [client] = FakeTwitch.defaultSeed.clients
 * const program = Effect.gen(function*() {
 *   const http = yield* HttpClient.HttpClient
 *   const response = yield* http.execute(
 *     HttpClientRequest.post("https://id.twitch.tv/oauth2/token").pipe(
 *       HttpClientRequest.bodyUrlParams({
 *         client_id: client.clientId,
 *         client_secret: client.clientSecret,
 *         grant_type: "client_credentials"
 *       })
 *     )
 *   )
 *   return yield* response.json
 * }).pipe(Effect.provide(FakeTwitchHttpClient.layer.pipe(Layer.provideMerge(FakeTwitch.layer()))))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient, never, FakeTwitch.FakeTwitch> = Layer.effect(
  HttpClient.HttpClient,
  make
)

/**
 * {@link layer} over a fresh seeded {@link FakeTwitch.layer}, both provided — what tests use.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest: Layer.Layer<HttpClient.HttpClient | FakeTwitch.FakeTwitch> = layer.pipe(
  Layer.provideMerge(FakeTwitch.layer())
)
