/**
 * One fiber that runs many sessions' background work (hourly validation, refresh ahead of
 * expiry) when it falls due, so that holding thousands of sessions costs no fiber each.
 *
 * Jobs wait in a set ordered by when they are due; the loop sleeps until the first one, runs
 * what is due, and asks each job when it is due next once it has run. Adding, running and
 * rescheduling a job cost O(log n); nothing scans all jobs.
 *
 * A job that is still due once it has run (it made no progress) or that failed is not
 * restarted at once: it is deferred by a delay that doubles from {@link stallBackoff}`.initial`
 * up to {@link stallBackoff}`.max` with each such run in a row, and that ends as soon as a
 * run leaves the job due in the future. Jobs pace themselves (a session backs off its own
 * refreshes); this is the backstop that keeps a job that does not from spinning.
 *
 * A job runs as if its owner had forked it: in the scope it was added in (closing that scope
 * interrupts a run in progress) and with the owner's fiber refs (logger, annotations, spans,
 * services), whoever started the scheduler.
 *
 * Sessions do not make schedulers: {@link register} adds a job to the one scheduler of the
 * clock it reads time from, started with the first job and stopped with the last. One loop
 * sleeps on one clock, so that is as far as sharing can go: in a program every session runs
 * on the one live clock, hence on one fiber; in tests each `TestClock` gets its own.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as FiberRefs from "effect/FiberRefs"
import { globalValue } from "effect/GlobalValue"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Order from "effect/Order"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as SortedSet from "effect/SortedSet"

/** Work that falls due at `dueAt` (epoch millis; `Infinity` for never). */
export interface Job {
  readonly dueAt: Effect.Effect<number>
  /**
   * Runs the work; never run twice at once. Should not fail: a failure or defect is logged
   * and the job is deferred (see the module's notes).
   */
  readonly run: Effect.Effect<void, unknown>
}

/**
 * The delays by which a job that stays due after it ran, or that failed, is deferred: from
 * `initial`, doubling with each such run in a row, at most `max` (milliseconds).
 */
export const stallBackoff = { initial: 1_000, max: 60_000 } as const

/** The delay after `stalls` stalled runs in a row (`stalls` ≥ 1). */
export const stallDelay = (stalls: number): number =>
  Math.min(stallBackoff.max, stallBackoff.initial * 2 ** Math.min(30, Math.max(0, stalls - 1)))

export interface Scheduler {
  /** Adds a job for as long as the scope is open; it runs in that scope, with the caller's fiber refs. */
  readonly add: (job: Job) => Effect.Effect<void, never, Scope.Scope>
  /** Asks the job when it is due again (call when what it depends on changed). */
  readonly reschedule: (job: Job) => Effect.Effect<void>
}

interface Entry {
  readonly due: number
  readonly seq: number
  readonly job: Job
}

const byDue: Order.Order<Entry> = Order.combine(
  Order.mapInput(Order.number, (entry: Entry) => entry.due),
  Order.mapInput(Order.number, (entry: Entry) => entry.seq)
)

/** Where a job runs: the scope it was added in, with the fiber refs of the fiber that added it. */
interface Owner {
  readonly scope: Scope.Scope
  readonly refs: FiberRefs.FiberRefs
}

interface Slot {
  readonly owner: Owner
  /** The job's waiting entry, or `None` while it runs. */
  readonly entry: Option.Option<Entry>
  /** Stalled (still due, or failed) runs in a row. */
  readonly stalls: number
  /** While deferred after a stall: not to run before this (epoch millis); else 0. */
  readonly notBefore: number
}

interface State {
  /** Waiting jobs, first due first. */
  readonly queue: SortedSet.SortedSet<Entry>
  /** Every registered job. */
  readonly jobs: HashMap.HashMap<Job, Slot>
  readonly seq: number
}

const idle = (owner: Owner): Slot => ({ owner, entry: Option.none(), stalls: 0, notBefore: 0 })

