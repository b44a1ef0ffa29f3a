/**
 * One fiber that runs many sessions' background work (hourly validation, refresh ahead of
 * expiry) when it falls due, so that holding thousands of sessions costs no fiber each.
 *
 * Jobs wait in a set ordered by when they are due; the loop sleeps until the first one, runs
 * what is due, and asks each job when it is due next once it has run. Adding, running and
 * rescheduling a job cost O(log n); nothing scans all jobs.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Order from "effect/Order"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as SortedSet from "effect/SortedSet"

/** Work that falls due at `dueAt` (epoch millis; `Infinity` for never). */
export interface Job {
  readonly dueAt: Effect.Effect<number>
  /** Runs the work; never run twice at once. Must not fail. */
  readonly run: Effect.Effect<void>
}

export interface Scheduler {
  /** Adds a job for as long as the scope is open. */
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

interface State {
  /** Waiting jobs, first due first. */
  readonly queue: SortedSet.SortedSet<Entry>
  /** Every registered job: its waiting entry, or `None` while it runs. */
  readonly jobs: HashMap.HashMap<Job, Option.Option<Entry>>
  readonly seq: number
}

export const make: Effect.Effect<Scheduler, never, Scope.Scope> = Effect.gen(function*() {
  const state = yield* Ref.make<State>({ queue: SortedSet.empty(byDue), jobs: HashMap.empty(), seq: 0 })
  /** When the loop will next wake by itself. */
  const planned = yield* Ref.make(Infinity)
  const wakeups = yield* Queue.sliding<void>(1)
  const scope = yield* Effect.scope

  /** Queues `job` at `due` (replacing its waiting entry), if it is still registered and not running. */
  const enqueue = (job: Job, due: number, running: boolean) =>
    Effect.flatMap(
      Ref.modify(state, (s): readonly [boolean, State] => {
        const current = HashMap.get(s.jobs, job)
        if (Option.isNone(current)) return [false, s] // removed
        if (Option.isNone(current.value) && !running) return [false, s] // running: it re-queues itself
        const queue = Option.match(current.value, {
          onNone: () => s.queue,
          onSome: (entry) => SortedSet.remove(s.queue, entry)
        })
        const entry: Entry = { due, seq: s.seq, job }
        return [true, {
          queue: SortedSet.add(queue, entry),
          jobs: HashMap.set(s.jobs, job, Option.some(entry)),
          seq: s.seq + 1
        }]
      }),
      (queued) =>
        queued
          ? Effect.flatMap(Ref.get(planned), (at) => due < at ? Queue.offer(wakeups, undefined) : Effect.void)
          : Effect.void
    )

  const reschedule = (job: Job) => Effect.flatMap(job.dueAt, (due) => enqueue(job, due, false))

  const start = (job: Job) =>
    Effect.forkIn(
      job.run.pipe(
        Effect.ensuring(Effect.flatMap(job.dueAt, (due) => enqueue(job, due, true)))
      ),
      scope
    )

  /** Takes every due job off the queue and starts it; returns the next due time. */
  const tick = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const due = yield* Ref.modify(state, (s): readonly [ReadonlyArray<Job>, State] => {
      const ready: Array<Entry> = []
      for (const entry of SortedSet.values(s.queue)) {
        if (entry.due > now) break
        ready.push(entry)
      }
      let queue = s.queue
      let jobs = s.jobs
      for (const entry of ready) {
        queue = SortedSet.remove(queue, entry)
        jobs = HashMap.set(jobs, entry.job, Option.none())
      }
      return [ready.map((entry) => entry.job), { ...s, queue, jobs }]
    })
    for (const job of due) yield* start(job)
    const s = yield* Ref.get(state)
    const first = SortedSet.values(s.queue).next()
    return first.done === true ? Infinity : first.value.due
  })

  yield* Effect.forkScoped(
    Effect.gen(function*() {
      const next = yield* tick
      yield* Ref.set(planned, next)
      const now = yield* Clock.currentTimeMillis
      yield* next === Infinity
        ? Queue.take(wakeups)
        : Effect.raceFirst(Effect.sleep(Math.max(0, next - now)), Queue.take(wakeups))
    }).pipe(Effect.forever)
  )

  return {
    reschedule,
    add: (job) =>
      Effect.acquireRelease(
        Ref.update(state, (s) => ({ ...s, jobs: HashMap.set(s.jobs, job, Option.none()) })).pipe(
          Effect.zipRight(job.dueAt),
          Effect.flatMap((due) => enqueue(job, due, true))
        ),
        () =>
          Ref.update(state, (s) => {
            const queue = Option.match(Option.flatten(HashMap.get(s.jobs, job)), {
              onNone: () => s.queue,
              onSome: (entry) => SortedSet.remove(s.queue, entry)
            })
            return { ...s, queue, jobs: HashMap.remove(s.jobs, job) }
          })
      )
  }
})
