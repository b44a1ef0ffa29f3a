/**
 * PostgreSQL's session-level advisory locks, held on a connection reserved for the lock.
 *
 * - A lock is taken with `pg_try_advisory_lock` (it never blocks in the server), polled with
 *   a backoff until the deadline: a wait that times out or is interrupted is never left
 *   blocked in the server, to be granted later to nobody. A waiter holds no connection
 *   between polls.
 * - Every connection this module reserves is released through one finalizer that first runs
 *   `pg_advisory_unlock_all()` on it (whether or not the lock was taken: an interrupted poll
 *   may have taken it), and, if that fails, ends its own server session, so a connection
 *   goes back to the pool holding no lock. A holder that dies (process killed, connection
 *   lost) releases its locks with its session.
 * - `SqlClient.reserve` waiting for a pooled connection cannot be interrupted without losing
 *   the connection (the pool hands it to nobody), so the wait runs in a daemon fiber, and an
 *   interrupted caller leaves the release to it.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as Connection from "@effect/sql/SqlConnection"
import type * as SqlError from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"

/** A monotonic clock of its own: lock waits run on real time, whatever the caller's `Clock`. */
const monotonic = Clock.make()

/** Runs `effect`'s timing (sleeps, timeouts) on real time (see the file store's `FileLock.onRealTime`). */
export const onRealTime = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withClock(effect, monotonic)

/** Milliseconds on the real, monotonic clock. */
export const realMillis: Effect.Effect<number> = Effect.sync(() =>
  Number(monotonic.unsafeCurrentTimeNanos() / 1_000_000n)
)

/**
 * `effect` made interruptible, and disconnected: a timeout around it ends the wait at once,
 * even in an uninterruptible region (a finalizer), and leaves `effect`'s own interruption
 * (a statement's cancel) to the background.
 */
export const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.interruptible(Effect.disconnect(effect))

/** How long a release may take before it is given up (the connection is then ended). */
const releaseTimeout = Duration.seconds(10)

const statement = (connection: Connection.Connection, text: string, params: ReadonlyArray<unknown> = []) =>
  connection.execute(text, params, undefined)

/** `idle_session_timeout` exists from PostgreSQL 14 on; before, the lease is not set (see {@link attempt}). */
const ifIdleTimeout = (then: string) =>
  `CASE WHEN current_setting('server_version_num')::int >= 140000 THEN ${then} END`

/**
 * Tries the lock named `$1` and, when taken, gives it a lease in the same round trip: the
 * server ends the session (releasing the lock) after `$2` ms idle. `OFFSET 0` keeps the
 * planner from folding the subquery, so the lock is tried exactly once.
 */
const tryStatement = `SELECT attempt.locked, CASE WHEN attempt.locked THEN ${
  ifIdleTimeout("set_config('idle_session_timeout', $2, false)")
} END AS lease FROM (SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked OFFSET 0) AS attempt`

/** Unlocks every advisory lock of the session, and puts its idle timeout back as it was. */
const releaseStatement = `SELECT pg_advisory_unlock_all() AS unlocked, ${
  ifIdleTimeout(
    "set_config('idle_session_timeout', (SELECT reset_val FROM pg_settings WHERE name = 'idle_session_timeout'), false)"
  )
} AS reset`

/**
 * Keeps a lock's lease: a statement on its connection. Never cancelled mid-way (a cancel
 * request could hit the statement after it, the release): an interruption returns at once
 * and lets the statement finish.
 */
export const renew = (connection: Connection.Connection): Effect.Effect<void, SqlError.SqlError> =>
  Effect.disconnect(Effect.uninterruptible(Effect.asVoid(statement(connection, "SELECT 1"))))

/**
 * Leaves `connection` holding no advisory lock: unlocks all of its session's locks, or, if
 * that fails, ends its session (which releases them). Never fails.
 */
const releaseAll = (connection: Connection.Connection): Effect.Effect<void> =>
  // Each step takes at most `releaseTimeout`, even in a finalizer (uninterruptible): the wait
  // for the statement is made interruptible, and the statement disconnected, so a statement
  // that times out is cancelled in the background (the driver's cancel itself waits up to 5 s
  // for a server that may not answer).
  bounded(statement(connection, releaseStatement)).pipe(
    Effect.timeout(releaseTimeout),
    Effect.catchAll(() =>
      Effect.zipRight(
        Effect.logWarning(
          "SqlTokenStore: could not release a lock on its connection; ending that connection's session (which releases it)"
        ),
        bounded(statement(connection, "SELECT pg_terminate_backend(pg_backend_pid())")).pipe(
          Effect.timeout(releaseTimeout),
          Effect.ignore
        )
      )
    ),
    onRealTime
  )

/**
 * Reserves a pooled connection for a lock, and registers its release (see
 * {@link releaseAll}, skipped once `mayHoldLock` says the connection took no lock) in
 * `scope` before returning it, so no interruption can lose it. The
 * wait for the pool is interruptible: `SqlClient.reserve` of `@effect/sql-pg` loses the
 * connection when interrupted while the pool is busy (the pool later hands it to nobody), so
 * the wait runs in a daemon fiber, and an interrupted caller leaves the release to it.
 */
