/**
 * Issue 11 #5: background work that fails, or that falls due again at once, must back off
 * instead of looping. Each test drives five minutes of logical time (TestClock, one-second
 * steps, no real sleeping) and counts what Twitch saw and what was logged. Before the fix
 * these counts were in the hundreds or thousands (the job was restarted as soon as it ended,
 * without time passing).
 */
import { AppTokenSession, TokenStore, TwitchSession } from "@effect-twitch/auth"
import { FakeTwitch, TwitchAuthTest } from "@effect-twitch/testing"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import * as Scheduler from "../src/internal/scheduler.js"
import { recordFigures } from "./figures.js"
import { callsOf, eventually, inMemory, issueToken, refreshCount, settle } from "./lifecycle.js"
import { confidential, user } from "./utils.js"

/** What each case measured over its 5 minutes, for `pnpm reliability` (written only when asked). */
const figures: Record<string, number> = {}
const figure = (name: string, value: number) => {
  figures[name] = value
}
afterAll(() => recordFigures("session-backoff", { window: `${window} s of TestClock time`, figures }))

/** A page a captive portal serves with status 200 in place of Twitch's JSON. */
const captivePortal: FakeTwitch.FakeTwitch.Fault = {
  _tag: "Raw",
  status: 200,
  headers: { "content-type": "text/html; charset=utf-8" },
  body: "<!doctype html><html><body><h1>Sign in to the hotel Wi-Fi</h1></body></html>"
}

/** Logical time the tests run for once a refresh is due (the issue measured its loops over 5 s of real time). */
const window = 300

/** A few event-loop turns, so that fibers woken by the clock finish (file I/O included). */
const turns = Effect.zipRight(settle, settle)

/** Advances the TestClock by `seconds` one second at a time, letting woken fibers run after each step. */
const stepThrough = (seconds: number, each: Effect.Effect<void, unknown, never> = Effect.void) =>
  Effect.forEach(
    Array.from({ length: seconds }),
    () => Effect.zipRight(Effect.zipRight(TestClock.adjust("1 second"), turns), each),
    { discard: true }
  )

/**
 * Runs `f` with a logger that records every warning (and worse) of the fibers it starts,
 * the session's background job included.
 */
const withWarnings = <A, E, R>(f: (warnings: ReadonlyArray<string>) => Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const warnings: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) {
        warnings.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
      }
    })
    return Effect.provide(f(warnings), Logger.replace(Logger.defaultLogger, logger))
  })

/**
 * The upper bound the backoff allows for `seconds` of failures that start at once: attempts
 * at 0, 10, 30, 70, 150 and 310 s (doubling from the 10 s floor), i.e. logarithmic in time.
 */
const backoffBound = (seconds: number) => Math.ceil(Math.log2(seconds / 10 + 1)) + 1

/** The clock, moved to where the default 5-minute margin makes the fake's 4-hour user token due. */
const toRefreshPoint = Effect.gen(function*() {
  yield* TestClock.adjust("235 minutes")
  yield* turns
})

