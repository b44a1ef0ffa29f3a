/**
 * `pnpm bench:transport`: calls per second of `TwitchAuth.validateToken` over the two
 * transports a user can provide — `FetchHttpClient.layer` (the baseline) and
 * `NodeHttpClient.layerUndici` — against the mock id.twitch.tv on 127.0.0.1, in the same
 * process and the same run. Rounds alternate between the transports so that machine noise
 * hits both; the result is reported as a ratio to the baseline, never as absolute speed.
 *
 * ROUNDS (default 6), CALLS (default 400 per round) and CONCURRENCY (default 8) tune it.
 * By default the mock runs in this process; MOCK_URL (e.g. `http://127.0.0.1:8787`, from
 * `pnpm mock` in another terminal) measures against a mock in its own process instead, so
 * that the server's work does not share the client's event loop.
 */
import { TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name])
  return Number.isInteger(value) && value > 0 ? value : fallback
}
const rounds = envInt("ROUNDS", 6)
const calls = envInt("CALLS", 400)
const concurrency = envInt("CONCURRENCY", 8)

const [client] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users

const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 0 ? ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2 : sorted[mid] ?? 0
}

/** Builds a TwitchAuth over `transport` and measures one round: calls per second. */
const round = (
  authUrl: string,
  token: Redacted.Redacted<string>,
  transport: Layer.Layer<HttpClient.HttpClient>
) =>
  Effect.gen(function*() {
    const auth = yield* TwitchAuth.TwitchAuth
    // warm-up: open connections
    yield* Effect.forEach(Array.from({ length: concurrency }), () => auth.validateToken(token), { concurrency })
    const start = yield* Clock.currentTimeNanos
    yield* Effect.forEach(Array.from({ length: calls }), () => auth.validateToken(token), {
      concurrency,
      discard: true
    })
    const elapsed = Number((yield* Clock.currentTimeNanos) - start) / 1e9
    return calls / elapsed
  }).pipe(
    Effect.provide(
      TwitchAuth.layer.pipe(
        Layer.provide(TwitchAuthConfig.layer({ clientId: client.clientId, clientSecret: client.clientSecret, authUrl })),
        Layer.provide(transport)
      )
    ),
    Effect.scoped
  )

/** The mock to measure against, and a user token it accepts. */
const target = Effect.gen(function*() {
  const external = process.env["MOCK_URL"]
  if (external !== undefined && external !== "") {
    const authUrl = `${external.replace(/\/+$/, "")}/oauth2`
    const app = yield* Effect.flatMap(TwitchAuth.TwitchAuth, (auth) => auth.appToken()).pipe(
      Effect.provide(
        TwitchAuth.layer.pipe(
          Layer.provide(
            TwitchAuthConfig.layer({ clientId: client.clientId, clientSecret: client.clientSecret, authUrl })
          ),
          Layer.provide(FetchHttpClient.layer)
        )
      )
    )
    return { url: external, authUrl, token: app.accessToken, where: "in its own process" }
  }
  const server = yield* MockTwitchServer.MockTwitchServer
  const twitch = yield* FakeTwitch.FakeTwitch
  const issued = yield* twitch.issueUserToken({ clientId: client.clientId, userId: user.userId, scopes: ["chat:read"] })
  return { url: server.url, authUrl: server.authUrl, token: Redacted.make(issued.accessToken), where: "in this process" }
})

const main = Effect.gen(function*() {
  const server = yield* target
  const token = server.token
  const transports = [
    ["FetchHttpClient.layer (baseline)", FetchHttpClient.layer],
    ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici]
  ] as const
  const results = transports.map(() => new Array<number>())
  yield* Console.log(`${rounds} rounds × ${calls} validateToken calls, concurrency ${concurrency}, mock at ${server.url} (${server.where})`)
  for (let r = 0; r < rounds; r++) {
    // alternate which transport goes first
    const order = r % 2 === 0 ? [0, 1] : [1, 0]
    for (const i of order) {
      const transport = transports[i]
      if (transport === undefined) continue
      const rate = yield* round(server.authUrl, token, transport[1])
      results[i]?.push(rate)
    }
  }
  const baseline = median(results[0] ?? [])
  for (const [i, [name]] of transports.entries()) {
    const m = median(results[i] ?? [])
    yield* Console.log(`${name.padEnd(34)} median ${m.toFixed(0).padStart(6)} calls/s   ratio ${(m / baseline).toFixed(2)}×`)
  }
})

main.pipe(
  Effect.provide(MockTwitchServer.layerTest),
  Effect.orDie,
  NodeRuntime.runMain
)
