/**
 * A wall clock set wrong, for the tests of what must not depend on it (the file store's lock,
 * a session's refreshes): Effect's `Clock` reading `offset()` ms away from the real one.
 * Sleeps are real.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

export const shiftedClock = (offset: () => number): Clock.Clock => {
  const real = Clock.make()
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => real.unsafeCurrentTimeMillis() + offset(),
    currentTimeMillis: Effect.sync(() => real.unsafeCurrentTimeMillis() + offset()),
    unsafeCurrentTimeNanos: () => real.unsafeCurrentTimeNanos() + BigInt(offset()) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => real.unsafeCurrentTimeNanos() + BigInt(offset()) * 1_000_000n),
    sleep: (duration) => real.sleep(duration)
  }
}