describe("issue 11 #5: the session's background job backs off on every failure", () => {
  it.scoped(
    "a captive portal's HTML 200 from the token endpoint: a few token requests in 5 minutes, not hundreds a second",
    () =>
      withWarnings((warnings) =>
        Effect.gen(function*() {
          const twitch = yield* FakeTwitch.FakeTwitch
          const token = yield* issueToken()
          const session = yield* TwitchSession.make({ key: user.userId, token })
          yield* twitch.failNext("token", captivePortal, 1_000_000)
          yield* twitch.resetCounters()
          yield* toRefreshPoint
          yield* stepThrough(window)
          const requests = yield* callsOf("token")
          assert.isAtLeast(requests, 1, "the refresh was tried")
          figure("captive portal (HTML 200): token requests", requests)
          assert.isAtMost(requests, backoffBound(window), `token requests in 5 minutes: ${requests}`)
          const refreshWarnings = warnings.filter((w) => w.includes("refresh ahead of expiry"))
          assert.isAtMost(refreshWarnings.length, requests, "one warning per attempt, not per loop")
          assert.isAtLeast(refreshWarnings.length, 1)
          assert.include(refreshWarnings[0] ?? "", "next attempt in")
          // The token was kept: the session is alive and the store still holds it.
          assert.isTrue(Option.isNone(yield* session.ended))
          const stored = Option.getOrThrow(yield* (yield* TokenStore.TokenStore).get(user.userId))
          assert.strictEqual(Redacted.value(stored.refreshToken), Redacted.value(token.refreshToken))
        })
      ).pipe(Effect.provide(inMemory())),
    60_000
  )

  it.scoped(
    "a rotated client secret (InvalidClient): a few token requests in 5 minutes",
    () =>
      withWarnings((warnings) =>
        Effect.gen(function*() {
          const token = yield* issueToken()
          yield* TwitchSession.make({ key: user.userId, token })
          yield* toRefreshPoint
          yield* stepThrough(window)
          const requests = yield* callsOf("token")
          assert.isAtLeast(requests, 1)
          figure("rotated client secret (InvalidClient): token requests", requests)
          assert.isAtMost(requests, backoffBound(window), `token requests in 5 minutes: ${requests}`)
          const refreshWarnings = warnings.filter((w) => w.includes("refresh ahead of expiry"))
          assert.isTrue(refreshWarnings.every((w) => w.includes("InvalidClient")))
          assert.isAtMost(refreshWarnings.length, requests)
          // no secret in the warnings
          assert.isFalse(warnings.some((w) => w.includes(confidential.clientSecret) || w.includes("rotated-away")))
        })
      ).pipe(Effect.provide(
        // The app's secret was rotated on Twitch's side; the program still runs with the old one.
        Layer.orDie(TwitchAuthTest.layer({
          client: { clientId: confidential.clientId, clientSecret: "rotated-away-old-secret", registered: false }
        })).pipe(Layer.provideMerge(TokenStore.layerMemory))
      )),
    60_000
  )

  it.scoped(
    "a corrupted token file: a few warnings in 5 minutes, not thousands, and the file is left alone",
    () =>
      withWarnings((warnings) =>
        Effect.gen(function*() {
          const fs = yield* FileSystem.FileSystem
          const path = yield* Path.Path
          const dir = yield* fs.makeTempDirectoryScoped({ prefix: "session-backoff-" })
          const file = path.join(dir, "tokens.json")
          const store = yield* TokenStore.makeFile(file)
          const token = yield* issueToken()
          const session = yield* TwitchSession.make({ key: user.userId, token }).pipe(
            Effect.provideService(TokenStore.TokenStore, store)
          )
          const corrupted = "{\"version\":1,\"tokens\":{\"141981764\":{\"accessToken\":"
          yield* fs.writeFileString(file, corrupted)
          yield* toRefreshPoint
          yield* stepThrough(window)
          const refreshWarnings = warnings.filter((w) => w.includes("refresh ahead of expiry"))
          assert.isAtLeast(refreshWarnings.length, 1, "the broken file is reported")
          assert.isTrue(refreshWarnings.every((w) => w.includes("TokenStoreError")))
          figure("corrupted token file: refresh warnings", refreshWarnings.length)
          assert.isAtMost(
            refreshWarnings.length,
            backoffBound(window),
            `warnings in 5 minutes: ${refreshWarnings.length}`
          )
          // all warnings: those, and the hourly validation at 4 h (which fails with the same error)
          figure("corrupted token file: all warnings", warnings.length)
          assert.isAtMost(warnings.length, backoffBound(window) + 1, warnings.join("\n"))
          // the store is read before any refresh token is spent: Twitch saw nothing
          assert.strictEqual(yield* refreshCount, 0)
          assert.strictEqual(yield* fs.readFileString(file), corrupted, "the file is never overwritten")
          assert.isTrue(Option.isNone(yield* session.ended))
        })
      ).pipe(Effect.provide(Layer.merge(inMemory(), NodeContext.layer))),
    60_000
  )

  it.scoped(
    "a TokenStore whose reads fail: bounded attempts and warnings",
    () =>
      withWarnings((warnings) =>
        Effect.gen(function*() {
          const memory = yield* TokenStore.makeMemory
          const reads = yield* Ref.make(0)
          let failReads = false
          const broken = TokenStore.make({
            ...memory,
            get: (key) =>
              Effect.zipRight(
                Ref.update(reads, (n) => n + 1),
                failReads
                  ? Effect.fail(new TokenStore.TokenStoreError({ reason: "Io", path: "/broken", detail: "EIO" }))
                  : memory.get(key)
              )
          })
          const token = yield* issueToken()
          yield* TwitchSession.make({ key: user.userId, token }).pipe(
            Effect.provideService(TokenStore.TokenStore, broken)
          )
          failReads = true
          yield* toRefreshPoint
          yield* stepThrough(window)
          const attempts = yield* Ref.get(reads)
          assert.isAtLeast(attempts, 1)
          figure("unreadable TokenStore: store reads", attempts)
          assert.isAtMost(attempts, backoffBound(window), `store reads in 5 minutes: ${attempts}`)
          const refreshWarnings = warnings.filter((w) => w.includes("refresh ahead of expiry"))
          assert.isAtMost(refreshWarnings.length, attempts, warnings.join("\n"))
          assert.isTrue(refreshWarnings.every((w) => w.includes("TokenStoreError")))
          assert.strictEqual(yield* refreshCount, 0)
        })
      ).pipe(Effect.provide(inMemory())),
    60_000
  )

  it.scoped(
    "the backoff ends with the failure: once Twitch answers again, the token is refreshed at the next step",
    () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const token = yield* issueToken()
        const session = yield* TwitchSession.make({ key: user.userId, token })
        yield* twitch.failNext("token", captivePortal, 3)
        yield* twitch.resetCounters()
        yield* toRefreshPoint
        // attempts at 0 s, 10 s and 30 s fail; the one at 70 s succeeds
        yield* stepThrough(69)
        assert.strictEqual(yield* refreshCount, 3)
        yield* stepThrough(1)
        assert.isTrue(yield* eventually(Effect.map(refreshCount, (n) => n === 4)))
        const current = yield* session.token
        assert.notStrictEqual(Redacted.value(current.accessToken), Redacted.value(token.accessToken))
        assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(current.accessToken)))
        // and the next refresh is due ahead of the new token's expiry again, not sooner
        yield* stepThrough(window)
        assert.strictEqual(yield* refreshCount, 4)
      }).pipe(Effect.provide(inMemory())),
    60_000
  )
})

