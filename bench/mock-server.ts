/**
 * The mock Twitch the benchmarks measure against, meant to run in its own process (see
 * `internal/mock.ts`, which spawns it) so that its work does not share the client's event loop.
 *
 * It serves `MockTwitchServer.httpApp` (the same app `pnpm mock` serves) on 127.0.0.1 at a
 * free port, over a `FakeTwitch` whose Helix rate limit is lifted (a storm of 1,000 calls must
 * not meet 429s), plus:
 *
 * - `/mock/*` → `/helix/*`: @twurple's `TWURPLE_MOCK_API_PORT` setting sends Helix calls to
 *   `http://localhost:<port>/mock/<path>` (and OAuth calls to `/auth/<x>`, which the mock
 *   serves already). The rewrite happens inside this server, so twurple pays no extra hop.
 * - `/bench/*`: control routes for the bench (issue a token, expire it, count calls).
 *
 * Prints one JSON line `{"url": "http://127.0.0.1:PORT"}` on stdout once listening.
 */
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Http from "node:http"

const [client] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users

const json = (body: unknown) => HttpServerResponse.unsafeJson(body)

/** `/bench/<name>`: the bench's side door into the model. */
const control = (name: string, params: URLSearchParams) =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    switch (name) {
      case "issue": {
        const issued = yield* twitch.issueUserToken({
          clientId: client.clientId,
          userId: user.userId,
          scopes: ["chat:read", "moderation:read"]
        })
        return json(issued)
      }
      case "expire": {
        yield* twitch.expireAccessToken(params.get("token") ?? "")
        return json({ ok: true })
      }
      case "calls": {
        const [token, validate, helix] = yield* Effect.all([
          twitch.calls("token"),
          twitch.calls("validate"),
          twitch.calls("helix")
        ])
        return json({ token, validate, helix })
      }
      case "reset": {
        yield* twitch.resetCounters()
        return json({ ok: true })
      }
      default:
        return HttpServerResponse.empty({ status: 404 })
    }
  }).pipe(Effect.catchTag("FakeTwitchSetupError", (error) => Effect.succeed(json({ error: error.message }))))

const app = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const url = new URL(request.url, "http://localhost")
  if (url.pathname.startsWith("/bench/")) return yield* control(url.pathname.slice("/bench/".length), url.searchParams)
  if (url.pathname.startsWith("/mock/")) {
    const rewritten = request.modify({ url: `/helix/${url.pathname.slice("/mock/".length)}${url.search}` })
    return yield* Effect.provideService(MockTwitchServer.httpApp, HttpServerRequest.HttpServerRequest, rewritten)
  }
  return yield* MockTwitchServer.httpApp
})

const announce = Layer.effectDiscard(
  HttpServer.addressWith((address) =>
    Console.log(JSON.stringify({ url: address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "" }))
  )
)

const ServerLive = Layer.merge(HttpServer.serve(app), announce).pipe(
  Layer.provide(NodeHttpServer.layer(() => Http.createServer(), { port: 0, host: "127.0.0.1" })),
  // The per-call bench refreshes one refresh token thousands of times, 64 at once, to time the
  // client: a rotating refresh token (the mock's default, as Twitch may rotate) would refuse
  // all but the first, so this mock keeps confidential refresh tokens as they are.
  Layer.provide(FakeTwitch.layer({ helixRateLimit: 1_000_000_000, rotateRefreshTokens: false }))
)

NodeRuntime.runMain(Layer.launch(ServerLive))
