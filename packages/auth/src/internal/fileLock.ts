/**
 * The file store's cross-process lock: a lock file created exclusively (`wx`) with its
 * owner's record, owned by a random id, kept alive by its holder, released only by its owner.
 *
 * - **Owner.** A 128-bit random id (Web Crypto). The pid and the time in the record are for
 *   people reading the file; liveness is never judged by them (a pid means nothing in
 *   another PID namespace, and wall clocks jump).
 * - **Renewal.** While the locked effect runs, the holder rewrites the record every
 *   `renewEvery` with a higher `beat` (write a temporary file, rename it over the lock), after
 *   checking that the lock still holds its id. A holder that finds another id there logs it
 *   once: its lock was broken (it was paused longer than `staleAfter`); the data stays safe
 *   because every write of the store is a compare-and-set.
 * - **Staleness.** A waiter judges a lock stale only after seeing the very same record (id and
 *   beat) for `staleAfter` on its own monotonic clock. Wall-clock time, file times and clock
 *   jumps play no part, so a live holder that renews is never judged stale.
 * - **Breaking.** One breaker at a time (a guard file, taken like the lock). The breaker
 *   re-reads the lock, renames it aside, checks that what it moved is the record it judged
 *   stale, and removes it; otherwise it puts it back (a hard link back to the lock's name).
 * - **Release.** The owner checks that the lock holds its id, renames it aside, checks again,
 *   and removes it; a lock that is not its own is left alone (or put back, if it changed
 *   between the two checks).
 * - **Waiting** polls with jitter, is interruptible, and is bounded by `timeout`. Each step
 *   that may create the lock is uninterruptible, and an interrupted or timed-out wait removes
 *   the lock if its last step took it: a wait never leaves its lock behind.
 */
import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"

/** The lock's timing. */
export interface Options {
  /** A record unchanged for this long (on the waiter's monotonic clock) is stale. */
  readonly staleAfter: Duration.Duration
  /** How long a wait lasts before failing. */
  readonly timeout: Duration.Duration
  /** The timeout to name in the error, when `timeout` is what is left of a longer one. */
  readonly reportedTimeout?: Duration.Duration | undefined
}

/** Why a lock could not be taken. `detail` names paths, never contents. */
export class LockFailure extends Data.TaggedError("TokenStoreLockFailure")<{
  readonly reason: "Timeout" | "Io"
  readonly detail: string
}> {}