describe("issue 11 #5: a token that lives less than the refresh margin", () => {
  it.scoped(
    "a 30 s token with the default 5-minute margin is refreshed at mid-life (every 15 s), and is never handed out expired",
    () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const token = yield* issueToken()
        const session = yield* TwitchSession.make({ key: user.userId, token })
        // the start-up validation did not refresh a token that was just issued
        assert.strictEqual(yield* refreshCount, 0)
        yield* stepThrough(
          window,
          Effect.gen(function*() {
            // a busy caller: a hundred calls per second cause no refresh of their own
            for (let i = 0; i < 100; i++) {
              const current = yield* session.token
              assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(current.accessToken)), "handed out alive")
            }
          })
        )
        const refreshes = yield* refreshCount
        figure("30 s token, 5 min margin: refreshes", refreshes)
        assert.isAtLeast(refreshes, window / 15 - 1)
        assert.isAtMost(refreshes, window / 15 + 1, `refreshes in 5 minutes: ${refreshes}`)
      }).pipe(Effect.provide(inMemory("confidential", { userTokenTtlSeconds: 30 }))),
    60_000
  )

  it.scoped("foreground: a thousand calls to session.token cause no refresh when the token lives less than the margin", () =>
    Effect.gen(function*() {
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token, refreshMargin: "1 hour" })
      yield* Effect.forEach(Array.from({ length: 1000 }), () => session.token, { discard: true })
      assert.strictEqual(yield* refreshCount, 0)
    }).pipe(Effect.provide(inMemory("confidential", { userTokenTtlSeconds: 120 }))))

  it.scoped(
    "a token that lives 1 s is refreshed at most once per minRefreshInterval (default 10 s)",
    () =>
      Effect.gen(function*() {
        const token = yield* issueToken()
        const session = yield* TwitchSession.make({ key: user.userId, token })
        yield* stepThrough(window, Effect.asVoid(Effect.forEach(Array.from({ length: 10 }), () => session.token)))
        const refreshes = yield* refreshCount
        figure("1 s token: refreshes", refreshes)
        assert.isAtLeast(refreshes, window / 10 - 2)
        assert.isAtMost(refreshes, window / 10 + 1, `refreshes in 5 minutes: ${refreshes}`)
      }).pipe(Effect.provide(inMemory("confidential", { userTokenTtlSeconds: 1 }))),
    60_000
  )

  it.scoped("minRefreshInterval is configurable", () =>
    Effect.gen(function*() {
      const token = yield* issueToken()
      yield* TwitchSession.make({ key: user.userId, token, minRefreshInterval: "1 minute" })
      yield* stepThrough(window)
      const refreshes = yield* refreshCount
      assert.isAtLeast(refreshes, window / 60 - 1)
      assert.isAtMost(refreshes, window / 60 + 1, `refreshes in 5 minutes: ${refreshes}`)
    }).pipe(Effect.provide(inMemory("confidential", { userTokenTtlSeconds: 1 }))), 60_000)
})

