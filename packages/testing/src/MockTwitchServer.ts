/**
 * A real HTTP server (127.0.0.1) in front of {@link FakeTwitch}: `/oauth2/{authorize,token,
 * validate,revoke}` and the same under `/auth/` (the Twitch CLI mock API's convention).
 *
 * Parameters are read from the query string, an `application/x-www-form-urlencoded` body or a
 * `multipart/form-data` body; the body wins over the query, as on id.twitch.tv.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Multipart from "@effect/platform/Multipart"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import * as FakeTwitch from "./FakeTwitch.js"

/**
 * Where the running mock listens: `url` is the origin (`http://127.0.0.1:PORT`), `authUrl`
 * the base of the OAuth endpoints (`${url}/oauth2`), a drop-in for `https://id.twitch.tv/oauth2`.
 *
 * @since 0.1.0
 * @category tags
 */
export class MockTwitchServer extends Context.Tag("@effect-twitch/testing/MockTwitchServer")<
  MockTwitchServer,
  { readonly url: string; readonly authUrl: string }
>() {}

const merge = (target: Record<string, string>, entries: Iterable<readonly [string, string]>): void => {
  const seen = new Set<string>()
  for (const [key, value] of entries) {
    // Within one source the first occurrence wins; a later source overrides an earlier one.
    if (seen.has(key)) continue
    seen.add(key)
    target[key] = value
  }
}

const decoder = new TextDecoder()

/** Query string ∪ form body (urlencoded or multipart), body winning. */
const readParams = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const params: Record<string, string> = {}
  merge(params, new URL(request.url, "http://localhost").searchParams)
  const contentType = (request.headers["content-type"] ?? "").toLowerCase()
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    merge(params, new URLSearchParams(yield* request.text))
  } else if (contentType.startsWith("multipart/form-data")) {
    const fields: Array<readonly [string, string]> = []
    yield* Stream.runForEach(request.multipartStream, (part) =>
      Multipart.isField(part)
        ? Effect.sync(() => {
          fields.push([part.key, part.value])
        })
        : Effect.map(part.contentEffect, (bytes) => {
          fields.push([part.key, decoder.decode(bytes)])
        }))
    merge(params, fields)
  }
  return params
})

const toResponse = (wire: FakeTwitch.FakeTwitch.WireResponse): HttpServerResponse.HttpServerResponse => {
  const { "content-type": contentType, ...rest } = wire.headers
  const headers = { ...rest, "access-control-allow-origin": "*" }
  return wire.body === "" && contentType === undefined
    ? HttpServerResponse.empty({ status: wire.status, headers })
    : HttpServerResponse.text(wire.body, { status: wire.status, headers, contentType: contentType ?? "text/plain" })
}

const jsonError = (status: number, message: string): HttpServerResponse.HttpServerResponse =>
  toResponse({ status, headers: { "content-type": "application/json" }, body: JSON.stringify({ status, message }) })

const handler = (endpoint: FakeTwitch.FakeTwitch.Endpoint) =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = yield* readParams
    const wire: FakeTwitch.FakeTwitch.WireRequest = { method: request.method, headers: { ...request.headers }, params }
    return toResponse(yield* twitch[endpoint](wire))
  }).pipe(
    Effect.catchTags({
      RequestError: () => Effect.succeed(jsonError(400, "malformed request body")),
      MultipartError: () => Effect.succeed(jsonError(400, "malformed request body"))
    })
  )

/**
 * The mock as an `HttpApp`: every method is routed to the model, which answers 404 to the
 * wrong one (a GET to `/oauth2/token` is a 404 on id.twitch.tv); unknown paths are 404
 * `{"status":404,"message":"Not Found"}`.
 *
 * @since 0.1.0
 * @category http
 */
export const httpApp: Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  FakeTwitch.FakeTwitch | HttpServerRequest.HttpServerRequest
> = HttpRouter.empty.pipe(
  HttpRouter.all("/oauth2/authorize", handler("authorize")),
  HttpRouter.all("/oauth2/token", handler("token")),
  HttpRouter.all("/oauth2/validate", handler("validate")),
  HttpRouter.all("/oauth2/revoke", handler("revoke")),
  HttpRouter.all("/auth/authorize", handler("authorize")),
  HttpRouter.all("/auth/token", handler("token")),
  HttpRouter.all("/auth/validate", handler("validate")),
  HttpRouter.all("/auth/revoke", handler("revoke")),
  Effect.catchTag("RouteNotFound", () => Effect.succeed(jsonError(404, "Not Found")))
)

/**
 * Serves {@link httpApp} on `host` (default 127.0.0.1) and `port` (default 0: any free port)
 * with Node's HTTP server, over the FakeTwitch in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: { readonly port?: number; readonly host?: string } = {}
): Layer.Layer<MockTwitchServer, HttpServerError.ServeError, FakeTwitch.FakeTwitch> => {
  const host = options.host ?? "127.0.0.1"
  const server = NodeHttpServer.layer(() => Http.createServer(), { port: options.port ?? 0, host })
  const info = Layer.effect(
    MockTwitchServer,
    HttpServer.addressWith((address) => {
      const hostname = host.includes(":") ? `[${host}]` : host
      const url = address._tag === "TcpAddress" ? `http://${hostname}:${address.port}` : `http://${hostname}`
      return Effect.succeed({ url, authUrl: `${url}/oauth2` })
    })
  )
  return Layer.merge(HttpServer.serve(httpApp), info).pipe(Layer.provide(server))
}

/**
 * A fresh seeded {@link FakeTwitch.layer} and the mock on 127.0.0.1 at a free port — what tests use.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest: Layer.Layer<
  MockTwitchServer | FakeTwitch.FakeTwitch,
  HttpServerError.ServeError
> = layer().pipe(Layer.provideMerge(FakeTwitch.layer()))
