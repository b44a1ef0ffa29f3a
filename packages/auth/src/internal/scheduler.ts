/**
 * One fiber that runs many sessions' background work (hourly validation, refresh ahead of
 * expiry) when it falls due, so that holding thousands of sessions costs no fiber each.
 *
 * Jobs wait in a binary heap ordered by when they are due (a plain array of records, one per
 * job: no per-job fiber, effect or closure is held); the loop sleeps on the `Clock` until the
 * first one, starts every job that is due, and asks each job when it is due next once it has
 * run. Adding, running and rescheduling a job cost O(log n); nothing scans all jobs.
 *
 * A job that is still due once it has run (it made no progress) or that failed is not
 * restarted at once: it is deferred by a delay that doubles from {@link stallBackoff}`.initial`
 * up to {@link stallBackoff}`.max` with each such run in a row, and that ends as soon as a
 * run leaves the job due in the future. Jobs pace themselves (a session backs off its own
 * refreshes); this is the backstop that keeps a job that does not from spinning.
 *
 * A job runs as if its owner had forked it: in the scope it was added in (closing that scope
 * interrupts a run in progress and removes the job) and with the owner's fiber refs (logger,
 * annotations, spans, services), whoever started the scheduler. Jobs added in one scope share
 * one finalizer, and jobs added with the same fiber-ref values share one copy of them: a
 * thousand sessions opened in one scope hold one owner record, not a thousand.
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
import * as FiberRefs from "effect/FiberRefs"
import { globalValue } from "effect/GlobalValue"
import * as HashSet from "effect/HashSet"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"

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

/** A job's place in a scheduler. */
export interface Registration {
  /** Asks the job when it is due again (call when what it depends on changed). */
  readonly reschedule: Effect.Effect<void>
}

export interface Scheduler {
  /** Adds a job for as long as the scope is open; it runs in that scope, with the caller's fiber refs. */
  readonly add: (job: Job) => Effect.Effect<Registration, never, Scope.Scope>
}

/** Jobs added in one scope with the same fiber-ref values. */
interface Owner {
  readonly scope: Scope.Scope
  readonly refs: FiberRefs.FiberRefs
}

/** The jobs added in one scope: removed together by one finalizer when it closes. */
interface Group {
  readonly owners: Array<Owner>
  readonly slots: Array<Slot>
}

/** One job in the heap: a plain record. */
class Slot implements Registration {
  /** When it is due (epoch millis), once deferrals are applied. */
  due = Infinity
  /** Tie-breaker: first queued, first run. */
  seq = 0
  /** Its index in the heap, or -1 while not queued (running, never due, or removed). */
  index = -1
  running = false
  removed = false
  /** Stalled (still due, or failed) runs in a row. */
  stalls = 0
  /** While deferred after a stall: not to run before this (epoch millis); else 0. */
  notBefore = 0
  constructor(readonly core: Core, readonly job: Job, readonly owner: Owner) {}
  get reschedule(): Effect.Effect<void> {
    return Effect.flatMap(this.job.dueAt, (due) => Effect.sync(() => this.core.enqueue(this, due, false)))
  }
}

const before = (a: Slot, b: Slot) => a.due < b.due || (a.due === b.due && a.seq < b.seq)

/** The scheduler's state: a binary heap of slots, and the loop's wake-up queue. */
class Core {
  readonly heap: Array<Slot> = []
  readonly groups = new Map<Scope.Scope, Group>()
  seq = 0
  /** When the loop will next wake by itself. */
  planned = Infinity
  constructor(readonly wakeups: Queue.Queue<void>, readonly onRemoved: (count: number) => Effect.Effect<void>) {}

  private swap(i: number, j: number) {
    const a = this.heap[i]!
    const b = this.heap[j]!
    this.heap[i] = b
    this.heap[j] = a
    b.index = i
    a.index = j
  }
  private up(i: number) {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(this.heap[i]!, this.heap[parent]!)) return
      this.swap(i, parent)
      i = parent
    }
  }
  private down(i: number) {
    const n = this.heap.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let first = i
      if (l < n && before(this.heap[l]!, this.heap[first]!)) first = l
      if (r < n && before(this.heap[r]!, this.heap[first]!)) first = r
      if (first === i) return
      this.swap(i, first)
      i = first
    }
  }
  /** Takes `slot` out of the heap (if it is in it). */
  unqueue(slot: Slot) {
    const i = slot.index
    if (i < 0) return
    const last = this.heap.pop()!
    slot.index = -1
    if (last === slot) return
    this.heap[i] = last
    last.index = i
    this.up(i)
    this.down(last.index)
  }
  /** The first slot due at or before `now`, taken out of the heap. */
  pop(now: number): Slot | undefined {
    const first = this.heap[0]
    if (first === undefined || first.due > now) return undefined
    this.unqueue(first)
    return first
  }
  get firstDue(): number {
    return this.heap[0]?.due ?? Infinity
  }

  /**
   * Queues `slot` at `due` (replacing its place; never before the end of a deferral), if it
   * is still registered and not running (`running`: the run that ended re-queues it).
   * Wakes the loop if it is now due before the loop meant to wake.
   */
  enqueue(slot: Slot, due: number, running: boolean) {
    if (slot.removed || (slot.running && !running)) return
    slot.running = false
    this.unqueue(slot)
    slot.due = Math.max(due, slot.notBefore)
    slot.seq = this.seq++
    if (slot.due === Infinity) return
    this.heap.push(slot)
    slot.index = this.heap.length - 1
    this.up(slot.index)
    if (slot.due < this.planned) {
      this.planned = slot.due
      Queue.unsafeOffer(this.wakeups, undefined)
    }
  }
}