describe("issue 11 #5: foreground calls do not hammer a failing token endpoint", () => {
  it.scoped(
    "while an early refresh fails, session.token hands out the still-valid token; once expired, it fails fast with the last error",
    () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const token = yield* issueToken()
        const session = yield* TwitchSession.make({ key: user.userId, token })
        yield* twitch.failNext("token", captivePortal, 1_000_000)
        yield* twitch.resetCounters()
        yield* toRefreshPoint
        const before = yield* callsOf("token")
        // inside the margin, the token still valid: every call gets it, and they cause no request
        const handed = yield* Effect.forEach(Array.from({ length: 1000 }), () => session.token)
        assert.isTrue(handed.every((t) => Redacted.value(t.accessToken) === Redacted.value(token.accessToken)))
        assert.isAtMost((yield* callsOf("token")) - before, 1)
        // past expiry: the last error, at once, without a request per call
        yield* TestClock.adjust("5 minutes")
        yield* turns
        const atExpiry = yield* callsOf("token")
        const errors = yield* Effect.forEach(Array.from({ length: 1000 }), () => Effect.flip(session.token))
        assert.isTrue(errors.every((e) => e._tag === "MalformedResponse" || e._tag === "UnexpectedResponse"))
        assert.isAtMost((yield* callsOf("token")) - atExpiry, 1)
      }).pipe(Effect.provide(inMemory())),
    60_000
  )
})

describe("issue 11 #5: a burst of callers behind a failing refresh", () => {
  it.scoped("a hundred concurrent token calls queued behind the daemon's failing refresh make no attempt of their own, and get the still-valid token", () =>
    Effect.gen(function*() {
      const memory = yield* TokenStore.makeMemory
      const gate = yield* Deferred.make<void>()
      const reads = yield* Ref.make(0)
      // reads are held until the gate opens, then fail: the refresh's first step under the lock
      const stuck = TokenStore.make({
        ...memory,
        get: () =>
          Effect.zipRight(
            Effect.zipRight(Ref.update(reads, (n) => n + 1), Deferred.await(gate)),
            Effect.fail(new TokenStore.TokenStoreError({ reason: "Io", path: "/stuck", detail: "EIO" }))
          )
      })
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token }).pipe(
        Effect.provideService(TokenStore.TokenStore, stuck)
      )
      yield* TestClock.adjust("235 minutes")
      assert.isTrue(yield* eventually(Effect.map(Ref.get(reads), (n) => n === 1)), "the daemon's refresh started")
      const callers = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 100 }), () => session.token, { concurrency: "unbounded" })
      )
      yield* turns
      yield* Deferred.succeed(gate, undefined)
      const handed = yield* Fiber.join(callers)
      assert.isTrue(handed.every((t) => Redacted.value(t.accessToken) === Redacted.value(token.accessToken)))
      assert.strictEqual(yield* Ref.get(reads), 1, "one attempt for the daemon and the hundred callers")
    }).pipe(Effect.provide(inMemory())))
})

