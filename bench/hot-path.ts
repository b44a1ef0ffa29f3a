/**
 * Where a `validateToken` call's client CPU goes: the same request built up one layer at a
 * time, from the bare transport to `TwitchAuth.validateToken`, each measured as client CPU
 * µs per call at concurrency 64 against the mock in its child process. The layers are the
 * ones `TwitchAuth.make` applies on the recommended transport (`UndiciHttpClient`: each
 * attempt run whole by the transport, see packages/auth/src/internal/pipeline.ts), in its
 * order.
 */
import { TwitchAuth, TwitchAuthConfig, UndiciHttpClient } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Undici from "undici"
import * as Exchange from "../packages/auth/src/internal/exchange.js"
import * as Lean from "../packages/auth/src/internal/lean.js"
import * as Pipeline from "../packages/auth/src/internal/pipeline.js"
import * as Wire from "../packages/auth/src/internal/wire.js"
import type { Mock } from "./internal/mock.js"
import { measure, median, num, ratio, rotate, table } from "./internal/stats.js"

const [client] = FakeTwitch.defaultSeed.clients

/** Options of one run. */
export interface Options {
  readonly rounds: number
  readonly calls: number
}

/** Runs the ablation; returns the Markdown table. */
export const run = async (mock: Mock, options: Options): Promise<string> => {
  const issued = await mock.issue()
  const token = Redacted.make(issued.accessToken)
  const agent = new Undici.Agent()
  const platformClient = NodeHttpClient.makeUndici(agent)
  const lean = UndiciHttpClient.make(agent)
  const request = HttpClientRequest.get("/validate").pipe(
    HttpClientRequest.setHeader("authorization", `OAuth ${issued.accessToken}`)
  )
  const absolute = HttpClientRequest.prependUrl(request, mock.authUrl)
  const config = await Effect.runPromise(
    Effect.provide(
      TwitchAuthConfig.TwitchAuthConfig,
      TwitchAuthConfig.layer({ clientId: client.clientId, clientSecret: client.clientSecret, authUrl: mock.authUrl })
    )
  )
  // the pipeline's pieces, as `TwitchAuth.make` puts them together on the lean transport
  const exchange = Lean.exchangeOf(lean) ?? (() => Effect.dieMessage("the lean client has no whole-attempt exchange"))
  const attempt = Pipeline.leanAttempt({
    timeout: config.requestTimeout,
    maxBytes: Wire.maxAuthBodyBytes,
    readBodyOf: (status) => !Pipeline.isRetriedStatus(status)
  })
  const redacted = Exchange.redactRequest(absolute)
  const send = Pipeline.authClient(lean, config)
  const auth = await Effect.runPromise(
    TwitchAuth.make.pipe(
      Effect.provideService(TwitchAuthConfig.TwitchAuthConfig, config),
      Effect.provideService(HttpClient.HttpClient, lean)
    )
  )
  const text = (response: { readonly text: Effect.Effect<string, unknown> }) => response.text
  const steps: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]> = [
    [
      "`Effect.tryPromise(undici.request)` + body text",
      Effect.tryPromise(async () => {
        const response = await Undici.request(`${mock.authUrl}/validate`, {
          headers: { authorization: `OAuth ${issued.accessToken}` }
        })
        return response.body.text()
      })
    ],
    ["`UndiciHttpClient` as a general client: `execute` + `text`", Effect.flatMap(lean.execute(absolute), text)],
    [
      "`NodeHttpClient.layerUndici`: `execute` + `text` (for comparison)",
      Effect.flatMap(platformClient.execute(absolute), text)
    ],
    [
      "`UndiciHttpClient` whole attempt: deadline over headers and body, body cap, buffered response",
      Effect.flatMap(exchange(absolute, redacted, attempt), text)
    ],
    [
      "… + the pipeline: base URL and `Accept` set, request redacted, `retryTransient`",
      Effect.flatMap(send(request), text)
    ],
    [
      "`TwitchAuth.validateToken` (… + status check, decode, `DateTime.now`; a span only under an exporting tracer)",
      auth.validateToken(token)
    ]
  ]
  const cpu = steps.map(() => new Array<number>())
  for (const [, effect] of steps) {
    await Effect.runPromise(
      Effect.forEach(Array.from({ length: 200 }), () => effect, { concurrency: 64, discard: true })
    )
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const index of rotate(steps.map((_, i) => i), round)) {
      const step = steps[index]
      if (step === undefined) continue
      await mock.reset()
      const m = await measure(() =>
        Effect.runPromise(
          Effect.forEach(Array.from({ length: options.calls }), () => step[1], { concurrency: 64, discard: true })
        )
      )
      cpu[index]?.push(m.cpuUs / options.calls)
    }
  }
  await agent.close()
  const base = median(cpu[0] ?? [])
  let previous = base
  const rows = steps.map(([name], i) => {
    const us = median(cpu[i] ?? [])
    const added = i <= 2 ? "—" : num(us - previous, 1)
    // the general clients (rows 2, 3) are for comparison; the pipeline builds on the first row
    if (i === 0 || i > 2) previous = us
    return [name, num(us, 1), added, ratio(us, base)]
  })
  return [
    `${options.rounds} rounds × ${options.calls} calls at concurrency 64, steps interleaved; client CPU µs per call (medians).`,
    "",
    table(["step", "CPU µs/call", "added by the step", "× first row"], rows)
  ].join("\n")
}
