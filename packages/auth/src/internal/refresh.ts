/**
 * The retry on a rejected token that `Retry.withTokenRefresh` and `TwitchHttpClient` share:
 * when `self` fails with `InvalidAccessToken`, `schedule` decides whether to refresh (with
 * `refresh`) and run `self` again. The schedule's driver is made only after a first
 * rejection: a call whose token is accepted pays for no retry machinery.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { InvalidAccessToken } from "../TwitchAuthError.js"

const isInvalidAccessToken = <E>(error: E): error is Extract<E, InvalidAccessToken> =>
  error instanceof InvalidAccessToken

/** Runs `self`, refreshing and running it again on `InvalidAccessToken` as `schedule` allows. */
export const onInvalidToken = <A, E, R, E2, R2>(
  self: Effect.Effect<A, E, R>,
  schedule: Schedule.Schedule<unknown, InvalidAccessToken>,
  refresh: (error: InvalidAccessToken) => Effect.Effect<unknown, E2, R2>
): Effect.Effect<A, E | E2, R | R2> =>
  Effect.catchIf(self, isInvalidAccessToken, (first) =>
    Effect.flatMap(Schedule.driver(schedule), (driver) => {
      const again = (error: Extract<E, InvalidAccessToken>): Effect.Effect<A, E | E2, R | R2> =>
        Effect.matchEffect(driver.next(error), {
          onFailure: () => Effect.fail(error),
          onSuccess: () => Effect.flatMap(refresh(error), () => Effect.catchIf(self, isInvalidAccessToken, again))
        })
      return again(first)
    }))
