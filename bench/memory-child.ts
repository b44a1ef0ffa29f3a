/**
 * Memory, run by `memory.ts` in its own `node --expose-gc` process: the heap each held
 * `TwitchSession` costs. SESSIONS sessions (default 10,000) are started on the in-memory
 * transport (`FakeTwitchHttpClient`, so no sockets) with the memory `TokenStore`, and held
 * open; the heap after a full GC, minus the heap before them, divided by their count.
 *
 * The user tokens are minted (in the fake) and their `UserToken` values built before the
 * first measurement: a session's cost is what holding it adds — its state, daemon fibers,
 * the store's entry — not the token it was given. The fake's request log is cleared before
 * each measurement.
 *
 * Twurple's `RefreshingAuthProvider.addUser` is measured the same way in the same process
 * (first), on token data built before its first reading.
 *
 * Prints one JSON line: `{ sessions, perSessionBytes, twurpleBytes, parts: {...} }`.
 */
import { Token, TokenStore, TwitchAuth, TwitchAuthConfig, TwitchSession } from "@effect-twitch/auth"
import { FakeTwitch, FakeTwitchHttpClient } from "@effect-twitch/testing"
import { type AccessToken, RefreshingAuthProvider } from "@twurple/auth"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"

const sessions = Number(process.env["SESSIONS"] ?? 10_000)
/** The parts are measured on fewer items: a per-item figure does not need 10,000. */
const parts = Math.min(sessions, 1_000)
const [client] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users

const heap = Effect.sync(() => {
  for (let i = 0; i < 3; i++) globalThis.gc?.()
  return process.memoryUsage().heapUsed
})

/** Heap per item held by `hold` (run `count` times in one open scope). */
const perItem = <E, R>(
  count: number,
  hold: (i: number) => Effect.Effect<unknown, E, R | Scope.Scope>,
  before: Effect.Effect<void> = Effect.void
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const start = yield* heap
    const held = yield* Effect.forEach(Array.from({ length: count }, (_, i) => i), hold, { concurrency: 64 }).pipe(
      Scope.extend(scope)
    )
    yield* before
    const end = yield* heap
    yield* Scope.close(scope, Exit.void)
    return { bytes: (end - start) / count, held: held.length }
  })

const main = Effect.gen(function*() {
  const twitch = yield* FakeTwitch.FakeTwitch
  const now = yield* DateTime.now
  const tokens: Array<Token.UserToken> = []
  const theirs: Array<AccessToken> = []
  for (let i = 0; i < sessions; i++) {
    const issued = yield* twitch.issueUserToken({
      clientId: client.clientId,
      userId: user.userId,
      scopes: ["chat:read"]
    })
    tokens.push(
      new Token.UserToken({
        accessToken: Redacted.make(issued.accessToken),
        refreshToken: Redacted.make(issued.refreshToken),
        scopes: ["chat:read"],
        obtainedAt: now,
        expiresAt: Option.some(DateTime.add(now, { seconds: issued.expiresIn }))
      })
    )
    theirs.push({
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      scope: ["chat:read"],
      expiresIn: issued.expiresIn,
      obtainmentTimestamp: DateTime.toEpochMillis(now)
    })
  }
  // Twurple's provider is made before the first reading too: what is counted is each user.
  const provider = new RefreshingAuthProvider({ clientId: client.clientId, clientSecret: client.clientSecret })
  const reset = twitch.resetCounters()
  // Twurple first: held the same way (the user id built in the loop, the token data before).
  const twurple = yield* perItem(sessions, (i) =>
    Effect.sync(() => {
      const data = theirs[i]
      if (data !== undefined) provider.addUser(`user-${i}`, data)
    }))
  const session = yield* perItem(
    sessions,
    (i) => {
      const token = tokens[i]
      return token === undefined ? Effect.void : TwitchSession.make({ key: `user-${i}`, token })
    },
    reset
  )
  // Parts of a session, held the same way, to see what dominates.
  const ref = yield* perItem(parts, () => SubscriptionRef.make({ n: 0 }))
  const sleeper = yield* perItem(parts, () => Effect.forkScoped(Effect.sleep("1 hour")))
  const racedSleeper = yield* perItem(
    parts,
    () =>
      Effect.flatMap(SubscriptionRef.make({ ended: false }), (r) =>
        Effect.forkScoped(
          Effect.sleep("1 hour").pipe(
            Effect.forever,
            Effect.raceFirst(r.changes.pipe(Stream.filter((s) => s.ended), Stream.take(1), Stream.runDrain))
          )
        ))
  )
  return {
    sessions,
    perSessionBytes: session.bytes,
    twurpleBytes: twurple.bytes,
    parts: {
      subscriptionRef: ref.bytes,
      forkedSleepingFiber: sleeper.bytes,
      fiberRacingSubscriptionRefChanges: racedSleeper.bytes
    }
  }
})

Effect.runPromise(
  main.pipe(
    Effect.provide(
      TwitchAuth.layer.pipe(
        Layer.provideMerge(TokenStore.layerMemory),
        Layer.provide(TwitchAuthConfig.layer({ clientId: client.clientId, clientSecret: client.clientSecret })),
        Layer.provide(FakeTwitchHttpClient.layer),
        Layer.provideMerge(FakeTwitch.layer())
      )
    )
  )
).then((result) => {
  process.stdout.write(`${JSON.stringify(result)}\n`)
})