/** The same fiber-ref values (what a job would run with), whatever fiber they were read in. */
const sameValues = (a: FiberRefs.FiberRefs, b: FiberRefs.FiberRefs): boolean => {
  if (a === b) return true
  const refs = FiberRefs.fiberRefs(a)
  if (HashSet.size(refs) !== HashSet.size(FiberRefs.fiberRefs(b))) return false
  for (const ref of refs) {
    if (FiberRefs.getOrDefault(a, ref) !== FiberRefs.getOrDefault(b, ref)) return false
  }
  return true
}

const makeWith = (onRemoved: (count: number) => Effect.Effect<void>): Effect.Effect<Scheduler, never, Scope.Scope> =>
  Effect.gen(function*() {
    const core = new Core(yield* Queue.sliding<void>(1), onRemoved)

    /**
     * Re-queues a job that has run (started at `startedAt`). Due again no later than when it
     * started, or failed: it made no progress, and running it again at once would spin; it is
     * deferred by the next stall delay. Otherwise its stall count ends, and it is queued at its
     * due time, even if that time has come while it ran (the clock moved on: on a TestClock
     * adjusted during the run, say), when it runs again at once.
     */
    const requeue = (slot: Slot, startedAt: number, exit: Exit.Exit<void, unknown>) =>
      Effect.gen(function*() {
        if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) {
          slot.running = false
          return
        }
        const now = yield* Clock.currentTimeMillis
        const due = yield* slot.job.dueAt
        if (Exit.isSuccess(exit) && due > startedAt) {
          slot.stalls = 0
          slot.notBefore = 0
          return core.enqueue(slot, due, true)
        }
        const stalls = slot.stalls + 1
        if (Exit.isFailure(exit)) {
          // Only the kind of failure: what a job failed with may carry anything.
          const kind = Cause.isDie(exit.cause) ? "died" : "failed"
          yield* Effect.logWarning(
            `Session scheduler: a background job ${kind}; it runs again in ${stallDelay(stalls) / 1000}s`
          )
        }
        slot.stalls = stalls
        slot.notBefore = now + stallDelay(stalls)
        core.enqueue(slot, due, true)
      })

    const start = (slot: Slot, startedAt: number) =>
      Effect.forkIn(
        Effect.zipRight(
          Effect.setFiberRefs(slot.owner.refs),
          Effect.flatMap(Effect.exit(slot.job.run), (exit) => requeue(slot, startedAt, exit))
        ),
        slot.owner.scope
      )

    /** Starts every due job; returns the next due time. */
    const tick = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.suspend(() => {
        const ready: Array<Slot> = []
        for (let slot = core.pop(now); slot !== undefined; slot = core.pop(now)) {
          slot.running = true
          ready.push(slot)
        }
        // From here on, a job queued before this time wakes the loop (see `enqueue`).
        core.planned = core.firstDue
        return Effect.as(Effect.forEach(ready, (slot) => start(slot, now), { discard: true }), core.planned)
      }))

    // The loop needs no service: it does not keep those of whoever started it alive.
    yield* Effect.forkScoped(
      Effect.gen(function*() {
        const next = yield* tick
        // The clock is read by the sleeping fiber itself, right as it starts to sleep: read
        // here, before `raceFirst` starts that fiber, a clock moved in between (a TestClock
        // adjusted by another fiber) would stretch the sleep by as much, and every job due in
        // that time would run that much late.
        yield* next === Infinity
          ? Queue.take(core.wakeups)
          : Effect.raceFirst(
            Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sleep(Math.max(0, next - now))),
            Queue.take(core.wakeups)
          )
      }).pipe(
        Effect.forever,
        // interruptible even when started from an uninterruptible region (a registration's acquire)
        Effect.interruptible,
        Effect.mapInputContext((_: Context.Context<never>) => Context.empty())
      )
    )

    /** Removes the jobs of a scope that closed. */
    const removeGroup = (scope: Scope.Scope) =>
      Effect.suspend(() => {
        const group = core.groups.get(scope)
        if (group === undefined) return Effect.void
        core.groups.delete(scope)
        for (const slot of group.slots) {
          slot.removed = true
          core.unqueue(slot)
        }
        return core.onRemoved(group.slots.length)
      })

    /** The owner record for jobs added in `scope` with `refs` (shared with earlier jobs if the same). */
    const ownerOf = (scope: Scope.Scope, refs: FiberRefs.FiberRefs) =>
      Effect.suspend(() => {
        const held = core.groups.get(scope)
        if (held !== undefined) {
          const last = held.owners[held.owners.length - 1]
          if (last !== undefined && sameValues(last.refs, refs)) return Effect.succeed([held, last] as const)
          const owner: Owner = { scope, refs }
          held.owners.push(owner)
          return Effect.succeed([held, owner] as const)
        }
        const group: Group = { owners: [{ scope, refs }], slots: [] }
        core.groups.set(scope, group)
        return Effect.as(Scope.addFinalizer(scope, removeGroup(scope)), [group, group.owners[0]!] as const)
      })

    const add = (job: Job): Effect.Effect<Registration, never, Scope.Scope> =>
      Effect.uninterruptible(Effect.gen(function*() {
        const scope = yield* Effect.scope
        const [group, owner] = yield* ownerOf(scope, yield* Effect.getFiberRefs)
        const slot = new Slot(core, job, owner)
        if (core.groups.get(scope) !== group) {
          // the scope was already closed: its finalizer ran at once
          slot.removed = true
          yield* core.onRemoved(1)
          return slot
        }
        group.slots.push(slot)
        core.enqueue(slot, yield* job.dueAt, true)
        return slot
      }))

    return { add }
  })

