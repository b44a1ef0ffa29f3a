/**
 * Per-call overhead: `validateToken`, a token refresh, and an authenticated Helix
 * `GET /users` (`TwitchSession` + `TwitchHttpClient`) through the SDK on each transport,
 * against the same requests made with bare `undici.request` (the baseline: the floor for
 * Node), bare `fetch`, `Effect.tryPromise` around bare undici (Effect's runtime alone), and
 * twurple's `getTokenInfo` / `refreshUserToken` / `ApiClient.callApi` — all against the mock in a child
 * process, rounds interleaved, medians reported.
 *
 * Two figures per contender: throughput (calls/s, wall clock) and client CPU time per call
 * (`process.cpuUsage` of this process, so the mock's own work is not in it). With one core
 * for the client and one for the mock, throughput at concurrency 64 can be capped by the
 * mock; CPU per call is what the client itself costs.
 */
import {
  Token,
  TokenStore,
  TwitchAuth,
  TwitchAuthConfig,
  TwitchHttpClient,
  TwitchSession,
  UndiciHttpClient
} from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { ApiClient } from "@twurple/api"
import { getTokenInfo, refreshUserToken, StaticAuthProvider } from "@twurple/auth"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Undici from "undici"
import type { Mock } from "./internal/mock.js"
import { measure, median, num, pool, ratio, rotate, table } from "./internal/stats.js"

const [client] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users

/** What a contender does for one call, and how it runs a batch. */
interface Runner {
  readonly batch: (calls: number, concurrency: number) => Promise<void>
  readonly dispose: () => Promise<void>
}

type Operation = "validate" | "refresh" | "helix"

interface Contender {
  readonly name: string
  readonly make: (mock: Mock, op: Operation, tokens: Tokens) => Runner
}

interface Tokens {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
}

const helixPath = `/users?id=${user.userId}`

const form = (tokens: Tokens) =>
  new URLSearchParams({
    client_id: client.clientId,
    client_secret: client.clientSecret,
    grant_type: "refresh_token",
    refresh_token: tokens.refreshToken
  }).toString()

const check = (status: number, body: unknown): void => {
  if (status !== 200 || typeof body !== "object" || body === null) {
    process.exitCode = 1
    console.error(`unexpected answer in the per-call bench: ${status} ${JSON.stringify(body)}`)
  }
}

