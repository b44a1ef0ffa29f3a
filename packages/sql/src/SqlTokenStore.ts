/**
 * A `TokenStore` kept in a SQL table, shared by every process using the same database: the
 * store for a fleet of processes on several machines (bot shards, API workers, a web app
 * taking OAuth callbacks) that use the same users' tokens. PostgreSQL, through
 * `@effect/sql-pg` (any `SqlClient` of the `pg` dialect).
 *
 * The table (created by {@link migrate}, run by {@link make} unless disabled):
 *
 * ```sql
 * CREATE TABLE effect_twitch_tokens (
 *   key           text PRIMARY KEY, -- usually the Twitch user id
 *   access_token  text NOT NULL,
 *   refresh_token text NOT NULL,
 *   scopes        text NOT NULL,    -- a JSON array of strings
 *   obtained_at   bigint NOT NULL,  -- milliseconds since the epoch (the writer's Clock)
 *   expires_at    bigint,           -- milliseconds since the epoch; NULL: never expires
 *   version       bigint NOT NULL,  -- 1 when inserted, + 1 on every update
 *   updated_at    bigint NOT NULL   -- milliseconds since the epoch (the writer's Clock)
 * )
 * ```
 *
 * - Every statement runs on its own (autocommit), outside any transaction of the caller's:
 *   a write is committed when it returns. `compareAndSet` and `compareAndRemove` are one
 *   conditional statement each (`UPDATE … WHERE key = $1 AND access_token = $2 AND
 *   refresh_token = $3`), atomic across processes.
 * - `withLock(key)` holds a session-level advisory lock (`pg_try_advisory_lock` on a
 *   64-bit hash of the table and key; keys sharing a hash share a lock) on a connection
 *   reserved for it, for as long as its effect runs, and releases it when the effect ends
 *   however it ends; a release that fails is logged, never reported as the effect's
 *   failure (the writes were committed already). The store's operations on that key inside
 *   the effect run on that connection, in autocommit (so a holder never waits for a second
 *   pooled connection). A process or connection that dies releases its locks with its
 *   server session; a holder that hangs loses its lock after `staleLockAfter` (the server
 *   ends its idle lock connection: `idle_session_timeout`, PostgreSQL 14 and later).
 *   Waiting longer than `lockTimeout` fails with `LockTimeout`; an interrupted or timed-out
 *   wait leaves no lock behind. Session-level locks need session pooling: behind PgBouncer
 *   in transaction mode, give the store a direct connection.
 * - Errors never hold a token, a statement's parameters, or the server's message (which
 *   may quote a parameter): `detail` names the operation and the driver's error code.
 *
 * @since 0.1.0
 */
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as SqlClient from "@effect/sql/SqlClient"
import type * as Connection from "@effect/sql/SqlConnection"
import type * as SqlError from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as AdvisoryLock from "./internal/advisoryLock.js"
import * as KeyedMutex from "./internal/keyedMutex.js"
import * as Rows from "./internal/rows.js"

/**
 * Options of the SQL token store.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The table's name: 1–63 letters, digits or `_`, not starting with a digit. Default
   * `effect_twitch_tokens`. Stores on different tables are independent (locks included).
   */
  readonly table?: string | undefined
  /** Create the table when it is missing (see {@link migrate}). Default `true`. */
  readonly migrate?: boolean | undefined
  /**
   * How long `withLock` waits (for another fiber of this process, then for another
   * process) before failing with `LockTimeout`, on real time whatever the caller's `Clock`.
   * Default 30 s.
   */
  readonly lockTimeout?: Duration.DurationInput | undefined
  /**
   * The lock's lease: the holder renews it (a statement on the lock's connection) every
   * quarter of this, and the server ends a lock connection left idle this long
   * (`idle_session_timeout`, PostgreSQL 14 and later), releasing the lock of a holder whose
   * process hangs or whose machine is gone. Default 10 s.
   */
  readonly staleLockAfter?: Duration.DurationInput | undefined
  /**
   * How long one of the store's operations (`get`, `set`, `remove`, `keys`,
   * `compareAndSet`, `compareAndRemove`, the migration) may wait for the database before it
   * fails with `Io`, on real time whatever the caller's `Clock`: a server that stops
   * answering on an open connection (a network partition, a stalled server) fails the call
   * instead of hanging it, and a session's refresh with it. Lock waits are bounded by
   * `lockTimeout` instead. A statement that timed out may still be applied by the server
   * later (`compareAndSet` stays atomic either way). Default 10 s.
   */
  readonly statementTimeout?: Duration.DurationInput | undefined
}

const tableOf = (options: Options): Effect.Effect<string, TokenStore.TokenStoreError> => {
  const table = options.table ?? Rows.defaultTable
  const problem = Rows.invalidTable(table)
  return problem === undefined ? Effect.succeed(table) : Effect.fail(Rows.storeError(table, "Io", problem))
}

