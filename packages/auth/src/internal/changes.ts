/**
 * A value's changes as a `Stream`, through a `PubSub` that exists only while someone is
 * subscribed (most sessions never have a subscriber): the owner holds two fields, no
 * `PubSub`, ref or closure. Used by `TwitchSession.changes`.
 */
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"

/** Where the `PubSub` lives while someone subscribes (a field of the owner). */
export interface Hub<A> {
  hub: PubSub.PubSub<A> | undefined
  subscribers: number
}

/** Hands `value` to every subscriber (nothing to do while there is none). */
export const publish = <A>(holder: Hub<A>, value: A): Effect.Effect<void> =>
  Effect.suspend(() => holder.hub === undefined ? Effect.void : Effect.asVoid(PubSub.publish(holder.hub, value)))

/** The value read by `current` when the stream starts, then every published one (repeats dropped). */
export const stream = <A>(holder: Hub<A>, current: Effect.Effect<A>): Stream.Stream<A> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const pubsub = yield* Effect.acquireRelease(
      Effect.flatMap(PubSub.unbounded<A>(), (made) =>
        Effect.sync(() => {
          holder.subscribers++
          if (holder.hub === undefined) holder.hub = made
          return holder.hub
        })),
      (held) =>
        Effect.suspend(() => {
          holder.subscribers--
          if (holder.subscribers > 0 || holder.hub !== held) return Effect.void
          holder.hub = undefined
          return PubSub.shutdown(held)
        })
    )
    const subscription = yield* PubSub.subscribe(pubsub)
    return Stream.changesWith(
      Stream.concat(Stream.make(yield* current), Stream.fromQueue(subscription)),
      (a, b) => a === b
    )
  }))
