/**
 * Refresh storms: N concurrent Helix calls (`GET /helix/users`) meet an expired user token.
 * Counted by the mock (in its own process): refresh requests it saw, and the calls that
 * succeeded; timed: the wall clock of the storm.
 *
 * Two ways a token is expired:
 * - "rejected": Twitch expired it while the client still believes it valid, so every call
 *   gets a 401 first. Ours: `TwitchSession` + `TwitchHttpClient` (refresh-on-401 through
 *   `withTokenRefresh`). Twurple: `RefreshingAuthProvider` + `ApiClient`.
 * - "known": the client's own record says the token expired (a program starting with an old
 *   stored token). Ours: the session is built with that token and the storm fired at once
 *   (construction included in the wall time). Twurple: `addUser` with an expired token.
 */
import { Token, TokenStore, TwitchAuth, TwitchAuthConfig, TwitchHttpClient, TwitchSession } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import type * as HttpClient from "@effect/platform/HttpClient"
import { ApiClient } from "@twurple/api"
import { RefreshingAuthProvider } from "@twurple/auth"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { Mock } from "./internal/mock.js"
import { median, num, ratio, table } from "./internal/stats.js"

const [client] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users

type Scenario = "rejected" | "known"

interface Outcome {
  readonly refreshes: number
  readonly succeeded: number
  readonly wallMs: number
}

const scopes = ["chat:read", "moderation:read"]

const oursStorm = (
  mock: Mock,
  transport: Layer.Layer<HttpClient.HttpClient>,
  scenario: Scenario,
  n: number
): Promise<Outcome> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const issued = yield* Effect.promise(() => mock.issue())
      const now = yield* DateTime.now
      const token = new Token.UserToken({
        accessToken: Redacted.make(issued.accessToken),
        refreshToken: Redacted.make(issued.refreshToken),
        scopes,
        obtainedAt: scenario === "known" ? DateTime.subtract(now, { hours: 5 }) : now,
        expiresAt: Option.some(
          scenario === "known" ? DateTime.subtract(now, { hours: 1 }) : DateTime.add(now, { seconds: issued.expiresIn })
        )
      })
      const config = TwitchAuthConfig.layer({
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        authUrl: mock.authUrl,
        helixUrl: mock.helixUrl
      })
      const session = TwitchSession.layer({ key: user.userId, token }).pipe(
        Layer.provide(TwitchAuth.layer),
        Layer.provide(TokenStore.layerMemory)
      )
      const helixLayer = TwitchHttpClient.layer().pipe(Layer.provide(session))
      const storm = Effect.flatMap(TwitchHttpClient.TwitchHttpClient, (helix) =>
        Effect.forEach(
          Array.from({ length: n }),
          () => Effect.either(Effect.flatMap(helix.get(`/users?id=${user.userId}`), (response) => response.json)),
          { concurrency: "unbounded" }
        ))
      if (scenario === "rejected") {
        // the session is up (and validated the token); then Twitch expires the token
        const [results, wallMs] = yield* Effect.scoped(Effect.gen(function*() {
          const context = yield* Layer.build(helixLayer.pipe(Layer.provideMerge(config), Layer.provide(transport)))
          yield* Effect.promise(() => mock.expire(issued.accessToken))
          yield* Effect.promise(() => mock.reset())
          const start = performance.now()
          const results = yield* Effect.provide(storm, context)
          return [results, performance.now() - start] as const
        }))
        const calls = yield* Effect.promise(() => mock.calls())
        return { refreshes: calls.token, succeeded: results.filter(Either.isRight).length, wallMs }
      }
      // known: the session starts from the expired token; construction is part of the storm
      yield* Effect.promise(() => mock.reset())
      const start = performance.now()
      const results = yield* Effect.scoped(
        Effect.flatMap(
          Layer.build(helixLayer.pipe(Layer.provideMerge(config), Layer.provide(transport))),
          (context) => Effect.provide(storm, context)
        )
      )
      const wallMs = performance.now() - start
      const calls = yield* Effect.promise(() => mock.calls())
      return { refreshes: calls.token, succeeded: results.filter(Either.isRight).length, wallMs }
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Error))
  )

