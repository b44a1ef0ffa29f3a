/**
 * A fresh PostgreSQL database per test file (or per test), on the server named by
 * `EFFECT_TWITCH_PG_URL` (a role that may CREATE DATABASE). The vitest globalSetup of this
 * package (scripts/postgres-global-setup.ts) starts a throwaway server and sets the variable
 * when it is not set; without it, the tests fail, loudly, rather than skip.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

export const howToRun =
  "EFFECT_TWITCH_PG_URL is not set: the SQL store's tests need a PostgreSQL server. Run them with `pnpm vitest run --project sql` " +
  "(the package's vitest globalSetup, scripts/postgres-global-setup.ts, starts a throwaway server with the Debian PostgreSQL binaries), " +
  "or set EFFECT_TWITCH_PG_URL=postgres://<superuser>@<host>:<port>/postgres yourself."

/** The server's URL, from `EFFECT_TWITCH_PG_URL`; a defect naming how to run the tests when unset. */
export const serverUrl: Effect.Effect<URL> = Effect.suspend(() => {
  const url = process.env["EFFECT_TWITCH_PG_URL"]
  return url === undefined || url.length === 0 ? Effect.dieMessage(howToRun) : Effect.sync(() => new URL(url))
})

/** `url` with another database. */
export const withDatabase = (url: URL, database: string): string => {
  const copy = new URL(url.href)
  copy.pathname = `/${database}`
  return copy.href
}

/** A client of the server's maintenance database, for CREATE / DROP DATABASE and pg_terminate_backend. */
export const admin: Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError.SqlError> = Layer.unwrapEffect(
  Effect.map(serverUrl, (url) => PgClient.layer({ url: Redacted.make(url.href), maxConnections: 4 }))
)

/** A client of database `url` (its own pool: another process, as far as the server can tell). */
export const client = (url: string, options: Partial<PgClient.PgClientConfig> = {}) =>
  PgClient.layer({ url: Redacted.make(url), ...options })

export interface Database {
  readonly name: string
  readonly url: string
}

/**
 * A new, empty database with a random name, dropped (WITH (FORCE): sessions still on it are
 * ended) when the scope closes.
 */
export const freshDatabase: Effect.Effect<Database, SqlError.SqlError, Scope.Scope> = Effect.gen(function*() {
  const server = yield* serverUrl
  const name = `effect_twitch_test_${globalThis.crypto.randomUUID().replaceAll("-", "")}`
  const run = (statement: string) =>
    Effect.flatMap(PgClient.PgClient, (sql) => sql.unsafe(statement)).pipe(Effect.provide(admin))
  yield* Effect.acquireRelease(
    run(`CREATE DATABASE ${name}`),
    () => Effect.orDie(run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  )
  return { name, url: withDatabase(server, name) }
})

/** A fresh database (see {@link freshDatabase}) and a client of it, as a layer. */
export const layerFresh: Layer.Layer<
  PgClient.PgClient | SqlClient.SqlClient,
  SqlError.SqlError
> = Layer.unwrapScoped(Effect.map(freshDatabase, (database) => client(database.url)))
