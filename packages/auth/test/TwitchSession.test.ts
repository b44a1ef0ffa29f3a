import {
  Retry,
  Token,
  TokenStore,
  TwitchAuth,
  TwitchAuthError,
  TwitchCredentials,
  TwitchHttpClient,
  TwitchSession
} from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { getMe, sessionLayer } from "./helix.js"
import { callsOf, eventually, inMemory, issueToken, refreshCount, settle } from "./lifecycle.js"
import { user } from "./utils.js"

describe("TwitchSession on TwitchAuthTest.layer (in memory, TestClock, no real sleeping)", () => {
  it.scoped("validates at start and every hour", () =>
    Effect.gen(function*() {
      yield* TwitchSession.make({ key: user.userId, token: yield* issueToken() })
      assert.strictEqual(yield* callsOf("validate"), 1)
      yield* TestClock.adjust("59 minutes")
      yield* settle
      assert.strictEqual(yield* callsOf("validate"), 1)
      yield* TestClock.adjust("1 minute")
      assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 2)))
      yield* TestClock.adjust("1 hour")
      assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 3)))
      assert.strictEqual(yield* refreshCount, 0)
    }).pipe(Effect.provide(inMemory())))

  it.scoped("a failed hourly validation triggers a refresh, then validates the new token", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token })
      yield* twitch.revokeAccessToken(Redacted.value(token.accessToken))
      yield* TestClock.adjust("1 hour")
      assert.isTrue(yield* eventually(Effect.map(refreshCount, (n) => n === 1)))
      assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 3)))
      const current = yield* session.token
      assert.notStrictEqual(Redacted.value(current.accessToken), Redacted.value(token.accessToken))
      assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(current.accessToken)))
      const validated = Option.getOrThrow(yield* session.lastValidation)
      assert.deepStrictEqual(validated.userId, Option.some(user.userId))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("refreshes ahead of expiry, by the configured margin, with nobody calling", () =>
    Effect.gen(function*() {
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token, refreshMargin: "10 minutes" })
      // user tokens live 4 hours on the fake
      yield* TestClock.adjust("229 minutes")
      yield* settle
      assert.strictEqual(yield* refreshCount, 0)
      yield* TestClock.adjust("1 minute")
      assert.isTrue(yield* eventually(Effect.map(refreshCount, (n) => n === 1)))
      const current = yield* session.token
      assert.notStrictEqual(Redacted.value(current.accessToken), Redacted.value(token.accessToken))
      // the next one is due 3h50m after this refresh
      yield* TestClock.adjust("229 minutes")
      yield* settle
      assert.strictEqual(yield* refreshCount, 1)
      yield* TestClock.adjust("1 minute")
      assert.isTrue(yield* eventually(Effect.map(refreshCount, (n) => n === 2)))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("a token inside the margin is refreshed before it is handed out", () =>
    Effect.gen(function*() {
      const issued = yield* issueToken()
      // stored 3 h 58 min ago: 2 minutes left, inside the 5-minute margin
      const now = yield* DateTime.now
      const token = new Token.UserToken({
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        scopes: issued.scopes,
        obtainedAt: DateTime.subtract(now, { minutes: 238 }),
        expiresAt: Option.some(DateTime.add(now, { minutes: 2 }))
      })
      const session = yield* TwitchSession.make({ key: user.userId, token })
      const handed = yield* session.token
      assert.notStrictEqual(Redacted.value(handed.accessToken), Redacted.value(token.accessToken))
      assert.strictEqual(yield* refreshCount, 1)
    }).pipe(Effect.provide(inMemory())))

  it.scoped("the margin is capped at half the token's lifetime: a margin longer than the token's life does not refresh a new token", () =>
    Effect.gen(function*() {
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token, refreshMargin: "5 hours" })
      // user tokens live 4 hours on the fake: due at 2 hours, not at once
      const handed = yield* Effect.forEach(Array.from({ length: 100 }), () => session.token)
      assert.isTrue(handed.every((t) => Redacted.value(t.accessToken) === Redacted.value(token.accessToken)))
      assert.strictEqual(yield* refreshCount, 0)
      yield* TestClock.adjust("119 minutes")
      yield* settle
      assert.strictEqual(yield* refreshCount, 0)
      yield* TestClock.adjust("1 minute")
      assert.isTrue(yield* eventually(Effect.map(refreshCount, (n) => n === 1)))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("a 503 during refresh is retried and the session recovers", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token })
      yield* twitch.resetCounters()
      // two 503s: absorbed by TwitchAuth's own retry
      yield* twitch.failNext("token", { _tag: "ServerError", status: 503 }, 2)
      const refreshed = yield* session.refresh(token.accessToken)
      assert.strictEqual(yield* callsOf("token"), 3)
      assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(refreshed.accessToken)))
      // more 503s than TwitchAuth retries: the caller sees TwitchUnavailable, the session lives
      yield* twitch.failNext("token", { _tag: "ServerError", status: 503 }, 4)
      const error = yield* Effect.flip(session.refresh(refreshed.accessToken))
      assert.strictEqual(error._tag, "TwitchUnavailable")
      assert.isTrue(Option.isNone(yield* session.ended))
      const again = yield* session.refresh(refreshed.accessToken)
      assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(again.accessToken)))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("the daemon retries a refresh that keeps failing with 503, with backoff, until Twitch is back", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const token = yield* issueToken()
      // a floor of 1 s lets the default daemonRetry's own delays (1 s, 2 s, 4 s) show
      const session = yield* TwitchSession.make({
        key: user.userId,
        token,
        refreshMargin: "5 minutes",
        minRefreshInterval: "1 second"
      })
      yield* twitch.resetCounters()
      // 3 daemon attempts × 4 TwitchAuth attempts each
      yield* twitch.failNext("token", { _tag: "ServerError", status: 503 }, 12)
      yield* TestClock.adjust("235 minutes")
      assert.isTrue(yield* eventually(Effect.map(callsOf("token"), (n) => n === 4)))
      yield* TestClock.adjust("1 second")
      assert.isTrue(yield* eventually(Effect.map(callsOf("token"), (n) => n === 8)))
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(yield* eventually(Effect.map(callsOf("token"), (n) => n === 12)))
      yield* TestClock.adjust("4 seconds")
      assert.isTrue(yield* eventually(Effect.map(callsOf("token"), (n) => n === 13)))
      const current = yield* session.token
      assert.notStrictEqual(Redacted.value(current.accessToken), Redacted.value(token.accessToken))
      assert.isTrue(Option.isNone(yield* session.ended))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("an invalid refresh token ends the session; later calls fail fast without contacting Twitch", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const store = yield* TokenStore.TokenStore
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token })
      yield* twitch.disconnectUser(user.userId)
      const error = yield* Effect.flip(session.refresh(token.accessToken))
      assert.strictEqual(error._tag, "InvalidRefreshToken")
      assert.include(error.message, "authorize")
      const ended = Option.getOrThrow(yield* session.ended)
      assert.strictEqual(ended._tag, "InvalidRefreshToken")

      yield* twitch.resetCounters()
      assert.strictEqual((yield* Effect.flip(session.token))._tag, "InvalidRefreshToken")
      assert.strictEqual((yield* Effect.flip(session.refresh()))._tag, "InvalidRefreshToken")
      assert.strictEqual((yield* Effect.flip(session.accessToken))._tag, "InvalidRefreshToken")
      assert.strictEqual((yield* Effect.flip(session.validate))._tag, "InvalidRefreshToken")
      yield* TestClock.adjust("5 hours")
      yield* settle
      for (const endpoint of ["token", "validate", "revoke", "helix"] as const) {
        assert.strictEqual(yield* callsOf(endpoint), 0, endpoint)
      }
      // the dead token is gone from the store
      assert.isTrue(Option.isNone(yield* store.get(user.userId)))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("compare-and-refresh: a caller whose rejected token was already replaced gets the new one", () =>
    Effect.gen(function*() {
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token })
      const first = yield* session.refresh(token.accessToken)
      const second = yield* session.refresh(token.accessToken)
      assert.strictEqual(Redacted.value(second.accessToken), Redacted.value(first.accessToken))
      assert.strictEqual(yield* refreshCount, 1)
      const concurrent = yield* Effect.forEach(
        Array.from({ length: 50 }),
        () => session.refresh(first.accessToken),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(concurrent.map((t) => Redacted.value(t.accessToken))).size, 1)
      assert.strictEqual(yield* refreshCount, 2)
    }).pipe(Effect.provide(inMemory())))

  it.scoped("every new token is persisted before it is handed out; changes streams each one", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token })
      const subscribed = yield* Deferred.make<void>()
      const seen = yield* Effect.fork(
        Stream.runCollect(Stream.take(Stream.tap(session.changes, () => Deferred.succeed(subscribed, undefined)), 3))
      )
      yield* Deferred.await(subscribed)
      const t1 = yield* session.refresh(token.accessToken)
      const stored1 = Option.getOrThrow(yield* store.get(user.userId))
      assert.strictEqual(Redacted.value(stored1.refreshToken), Redacted.value(t1.refreshToken))
      const t2 = yield* session.refresh(t1.accessToken)
      const stored2 = Option.getOrThrow(yield* store.get(user.userId))
      assert.strictEqual(Redacted.value(stored2.accessToken), Redacted.value(t2.accessToken))
      const streamed = Chunk.toReadonlyArray(yield* Fiber.join(seen)).map((t) => Redacted.value(t.accessToken))
      assert.deepStrictEqual(streamed, [token, t1, t2].map((t) => Redacted.value(t.accessToken)))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("a failed store write is a typed error, and the new token is not handed out until it is stored", () =>
    Effect.gen(function*() {
      const memory = yield* TokenStore.makeMemory
      let failWrites = false
      const diskFull = Effect.fail(
        new TokenStore.TokenStoreError({ reason: "Io", path: "/flaky", detail: "disk full" })
      )
      const flaky = TokenStore.make({
        ...memory,
        set: (key, token) => failWrites ? diskFull : memory.set(key, token),
        compareAndSet: (key, expected, next) => failWrites ? diskFull : memory.compareAndSet(key, expected, next)
      })
      const twitch = yield* FakeTwitch.FakeTwitch
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token }).pipe(
        Effect.provideService(TokenStore.TokenStore, flaky)
      )
      failWrites = true
      const error = yield* Effect.flip(session.refresh(token.accessToken))
      assert.strictEqual(error._tag, "TokenStoreError")
      // not handed out while unstored
      assert.strictEqual((yield* Effect.flip(session.token))._tag, "TokenStoreError")
      assert.strictEqual(yield* refreshCount, 1)
      failWrites = false
      const handed = yield* session.token
      assert.strictEqual(yield* refreshCount, 1, "the stored-late token is the refreshed one, not a new refresh")
      assert.notStrictEqual(Redacted.value(handed.accessToken), Redacted.value(token.accessToken))
      const stored = Option.getOrThrow(yield* memory.get(user.userId))
      assert.strictEqual(Redacted.value(stored.refreshToken), Redacted.value(handed.refreshToken))
      assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(handed.accessToken)))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("a new token whose write failed is stored in the background, backing off, though nobody asks for a token", () =>
    Effect.gen(function*() {
      const memory = yield* TokenStore.makeMemory
      let failWrites = false
      let attempts = 0
      const diskFull = Effect.fail(
        new TokenStore.TokenStoreError({ reason: "Io", path: "/flaky", detail: "disk full" })
      )
      const flaky = TokenStore.make({
        ...memory,
        compareAndSet: (key, expected, next) =>
          Effect.suspend(() => {
            if (!failWrites) return memory.compareAndSet(key, expected, next)
            attempts++
            return diskFull
          })
      })
      const token = yield* issueToken()
      const session = yield* TwitchSession.make({ key: user.userId, token }).pipe(
        Effect.provideService(TokenStore.TokenStore, flaky)
      )
      failWrites = true
      assert.strictEqual((yield* Effect.flip(session.refresh(token.accessToken)))._tag, "TokenStoreError")
      // the disk stays full for a minute: the background retries back off (10 s, 20 s, 40 s…)
      for (let second = 0; second < 60; second++) {
        yield* TestClock.adjust("1 second")
        yield* settle
      }
      assert.isAtMost(attempts, 6, "retries back off instead of looping")
      assert.isAtLeast(attempts, 3, "the write is retried without anyone asking for a token")
      const stillOld = Option.getOrThrow(yield* memory.get(user.userId))
      assert.strictEqual(Redacted.value(stillOld.accessToken), Redacted.value(token.accessToken))
      failWrites = false
      yield* TestClock.adjust("5 minutes")
      yield* settle
      const stored = Option.getOrThrow(yield* memory.get(user.userId))
      assert.notStrictEqual(Redacted.value(stored.accessToken), Redacted.value(token.accessToken))
      assert.strictEqual(yield* refreshCount, 1, "the stored token is the refreshed one, not a new refresh")
    }).pipe(Effect.provide(inMemory())))

  it.scoped("starts from the stored token; NoStoredToken for an unknown user", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const token = yield* issueToken()
      yield* store.set(user.userId, token)
      const session = yield* TwitchSession.make({ key: user.userId })
      const current = yield* session.token
      assert.strictEqual(Redacted.value(current.accessToken), Redacted.value(token.accessToken))
      const missing = yield* Effect.flip(TwitchSession.make({ key: "nobody" }))
      assert.strictEqual(missing._tag, "NoStoredToken")
      assert.include(missing.message, "nobody")
    }).pipe(Effect.provide(inMemory())))

  it.scoped("the daemon stops when the scope closes", () =>
    Effect.gen(function*() {
      const token = yield* issueToken()
      yield* Effect.scoped(TwitchSession.make({ key: user.userId, token }))
      assert.strictEqual(yield* callsOf("validate"), 1)
      yield* TestClock.adjust("5 hours")
      yield* settle
      assert.strictEqual(yield* callsOf("validate"), 1)
      assert.strictEqual(yield* refreshCount, 0)
    }).pipe(Effect.provide(inMemory())))
})

