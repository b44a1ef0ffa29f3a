// The consumer test's program for @effect-twitch/sql (scripts/consumer-test.sh): the store from
// the installed tarball, over @effect/sql-pg, on the PostgreSQL server EFFECT_TWITCH_PG_URL names
// (.ci/run's). It works in a table of its own, dropped at the end. Without a server it only
// checks the imports.
import { Token } from "@effect-twitch/auth"
import { SqlTokenStore } from "@effect-twitch/sql"
import * as SqlTokenStoreModule from "@effect-twitch/sql/SqlTokenStore"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { DateTime, Effect, Option, Redacted } from "effect"

if (SqlTokenStore.make !== SqlTokenStoreModule.make || typeof SqlTokenStore.layer !== "function") {
  console.error("esm-sql: the index and the SqlTokenStore subpath disagree")
  process.exit(1)
}
const url = process.env.EFFECT_TWITCH_PG_URL
if (url === undefined || url === "") {
  console.log("esm-sql: SqlTokenStore imported (EFFECT_TWITCH_PG_URL is not set: the store is not run)")
  process.exit(0)
}

const table = `effect_twitch_consumer_${process.pid}`
const token = (access) =>
  new Token.UserToken({
    accessToken: Redacted.make(access),
    refreshToken: Redacted.make(`${access}-refresh`),
    scopes: ["chat:read"],
    obtainedAt: DateTime.unsafeNow(),
    expiresAt: Option.none()
  })

const program = Effect.gen(function*() {
  const store = yield* SqlTokenStore.make({ table })
  const first = token("first")
  yield* store.set("1234", first)
  // a refresh under the user's lock: compare-and-set against the token it read
  const replaced = yield* store.withLock(
    "1234",
    Effect.flatMap(store.get("1234"), (stored) => store.compareAndSet("1234", stored, token("second")))
  )
  // a writer holding the old token loses
  const stale = yield* store.compareAndSet("1234", Option.some(first), token("third"))
  const stored = yield* store.get("1234")
  if (!replaced || stale || Option.isNone(stored) || Redacted.value(stored.value.accessToken) !== "second") {
    return yield* Effect.dieMessage("the store did not keep the token that replaced the first")
  }
  console.log(`esm-sql: SqlTokenStore on PostgreSQL (table ${table}): set, locked compare-and-set, stale write refused`)
}).pipe(
  Effect.ensuring(Effect.orDie(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`DROP TABLE IF EXISTS ${table}`)))),
  Effect.scoped,
  Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 }))
)

await Effect.runPromise(program)