export const make: Effect.Effect<Scheduler, never, Scope.Scope> = Effect.gen(function*() {
  const state = yield* Ref.make<State>({ queue: SortedSet.empty(byDue), jobs: HashMap.empty(), seq: 0 })
  /** When the loop will next wake by itself. */
  const planned = yield* Ref.make(Infinity)
  const wakeups = yield* Queue.sliding<void>(1)

  /**
   * Queues `job` at `due` (replacing its waiting entry; never before the end of a deferral),
   * if it is still registered and not running. `update` changes its slot first.
   */
  const enqueue = (job: Job, due: number, running: boolean, update: (slot: Slot) => Slot = (slot) => slot) =>
    Effect.flatMap(
      Ref.modify(state, (s): readonly [Option.Option<number>, State] => {
        const current = HashMap.get(s.jobs, job)
        if (Option.isNone(current)) return [Option.none(), s] // removed
        if (Option.isNone(current.value.entry) && !running) return [Option.none(), s] // running: it re-queues itself
        const queue = Option.match(current.value.entry, {
          onNone: () => s.queue,
          onSome: (entry) => SortedSet.remove(s.queue, entry)
        })
        const slot = update(current.value)
        const entry: Entry = { due: Math.max(due, slot.notBefore), seq: s.seq, job }
        return [Option.some(entry.due), {
          queue: SortedSet.add(queue, entry),
          jobs: HashMap.set(s.jobs, job, { ...slot, entry: Option.some(entry) }),
          seq: s.seq + 1
        }]
      }),
      Option.match({
        onNone: () => Effect.void,
        onSome: (queuedAt) =>
          Effect.flatMap(Ref.get(planned), (at) => queuedAt < at ? Queue.offer(wakeups, undefined) : Effect.void)
      })
    )

  const reschedule = (job: Job) => Effect.flatMap(job.dueAt, (due) => enqueue(job, due, false))

  /**
   * Re-queues a job that has run. Still due, or failed: it made no progress, and running it
   * again at once would spin; it is deferred by the next stall delay. Otherwise its stall
   * count ends.
   */
  const requeue = (job: Job, exit: Exit.Exit<void, unknown>) =>
    Effect.gen(function*() {
      if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) return
      const now = yield* Clock.currentTimeMillis
      const due = yield* job.dueAt
      if (Exit.isSuccess(exit) && due > now) {
        return yield* enqueue(job, due, true, (slot) => ({ ...slot, stalls: 0, notBefore: 0 }))
      }
      const stalls = yield* Effect.map(Ref.get(state), (s) =>
        Option.match(HashMap.get(s.jobs, job), { onNone: () => 0, onSome: (slot) => slot.stalls }) + 1)
      if (Exit.isFailure(exit)) {
        // Only the kind of failure: what a job failed with may carry anything.
        const kind = Cause.isDie(exit.cause) ? "died" : "failed"
        yield* Effect.logWarning(
          `Session scheduler: a background job ${kind}; it runs again in ${stallDelay(stalls) / 1000}s`
        )
      }
      yield* enqueue(job, due, true, (slot) => ({ ...slot, stalls, notBefore: now + stallDelay(stalls) }))
    })

  const start = (job: Job, owner: Owner) =>
    Effect.forkIn(
      Effect.zipRight(
        Effect.setFiberRefs(owner.refs),
        Effect.flatMap(Effect.exit(job.run), (exit) => requeue(job, exit))
      ),
      owner.scope
    )

  /** Takes every due job off the queue and starts it; returns the next due time. */
  const tick = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const due = yield* Ref.modify(state, (s): readonly [ReadonlyArray<readonly [Job, Owner]>, State] => {
      const ready: Array<Entry> = []
      for (const entry of SortedSet.values(s.queue)) {
        if (entry.due > now) break
        ready.push(entry)
      }
      let queue = s.queue
      let jobs = s.jobs
      const starting: Array<readonly [Job, Owner]> = []
      for (const entry of ready) {
        queue = SortedSet.remove(queue, entry)
        const slot = HashMap.get(jobs, entry.job)
        if (Option.isNone(slot)) continue
        starting.push([entry.job, slot.value.owner])
        jobs = HashMap.set(jobs, entry.job, { ...slot.value, entry: Option.none() })
      }
      return [starting, { ...s, queue, jobs }]
    })
    for (const [job, owner] of due) yield* start(job, owner)
    const s = yield* Ref.get(state)
    const first = SortedSet.values(s.queue).next()
    return first.done === true ? Infinity : first.value.due
  })

  // The loop needs no service: it does not keep those of whoever started it alive.
  yield* Effect.forkScoped(
    Effect.gen(function*() {
      const next = yield* tick
      yield* Ref.set(planned, next)
      const now = yield* Clock.currentTimeMillis
      yield* next === Infinity
        ? Queue.take(wakeups)
        : Effect.raceFirst(Effect.sleep(Math.max(0, next - now)), Queue.take(wakeups))
    }).pipe(
      Effect.forever,
      // interruptible even when started from an uninterruptible region (a registration's acquire)
      Effect.interruptible,
      Effect.mapInputContext((_: Context.Context<never>) => Context.empty())
    )
  )

  return {
    reschedule,
    add: (job) =>
      Effect.acquireRelease(
        Effect.all({ scope: Effect.scope, refs: Effect.getFiberRefs }).pipe(
          Effect.flatMap((owner) => Ref.update(state, (s) => ({ ...s, jobs: HashMap.set(s.jobs, job, idle(owner)) }))),
          Effect.zipRight(job.dueAt),
          Effect.flatMap((due) => enqueue(job, due, true))
        ),
        () =>
          Ref.update(state, (s) => {
            const queue = Option.match(Option.flatMap(HashMap.get(s.jobs, job), (slot) => slot.entry), {
              onNone: () => s.queue,
              onSome: (entry) => SortedSet.remove(s.queue, entry)
            })
            return { ...s, queue, jobs: HashMap.remove(s.jobs, job) }
          })
      )
  }
})