describe("withTokenRefresh", () => {
  it.scoped("refreshes once and reruns any effect that failed with InvalidAccessToken", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const auth = yield* TwitchAuth.TwitchAuth
      const session = yield* TwitchSession.TwitchSession
      const before = yield* session.token
      yield* twitch.expireAccessToken(Redacted.value(before.accessToken))
      let runs = 0
      const whoAmI = Effect.gen(function*() {
        runs++
        const credentials = yield* TwitchCredentials.TwitchCredentials
        return yield* auth.validateToken(yield* credentials.accessToken)
      })
      const info = yield* Retry.withTokenRefresh(whoAmI)
      assert.deepStrictEqual(info.login, Option.some(user.login))
      assert.strictEqual(runs, 2)
      assert.strictEqual(yield* refreshCount, 1)
    }).pipe(Effect.provide(sessionLayer().pipe(Layer.provideMerge(inMemory())))))

  it.scoped("gives up after the schedule: one refresh and one retry by default, more if asked", () =>
    Effect.gen(function*() {
      const session = yield* TwitchSession.TwitchSession
      let runs = 0
      // an effect whose every attempt is rejected, naming the token it used
      const alwaysRejected = Effect.gen(function*() {
        runs++
        const token = yield* session.accessToken
        return yield* Effect.fail(
          new TwitchAuthError.InvalidAccessToken({ endpoint: "test", status: 401, twitchMessage: "no", token })
        )
      })
      const error = yield* Effect.flip(Retry.withTokenRefresh(alwaysRejected))
      assert.strictEqual(error._tag, "InvalidAccessToken")
      assert.strictEqual(runs, 2)
      assert.strictEqual(yield* refreshCount, 1)

      runs = 0
      yield* Effect.flip(alwaysRejected.pipe(Retry.withTokenRefresh({ schedule: Schedule.recurs(3) })))
      assert.strictEqual(runs, 4)
      assert.strictEqual(yield* refreshCount, 4)
    }).pipe(Effect.provide(sessionLayer().pipe(Layer.provideMerge(inMemory())))))

  it.scoped("other errors pass through untouched, with no refresh", () =>
    Effect.gen(function*() {
      let runs = 0
      const mine = Effect.suspend(() => {
        runs++
        return Effect.fail("my own error" as const)
      })
      const error = yield* Effect.flip(Retry.withTokenRefresh(mine))
      assert.strictEqual(error, "my own error")
      assert.strictEqual(runs, 1)
      assert.strictEqual(yield* refreshCount, 0)
    }).pipe(Effect.provide(sessionLayer().pipe(Layer.provideMerge(inMemory())))))
})

