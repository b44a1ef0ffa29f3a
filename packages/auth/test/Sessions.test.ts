import {
  AppTokenSession,
  TokenStore,
  TwitchCredentials,
  TwitchHttpClient,
  TwitchSession,
  TwitchSessions
} from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { callsOf, eventually, inMemory, issueToken, refreshCount, settle } from "./lifecycle.js"
import { user } from "./utils.js"

const Users = Schema.Struct({ data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String })) })

const clientCredentialsCount = Effect.map(
  Effect.flatMap(FakeTwitch.FakeTwitch, (twitch) => twitch.requests("token")),
  (requests) => requests.filter((r) => r.params["grant_type"] === "client_credentials").length
)

describe("TwitchSessions", () => {
  it.scoped("loads a stored user's session on demand and shares it between concurrent users", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.set(user.userId, yield* issueToken())
      const sessions = yield* TwitchSessions.make()
      const [a, b] = yield* Effect.all([sessions.get(user.userId), sessions.get(user.userId)], { concurrency: 2 })
      assert.strictEqual(a, b)
      assert.strictEqual(yield* callsOf("validate"), 1, "one session started, so one start-up validation")
      assert.deepStrictEqual(yield* sessions.userIds, [user.userId])
      const missing = yield* Effect.flip(sessions.get("nobody"))
      assert.strictEqual(missing._tag, "NoStoredToken")
    }).pipe(Effect.provide(inMemory())))

  it.scoped("releases an unused session after idleTimeToLive (its daemon stops), and reloads it later", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.set(user.userId, yield* issueToken())
      const sessions = yield* TwitchSessions.make({ idleTimeToLive: "1 minute" })
      yield* Effect.scoped(sessions.get(user.userId))
      assert.strictEqual(yield* callsOf("validate"), 1)
      yield* TestClock.adjust("2 minutes")
      yield* settle
      yield* TestClock.adjust("2 hours")
      yield* settle
      assert.strictEqual(yield* callsOf("validate"), 1, "released: no hourly validation")
      yield* Effect.scoped(sessions.get(user.userId))
      assert.strictEqual(yield* callsOf("validate"), 2, "reloaded: validated at start again")
    }).pipe(Effect.provide(inMemory())))

  it.scoped("add: validates a new token to learn its user, stores it and starts the session", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const sessions = yield* TwitchSessions.make()
      const token = yield* issueToken()
      const session = yield* sessions.add(token)
      assert.strictEqual(session.key, user.userId)
      const stored = Option.getOrThrow(yield* store.get(user.userId))
      assert.strictEqual(Redacted.value(stored.refreshToken), Redacted.value(token.refreshToken))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("withUser runs Helix calls as that user, refreshing through their session", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const store = yield* TokenStore.TokenStore
      const token = yield* issueToken()
      yield* store.set(user.userId, token)
      yield* twitch.expireAccessToken(Redacted.value(token.accessToken))
      const sessions = yield* TwitchSessions.make()
      const me = yield* Effect.gen(function*() {
        const helix = yield* TwitchHttpClient.make()
        return yield* Effect.flatMap(helix.get("/users"), HttpClientResponse.schemaBodyJson(Users))
      }).pipe(sessions.withUser(user.userId))
      assert.strictEqual(me.data[0]?.id, user.userId)
      assert.strictEqual(yield* refreshCount, 1)
    }).pipe(Effect.provide(inMemory())))
})

describe("a shared scheduler", () => {
  it.scoped(
    "runs the hourly validation and the refresh ahead of expiry of many sessions, with one fiber",
    () =>
      Effect.gen(function*() {
        const count = 50
        const sessions = yield* Effect.forEach(
          Array.from({ length: count }, (_, i) => i),
          (i) => Effect.flatMap(issueToken(), (token) => TwitchSession.make({ key: `user-${i}`, token })),
          { concurrency: 8 }
        )
        assert.strictEqual(yield* callsOf("validate"), count, "validated at start")
        yield* TestClock.adjust("1 hour")
        assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 2 * count)))
        assert.strictEqual(yield* refreshCount, 0)
        // at 2 h a caller refreshes the first session's token: its refresh moves to 5 h 55 m
        yield* TestClock.adjust("1 hour")
        const first = sessions[0]
        assert.isDefined(first)
        if (first !== undefined) yield* first.refresh((yield* first.token).accessToken)
        assert.strictEqual(yield* refreshCount, 1)
        // user tokens live 4 hours: the others are refreshed 5 minutes before, by the scheduler
        yield* TestClock.adjust("115 minutes")
        assert.isTrue(yield* eventually(Effect.map(refreshCount, (n) => n === count)))
        yield* TestClock.adjust("119 minutes")
        yield* settle
        assert.strictEqual(yield* refreshCount, count, "the first session is not due yet")
        yield* TestClock.adjust("1 minute")
        assert.isTrue(yield* eventually(Effect.map(refreshCount, (n) => n === count + 1)))
      }).pipe(Effect.provide(inMemory())),
    60_000
  )
})

