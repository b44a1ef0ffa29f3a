/**
 * One fiber that runs many sessions' background work (hourly validation, refresh ahead of
 * expiry) when it falls due, so that holding thousands of sessions costs no fiber each.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as HashSet from "effect/HashSet"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"

/** Work that falls due at `dueAt` (epoch millis; `Infinity` for never). */
export interface Job {
  readonly dueAt: Effect.Effect<number>
  /** Runs the work; never run twice at once. Must not fail. */
  readonly run: Effect.Effect<void>
}

export interface Scheduler {
  /** Adds a job for as long as the scope is open. */
  readonly add: (job: Job) => Effect.Effect<void, never, Scope.Scope>
}

export const make: Effect.Effect<Scheduler, never, Scope.Scope> = Effect.gen(function*() {
  const jobs = yield* Ref.make(HashSet.empty<Job>())
  const running = yield* Ref.make(HashSet.empty<Job>())
  const wakeups = yield* Queue.sliding<void>(1)
  const wake = Effect.asVoid(Queue.offer(wakeups, undefined))
  const scope = yield* Effect.scope

  const start = (job: Job) =>
    Effect.zipRight(
      Ref.update(running, HashSet.add(job)),
      Effect.forkIn(
        job.run.pipe(Effect.ensuring(Effect.zipRight(Ref.update(running, HashSet.remove(job)), wake))),
        scope
      )
    )

  /** Starts what is due; returns when the next job falls due. */
  const tick = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const busy = yield* Ref.get(running)
    let next = Infinity
    for (const job of yield* Ref.get(jobs)) {
      if (HashSet.has(busy, job)) continue
      const due = yield* job.dueAt
      if (due <= now) yield* start(job)
      else if (due < next) next = due
    }
    return next === Infinity ? Infinity : next - now
  })

  yield* Effect.forkScoped(
    tick.pipe(
      Effect.flatMap((wait) =>
        wait === Infinity
          ? Queue.take(wakeups)
          : Effect.raceFirst(Effect.sleep(wait), Queue.take(wakeups))
      ),
      Effect.forever
    )
  )

  return {
    add: (job) =>
      Effect.acquireRelease(
        Effect.zipRight(Ref.update(jobs, HashSet.add(job)), wake),
        () => Ref.update(jobs, HashSet.remove(job))
      )
  }
})
