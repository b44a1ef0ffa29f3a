/** The database of one test file, as a service, and stores opened on it as separate processes would. */
import * as SqlTokenStore from "@effect-twitch/sql/SqlTokenStore"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Postgres from "./postgres.js"

export class TestDatabase extends Context.Tag("test/TestDatabase")<TestDatabase, Postgres.Database>() {}

/** A fresh database for the file (dropped at its end). */
export const layer = Layer.scoped(TestDatabase, Postgres.freshDatabase)

let tables = 0
/** A new table name, for one test's storage. */
export const freshTable = () => `tokens_${process.pid}_${++tables}`

/**
 * A store on `table` of the file's database, with a connection pool of its own (another
 * process, as far as the server can tell), closed with the scope.
 */
export const open = (
  table: string,
  options: {
    readonly lockTimeout?: Duration.DurationInput | undefined
    readonly staleLockAfter?: Duration.DurationInput | undefined
    readonly maxConnections?: number
  } = {}
) =>
  Effect.gen(function*() {
    const database = yield* TestDatabase
    const context = yield* Layer.build(
      Postgres.client(database.url, { maxConnections: options.maxConnections ?? 4 })
    )
    return yield* Effect.provide(
      SqlTokenStore.make({ table, lockTimeout: options.lockTimeout, staleLockAfter: options.staleLockAfter }),
      context
    )
  })