describe("TwitchHttpClient", () => {
  it.scoped("sends Client-Id and Bearer, against the configured Helix URL", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const session = yield* TwitchSession.TwitchSession
      const me = yield* getMe
      assert.deepStrictEqual(me.data.map((u) => u.login), [user.login])
      const sent = Option.getOrThrow(yield* twitch.lastRequest("helix"))
      assert.strictEqual(sent.path, "/users")
      assert.strictEqual(sent.headers["client-id"], FakeTwitch.defaultSeed.clients[0].clientId)
      assert.strictEqual(sent.headers["authorization"], `Bearer ${Redacted.value(yield* session.accessToken)}`)
    }).pipe(Effect.provide(sessionLayer().pipe(Layer.provideMerge(inMemory())))))

  it.scoped("MissingScope is not refreshed: it fails at once", () =>
    Effect.gen(function*() {
      const helix = yield* TwitchHttpClient.TwitchHttpClient
      const error = yield* Effect.flip(
        helix.get("/moderation/moderators", { urlParams: { broadcaster_id: user.userId } })
      )
      assert.strictEqual(error._tag, "MissingScope")
      if (error._tag === "MissingScope") {
        assert.strictEqual(error.scope, "moderation:read")
        assert.strictEqual(error.endpoint, "GET /helix/moderation/moderators")
      }
      assert.strictEqual(yield* callsOf("helix"), 1)
      assert.strictEqual(yield* refreshCount, 0)
    }).pipe(Effect.provide(sessionLayer().pipe(Layer.provideMerge(inMemory())))))

  it.scoped("a token of another client is HelixUnauthorized(ClientMismatch), not refreshed", () =>
    Effect.gen(function*() {
      const foreign = yield* issueToken("public")
      const session = yield* TwitchSession.make({ key: user.userId, token: foreign })
      const helix = yield* TwitchHttpClient.make().pipe(
        Effect.provideService(TwitchCredentials.TwitchCredentials, session)
      )
      const error = yield* Effect.flip(helix.get("/users"))
      assert.strictEqual(error._tag, "HelixUnauthorized")
      if (error._tag === "HelixUnauthorized") assert.strictEqual(error.reason, "ClientMismatch")
      assert.strictEqual(yield* refreshCount, 0)
    }).pipe(Effect.provide(inMemory())))

  it.scoped("429: waits until Ratelimit-Reset (TestClock), then retries", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      yield* twitch.failNext("helix", { _tag: "RateLimited", resetAfterSeconds: 30 })
      const call = yield* Effect.fork(getMe)
      assert.isTrue(yield* eventually(Effect.map(callsOf("helix"), (n) => n === 1)))
      yield* TestClock.adjust("29 seconds")
      yield* settle
      assert.strictEqual(yield* callsOf("helix"), 1)
      assert.isTrue(Option.isNone(yield* Fiber.poll(call)))
      yield* TestClock.adjust("1 second")
      const me = yield* Fiber.join(call)
      assert.strictEqual(me.data[0]?.login, user.login)
      assert.strictEqual(yield* callsOf("helix"), 2)
    }).pipe(Effect.provide(sessionLayer().pipe(Layer.provideMerge(inMemory())))))

  it.scoped("429 that persists surfaces as RateLimited after the configured retries", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const session = yield* TwitchSession.TwitchSession
      const helix = yield* TwitchHttpClient.make({ rateLimitRetries: 1 }).pipe(
        Effect.provideService(TwitchCredentials.TwitchCredentials, session)
      )
      yield* twitch.failNext("helix", { _tag: "RateLimited", resetAfterSeconds: 5 }, 2)
      const call = yield* Effect.fork(Effect.flip(helix.get("/users")))
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(call)
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(yield* callsOf("helix"), 2)
    }).pipe(Effect.provide(sessionLayer().pipe(Layer.provideMerge(inMemory())))))
})