describe("issue 11 #5: the scheduler defers a job that stays due or fails", () => {
  it.scoped("a job that is still due after it ran is deferred with a growing delay, not restarted at once", () =>
    Effect.gen(function*() {
      const scheduler = yield* Scheduler.make
      const runs = yield* Ref.make(0)
      yield* scheduler.add({ dueAt: Effect.succeed(0), run: Ref.update(runs, (n) => n + 1) })
      yield* turns
      assert.strictEqual(yield* Ref.get(runs), 1)
      yield* stepThrough(window)
      const n = yield* Ref.get(runs)
      figure("scheduler job that stays due: runs", n)
      // 1 s, 2 s, 4 s … capped at 1 minute: ≈ 6 runs to reach the cap, then one a minute
      assert.isAtMost(n, 14, `runs in 5 minutes: ${n}`)
      assert.isAtLeast(n, 8)
    }))

  it.scoped("a job that dies is deferred too, and the other jobs keep running", () =>
    Effect.gen(function*() {
      const scheduler = yield* Scheduler.make
      const dying = yield* Ref.make(0)
      const healthy = yield* Ref.make(0)
      yield* scheduler.add({
        dueAt: Effect.succeed(0),
        run: Effect.zipRight(Ref.update(dying, (n) => n + 1), Effect.die("boom"))
      })
      const next = yield* Ref.make(10_000)
      yield* scheduler.add({
        dueAt: Ref.get(next),
        run: Effect.zipRight(Ref.update(healthy, (n) => n + 1), Ref.update(next, (t) => t + 10_000))
      })
      yield* stepThrough(window)
      assert.isAtMost(yield* Ref.get(dying), 14)
      assert.strictEqual(yield* Ref.get(healthy), window / 10)
    }))

  it.scoped("a job that makes progress is not delayed: one due every second runs every second", () =>
    Effect.gen(function*() {
      const scheduler = yield* Scheduler.make
      const next = yield* Ref.make(1_000)
      const runs = yield* Ref.make(0)
      yield* scheduler.add({
        dueAt: Ref.get(next),
        run: Effect.zipRight(Ref.update(runs, (n) => n + 1), Ref.update(next, (t) => t + 1_000))
      })
      yield* stepThrough(60)
      assert.strictEqual(yield* Ref.get(runs), 60)
    }))
})

describe("issue 11 #5: AppTokenSession", () => {
  const clientCredentials = Effect.map(
    Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.requests("token")),
    (requests) => requests.filter((r) => r.params["grant_type"] === "client_credentials").length
  )

  it.scoped(
    "an app token that lives less than the margin is replaced at mid-life, not on every call",
    () =>
      Effect.gen(function*() {
        const session = yield* AppTokenSession.make()
        yield* stepThrough(window, Effect.asVoid(Effect.forEach(Array.from({ length: 100 }), () => session.token)))
        const fetched = yield* clientCredentials
        figure("30 s app token, 100 token calls a second: client-credentials requests", fetched)
        assert.isAtLeast(fetched, window / 15 - 1)
        assert.isAtMost(fetched, window / 15 + 1, `app tokens fetched in 5 minutes: ${fetched}`)
      }).pipe(Effect.provide(inMemory("confidential", { appTokenTtlSeconds: 30 }))),
    60_000
  )

  it.scoped(
    "a failing client-credentials grant is not asked again on every call: callers get the last error until the backoff ends",
    () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        yield* twitch.failNext("token", captivePortal, 1_000_000)
        const session = yield* AppTokenSession.make()
        yield* stepThrough(
          window,
          Effect.asVoid(Effect.forEach(Array.from({ length: 100 }), () => Effect.either(session.token)))
        )
        const asked = yield* callsOf("token")
        figure("failing client-credentials grant, 100 token calls a second: requests", asked)
        assert.isAtLeast(asked, 1)
        assert.isAtMost(asked, backoffBound(window), `client-credentials requests in 5 minutes: ${asked}`)
      }).pipe(Effect.provide(inMemory())),
    60_000
  )
})
