/**
 * Issue 13 #4: the session scheduler is an implementation detail. Sessions share one
 * automatically (one per clock: in a program, one for all), a job runs as its owner would
 * have run it, and `AppTokenSession`'s hourly validation is a job on it, with the transient
 * retry user sessions have.
 */
import { AppTokenSession, TwitchSession, TwitchSessions } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as Supervisor from "effect/Supervisor"
import * as TestClock from "effect/TestClock"
import * as Scheduler from "../src/internal/scheduler.js"
import { callsOf, eventually, inMemory, issueToken, settle } from "./lifecycle.js"

describe("issue 13 #4: sessions share one scheduler without being told", () => {
  it.scoped(
    "50 lone TwitchSessions and an AppTokenSession run their background work on one fiber, which a TwitchSessions' sessions join",
    () =>
      Effect.gen(function*() {
        const supervisor = yield* Supervisor.track
        const count = 50
        const sessionsScope = yield* Scope.make()
        yield* Effect.gen(function*() {
          yield* Effect.forEach(
            Array.from({ length: count }, (_, i) => i),
            (i) => Effect.flatMap(issueToken(), (token) => TwitchSession.make({ key: `user-${i}`, token })),
            { concurrency: 8 }
          )
          const app = yield* AppTokenSession.make()
          yield* app.token
        }).pipe(Effect.supervised(supervisor), Scope.extend(sessionsScope))
        yield* settle
        const alive = yield* supervisor.value
        // the scheduler's loop and the two sides of the race it waits in (its sleep, a wake-up);
        // a scheduler per session would leave three per session
        assert.isAtMost(alive.length, 3, `fibers left running by ${count + 1} sessions: ${alive.length}`)
        // a TwitchSessions' sessions join the same scheduler
        const registry = yield* TwitchSessions.make({ idleTimeToLive: "1 day" }).pipe(Scope.extend(sessionsScope))
        yield* registry.add(yield* issueToken()).pipe(Scope.extend(sessionsScope))
        assert.strictEqual(yield* Scheduler.usersOfCurrentClock, count + 2)
        // and that fiber does the work of all of them
        // at start: each user session, and the TwitchSessions' add (which validates to learn the user)
        assert.strictEqual(yield* callsOf("validate"), count + 2)
        yield* TestClock.adjust("1 hour")
        assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 2 * (count + 2))))
        yield* Scope.close(sessionsScope, Exit.void)
        assert.strictEqual(yield* Scheduler.usersOfCurrentClock, 0, "the last session gone, the scheduler is stopped")
        assert.isTrue(yield* eventually(Effect.map(supervisor.value, (fibers) => fibers.length === 0)))
      }).pipe(Effect.provide(inMemory())),
    60_000
  )

  it.scoped("a job runs with the fiber refs of the fiber that added it, not of the one that started the scheduler", () =>
    Effect.gen(function*() {
      const tenant = FiberRef.unsafeMake("none")
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const job = (name: string) => {
        const next = Ref.unsafeMake(1_000)
        return Scheduler.register({
          dueAt: Ref.get(next),
          run: Effect.zipRight(
            Effect.flatMap(FiberRef.get(tenant), (value) => Ref.update(seen, (all) => [...all, `${name}:${value}`])),
            Ref.set(next, Infinity)
          )
        })
      }
      yield* Effect.locally(job("first"), tenant, "a")
      yield* Effect.locally(job("second"), tenant, "b")
      yield* TestClock.adjust("1 second")
      assert.isTrue(yield* eventually(Effect.map(Ref.get(seen), (all) => all.length === 2)))
      assert.deepStrictEqual([...(yield* Ref.get(seen))].sort(), ["first:a", "second:b"])
    }))

  // Found by the demo under load: a validation was running when the clock was moved past the
  // session's refresh point; the scheduler took "due already" for "made no progress" and
  // deferred the refresh by its 1 s stall delay, which a TestClock that moves no further
  // never reaches.
  it.scoped("issue 14: a job whose next due time passes while it runs (the clock moved) runs again at once, not after a stall delay", () =>
    Effect.gen(function*() {
      const inRun = yield* Deferred.make<void>()
      const moved = yield* Deferred.make<void>()
      const runs = yield* Ref.make<ReadonlyArray<number>>([])
      const next = yield* Ref.make(1_000)
      yield* Scheduler.register({
        dueAt: Ref.get(next),
        run: Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const done = yield* Ref.updateAndGet(runs, (all) => [...all, now])
          yield* Ref.set(next, done.length === 1 ? 2_000 : Infinity)
          if (done.length === 1) {
            yield* Deferred.succeed(inRun, undefined)
            yield* Deferred.await(moved)
          }
        })
      })
      yield* TestClock.adjust("1 second")
      yield* Deferred.await(inRun)
      // while the first run is still going, the clock moves past its next due time (2 s)
      yield* TestClock.adjust("1500 millis")
      yield* Deferred.succeed(moved, undefined)
      assert.isTrue(yield* eventually(Effect.map(Ref.get(runs), (all) => all.length === 2)))
      assert.deepStrictEqual(yield* Ref.get(runs), [1_000, 2_500])
    }))

  it.scoped("closing the scope a job was added in interrupts its run in progress; other jobs go on", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const ownerScope = yield* Scope.make()
      yield* Scheduler.register({
        dueAt: Effect.succeed(0),
        run: Effect.zipRight(Deferred.succeed(started, undefined), Effect.never).pipe(
          Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
        )
      }).pipe(Scope.extend(ownerScope))
      const otherRuns = yield* Ref.make(0)
      const next = yield* Ref.make(1_000)
      yield* Scheduler.register({
        dueAt: Ref.get(next),
        run: Effect.zipRight(Ref.update(otherRuns, (n) => n + 1), Ref.update(next, (t) => t + 1_000))
      })
      yield* Deferred.await(started)
      yield* Scope.close(ownerScope, Exit.void)
      yield* Deferred.await(interrupted)
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("1 second")
        yield* settle
      }
      assert.strictEqual(yield* Ref.get(otherRuns), 3)
    }))
})