const reserveInto = (
  sql: SqlClient.SqlClient,
  scope: Scope.Scope,
  mayHoldLock: Ref.Ref<boolean>
): Effect.Effect<Connection.Connection, SqlError.SqlError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const own = yield* Scope.make()
      const reserving = yield* Effect.forkDaemon(
        Scope.extend(
          Effect.tap(
            sql.reserve,
            (connection) => Scope.addFinalizer(own, Effect.whenEffect(releaseAll(connection), Ref.get(mayHoldLock)))
          ),
          own
        )
      )
      const connection = yield* restore(Fiber.join(reserving)).pipe(
        Effect.onExit((exit) =>
          Exit.isSuccess(exit)
            ? Scope.addFinalizer(scope, Scope.close(own, Exit.void))
            : Effect.asVoid(Effect.forkDaemon(Effect.zipRight(Fiber.await(reserving), Scope.close(own, Exit.void))))
        )
      )
      return connection
    })
  )

/**
 * One poll: reserves a connection and tries the lock on it. Taken: the connection gets its
 * lease (`idle_session_timeout` = `staleMillis`: a holder that stops renewing, because its
 * process hangs or its machine is gone, loses the lock when the server ends its session)
 * and stays reserved until `scope` closes; otherwise (not taken, failed, interrupted at any
 * point) the connection is released at once — unlocked first, as an interrupted poll may
 * have taken the lock.
 */
const attempt = (
  sql: SqlClient.SqlClient,
  name: string,
  staleMillis: number,
  scope: Scope.Scope
): Effect.Effect<Option.Option<Connection.Connection>, SqlError.SqlError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const poll = yield* Scope.make()
      // until the server says the lock was not taken, the connection is released unlocked
      const mayHoldLock = yield* Ref.make(true)
      const exit = yield* Effect.exit(restore(Effect.gen(function*() {
        const connection = yield* reserveInto(sql, poll, mayHoldLock)
        // bounded: a timed-out wait does not also wait for the driver's cancel; the release
        // below is queued on the same connection after the try, so it undoes a late success
        const rows = yield* bounded(
          statement(connection, tryStatement, [name, String(Math.max(1, Math.round(staleMillis)))])
        )
        if (rows.length === 1 && rows[0]?.locked === true) return Option.some(connection)
        // definitely not taken: nothing to unlock (every connection goes back to the pool unlocked)
        if (rows.length === 1 && rows[0]?.locked === false) yield* Ref.set(mayHoldLock, false)
        return Option.none()
      })))
      if (Exit.isSuccess(exit) && Option.isSome(exit.value)) {
        yield* Scope.addFinalizer(scope, Scope.close(poll, Exit.void))
      } else {
        yield* Scope.close(poll, Exit.void)
      }
      return yield* exit
    })
  )

/**
 * The pause before poll `n + 1`: quickly at first (a lock is held for a refresh, tens of
 * milliseconds), then every 250 ms at most, jittered so that waiters do not poll in step.
 */
const pause = (n: number): Effect.Effect<void> =>
  Effect.flatMap(
    Random.nextRange(0.5, 1.5),
    (jitter) => Effect.sleep(Duration.millis(Math.min(5 * 1.5 ** n, 250) * jitter))
  )

/** Why a lock was not taken in time. */
export interface Timeout {
  readonly _tag: "Timeout"
}

/**
 * Takes the session-level advisory lock named `name` (hashed to 64 bits by the server's
 * `hashtextextended`; two names sharing a hash share a lock: never wrong, only less
 * concurrent) on a connection reserved for it, until `scope` closes. Polls until
 * `timeoutMillis` (real time) has passed, then fails with {@link Timeout}.
 */
export const acquire = (
  sql: SqlClient.SqlClient,
  name: string,
  timeoutMillis: number,
  staleMillis: number
): Effect.Effect<Connection.Connection, SqlError.SqlError | Timeout, Scope.Scope> =>
  Effect.flatMap(Effect.scope, (scope) => {
    const poll = (n: number): Effect.Effect<Connection.Connection, SqlError.SqlError> =>
      Effect.flatMap(
        attempt(sql, name, staleMillis, scope),
        Option.match({ onNone: () => Effect.zipRight(pause(n), poll(n + 1)), onSome: Effect.succeed })
      )
    return poll(0).pipe(
      Effect.timeoutFail({ duration: Duration.millis(timeoutMillis), onTimeout: (): Timeout => ({ _tag: "Timeout" }) }),
      onRealTime
    )
  })

/** Whether the dialect of `sql` has advisory locks (PostgreSQL). */
export const supported = (sql: SqlClient.SqlClient): boolean =>
  sql.onDialectOrElse({ pg: () => true, orElse: () => false })
