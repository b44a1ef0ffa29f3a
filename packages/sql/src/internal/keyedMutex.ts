/**
 * One mutex per key, within this process: what `withLock` holds before it asks the database
 * for the key's lock, so fibers of one process wait for each other here (holding no
 * connection) and only one of them at a time competes with other processes.
 */
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"

/**
 * Makes a keyed mutex: an entry lives while someone holds or waits for it, so a store of
 * many users keeps no mutex per user it ever saw. `bound` bounds the wait (not the effect).
 */
export const make = Effect.map(
  Ref.make(HashMap.empty<string, { readonly semaphore: Effect.Semaphore; readonly users: number }>()),
  (ref) =>
  <A, E, R, E2>(
    key: string,
    effect: Effect.Effect<A, E, R>,
    bound: (wait: Effect.Effect<void>) => Effect.Effect<void, E2>
  ): Effect.Effect<A, E | E2, R> =>
    Effect.acquireUseRelease(
      Ref.modify(ref, (entries) => {
        const entry = Option.getOrElse(
          HashMap.get(entries, key),
          () => ({ semaphore: Effect.unsafeMakeSemaphore(1), users: 0 })
        )
        return [entry.semaphore, HashMap.set(entries, key, { ...entry, users: entry.users + 1 })] as const
      }),
      (semaphore) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(
            restore(bound(Effect.asVoid(semaphore.take(1)))),
            Effect.ensuring(restore(effect), semaphore.release(1))
          )
        ),
      () =>
        Ref.update(ref, (entries) =>
          Option.match(HashMap.get(entries, key), {
            onNone: () => entries,
            onSome: (entry) =>
              entry.users <= 1
                ? HashMap.remove(entries, key)
                : HashMap.set(entries, key, { ...entry, users: entry.users - 1 })
          }))
    )
)
