/**
 * A real HTTP server (127.0.0.1) in front of {@link FakeTwitch}: `/oauth2/{authorize,token,
 * validate,revoke,device,keys,userinfo}`, the discovery document at
 * `/oauth2/.well-known/openid-configuration`, the device activation hook `/oauth2/activate`,
 * the same under `/auth/` (the Twitch CLI mock API's convention), and `/helix/*`.
 *
 * `GET /oauth2/authorize` shows a consent page, as id.twitch.tv does (unless the `autoConsent`
 * quirk is on); {@link consent} clicks its Authorize or Cancel button like a user.
 *
 * Parameters are read from the query string, an `application/x-www-form-urlencoded` body or a
 * `multipart/form-data` body; the body wins over the query, as on id.twitch.tv.
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Http from "node:http"
import * as FakeTwitch from "./FakeTwitch.js"
import * as Consent from "./internal/consent.js"
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
  Effect.catchTag(
    "RequestError",
    () => Effect.succeed(toResponse(Transport.withCors(Transport.jsonError(400, "malformed request body"))))
  )
)

const loopbackHosts: ReadonlySet<string> = new Set(["127.0.0.1", "::1", "[::1]", "localhost"])

/** The host name of a `Host` header (`[::1]` keeps its brackets), or `undefined` if unreadable. */
const hostnameOf = (host: string | undefined): string | undefined => {
  if (host === undefined) return undefined
  try {
    return new URL(`http://${host}`).hostname
  } catch {
    return undefined
  }
}

/**
 * {@link httpApp} for a server bound to a loopback address: the consent page (and its form)
 * only for a `Host` naming loopback. A web page whose DNS name was rebound to 127.0.0.1 is
 * same-origin with what it loads, so it could read the page's anti-forgery token; Twitch's
 * fixed HTTPS name has no such hole. Guess: not a Twitch behaviour (421 Misdirected Request,
 * in Twitch's JSON envelope), a guard of the mock's own.
 */
const loopbackApp: typeof httpApp = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const target = Transport.route(new URL(request.url, "http://localhost").pathname)
  const consent = Option.exists(target, (r) => r._tag === "OAuth" && r.endpoint === "authorize")
  const hostname = hostnameOf(request.headers["host"])
  if (consent && (hostname === undefined || !loopbackHosts.has(hostname))) {
    return toResponse(Transport.jsonError(421, "Misdirected Request"))
  }
  return yield* httpApp
})

/**
 * Serves {@link httpApp} on `host` (default 127.0.0.1) and `port` (default 0: any free port)
 * with Node's HTTP server, over the FakeTwitch in context. On a loopback `host` (127.0.0.1,
 * ::1, localhost), `/oauth2/authorize` answers only requests whose `Host` names loopback
 * (421 otherwise): a DNS-rebinding page cannot read the consent page.
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
  const app = loopbackHosts.has(host) ? loopbackApp : httpApp
  return Layer.merge(HttpServer.serve(app), info).pipe(Layer.provide(server))
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

/**
 * {@link consent} could not click through the consent page: the authorize URL answered
 * neither a page with the mock's form nor a redirect (`status`, and Twitch's `message` when
 * the answer is its JSON error), or the form's answer was not a redirect.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConsentError extends Data.TaggedError("ConsentError")<{
  readonly status: number
  readonly message: string
}> {}

/** The `message` of an id.twitch.tv JSON error body, if that is what `body` is. */
const twitchMessage = (body: string): string | undefined => {
  try {
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed === "object" && parsed !== null && "message" in parsed && typeof parsed.message === "string") {
      return parsed.message
    }
  } catch {
    return undefined
  }
  return undefined
}

const isRedirect = (status: number) => status >= 300 && status < 400

/** Redirects are answers here, never followed (a fetch-based client is told so). */
const executeOnce = (client: HttpClient.HttpClient, request: HttpClientRequest.HttpClientRequest) =>
  client.execute(request).pipe(Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" }))

/**
 * What a user does with an authorize URL in a browser: opens it, reads the consent page and
 * clicks `decision` (default `"authorize"`) — the page's form, every hidden field included,
 * posted to its action. Returns where the mock redirects the browser next (absolute): the
 * application's redirect URI with `code`/`state` (or the implicit grant's fragment), or
 * `error=access_denied` after `"cancel"`. The redirect is not followed: deliver it to the
 * application yourself (a callback server, `AuthorizationCode.handleCallback`,
 * `ImplicitFlow.parseRedirect`).
 *
 * A URL the mock redirects at once (the `autoConsent` quirk, or an error it redirects, such as
 * `redirect_mismatch`) has no page to click: its redirect is returned for `"authorize"`; for
 * `"cancel"` it fails, since the user could not have cancelled. Works over any `HttpClient`:
 * a real one against {@link MockTwitchServer}, or `FakeTwitchHttpClient` in memory.
 *
 * @example
 * ```ts
 * import { MockTwitchServer } from "@effect-twitch/testing"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * declare const authorizeUrl: string // e.g. from TwitchAuth.authorizationUrl
 * const redirect = MockTwitchServer.consent(authorizeUrl, "authorize").pipe(
 *   Effect.provide(FetchHttpClient.layer)
 * ) // Effect<string>: "http://localhost:3000/callback?code=…&scope=…&state=…"
 * ```
 *
 * @since 0.1.0
 * @category consent
 */
export const consent = (
  authorizeUrl: string,
  decision: "authorize" | "cancel" = "authorize"
): Effect.Effect<string, ConsentError | HttpClientError.HttpClientError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const page = yield* executeOnce(client, HttpClientRequest.get(authorizeUrl))
    const location = page.headers["location"]
    if (isRedirect(page.status) && location !== undefined) {
      if (decision === "cancel") {
        return yield* new ConsentError({
          status: page.status,
          message: "the mock redirected without a consent page to cancel (is the autoConsent quirk on?)"
        })
      }
      return new URL(location, authorizeUrl).toString()
    }
    const html = yield* page.text
    if (page.status !== 200) {
      const message = twitchMessage(html)
      return yield* new ConsentError({
        status: page.status,
        message: `the authorize URL answered ${page.status}${message === undefined ? "" : `: ${message}`}`
      })
    }
    const form = Consent.readForm(html)
    const button = form?.buttons.find(([name, value]) => name === Consent.decisionField && value === decision)
    if (form === undefined || button === undefined) {
      return yield* new ConsentError({
        status: page.status,
        message: `no consent form with a "${decision}" button on the page`
      })
    }
    const action = new URL(form.action, authorizeUrl).toString()
    const answer = yield* executeOnce(
      client,
      HttpClientRequest.post(action).pipe(HttpClientRequest.bodyUrlParams([...form.fields, button]))
    )
    const next = answer.headers["location"]
    if (isRedirect(answer.status) && next !== undefined) return new URL(next, action).toString()
    const message = twitchMessage(yield* answer.text)
    return yield* new ConsentError({
      status: answer.status,
      message: `clicking "${decision}" answered ${answer.status}${message === undefined ? "" : `: ${message}`}`
    })
  })