/** Bare `undici.request`: the request, the body read and parsed. */
const undiciCall = (mock: Mock, op: Operation, tokens: Tokens) => async () => {
  const response = op === "validate"
    ? await Undici.request(`${mock.authUrl}/validate`, {
      headers: { authorization: `OAuth ${tokens.accessToken}`, accept: "application/json" }
    })
    : op === "helix"
    ? await Undici.request(`${mock.helixUrl}${helixPath}`, {
      headers: {
        authorization: `Bearer ${tokens.accessToken}`,
        "client-id": client.clientId,
        accept: "application/json"
      }
    })
    : await Undici.request(`${mock.authUrl}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form(tokens)
    })
  check(response.statusCode, await response.body.json())
}

const promiseRunner = (call: () => Promise<void>): Runner => ({
  batch: (calls, concurrency) => pool(calls, concurrency, call),
  dispose: async () => {}
})

const effectRunner = <S, I, E>(
  layer: Layer.Layer<S, E>,
  tag: Effect.Effect<I, never, S>,
  call: (service: I) => Effect.Effect<unknown, unknown>
): Runner => {
  const runtime = ManagedRuntime.make(layer)
  return {
    batch: (calls, concurrency) =>
      runtime.runPromise(
        Effect.flatMap(tag, (service) =>
          Effect.forEach(Array.from({ length: calls }), () => call(service), { concurrency, discard: true }))
      ),
    dispose: () => runtime.dispose()
  }
}

/** The user's token as a session starts from it. */
const userToken = (tokens: Tokens) =>
  Effect.map(DateTime.now, (now) =>
    new Token.UserToken({
      accessToken: Redacted.make(tokens.accessToken),
      refreshToken: Redacted.make(tokens.refreshToken),
      scopes: ["chat:read", "moderation:read"],
      obtainedAt: now,
      expiresAt: Option.some(DateTime.add(now, { seconds: tokens.expiresIn }))
    }))

const ours = (transport: Layer.Layer<HttpClient.HttpClient>) => (mock: Mock, op: Operation, tokens: Tokens) => {
  const config = TwitchAuthConfig.layer({
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    authUrl: mock.authUrl,
    helixUrl: mock.helixUrl
  })
  if (op === "helix") {
    const session = Layer.unwrapEffect(
      Effect.map(userToken(tokens), (token) => TwitchSession.layer({ key: user.userId, token }))
    ).pipe(Layer.provide(TwitchAuth.layer), Layer.provide(TokenStore.layerMemory))
    return effectRunner(
      TwitchHttpClient.layer().pipe(Layer.provide(session), Layer.provide(config), Layer.provide(transport)),
      TwitchHttpClient.TwitchHttpClient,
      (helix) =>
        Effect.flatMap(
          helix.get(helixPath),
          (response) => Effect.map(response.json, (body) => check(response.status, body))
        )
    )
  }
  return effectRunner(
    TwitchAuth.layer.pipe(Layer.provide(config), Layer.provide(transport)),
    TwitchAuth.TwitchAuth,
    (auth) =>
      op === "validate"
        ? auth.validateToken(Redacted.make(tokens.accessToken))
        : auth.refreshToken(Redacted.make(tokens.refreshToken))
  )
}

/** twurple's call for `op`: the token helpers of @twurple/auth, `ApiClient.callApi` for Helix. */
const twurpleCall = (op: Operation, tokens: Tokens): () => Promise<void> => {
  if (op === "validate") return async () => void (await getTokenInfo(tokens.accessToken, client.clientId))
  if (op === "refresh") {
    return async () => void (await refreshUserToken(client.clientId, client.clientSecret, tokens.refreshToken))
  }
  const api = new ApiClient({
    authProvider: new StaticAuthProvider(client.clientId, tokens.accessToken),
    logger: { minLevel: "critical" }
  })
  return async () => {
    const body = await api.callApi({ type: "helix", url: "users", query: { id: user.userId } })
    check(200, body)
  }
}

/** The contenders, baseline first. */
export const contenders: ReadonlyArray<Contender> = [
  { name: "bare `undici.request` (baseline)", make: (mock, op, tokens) => promiseRunner(undiciCall(mock, op, tokens)) },
  {
    name: "bare `fetch`",
    make: (mock, op, tokens) =>
      promiseRunner(async () => {
        const response = op === "validate"
          ? await fetch(`${mock.authUrl}/validate`, {
            headers: { authorization: `OAuth ${tokens.accessToken}`, accept: "application/json" }
          })
          : op === "helix"
          ? await fetch(`${mock.helixUrl}${helixPath}`, {
            headers: {
              authorization: `Bearer ${tokens.accessToken}`,
              "client-id": client.clientId,
              accept: "application/json"
            }
          })
          : await fetch(`${mock.authUrl}/token`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
            body: form(tokens)
          })
        check(response.status, await response.json())
      })
  },
  {
    name: "twurple (`getTokenInfo` / `refreshUserToken` / `ApiClient.callApi`)",
    make: (mock, op, tokens) => {
      process.env["TWURPLE_MOCK_API_PORT"] = mock.port
      return promiseRunner(twurpleCall(op, tokens))
    }
  },
  {
    name: "`Effect.tryPromise(undici.request)`",
    make: (mock, op, tokens) => {
      const call = undiciCall(mock, op, tokens)
      const effect = Effect.tryPromise(call)
      return {
        batch: (calls, concurrency) =>
          Effect.runPromise(
            Effect.forEach(Array.from({ length: calls }), () => effect, { concurrency, discard: true })
          ),
        dispose: async () => {}
      }
    }
  },
  { name: "ours · `UndiciHttpClient.layer` (recommended)", make: ours(UndiciHttpClient.layer) },
  { name: "ours · `NodeHttpClient.layerUndici`", make: ours(NodeHttpClient.layerUndici) },
  { name: "ours · `FetchHttpClient.layer`", make: ours(FetchHttpClient.layer) }
]

/** Options of one per-call run. */
export interface Options {
  readonly rounds: number
  /** Calls per round at concurrency 1 and at concurrency 64. */
  readonly calls: { readonly 1: number; readonly 64: number }
  readonly only?: ReadonlyArray<string> | undefined
}

interface Cell {
  rate: Array<number>
  cpu: Array<number>
}

const titles: Record<Operation, string> = {
  validate: "`validateToken` (GET /oauth2/validate)",
  refresh: "refresh (POST /oauth2/token, refresh_token)",
  helix: "Helix `GET /users` (`TwitchSession` + `TwitchHttpClient`; twurple `ApiClient.callApi`)"
}

/** Runs the per-call bench; returns the Markdown tables. */
export const run = async (mock: Mock, options: Options): Promise<string> => {
  const selected = contenders.filter((c, i) =>
    i === 0 || options.only === undefined || options.only.some((o) => c.name.includes(o))
  )
  const sections: Array<string> = []
  for (const op of ["validate", "refresh", "helix"] as const) {
    for (const concurrency of [1, 64] as const) {
      // a token of its own for each table (a refresh kills the access token it replaces)
      const issued = await mock.issue()
      const tokens: Tokens = {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        expiresIn: issued.expiresIn
      }
      const calls = options.calls[concurrency]
      const cells: Array<Cell> = selected.map(() => ({ rate: [], cpu: [] }))
      const runners = selected.map((c) => c.make(mock, op, tokens))
      // warm-up: JIT, connections
      for (const runner of runners) await runner.batch(Math.min(calls, 200), concurrency)
      for (let round = 0; round < options.rounds; round++) {
        for (const index of rotate(selected.map((_, i) => i), round)) {
          const runner = runners[index]
          const cell = cells[index]
          if (runner === undefined || cell === undefined) continue
          await mock.reset()
          const { cpuUs, wallMs } = await measure(() => runner.batch(calls, concurrency))
          cell.rate.push(calls / (wallMs / 1000))
          cell.cpu.push(cpuUs / calls)
        }
      }
      for (const runner of runners) await runner.dispose()
      const baseRate = median(cells[0]?.rate ?? [])
      const baseCpu = median(cells[0]?.cpu ?? [])
      const twurple = selected.findIndex((c) => c.name.startsWith("twurple"))
      const twurpleRate = twurple >= 0 ? median(cells[twurple]?.rate ?? []) : 0
      const rows = selected.map((c, i) => {
        const rate = median(cells[i]?.rate ?? [])
        const cpu = median(cells[i]?.cpu ?? [])
        return [c.name, num(rate), ratio(rate, baseRate), ratio(rate, twurpleRate), num(cpu, 1), ratio(cpu, baseCpu)]
      })
      sections.push(
        [
          `**${titles[op]}, concurrency ${concurrency}** — ${options.rounds} rounds × ${calls} calls`,
          "",
          table(
            ["contender", "calls/s", "× baseline", "× twurple", "client CPU µs/call", "CPU × baseline"],
            rows
          )
        ].join("\n")
      )
    }
  }
  return sections.join("\n\n")
}
