/**
 * issue 11 #1, the session's half: when the store's lock did not hold (another process
 * refreshed at the same time), a session never deletes or overwrites a token it did not
 * see — it compares and sets, compares and removes, and adopts what the other one stored.
 */
import { type Token, TokenStore, TwitchSession } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { inMemory, issueToken } from "./lifecycle.js"
import { user } from "./utils.js"

const rt = (token: Token.UserToken) => Redacted.value(token.refreshToken)

describe("a session whose store lock did not hold", () => {
  it.scoped("issue 11 #1: the loser of a double refresh adopts the winner's token instead of deleting it", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const memory = yield* TokenStore.makeMemory
      const t0 = yield* issueToken("public")
      yield* memory.set(user.userId, t0)
      // B reads the store, then (as if its lock had been taken over) waits until A has
      // refreshed and stored the new token before sending its own, now spent, refresh token.
      const aDone = yield* Deferred.make<void>()
      let armed = false
      const storeA = TokenStore.make({ ...memory, withLock: undefined })
      const storeB = TokenStore.make({
        ...memory,
        withLock: undefined,
        get: (key) => Effect.tap(memory.get(key), () => armed ? Deferred.await(aDone) : Effect.void)
      })
      const a = yield* TwitchSession.make({ key: user.userId }).pipe(
        Effect.provideService(TokenStore.TokenStore, storeA)
      )
      const b = yield* TwitchSession.make({ key: user.userId }).pipe(
        Effect.provideService(TokenStore.TokenStore, storeB)
      )
      armed = true
      const bRefresh = yield* Effect.fork(b.refresh(t0.accessToken))
      const t1 = yield* a.refresh(t0.accessToken)
      yield* Deferred.succeed(aDone, void 0)
      const bGot = yield* Fiber.join(bRefresh)

      const stored = Option.getOrThrow(yield* memory.get(user.userId))
      assert.strictEqual(rt(stored), rt(t1), "the winner's token is still stored")
      assert.isTrue(yield* twitch.isRefreshTokenValid(rt(stored)))
      assert.strictEqual(rt(bGot), rt(t1), "the loser goes on with the winner's token")
      assert.isTrue(Option.isNone(yield* b.ended), "the loser's session did not end")
    }).pipe(Effect.provide(inMemory("public"))))

  it.scoped("issue 11 #1: a refreshed token never overwrites a token stored meanwhile; the session adopts the stored one", () =>
    Effect.gen(function*() {
      const memory = yield* TokenStore.makeMemory
      const t0 = yield* issueToken("public")
      const login = yield* issueToken("public", ["chat:edit"])
      yield* memory.set(user.userId, t0)
      let landed = false
      // the user authorizes again while this session's refresh is in flight
      const store = TokenStore.make({
        ...memory,
        compareAndSet: (key, expected, next) =>
          Effect.zipRight(
            landed ? Effect.void : Effect.zipRight(
              Effect.sync(() => {
                landed = true
              }),
              memory.set(key, login)
            ),
            memory.compareAndSet(key, expected, next)
          )
      })
      const session = yield* TwitchSession.make({ key: user.userId }).pipe(
        Effect.provideService(TokenStore.TokenStore, store)
      )
      const got = yield* session.refresh(t0.accessToken)
      const stored = Option.getOrThrow(yield* memory.get(user.userId))
      assert.strictEqual(rt(stored), rt(login), "the new login was not overwritten")
      assert.strictEqual(rt(got), rt(login))
      assert.strictEqual(rt(yield* session.token), rt(login))
    }).pipe(Effect.provide(inMemory("public"))))

  it.scoped("issue 11 #1: a rejected refresh token removes the stored token only if it is still the one that failed", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const memory = yield* TokenStore.makeMemory
      const t0 = yield* issueToken("public")
      yield* memory.set(user.userId, t0)
      const session = yield* TwitchSession.make({ key: user.userId })
        .pipe(Effect.provideService(TokenStore.TokenStore, memory))
      // the user disconnects the app: every token dies; the session's refresh is rejected
      yield* twitch.disconnectUser(user.userId)
      const error = yield* Effect.flip(session.refresh(t0.accessToken))
      assert.strictEqual(error._tag, "InvalidRefreshToken")
      assert.isTrue(Option.isNone(yield* memory.get(user.userId)), "the dead token (still the stored one) is removed")
      assert.isTrue(Option.isSome(yield* session.ended))
    }).pipe(Effect.provide(inMemory("public"))))
})