/** A scheduler shared by the jobs of one clock, and how many registrations hold it. */
interface Shared {
  readonly scheduler: Scheduler
  readonly scope: Scope.CloseableScope
  readonly users: number
}

/**
 * The shared schedulers, by clock. The only module-level state of the SDK: a registry keyed
 * by the `Clock` service (a `WeakMap`, so a test's clock and its entry can be collected),
 * changed only under its lock; each scheduler's own state is in `Ref`s.
 */
const registry = globalValue(Symbol.for("@effect-twitch/auth/internal/scheduler/registry"), () => ({
  byClock: new WeakMap<Clock.Clock, Shared>(),
  lock: Effect.unsafeMakeSemaphore(1)
}))

/** The scheduler of `clock`, started if it has none. */
const acquire = (clock: Clock.Clock): Effect.Effect<Scheduler> =>
  registry.lock.withPermits(1)(
    Effect.suspend(() => {
      const held = registry.byClock.get(clock)
      if (held !== undefined) {
        return Effect.sync(() => {
          registry.byClock.set(clock, { ...held, users: held.users + 1 })
          return held.scheduler
        })
      }
      return Effect.gen(function*() {
        const scope = yield* Scope.make()
        const scheduler = yield* Scope.extend(make, scope)
        yield* Effect.sync(() => registry.byClock.set(clock, { scheduler, scope, users: 1 }))
        return scheduler
      })
    })
  )

/** Lets go of `clock`'s scheduler; the last to let go stops it. */
const release = (clock: Clock.Clock): Effect.Effect<void> =>
  registry.lock.withPermits(1)(
    Effect.suspend(() => {
      const held = registry.byClock.get(clock)
      if (held === undefined) return Effect.void
      if (held.users > 1) return Effect.sync(() => registry.byClock.set(clock, { ...held, users: held.users - 1 }))
      registry.byClock.delete(clock)
      return Scope.close(held.scope, Exit.void)
    })
  )

/**
 * Adds `job` to the scheduler of the current clock for as long as the scope is open (the
 * scheduler starts with its first job and stops with its last). Returns the effect that asks
 * the job when it is due again (see {@link Scheduler.reschedule}).
 */
export const register = (job: Job): Effect.Effect<Effect.Effect<void>, never, Scope.Scope> =>
  Effect.clockWith((clock) =>
    Effect.gen(function*() {
      const scheduler = yield* Effect.acquireRelease(acquire(clock), () => release(clock))
      yield* scheduler.add(job)
      return scheduler.reschedule(job)
    })
  )

/** How many jobs' registrations hold the scheduler of the current clock (0: none runs). For tests. */
export const usersOfCurrentClock: Effect.Effect<number> = Effect.clockWith((clock) =>
  Effect.sync(() => registry.byClock.get(clock)?.users ?? 0)
)
