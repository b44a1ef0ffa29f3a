/**
 * A value's changes as a `Stream`, through a `PubSub` created on the first subscription
 * (most sessions never have one). Used by `TwitchSession.changes`.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"
import * as SynchronizedRef from "effect/SynchronizedRef"

export interface Changes<A> {
  /** Hands `value` to every subscriber (nothing to do while there is none). */
  readonly publish: (value: A) => Effect.Effect<void>
  /** The value read by `current` when the stream starts, then every published one (repeats dropped). */
  readonly changes: Stream.Stream<A>
}

export const make = <A>(current: Effect.Effect<A>): Effect.Effect<Changes<A>> =>
  Effect.map(SynchronizedRef.make(Option.none<PubSub.PubSub<A>>()), (hub) => ({
    publish: (value) =>
      Effect.flatMap(
        SynchronizedRef.get(hub),
        Option.match({
          onNone: () => Effect.void,
          onSome: (pubsub) => Effect.asVoid(PubSub.publish(pubsub, value))
        })
      ),
    changes: Stream.unwrapScoped(Effect.gen(function*() {
      const pubsub = yield* SynchronizedRef.modifyEffect(hub, (held) =>
        Option.match(held, {
          onSome: (pubsub) => Effect.succeed([pubsub, held] as const),
          onNone: () => Effect.map(PubSub.unbounded<A>(), (pubsub) => [pubsub, Option.some(pubsub)] as const)
        }))
      const subscription = yield* PubSub.subscribe(pubsub)
      return Stream.changesWith(
        Stream.concat(Stream.make(yield* current), Stream.fromQueue(subscription)),
        (a, b) => a === b
      )
    }))
  }))
