/**
 * Measures the SQL store's lock under contention, for docs/reliability.md: `stores` store
 * instances (each its own pool of 10 connections: a process, as far as the server can tell)
 * all lock, read and compare-and-set the same `users` keys at once, each holding its lock
 * over a 5 ms stand-in for the refresh; only the first holder of a key writes. Prints the
 * writes (must equal `users`), the failures (must be 0) and the time.
 *
 * `EFFECT_TWITCH_PG_URL=postgres://… node --import tsx packages/sql/test/measureLocks.ts [users] [stores]`
 * (a fresh database is created on that server and dropped at the end).
 */
import { UserToken } from "@effect-twitch/auth/Token"
import * as SqlTokenStore from "@effect-twitch/sql/SqlTokenStore"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Postgres from "./postgres.js"

const users = Number(process.argv[2] ?? "1000")
const storeCount = Number(process.argv[3] ?? "4")

const tokenOf = (i: number, generation: number) =>
  new UserToken({
    accessToken: Redacted.make(`measure-at-${i}-${generation}`),
    refreshToken: Redacted.make(`measure-rt-${i}-${generation}`),
    scopes: [],
    obtainedAt: DateTime.unsafeMake(0),
    expiresAt: Option.none()
  })

const program = Effect.gen(function*() {
  const database = yield* Postgres.freshDatabase
  const stores = yield* Effect.forEach(Array.from({ length: storeCount }), () =>
    Effect.flatMap(
      Layer.build(Postgres.client(database.url, { maxConnections: 10 })),
      (context) => Effect.provide(SqlTokenStore.make({ table: "measure" }), context)
    ))
  const keys = Array.from({ length: users }, (_, i) => `user-${i}`)
  yield* Effect.forEach(keys, (key, i) => stores[0]!.set(key, tokenOf(i, 0)), { concurrency: 10, discard: true })
  const writes = yield* Ref.make(0)
  const started = performance.now()
  const results = yield* Effect.forEach(
    stores.flatMap((store) => keys.map((key, i) => [store, key, i] as const)),
    ([store, key, i]) =>
      Effect.either(store.withLock(
        key,
        Effect.gen(function*() {
          const current = yield* store.get(key)
          if (Option.isNone(current) || Redacted.value(current.value.accessToken) !== `measure-at-${i}-0`) return
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5))) // the refresh
          if (yield* store.compareAndSet(key, current, tokenOf(i, 1))) yield* Ref.update(writes, (n) => n + 1)
        })
      )),
    { concurrency: "unbounded" }
  )
  const elapsed = Math.round(performance.now() - started)
  const failures = results.filter(Either.isLeft).length
  console.log(
    `${users} users x ${storeCount} stores: ${yield* Ref.get(
      writes
    )} writes (one per user expected), ${failures} failures, ${elapsed} ms`
  )
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