/** A scheduler (its loop runs until the scope closes). */
export const make: Effect.Effect<Scheduler, never, Scope.Scope> = makeWith(() => Effect.void)

/** A scheduler shared by the jobs of one clock, and how many registrations hold it. */
interface Shared {
  readonly scheduler: Scheduler
  readonly scope: Scope.CloseableScope
  users: number
}

/**
 * The shared schedulers, by clock. The only module-level state of the SDK: a registry keyed
 * by the `Clock` service (a `WeakMap`, so a test's clock and its entry can be collected);
 * a scheduler is started and stopped under its lock, its count of users changed in one step.
 */
const registry = globalValue(Symbol.for("@effect-twitch/auth/internal/scheduler/registry/2"), () => ({
  byClock: new WeakMap<Clock.Clock, Shared>(),
  lock: Effect.unsafeMakeSemaphore(1)
}))

/** Lets go of `count` registrations of `clock`'s scheduler; the last to let go stops it. */
const release = (clock: Clock.Clock, count: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const held = registry.byClock.get(clock)
    if (held === undefined) return Effect.void
    held.users -= count
    if (held.users > 0) return Effect.void
    registry.byClock.delete(clock)
    return Scope.close(held.scope, Exit.void)
  })

/** The scheduler of `clock` (started if it has none), with one more user. */
const acquire = (clock: Clock.Clock): Effect.Effect<Scheduler> =>
  Effect.suspend(() => {
    const held = registry.byClock.get(clock)
    if (held !== undefined) {
      held.users++
      return Effect.succeed(held.scheduler)
    }
    return registry.lock.withPermits(1)(Effect.suspend(() => {
      const started = registry.byClock.get(clock)
      if (started !== undefined) {
        started.users++
        return Effect.succeed(started.scheduler)
      }
      return Effect.gen(function*() {
        const scope = yield* Scope.make()
        const scheduler = yield* Scope.extend(makeWith((count) => release(clock, count)), scope)
        registry.byClock.set(clock, { scheduler, scope, users: 1 })
        return scheduler
      })
    }))
  })

/**
 * Adds `job` to the scheduler of the current clock for as long as the scope is open (the
 * scheduler starts with its first job and stops with its last).
 */
export const register = (job: Job): Effect.Effect<Registration, never, Scope.Scope> =>
  Effect.uninterruptible(
    Effect.clockWith((clock) => Effect.flatMap(acquire(clock), (scheduler) => scheduler.add(job)))
  )

/** How many jobs' registrations hold the scheduler of the current clock (0: none runs). For tests. */
export const usersOfCurrentClock: Effect.Effect<number> = Effect.clockWith((clock) =>
  Effect.sync(() => registry.byClock.get(clock)?.users ?? 0)
)