describe("issue 11 #5: TwitchSessions on a shared scheduler", () => {
  it.scoped(
    "20 users whose refreshes fail (a captive portal's HTML 200) cost a bounded number of token requests; session options reach every session",
    () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const store = yield* TokenStore.TokenStore
        const count = 20
        const keys = Array.from({ length: count }, (_, i) => `user-${i}`)
        for (const key of keys) yield* store.set(key, yield* issueToken())
        const sessions = yield* TwitchSessions.make({ minRefreshInterval: "30 seconds", idleTimeToLive: "1 day" })
        yield* Effect.forEach(keys, (key) => sessions.get(key), { discard: true })
        yield* twitch.failNext("token", {
          _tag: "Raw",
          status: 200,
          headers: { "content-type": "text/html" },
          body: "<html><body>Sign in to the Wi-Fi</body></html>"
        }, 1_000_000)
        yield* twitch.resetCounters()
        // due 5 minutes before the 4-hour expiry; then 5 minutes of failures, one second at a time
        yield* TestClock.adjust("235 minutes")
        yield* settle
        for (let i = 0; i < 300; i++) {
          yield* TestClock.adjust("1 second")
          yield* settle
        }
        // each session: attempts at 0, 30, 90 and 210 s (the 30 s floor, doubling)
        const requests = yield* callsOf("token")
        assert.isAtLeast(requests, count)
        assert.isAtMost(requests, 4 * count, `token requests in 5 minutes: ${requests}`)
      }).pipe(Effect.provide(inMemory())),
    60_000
  )
})

describe("AppTokenSession", () => {
  it.scoped("concurrent first calls share one client-credentials request", () =>
    Effect.gen(function*() {
      const session = yield* AppTokenSession.make()
      const tokens = yield* Effect.forEach(Array.from({ length: 20 }), () => session.accessToken, {
        concurrency: "unbounded"
      })
      assert.strictEqual(new Set(tokens.map(Redacted.value)).size, 1)
      assert.strictEqual(yield* clientCredentialsCount, 1)
    }).pipe(Effect.provide(inMemory())))

  it.scoped("Helix with the app token: a rejected token is replaced once and the call retried", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const session = yield* AppTokenSession.AppTokenSession
      const helix = yield* TwitchHttpClient.TwitchHttpClient
      const get = Effect.flatMap(
        helix.get("/users", { urlParams: { login: user.login } }),
        HttpClientResponse.schemaBodyJson(Users)
      )
      assert.strictEqual((yield* get).data[0]?.login, user.login)
      const first = yield* session.accessToken
      yield* twitch.expireAccessToken(Redacted.value(first))
      const results = yield* Effect.forEach(Array.from({ length: 10 }), () => get, { concurrency: "unbounded" })
      assert.isTrue(results.every((r) => r.data[0]?.id === user.userId))
      assert.strictEqual(yield* clientCredentialsCount, 2)
      assert.notStrictEqual(Redacted.value(yield* session.accessToken), Redacted.value(first))
    }).pipe(
      Effect.provide(
        TwitchHttpClient.layer().pipe(Layer.provideMerge(AppTokenSession.layer()), Layer.provideMerge(inMemory()))
      )
    ))

  it.scoped("a held app token is validated every hour, and replaced when validation fails", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const session = yield* AppTokenSession.make()
      const first = yield* session.accessToken
      yield* TestClock.adjust("1 hour")
      assert.isTrue(yield* eventually(Effect.map(callsOf("validate"), (n) => n === 1)))
      yield* twitch.revokeAccessToken(Redacted.value(first))
      yield* TestClock.adjust("1 hour")
      assert.isTrue(yield* eventually(Effect.map(clientCredentialsCount, (n) => n === 2)))
      assert.notStrictEqual(Redacted.value(yield* session.accessToken), Redacted.value(first))
    }).pipe(Effect.provide(inMemory())))

  it.scoped("is a TwitchCredentials, like a user session", () =>
    Effect.gen(function*() {
      const credentials = yield* TwitchCredentials.TwitchCredentials
      const app = yield* AppTokenSession.AppTokenSession
      assert.strictEqual(credentials, app)
      const user = yield* Effect.serviceOption(TwitchSession.TwitchSession)
      assert.isTrue(Option.isNone(user))
    }).pipe(Effect.provide(AppTokenSession.layer().pipe(Layer.provideMerge(inMemory())))))
})
