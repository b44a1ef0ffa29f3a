/**
 * A real HTTP server (127.0.0.1) in front of {@link FakeTwitch}: `/oauth2/{authorize,token,
 * validate,revoke,device,keys,userinfo}`, the discovery document at
 * `/oauth2/.well-known/openid-configuration`, the device activation hook `/oauth2/activate`,
 * the same under `/auth/` (the Twitch CLI mock API's convention), and `/helix/*`.
 *
 * Parameters are read from the query string, an `application/x-www-form-urlencoded` body or a
 * `multipart/form-data` body; the body wins over the query, as on id.twitch.tv.
 *
 * @since 0.1.0
 */
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Http from "node:http"
import * as FakeTwitch from "./FakeTwitch.js"
import * as Transport from "./internal/http.js"

/**
 * Where the running mock listens: `url` is the origin (`http://127.0.0.1:PORT`), `authUrl`
 * the base of the OAuth endpoints (`${url}/oauth2`), a drop-in for `https://id.twitch.tv/oauth2`,
 * and `helixUrl` the base of the API (`${url}/helix`), a drop-in for `https://api.twitch.tv/helix`.
 *
 * @since 0.1.0
 * @category tags
 */
export class MockTwitchServer extends Context.Tag("@effect-twitch/testing/MockTwitchServer")<
  MockTwitchServer,
  { readonly url: string; readonly authUrl: string; readonly helixUrl: string }
>() {}

const toResponse = (wire: FakeTwitch.FakeTwitch.WireResponse): HttpServerResponse.HttpServerResponse => {
  const { "content-type": contentType, ...headers } = Transport.responseHeaders(wire)
  return contentType === undefined
    ? HttpServerResponse.empty({ status: wire.status, headers })
    : HttpServerResponse.text(wire.body, { status: wire.status, headers, contentType })
}

/**
 * The mock as an `HttpApp`. `/oauth2/{authorize,token,validate,revoke,device,activate,keys,
 * userinfo}`, `/oauth2/.well-known/openid-configuration` (and the same under
 * `/auth/`) take every method and go to the model, which answers 404 to the wrong one (a GET
 * to `/oauth2/token` is a 404 on id.twitch.tv); `/helix/*` goes to `FakeTwitch.helix`; other
 * paths are 404 `{"status":404,"message":"Not Found"}`.
 *
 * @since 0.1.0
 * @category http
 */
export const httpApp: Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  FakeTwitch.FakeTwitch | HttpServerRequest.HttpServerRequest
> = Effect.gen(function*() {
  const twitch = yield* FakeTwitch.FakeTwitch
  const request = yield* HttpServerRequest.HttpServerRequest
  const headers: Record<string, string> = { ...request.headers }
  const body = Transport.isFormContentType(headers["content-type"] ?? "")
    ? Option.some(new Uint8Array(yield* request.arrayBuffer))
    : Option.none()
  const wire = yield* Transport.handle(twitch, {
    method: request.method,
    // The Host header gives the origin the client used: the issuer of the ID tokens.
    url: new URL(request.url, `http://${headers["host"] ?? "localhost"}`),
    headers,
    body
  })
  if (wire.reset === true) {
    // A `Reset` fault: drop the connection without a byte of answer. Closing the response
    // interrupts this fiber (the platform does so when a client goes away).
    yield* Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(request).socket.destroy())
    return yield* Effect.never
  }
  return toResponse(wire)
}).pipe(
  Effect.catchTag("RequestError", () => Effect.succeed(toResponse(Transport.jsonError(400, "malformed request body"))))
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
      return Effect.succeed({ url, authUrl: `${url}/oauth2`, helixUrl: `${url}/helix` })
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
