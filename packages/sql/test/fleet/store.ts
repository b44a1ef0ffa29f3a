/**
 * The fleet's database: a fresh PostgreSQL database per test, the SQL token store over it
 * (in the test and in each worker, each with a pool of its own), and what the test asks
 * PostgreSQL about the workers' backends and their locks (a worker's connections carry the
 * application name `fleet-worker-<id>`).
 */
import type { TokenStore } from "@effect-twitch/auth"
import * as SqlTokenStore from "@effect-twitch/sql/SqlTokenStore"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { freshDatabase } from "../postgres.js"
import type { Refresh } from "./mock.js"

/** The users of the fleet, and which client authorized each. */
export const FleetUsers = Schema.Array(Schema.Struct({
  userId: Schema.String,
  kind: Schema.Literal("confidential", "public")
}))

/**
 * Each worker's pool: `pg`'s default size, 10 connections (a lock holds one for the length of
 * its refresh; waiters hold none between their polls).
 */
export const workerPoolSize = 10

/** How long a worker waits for a user's lock: a guard against a hang, far above any wait of a run. */
export const workerLockTimeout = "2 minutes"

/** The SQL store of worker `worker` on database `url`. */
export const workerStore = (url: string, worker: string) =>
  SqlTokenStore.layer({ lockTimeout: workerLockTimeout }).pipe(
    Layer.provide(PgClient.layer({
      url: Redacted.make(url),
      applicationName: `fleet-worker-${worker}`,
      maxConnections: workerPoolSize
    })),
    Layer.orDie
  )

export interface FleetDatabase {
  /** The database's URL (for the workers). */
  readonly url: string
  /** The store, as the test process sees it. */
  readonly store: TokenStore.TokenStore.Service
  /** Whether each of these refreshes' new tokens is stored (the one it spent is not, any more). */
  readonly storedAll: (answered: ReadonlyArray<Refresh>) => Effect.Effect<boolean>
  /** The server processes (backends) of worker `worker`'s connections. */
  readonly backendsOf: (worker: string) => Effect.Effect<ReadonlyArray<number>>
  /** The locks granted to these backends, by lock type. */
  readonly locksOf: (pids: ReadonlyArray<number>) => Effect.Effect<Record<string, number>>
  /** How many of these backends the server still runs. */
  readonly running: (pids: ReadonlyArray<number>) => Effect.Effect<number>
  /** Advisory locks in this database (other tests may hold some in theirs on the same server). */
  readonly advisoryLocks: Effect.Effect<number>
}

/** A fresh database (dropped when the scope closes), and the store and queries of the test process on it. */
export const fleetDatabase = Effect.gen(function*() {
  const database = yield* freshDatabase
  const context = yield* Layer.build(PgClient.layer({
    url: Redacted.make(database.url),
    applicationName: "fleet-test",
    maxConnections: 4
  }))
  const sql = Context.get(context, SqlClient.SqlClient)
  const store = yield* SqlTokenStore.make().pipe(Effect.provide(context))
  const first = (rows: ReadonlyArray<{ readonly n: number }>) => Number(rows[0]?.n ?? 0)
  const db: FleetDatabase = {
    url: database.url,
    store,
    storedAll: (answered) =>
      Effect.map(
        Effect.forEach(answered, (r) => Effect.orDie(store.get(r.userId))),
        (stored) =>
          stored.every((token, i) =>
            Option.isSome(token) && Redacted.value(token.value.refreshToken) !== answered[i]?.refreshToken
          )
      ),
    backendsOf: (worker) =>
      Effect.map(
        Effect.orDie(sql.unsafe<{ readonly pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
          [`fleet-worker-${worker}`]
        )),
        (rows) => rows.map((row) => Number(row.pid))
      ),
    locksOf: (pids) =>
      Effect.map(
        Effect.orDie(sql.unsafe<{ readonly locktype: string; readonly n: number }>(
          "SELECT locktype, count(*)::int AS n FROM pg_locks WHERE granted AND pid = ANY($1::int[]) GROUP BY locktype",
          [pids]
        )),
        (rows) => Object.fromEntries(rows.map((row) => [row.locktype, Number(row.n)]))
      ),
    running: (pids) =>
      Effect.map(
        Effect.orDie(sql.unsafe<{ readonly n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])",
          [pids]
        )),
        first
      ),
    advisoryLocks: Effect.map(
      Effect.orDie(sql.unsafe<{ readonly n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
      )),
      first
    )
  }
  return db
})