/** Runs `effect` outside any transaction of the caller's: on a pooled connection, in autocommit. */
const ownConnection = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.mapInputContext(
    effect,
    (context: Context.Context<never>) => Context.omit(SqlClient.TransactionConnection)(context)
  )

/**
 * Creates the store's table when it does not exist (`CREATE TABLE IF NOT EXISTS`, on
 * PostgreSQL under a transaction-scoped advisory lock so that processes starting together do
 * not race). Idempotent; {@link make} runs it unless `migrate: false`.
 *
 * @example
 * ```ts
 * import { SqlTokenStore } from "@effect-twitch/sql"
 * import * as PgClient from "@effect/sql-pg/PgClient"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * // e.g. in a deployment step, with `migrate: false` in the services
 * const program = SqlTokenStore.migrate({ table: "twitch_tokens" }).pipe(
 *   Effect.provide(PgClient.layer({ url: Redacted.make("postgres://localhost/app") }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category migrations
 */
export const migrate = (
  options: Pick<Options, "table"> = {}
): Effect.Effect<void, SqlError.SqlError | TokenStore.TokenStoreError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const table = yield* tableOf(options)
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    const create = sql`CREATE TABLE IF NOT EXISTS ${sql(table)} (
      key text PRIMARY KEY,
      access_token text NOT NULL,
      refresh_token text NOT NULL,
      scopes text NOT NULL,
      obtained_at bigint NOT NULL,
      expires_at bigint,
      version bigint NOT NULL,
      updated_at bigint NOT NULL
    )`
    yield* ownConnection(sql.onDialectOrElse({
      // Concurrent `CREATE TABLE IF NOT EXISTS` can fail in PostgreSQL (a unique violation
      // in its catalog): processes starting together take turns.
      pg: () =>
        sql.withTransaction(
          Effect.zipRight(
            sql`SELECT pg_advisory_xact_lock(hashtextextended(${`effect-twitch migrate ${table}`}, 0))`,
            create
          )
        ),
      orElse: () => create
    }))
  })