const twurpleStorm = async (mock: Mock, scenario: Scenario, n: number): Promise<Outcome> => {
  process.env["TWURPLE_MOCK_API_PORT"] = mock.port
  const issued = await mock.issue()
  const provider = new RefreshingAuthProvider({ clientId: client.clientId, clientSecret: client.clientSecret })
  provider.addUser(user.userId, {
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    scope: scopes,
    expiresIn: issued.expiresIn,
    obtainmentTimestamp: scenario === "known" ? Date.now() - 5 * 3600_000 : Date.now()
  })
  const api = new ApiClient({ authProvider: provider, logger: { minLevel: "critical" } })
  if (scenario === "rejected") await mock.expire(issued.accessToken)
  await mock.reset()
  const start = performance.now()
  const results = await Promise.allSettled(
    Array.from(
      { length: n },
      () => api.callApi({ type: "helix", url: "users", userId: user.userId, query: { id: user.userId } })
    )
  )
  const wallMs = performance.now() - start
  const calls = await mock.calls()
  return { refreshes: calls.token, succeeded: results.filter((r) => r.status === "fulfilled").length, wallMs }
}

/** Options of one storm run. */
export interface Options {
  readonly sizes: ReadonlyArray<number>
  readonly rounds: number
  readonly transport: Layer.Layer<HttpClient.HttpClient>
  readonly transportName: string
}

/** Runs the storms; returns the Markdown table. */
export const run = async (mock: Mock, options: Options): Promise<string> => {
  const rows: Array<Array<string>> = []
  for (const scenario of ["rejected", "known"] as const) {
    for (const n of options.sizes) {
      const ours: Array<Outcome> = []
      const theirs: Array<Outcome> = []
      for (let round = 0; round < options.rounds; round++) {
        // alternate who goes first
        if (round % 2 === 0) {
          ours.push(await oursStorm(mock, options.transport, scenario, n))
          theirs.push(await twurpleStorm(mock, scenario, n))
        } else {
          theirs.push(await twurpleStorm(mock, scenario, n))
          ours.push(await oursStorm(mock, options.transport, scenario, n))
        }
      }
      const summary = (outcomes: ReadonlyArray<Outcome>) => ({
        refreshes: outcomes.map((o) => o.refreshes),
        succeeded: median(outcomes.map((o) => o.succeeded)),
        wallMs: median(outcomes.map((o) => o.wallMs))
      })
      const a = summary(ours)
      const b = summary(theirs)
      const range = (xs: ReadonlyArray<number>) => {
        const lo = Math.min(...xs)
        const hi = Math.max(...xs)
        return lo === hi ? num(lo) : `${num(lo)}–${num(hi)}`
      }
      rows.push([
        scenario === "rejected" ? "rejected (401)" : "known expired",
        num(n),
        range(a.refreshes),
        range(b.refreshes),
        `${num(a.succeeded)} / ${num(b.succeeded)}`,
        num(a.wallMs, 1),
        num(b.wallMs, 1),
        ratio(a.wallMs, b.wallMs)
      ])
    }
  }
  return [
    `Ours: \`TwitchSession\` + \`TwitchHttpClient\` on ${options.transportName}; twurple: \`RefreshingAuthProvider\` + \`ApiClient.callApi\`. ${options.rounds} rounds each, alternating who goes first; refreshes as a range over the rounds, the rest medians.`,
    "",
    table(
      [
        "expired token",
        "N",
        "refreshes (ours)",
        "refreshes (twurple)",
        "succeeded ours / twurple",
        "wall ms (ours)",
        "wall ms (twurple)",
        "wall ours ÷ twurple"
      ],
      rows
    )
  ].join("\n")
}
