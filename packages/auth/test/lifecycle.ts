/** Shared set-up for the token-lifecycle tests: the in-memory Twitch and the socket mock. */
import { Token, TokenStore, TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer, TwitchAuthTest } from "@effect-twitch/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { confidential, publicClient, user } from "./utils.js"

export type ClientKind = "confidential" | "public"

const clientOptions = (kind: ClientKind) =>
  kind === "confidential"
    ? { clientId: confidential.clientId, clientSecret: confidential.clientSecret }
    : { clientId: publicClient.clientId }

/**
 * The test Layer users swap in (`TwitchAuthTest.layer`): the real TwitchAuth over the
 * in-memory transport, no sockets, so `TestClock` drives every sleep, expiry and retry.
 * Retries have no delay there, so they never wait on the TestClock. `fake` tunes the model
 * (e.g. Helix's rate limit for storms).
 */
export const inMemory = (kind: ClientKind = "confidential", fake: FakeTwitch.FakeTwitch.Options = {}) =>
  Layer.orDie(TwitchAuthTest.layer({ client: kind, fake })).pipe(
    Layer.provideMerge(TokenStore.layerMemory)
  )

/**
 * TwitchAuth over undici against the mock server on 127.0.0.1. Helix's budget of 800 points
 * a minute is raised so that storms of a thousand calls measure refreshes, not rate limits.
 */
export const overSockets = (kind: ClientKind = "confidential") =>
  Layer.unwrapEffect(
    Effect.map(MockTwitchServer.MockTwitchServer, (server) =>
      TwitchAuth.layer.pipe(
        Layer.provideMerge(
          Layer.orDie(TwitchAuthConfig.layer({
            ...clientOptions(kind),
            authUrl: server.authUrl,
            helixUrl: server.helixUrl,
            retrySchedule: Schedule.spaced("5 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
            // A guard against a hang, not a speed requirement: with the default 10 s, a thousand
            // concurrent calls on a loaded machine had attempts time out and sent again, and
            // the tests that count what Twitch saw counted them twice.
            requestTimeout: "2 minutes"
          }))
        )
      ))
  ).pipe(
    Layer.provideMerge(
      Layer.merge(
        MockTwitchServer.layer().pipe(Layer.provideMerge(FakeTwitch.layer({ helixRateLimit: 100_000 }))),
        NodeHttpClient.layerUndici
      )
    ),
    Layer.provideMerge(TokenStore.layerMemory)
  )

/** A user token issued by the fake for `clientId`, as the SDK would hold it. */
export const issueToken = (kind: ClientKind = "confidential", scopes: ReadonlyArray<string> = ["chat:read"]) =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    const now = yield* DateTime.now
    const issued = yield* Effect.orDie(twitch.issueUserToken({
      clientId: clientOptions(kind).clientId,
      userId: user.userId,
      scopes
    }))
    return new Token.UserToken({
      accessToken: Redacted.make(issued.accessToken),
      refreshToken: Redacted.make(issued.refreshToken),
      scopes,
      obtainedAt: now,
      expiresAt: Option.some(DateTime.addDuration(now, Duration.seconds(issued.expiresIn)))
    })
  })

/** How many refresh-token grants Twitch has seen. */
export const refreshCount = Effect.map(
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.requests("token")),
  (requests) => requests.filter((r) => r.params["grant_type"] === "refresh_token").length
)

/**
 * Lets forked fibers (woken by a `TestClock.adjust`) run until `check` holds: yields to the
 * scheduler, and to the macrotask queue so promise-based body reads complete — never sleeps
 * on any clock. Gives up after a bounded number of turns and returns the last answer.
 */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if (yield* check) return true
      yield* turn
    }
    return yield* check
  })

/** One turn of the event loop: pending promises and I/O callbacks run, no time passes. */
const turn = Effect.zipRight(
  Effect.yieldNow(),
  Effect.async<void>((resume) => {
    setImmediate(() => resume(Effect.void))
  })
)

/** Lets forked fibers run for a while (many turns, no time passing), to show that nothing more happens. */
export const settle = Effect.forEach(Array.from({ length: 50 }), () => turn, { discard: true })

export const callsOf = (endpoint: FakeTwitch.FakeTwitch.Endpoint) =>
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.calls(endpoint))