/**
 * A token store in the database of the `SqlClient` (see the module's documentation). Runs
 * {@link migrate} first unless `migrate: false`. Fails with a `TokenStoreError` (`Io`) when
 * the `SqlClient` is not PostgreSQL's: other dialects have no advisory locks, and a store
 * whose `withLock` does not lock across processes is not offered.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@effect-twitch/auth"
 * import { SqlTokenStore } from "@effect-twitch/sql"
 * import * as PgClient from "@effect/sql-pg/PgClient"
 * import * as Effect from "effect/Effect"
 * import * as Redacted from "effect/Redacted"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* SqlTokenStore.make({ lockTimeout: "10 seconds" })
 *   const users = yield* store.keys
 *   yield* Effect.log(`tokens stored for ${users.length} users`)
 * }).pipe(
 *   Effect.scoped,
 *   Effect.provide(PgClient.layer({ url: Redacted.make("postgres://localhost/app") }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<
  TokenStore.TokenStore.Service,
  SqlError.SqlError | TokenStore.TokenStoreError,
  SqlClient.SqlClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const table = yield* tableOf(options)
    const sql = (yield* SqlClient.SqlClient).withoutTransforms()
    if (!AdvisoryLock.supported(sql)) {
      return yield* Effect.fail(
        Rows.storeError(
          table,
          "Io",
          "the SqlClient is not PostgreSQL's: only PostgreSQL has the advisory locks this store's withLock needs (see the package's README on SQLite)"
        )
      )
    }
    const lockTimeout = Duration.toMillis(Duration.decode(options.lockTimeout ?? "30 seconds"))
    const staleLockAfter = Duration.toMillis(Duration.decode(options.staleLockAfter ?? "10 seconds"))
    const statementTimeout = Duration.decode(options.statementTimeout ?? "10 seconds")
    const fail = (reason: TokenStore.TokenStoreError["reason"], detail: string) =>
      Rows.storeError(table, reason, detail)
    /** `effect` (one operation of the store) failing with `Io` once `statementTimeout` has passed. */
    const bounded = <A, E, R>(
      what: string,
      effect: Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | TokenStore.TokenStoreError, R> =>
      // the interrupted statement's own clean-up (a cancel, which waits for the server) goes
      // on in the background instead of holding the caller, even in an uninterruptible region
      AdvisoryLock.onRealTime(Effect.timeoutFail(AdvisoryLock.bounded(effect), {
        duration: statementTimeout,
        onTimeout: () =>
          fail("Io", `${what} failed: the database did not answer within ${Duration.format(statementTimeout)}`)
      }))
    if (options.migrate !== false) yield* bounded("creating the table", migrate({ table }))
    const io = (what: string) => (error: SqlError.SqlError) => fail("Io", Rows.describeSqlError(what, error))
    const checkKey = (key: string) => TokenStore.checkKey(key, Rows.storePath(table))

    // The keys this fiber holds the lock of, and the connection each lock is held on.
    const held = yield* FiberRef.make(HashMap.empty<string, Lease>())
    const mutex = yield* KeyedMutex.make

    /**
     * Runs a statement about `key`: on the connection holding `key`'s lock when this fiber
     * holds it (one at a time), else on a pooled connection; never in a caller's transaction.
     */
    const onKey = <A>(
      key: string,
      what: string,
      effect: Effect.Effect<A, SqlError.SqlError>
    ): Effect.Effect<A, TokenStore.TokenStoreError> =>
      Effect.zipRight(
        checkKey(key),
        bounded(
          what,
          Effect.flatMap(FiberRef.get(held), (leases) =>
            Option.match(HashMap.get(leases, key), {
              onNone: () => ownConnection(effect),
              onSome: (lease) =>
                lease.permit.withPermits(1)(
                  Effect.flatMap(Ref.get(lease.active), (active) =>
                    active
                      ? Effect.provideService(effect, SqlClient.TransactionConnection, [lease.connection, 0])
                      : ownConnection(effect))
                )
            })).pipe(Effect.mapError(io(what)))
        )
      )

    const now = Clock.currentTimeMillis

    const upsert = (key: string, token: Parameters<TokenStore.TokenStore.Service["set"]>[1]) =>
      Effect.flatMap(now, (updatedAt) => {
        const c = Rows.toColumns(token)
        return sql`INSERT INTO ${sql(table)}
          (key, access_token, refresh_token, scopes, obtained_at, expires_at, version, updated_at)
          VALUES (${key}, ${c.access_token}, ${c.refresh_token}, ${c.scopes}, ${c.obtained_at}, ${c.expires_at}, 1, ${updatedAt})
          ON CONFLICT (key) DO UPDATE SET access_token = excluded.access_token,
            refresh_token = excluded.refresh_token, scopes = excluded.scopes,
            obtained_at = excluded.obtained_at, expires_at = excluded.expires_at,
            version = ${sql(table)}.version + 1, updated_at = excluded.updated_at`
      })

    const store = TokenStore.make({
      get: (key) =>
        Effect.flatMap(
          onKey(
            key,
            "reading the token",
            sql`SELECT access_token, refresh_token, scopes, obtained_at, expires_at FROM ${
              sql(table)
            } WHERE key = ${key}`
          ),
          (rows) =>
            rows.length === 0 ? Effect.succeed(Option.none()) : Either.match(Rows.toToken(rows[0]), {
              onLeft: (detail) => Effect.fail(fail("Corrupted", `the row of key ${JSON.stringify(key)} has ${detail}`)),
              onRight: (token) => Effect.succeed(Option.some(token))
            })
        ),
      set: (key, token) => onKey(key, "writing the token", Effect.asVoid(upsert(key, token))),
      remove: (key) =>
        onKey(key, "removing the token", Effect.asVoid(sql`DELETE FROM ${sql(table)} WHERE key = ${key}`)),
      keys: bounded(
        "listing the keys",
        Effect.map(
          ownConnection(sql<{ readonly key: string }>`SELECT key FROM ${sql(table)}`),
          (rows) => rows.map((row) => row.key).sort()
        ).pipe(Effect.mapError(io("listing the keys")))
      ),
      compareAndSet: (key, expected, next) =>
        onKey(
          key,
          "writing the token",
          Option.match(expected, {
            onNone: () =>
              Effect.flatMap(now, (updatedAt) => {
                const c = Rows.toColumns(next)
                return sql`INSERT INTO ${sql(table)}
                  (key, access_token, refresh_token, scopes, obtained_at, expires_at, version, updated_at)
                  VALUES (${key}, ${c.access_token}, ${c.refresh_token}, ${c.scopes}, ${c.obtained_at}, ${c.expires_at}, 1, ${updatedAt})
                  ON CONFLICT (key) DO NOTHING RETURNING key`
              }),
            onSome: (old) =>
              Effect.flatMap(now, (updatedAt) => {
                const c = Rows.toColumns(next)
                const e = Rows.toColumns(old)
                return sql`UPDATE ${sql(table)} SET access_token = ${c.access_token},
                  refresh_token = ${c.refresh_token}, scopes = ${c.scopes}, obtained_at = ${c.obtained_at},
                  expires_at = ${c.expires_at}, version = version + 1, updated_at = ${updatedAt}
                  WHERE key = ${key} AND access_token = ${e.access_token} AND refresh_token = ${e.refresh_token}
                  RETURNING key`
              })
          }).pipe(Effect.map((rows) => rows.length === 1))
        ),
      compareAndRemove: (key, expected) =>
        onKey(
          key,
          "removing the token",
          Effect.suspend(() => {
            const e = Rows.toColumns(expected)
            return sql`DELETE FROM ${sql(table)}
              WHERE key = ${key} AND access_token = ${e.access_token} AND refresh_token = ${e.refresh_token}
              RETURNING key`
          }).pipe(Effect.map((rows) => rows.length === 1))
        ),
      withLock: (key, effect) =>
        Effect.gen(function*() {
          yield* checkKey(key)
          const leases = yield* FiberRef.get(held)
          // Already held by this fiber (a nested withLock on the same key): run it.
          if (HashMap.has(leases, key)) return yield* effect
          const started = yield* AdvisoryLock.realMillis
          const timedOut = (waitingFor: string) =>
            fail(
              "LockTimeout",
              `timed out after ${
                Duration.format(Duration.millis(lockTimeout))
              } waiting for ${waitingFor} holding the lock on ${JSON.stringify(key)}`
            )
          return yield* mutex(
            key,
            Effect.scoped(Effect.gen(function*() {
              const elapsed = (yield* AdvisoryLock.realMillis) - started
              const connection = yield* AdvisoryLock.acquire(
                sql,
                `${table}:${key}`,
                Math.max(0, lockTimeout - elapsed),
                staleLockAfter
              ).pipe(
                Effect.mapError((error) =>
                  error._tag === "Timeout"
                    ? timedOut("a connection of the pool, or another process")
                    : io("taking the lock")(error)
                )
              )
              const lease = yield* makeLease(connection)
              yield* Effect.forkScoped(renewals(lease, key, staleLockAfter))
              return yield* Effect.locally(held, HashMap.set(leases, key, lease))(effect)
            })),
            (wait) =>
              AdvisoryLock.onRealTime(
                Effect.timeoutFail(wait, {
                  duration: Duration.millis(lockTimeout),
                  onTimeout: () => timedOut("another fiber of this process")
                })
              )
          )
        })
    })
    return store
  })

