/**
 * Refresh storms (a stress suite: its own Vitest project, `auth-stress`): a thousand
 * concurrent Helix calls with an expired token, over real sockets and in memory.
 */
import { TokenStore, TwitchCredentials, TwitchHttpClient, TwitchSession } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { getMe, sessionLayer, Users } from "./helix.js"
import { type ClientKind, inMemory, issueToken, overSockets, refreshCount } from "./lifecycle.js"
import { user } from "./utils.js"

/**
 * A thousand concurrent Helix calls with an expired token: all succeed, Twitch sees one
 * refresh, every retry carries the new token, and the store holds the token Twitch accepts.
 */
const thousandCallStorm = (kind: ClientKind) =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    const store = yield* TokenStore.TokenStore
    const original = yield* issueToken(kind)
    yield* Effect.scoped(Effect.gen(function*() {
      const session = yield* TwitchSession.make({ key: user.userId, token: original })
      const helix = yield* TwitchHttpClient.make().pipe(
        Effect.provideService(TwitchCredentials.TwitchCredentials, session)
      )
      yield* twitch.expireAccessToken(Redacted.value(original.accessToken))
      yield* twitch.resetCounters()

      const results = yield* Effect.forEach(
        Array.from({ length: 1000 }),
        () => Effect.flatMap(helix.get("/users"), HttpClientResponse.schemaBodyJson(Users)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.length, 1000)
      assert.isTrue(results.every((r) => r.data[0]?.login === user.login))
      assert.strictEqual(yield* refreshCount, 1, "exactly one refresh request")

      // Every call's successful attempt carried the new token; the retries after the
      // 401s were sent with it, not with the stale one.
      const current = yield* session.token
      const bearers = (yield* twitch.requests("helix")).map((r) => r.headers["authorization"])
      const withNew = bearers.filter((b) => b === `Bearer ${Redacted.value(current.accessToken)}`).length
      const withOld = bearers.filter((b) => b === `Bearer ${Redacted.value(original.accessToken)}`).length
      assert.strictEqual(withNew, 1000)
      assert.isAtLeast(withOld, 1)
      assert.strictEqual(withNew + withOld, bearers.length)

      // The store holds the refresh token Twitch accepts now.
      const stored = Option.getOrThrow(yield* store.get(user.userId))
      assert.strictEqual(Redacted.value(stored.accessToken), Redacted.value(current.accessToken))
      assert.isTrue(yield* twitch.isRefreshTokenValid(Redacted.value(stored.refreshToken)))
      if (kind === "public") {
        assert.notStrictEqual(Redacted.value(stored.refreshToken), Redacted.value(original.refreshToken))
        assert.isFalse(yield* twitch.isRefreshTokenValid(Redacted.value(original.refreshToken)))
      }
      // and the session survives: another round works without a refresh
      yield* Effect.flatMap(helix.get("/users"), HttpClientResponse.schemaBodyJson(Users))
      assert.strictEqual(yield* refreshCount, 1)
    }))
  })

describe("refresh storms: one refresh for a thousand 401s", () => {
  for (const kind of ["confidential", "public"] as const) {
    // A thousand requests take seconds on a busy 2-core machine: the project's guard (120 s) applies.
    it.live(`mock server, real sockets, ${kind} client: 1000 concurrent Helix calls with an expired token → all succeed, 1 refresh`, () =>
      thousandCallStorm(kind).pipe(Effect.provide(overSockets(kind))))

    it.scoped(`TwitchAuthTest.layer, ${kind} client: 1000 concurrent Helix calls with an expired token → all succeed, 1 refresh`, () =>
      thousandCallStorm(kind).pipe(Effect.provide(inMemory(kind, { helixRateLimit: 100_000 }))))
  }

  it.live("the retry after a refresh carries the new token (recorded by the mock)", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const session = yield* TwitchSession.TwitchSession
      const before = yield* session.token
      yield* twitch.expireAccessToken(Redacted.value(before.accessToken))
      yield* twitch.resetCounters()
      const me = yield* getMe
      assert.strictEqual(me.data[0]?.id, user.userId)
      const after = yield* session.token
      const sent = (yield* twitch.requests("helix")).map((r) => r.headers["authorization"])
      assert.deepStrictEqual(sent, [
        `Bearer ${Redacted.value(before.accessToken)}`,
        `Bearer ${Redacted.value(after.accessToken)}`
      ])
      const last = Option.getOrThrow(yield* twitch.lastRequest("helix"))
      assert.strictEqual(last.headers["client-id"], FakeTwitch.defaultSeed.clients[0].clientId)
    }).pipe(Effect.scoped, Effect.provide(sessionLayer().pipe(Layer.provideMerge(overSockets())))))
})
