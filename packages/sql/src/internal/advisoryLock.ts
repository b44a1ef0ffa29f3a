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
import * as SqlClient from "@effect/sql/SqlClient"
import type * as Connection from "@effect/sql/SqlConnection"
import type * as SqlError from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
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

/** How long a release may take before it is given up (the connection is then ended). */
const releaseTimeout = Duration.seconds(10)

const statement = (connection: Connection.Connection, text: string, params: ReadonlyArray<unknown> = []) =>
  connection.execute(text, params, undefined)

/**
 * Leaves `connection` holding no advisory lock: unlocks all of its session's locks, or, if
 * that fails, ends its session (which releases them). Never fails.
 */
const releaseAll = (connection: Connection.Connection): Effect.Effect<void> =>
  statement(connection, "SELECT pg_advisory_unlock_all()").pipe(
    Effect.timeout(releaseTimeout),
    Effect.catchAll(() =>
      Effect.zipRight(
        Effect.logWarning(
          "SqlTokenStore: could not release a lock on its connection; ending that connection's session (which releases it)"
        ),
        statement(connection, "SELECT pg_terminate_backend(pg_backend_pid())").pipe(
          Effect.timeout(releaseTimeout),
          Effect.ignore
        )
      )
    ),
    onRealTime
  )

/**
 * A pooled connection reserved for a lock, and the effect that gives it back (having
 * released its locks). The wait for the pool is interruptible; the connection it yields
 * after an interruption is given back by a daemon fiber.
 */
const reserve = (
  sql: SqlClient.SqlClient
): Effect.Effect<readonly [Connection.Connection, Effect.Effect<void>], SqlError.SqlError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const reserving = yield* Effect.forkDaemon(
        Scope.extend(
          Effect.tap(sql.reserve, (connection) => Scope.addFinalizer(scope, releaseAll(connection))),
          scope
        )
      )
      const exit = yield* restore(Fiber.await(reserving)).pipe(
        Effect.onInterrupt(() => Effect.forkDaemon(Effect.zipRight(Fiber.await(reserving), Scope.close(scope, Exit.void))))
      )
      if (Exit.isFailure(exit)) {
        yield* Scope.close(scope, Exit.void)
        return yield* Effect.failCause(exit.cause)
      }
      const giveBack: Effect.Effect<void> = Scope.close(scope, Exit.void)
      return [exit.value, giveBack] as const
    })
  )

/**
 * One poll: reserves a connection and tries the lock on it. Taken: the connection stays
 * reserved until `scope` closes (its release is registered before this returns, so no
 * interruption can lose it); not taken: the connection is given back at once.
 */
const attempt = (
  sql: SqlClient.SqlClient,
  name: string,
  scope: Scope.Scope
): Effect.Effect<Option.Option<Connection.Connection>, SqlError.SqlError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const [connection, giveBack] = yield* reserve(sql)
      const rows = yield* restore(
        statement(connection, "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked", [name])
      ).pipe(Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : giveBack))
      const locked = rows.length === 1 && rows[0]?.locked === true
      if (!locked) {
        yield* giveBack
        return Option.none()
      }
      yield* Scope.addFinalizer(scope, giveBack)
      return Option.some(connection)
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
  timeoutMillis: number
): Effect.Effect<Connection.Connection, SqlError.SqlError | Timeout, Scope.Scope> =>
  Effect.flatMap(Effect.scope, (scope) => {
    const poll = (n: number): Effect.Effect<Connection.Connection, SqlError.SqlError> =>
      Effect.flatMap(
        attempt(sql, name, scope),
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