const isNotFound = (error: PlatformError.PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "NotFound"

const isAlreadyExists = (error: PlatformError.PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "AlreadyExists"

/** A monotonic clock of its own: not the Effect `Clock` (a test's or a shifted one), not the wall clock. */
const monotonic = Clock.make()
const monotonicMillis = (): number => Number(monotonic.unsafeCurrentTimeNanos() / 1_000_000n)

/**
 * Runs `effect`'s timing (sleeps, timeouts, clock reads) on real time. A wait for a lock is a
 * wait for other processes and fibers, which a simulated clock does not move: on a
 * `TestClock`, a poll would sleep until the test moved the clock, and a test that moved it
 * (by an hour, say) while a wait was on would see the wait time out at once. Only the waiting
 * runs so: the work done under the lock keeps the caller's clock.
 */
export const onRealTime = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withClock(effect, monotonic)

/** Milliseconds on the real, monotonic clock (see {@link onRealTime}). */
export const realMillis: Effect.Effect<number> = Effect.sync(monotonicMillis)

/** `bytes` random bytes as hex, from Web Crypto (Node, Deno, Bun, browsers). */
export const randomHex = (bytes: number): string =>
  Array.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("")

const pid = (): number => (typeof process === "undefined" ? 0 : process.pid)

/**
 * The lock's record: one JSON line. `owner` and `beat` make it change on every renewal;
 * `stale` is the holder's `staleAfter` (ms), so that a waiter configured with a shorter one
 * still waits as long as the holder's renewals need; `pid` and `since` are for people.
 */
const record = (owner: string, beat: number, stale: number, since: string): string =>
  `${JSON.stringify({ owner, beat, stale, pid: pid(), since })}\n`

const stalePattern = /"stale":(\d{1,12})[,}]/

/** The staleness period a record's holder declares, if any. */
const declaredStale = (content: string): number => Number(stalePattern.exec(content)?.[1] ?? 0)

const ownerPattern = /"owner":"([0-9a-f]{32})"/

/** The owner id in a record, if it is one of ours. */
export const ownerOf = (content: string): string | undefined => ownerPattern.exec(content)?.[1]

/** What a waiter saw, and since when (monotonic ms). */
interface Observation {
  readonly content: string
  readonly since: number
}

const observe = (previous: Observation | undefined, content: string): Observation =>
  previous !== undefined && previous.content === content ? previous : { content, since: monotonicMillis() }

/**
 * Runs effects under the lock file `lockFile`. `describe` names it in errors.
 */
export const make = (fs: FileSystem.FileSystem, lockFile: string, options: Options) => {
  const staleMillis = Math.max(1, Duration.toMillis(options.staleAfter))
  // Renew four times per stale period: a holder must miss three renewals in a row to be judged stale.
  const renewMillis = Math.max(1, Math.floor(staleMillis / 4))
  // Poll often enough to notice a release quickly, rarely enough not to spin.
  const pollMillis = Math.min(50, Math.max(2, Math.floor(staleMillis / 10)))
  const guardFile = `${lockFile}.break`

  const io = (action: string) => (error: PlatformError.PlatformError): LockFailure =>
    new LockFailure({ reason: "Io", detail: `${action} (${error.message})` })

  const readContent = (path: string): Effect.Effect<Option.Option<string>, LockFailure> =>
    fs.readFileString(path).pipe(
      Effect.map(Option.some),
      Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<string>())),
      Effect.mapError(io(`could not read the lock file ${JSON.stringify(path)}`))
    )

  const aside = (path: string) => `${path}.${randomHex(8)}.aside`

  /**
   * Removes `path` if what it holds passes `check`: renamed aside first (so nothing else
   * can be removed by mistake), checked, then removed, or put back when it changed. `true`
   * when it was removed.
   */
  const removeIf = (path: string, check: (content: string) => boolean): Effect.Effect<boolean, LockFailure> =>
    Effect.gen(function*() {
      const moved = aside(path)
      const renamed = yield* fs.rename(path, moved).pipe(
        Effect.as(true),
        Effect.catchIf(isNotFound, () => Effect.succeed(false)),
        Effect.mapError(io(`could not move the lock file ${JSON.stringify(path)} aside`))
      )
      if (!renamed) return false
      const content = yield* Effect.orElseSucceed(readContent(moved), () => Option.none<string>())
      if (Option.isSome(content) && check(content.value)) {
        yield* Effect.ignore(fs.remove(moved))
        return true
      }
      // Not the record we meant to remove (it changed in between): put it back.
      const restored = yield* fs.link(moved, path).pipe(
        Effect.as(true),
        Effect.orElseSucceed(() => false)
      )
      yield* Effect.ignore(fs.remove(moved))
      if (!restored) {
        yield* Effect.logWarning(
          `token store lock ${
            JSON.stringify(path)
          }: a lock that changed while being checked could not be put back (another process took the name)`
        )
      }
      return false
    }).pipe(Effect.uninterruptible)

  /**
   * Creates `path` holding `content`, exclusively (`wx`): `false` if it exists. A holder
   * killed between creating and writing leaves an empty record, which waiters see unchanged
   * and break like any other.
   */
  const create = (path: string, content: string): Effect.Effect<boolean, LockFailure> =>
    fs.writeFileString(path, content, { flag: "wx", mode: 0o600 }).pipe(
      Effect.as(true),
      Effect.catchIf(isAlreadyExists, () => Effect.succeed(false)),
      Effect.mapError(io(`could not create the lock file ${JSON.stringify(path)}`)),
      Effect.uninterruptible
    )

  /**
   * Breaks the lock if it still holds `stale`, under the guard (one breaker at a time). A
   * guard left by a breaker that died is itself broken once seen unchanged for `staleAfter`.
   */
  const breakStale = (stale: string, guard: Ref.Ref<Observation | undefined>): Effect.Effect<void, LockFailure> =>
    Effect.gen(function*() {
      const guardRecord = record(randomHex(16), 0, staleMillis, new Date(yield* Clock.currentTimeMillis).toISOString())
      if (yield* create(guardFile, guardRecord)) {
        yield* Ref.set(guard, undefined)
        yield* Effect.gen(function*() {
          const current = yield* readContent(lockFile)
          if (Option.isSome(current) && current.value === stale) {
            yield* removeIf(lockFile, (content) => content === stale)
          }
        }).pipe(Effect.ensuring(Effect.ignore(removeIf(guardFile, (content) => content === guardRecord))))
        return
      }
      const held = yield* readContent(guardFile)
      if (Option.isNone(held)) return
      const seen = observe(yield* Ref.get(guard), held.value)
      yield* Ref.set(guard, seen)
      if (monotonicMillis() - seen.since >= staleMillis) {
        yield* removeIf(guardFile, (content) => content === seen.content)
        yield* Ref.set(guard, undefined)
      }
    }).pipe(Effect.uninterruptible)

  /** Waits until the lock file is ours (interruptible between steps). */
  const acquire = (owner: string, since: string): Effect.Effect<void, LockFailure> =>
    Effect.gen(function*() {
      const mine = record(owner, 0, staleMillis, since)
      const guard = yield* Ref.make<Observation | undefined>(undefined)
      let seen: Observation | undefined
      while (true) {
        if (yield* create(lockFile, mine)) return
        const content = yield* readContent(lockFile)
        if (Option.isNone(content)) continue
        seen = observe(seen, content.value)
        if (monotonicMillis() - seen.since >= Math.max(staleMillis, declaredStale(seen.content))) {
          yield* breakStale(seen.content, guard)
          seen = undefined
          continue
        }
        yield* Effect.sleep(Duration.millis(pollMillis / 2 + Math.random() * pollMillis))
      }
    })

  /**
   * Removes the lock if it is `owner`'s: read first (a wait that timed out must not move a
   * live holder's lock aside, even for a moment), then moved aside, checked, and removed.
   */
  const release = (owner: string): Effect.Effect<void> =>
    Effect.gen(function*() {
      const content = yield* readContent(lockFile)
      if (Option.isSome(content) && ownerOf(content.value) === owner) {
        yield* removeIf(lockFile, (c) => ownerOf(c) === owner)
      }
    }).pipe(Effect.ignore, Effect.uninterruptible)

  /** Rewrites the record with a higher beat while it is still `owner`'s; logs once if it is not. */
  const renewals = (owner: string, since: string): Effect.Effect<never> =>
    Effect.gen(function*() {
      let beat = 0
      let lost = false
      while (true) {
        yield* Effect.sleep(Duration.millis(renewMillis))
        beat++
        const renewed = yield* Effect.gen(function*() {
          const content = yield* readContent(lockFile)
          if (Option.isNone(content) || ownerOf(content.value) !== owner) return false
          const next = `${lockFile}.${randomHex(8)}.tmp`
          yield* fs.writeFileString(next, record(owner, beat, staleMillis, since), { flag: "wx", mode: 0o600 }).pipe(
            Effect.mapError(io("could not renew the lock"))
          )
          yield* fs.rename(next, lockFile).pipe(
            Effect.mapError(io("could not renew the lock")),
            Effect.onError(() => Effect.ignore(fs.remove(next)))
          )
          return true
        }).pipe(Effect.uninterruptible, Effect.orElseSucceed(() => true))
        if (!renewed && !lost) {
          lost = true
          yield* Effect.logWarning(
            `token store lock ${
              JSON.stringify(lockFile)
            }: this process no longer holds the lock it took (it was judged stale: the process was paused for longer than staleLockAfter); writes stay safe (compare-and-set)`
          )
        }
      }
    })

  const timeoutFailure = new LockFailure({
    reason: "Timeout",
    detail: `timed out after ${Duration.format(options.reportedTimeout ?? options.timeout)} waiting for the lock file ${
      JSON.stringify(lockFile)
    }`
  })

  /** Runs `effect` holding the lock. */
  const withLock = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | LockFailure, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        const owner = randomHex(16)
        // for people reading the file only
        const since = new Date(yield* Clock.currentTimeMillis).toISOString()
        yield* restore(
          acquire(owner, since).pipe(
            Effect.timeoutFail({ duration: options.timeout, onTimeout: () => timeoutFailure }),
            onRealTime
          )
        ).pipe(
          // interrupted or timed out right after a step took the lock: it is ours to remove
          Effect.onError(() => release(owner))
        )
        const renewing = yield* Effect.fork(onRealTime(Effect.interruptible(renewals(owner, since))))
        return yield* restore(effect).pipe(
          Effect.ensuring(Effect.zipRight(Fiber.interrupt(renewing), release(owner)))
        )
      })
    )

  return { withLock }
}
