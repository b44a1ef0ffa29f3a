/**
 * issue 16 #3: sessions of several processes sharing the SQL store notice each other's
 * refreshes: a session whose token was already replaced by another process adopts the
 * stored one instead of spending its (single-use, for a public client) refresh token, and of
 * sessions refreshing the same user at once, exactly one asks Twitch. Each store here has a
 * connection pool of its own: a process, as far as the database can tell.
 */
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as TwitchSession from "@effect-twitch/auth/TwitchSession"
import * as TwitchSessions from "@effect-twitch/auth/TwitchSessions"
import * as FakeTwitch from "@effect-twitch/testing/FakeTwitch"
import { assert, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { inMemory, issueToken, refreshCount } from "../../auth/test/lifecycle.js"
import * as TestDatabase from "./testDatabase.js"

const rt = (token: { readonly refreshToken: Redacted.Redacted<string> }) => Redacted.value(token.refreshToken)

const sessionOn = (store: TokenStore.TokenStore.Service, key: string) =>
  TwitchSession.make({ key }).pipe(Effect.provideService(TokenStore.TokenStore, store))

layer(TestDatabase.layer, { timeout: "60 seconds" })("sessions on the PostgreSQL store", (it) => {
  it.scoped("issue 16: a session adopts the token another process refreshed instead of refreshing again", () =>
    Effect.gen(function*() {
      const table = TestDatabase.freshTable()
      const [a, b] = [yield* TestDatabase.open(table), yield* TestDatabase.open(table)]
      const t0 = yield* issueToken("public")
      yield* a.set("user", t0)
      const [sessionA, sessionB] = [yield* sessionOn(a, "user"), yield* sessionOn(b, "user")]
      const t1 = yield* sessionA.refresh(t0.accessToken)
      assert.strictEqual(yield* refreshCount, 1)
      // B's request with t0 was answered 401: it re-reads the store under the lock and adopts t1
      const got = yield* sessionB.refresh(t0.accessToken)
      assert.strictEqual(rt(got), rt(t1))
      assert.strictEqual(rt(yield* sessionB.token), rt(t1))
      assert.strictEqual(yield* refreshCount, 1, "one refresh at Twitch")
      assert.isTrue(Option.isNone(yield* sessionB.ended))
    }).pipe(Effect.provide(inMemory("public"))))

  it.scoped("issue 16: TwitchSessions of two processes: the second finds the first one's refresh (one refresh at Twitch)", () =>
    Effect.gen(function*() {
      const table = TestDatabase.freshTable()
      const [a, b] = [yield* TestDatabase.open(table), yield* TestDatabase.open(table)]
      const t0 = yield* issueToken("confidential")
      yield* a.set("user", t0)
      const sessionsOf = (store: TokenStore.TokenStore.Service) =>
        TwitchSessions.make().pipe(Effect.provideService(TokenStore.TokenStore, store))
      const [processA, processB] = [yield* sessionsOf(a), yield* sessionsOf(b)]
      const t1 = yield* Effect.flatMap(processA.get("user"), (session) => session.refresh(t0.accessToken))
      const got = yield* Effect.flatMap(processB.get("user"), (session) => session.refresh(t0.accessToken))
      assert.strictEqual(rt(got), rt(t1))
      assert.strictEqual(yield* refreshCount, 1)
    }).pipe(Effect.provide(inMemory("confidential"))))

  it.scoped("issue 16: 4 processes refreshing 25 users at once: one refresh per user, no token lost", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const table = TestDatabase.freshTable()
      const stores = yield* Effect.all(
        Array.from({ length: 4 }, () => TestDatabase.open(table, { lockTimeout: "50 seconds" }))
      )
      const users = Array.from({ length: 25 }, (_, i) => `user-${i}`)
      const first = yield* Effect.forEach(
        users,
        (key) => Effect.flatMap(issueToken("public"), (token) => Effect.as(stores[0]!.set(key, token), token))
      )
      const sessions = yield* Effect.forEach(stores, (store) => Effect.forEach(users, (key) => sessionOn(store, key)))
      // every process's every session is told its token was rejected, at the same time
      const got = yield* Effect.forEach(
        sessions.flatMap((perProcess) => perProcess.map((session, i) => session.refresh(first[i]!.accessToken))),
        (refresh) => refresh,
        { concurrency: "unbounded" }
      )
      assert.strictEqual(yield* refreshCount, users.length, "exactly one refresh per user")
      for (const [i, key] of users.entries()) {
        const stored = Option.getOrThrow(yield* stores[3]!.get(key))
        assert.notStrictEqual(rt(stored), rt(first[i]!))
        assert.isTrue(yield* twitch.isRefreshTokenValid(rt(stored)), "the stored refresh token works")
        for (let p = 0; p < stores.length; p++) {
          assert.strictEqual(rt(got[p * users.length + i]!), rt(stored), "every process uses the stored token")
          assert.isTrue(Option.isNone(yield* sessions[p]![i]!.ended), "nobody is logged out")
        }
      }
    }).pipe(Effect.provide(inMemory("public"))))
})