/** A lock held on `connection`: the store's statements on its key use it one at a time, until it is released. */
interface Lease {
  readonly connection: Connection.Connection
  readonly permit: Effect.Semaphore
  readonly active: Ref.Ref<boolean>
}

/** A lease that ends (its connection is no longer used, even by fibers the effect forked) before the lock is released. */
const makeLease = (connection: Connection.Connection): Effect.Effect<Lease, never, Scope.Scope> =>
  Effect.gen(function*() {
    const permit = yield* Effect.makeSemaphore(1)
    const active = yield* Ref.make(true)
    yield* Effect.addFinalizer(() => permit.withPermits(1)(Ref.set(active, false)))
    return { connection, permit, active }
  })

/**
 * Renews the lease of a held lock every quarter of `staleLockAfter` until interrupted (when
 * the lock is released). A renewal that fails means the lock's connection is gone, and the
 * lock with it: reported once; the holder's writes are compare-and-set, so a holder that
 * lost its lock never overwrites or removes a token it did not see.
 */
const renewals = (lease: Lease, key: string, staleLockAfter: number): Effect.Effect<void> =>
  AdvisoryLock.onRealTime(
    Effect.forever(
      Effect.zipRight(
        Effect.sleep(Duration.millis(staleLockAfter / 4)),
        lease.permit.withPermits(1)(
          Effect.whenEffect(AdvisoryLock.renew(lease.connection), Ref.get(lease.active))
        )
      )
    )
  ).pipe(
    Effect.catchAll(() =>
      Effect.logWarning(
        `SqlTokenStore: the lock on ${JSON.stringify(key)} was lost (its connection ended) while its holder ran`
      )
    ),
    Effect.asVoid
  )

/**
 * Provides a {@link TokenStore.TokenStore} kept in the database of the `SqlClient` (see
 * {@link make}).
 *
 * @example
 * ```ts
 * import { TwitchSessions } from "@effect-twitch/auth"
 * import { SqlTokenStore } from "@effect-twitch/sql"
 * import * as PgClient from "@effect/sql-pg/PgClient"
 * import * as Layer from "effect/Layer"
 * import * as Redacted from "effect/Redacted"
 *
 * // every process of the fleet: one database, one lock per user
 * const TokenStoreLive = SqlTokenStore.layer().pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make("postgres://localhost/app") }))
 * )
 * const SessionsLive = TwitchSessions.layer().pipe(Layer.provide(TokenStoreLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<TokenStore.TokenStore, SqlError.SqlError | TokenStore.TokenStoreError, SqlClient.SqlClient> =>
  Layer.scoped(TokenStore.TokenStore, make(options))