describe("issue 13 #4: AppTokenSession's validation rides out transient failures as TwitchSession's does", () => {
  const faults: ReadonlyArray<readonly [string, FakeTwitch.FakeTwitch.Fault]> = [
    ["503s", { _tag: "ServerError", status: 503 }],
    ["connection resets", { _tag: "Reset" }]
  ]
  for (const [name, fault] of faults) {
    it.scoped(`the hourly validation is retried with backoff through ${name} until Twitch answers, not given up for an hour`, () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const session = yield* AppTokenSession.make()
        const held = yield* session.token
        yield* twitch.resetCounters()
        // 3 daemon attempts × 4 TwitchAuth attempts each, then Twitch answers
        yield* twitch.failNext("validate", fault, 12)
        yield* TestClock.adjust("1 hour")
        assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 4)))
        // the default daemonRetry: 1 s, 2 s, 4 s … (as TwitchSession's)
        yield* TestClock.adjust("1 second")
        assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 8)))
        yield* TestClock.adjust("2 seconds")
        assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 12)))
        yield* TestClock.adjust("4 seconds")
        assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 13)))
        // validated: the held token is kept, and the next validation is an hour later
        const after = yield* session.token
        assert.strictEqual(Redacted.value(after.accessToken), Redacted.value(held.accessToken))
        yield* TestClock.adjust("59 minutes")
        yield* settle
        assert.strictEqual(yield* callsOf("validate"), 13)
        yield* TestClock.adjust("1 minute")
        assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 14)))
      }).pipe(Effect.provide(inMemory())))
  }

  it.scoped("a token Twitch rejects at validation is replaced, the request for the new one retried through 503s", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const session = yield* AppTokenSession.make()
      const held = yield* session.token
      yield* twitch.revokeAccessToken(Redacted.value(held.accessToken))
      yield* twitch.resetCounters()
      // the client-credentials request fails through TwitchAuth's 4 attempts, twice
      yield* twitch.failNext("token", { _tag: "ServerError", status: 503 }, 8)
      yield* TestClock.adjust("1 hour")
      assert.isTrue(yield* eventually(Effect.map(callsOf("token"), (n) => n === 4)))
      yield* TestClock.adjust("1 second")
      assert.isTrue(yield* eventually(Effect.map(callsOf("token"), (n) => n === 8)))
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(yield* eventually(Effect.map(callsOf("token"), (n) => n === 9)))
      const replaced = yield* session.token
      assert.notStrictEqual(Redacted.value(replaced.accessToken), Redacted.value(held.accessToken))
      assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(replaced.accessToken)))
    }).pipe(Effect.provide(inMemory())))
})
