/**
 * How sessions pace the token requests they make of their own accord (a user session's
 * refresh ahead of expiry, an app session's replacement of its token): when a token falls
 * due, the floor between two requests, and the backoff after a failure. Shared by
 * `TwitchSession` and `AppTokenSession`, so both answer the same failures the same way.
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"

/** The default `minRefreshInterval`: see `TwitchSession.Options` for why. */
export const defaultMinRefreshInterval: Duration.Duration = Duration.seconds(10)

/**
 * The default `daemonRetry` of both sessions: how their background work retries a transient
 * failure — exponential from 1 second, capped at 1 minute, forever.
 */
export const defaultDaemonRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential("1 second").pipe(
  Schedule.either(Schedule.spaced("1 minute"))
)

/** The first wait after a failure is at least this long, even with a smaller floor. */
export const minBackoff: Duration.Duration = Duration.seconds(1)

/** The longest wait between two failed attempts (unless the floor is longer). */
export const maxBackoff: Duration.Duration = Duration.minutes(5)

/** What the pacing needs to know of a token. */
export interface Lifetime {
  readonly obtainedAt: DateTime.Utc
  readonly expiresAt: Option.Option<DateTime.Utc>
}

/** When `token` expires (epoch millis), `Infinity` if never. */
export const expiryOf = (token: Lifetime): number =>
  Option.match(token.expiresAt, { onNone: () => Infinity, onSome: DateTime.toEpochMillis })

/**
 * When `token` falls due to be replaced ahead of expiry (epoch millis; `Infinity` if never):
 * `marginMillis` before it expires, but no earlier than mid-life — a margin longer than the
 * token's life would make it due as soon as it is issued.
 */
export const refreshPointOf = (token: Lifetime, marginMillis: number): number => {
  const expiry = expiryOf(token)
  if (expiry === Infinity) return Infinity
  const lifetime = Math.max(0, expiry - DateTime.toEpochMillis(token.obtainedAt))
  return expiry - Math.min(Math.max(0, marginMillis), lifetime / 2)
}

/** The state of the pacing: failures in a row, when the next attempt may start (epoch millis; 0: now), the last error. */
export interface Pace<E> {
  readonly failures: number
  readonly retryAt: number
  readonly lastError: Option.Option<E>
}

const freshPace: Pace<never> = { failures: 0, retryAt: 0, lastError: Option.none() }

/** No failure: the next attempt may start as soon as the token is due (one shared value). */
export const fresh = <E>(): Pace<E> => freshPace

/**
 * When the next request for `token` may start (epoch millis): at its refresh point, once it
 * is `floorMillis` old, and once a backoff has ended.
 */
export const nextAttemptOf = <E>(token: Lifetime, marginMillis: number, floorMillis: number, pace: Pace<E>): number =>
  Math.max(refreshPointOf(token, marginMillis), DateTime.toEpochMillis(token.obtainedAt) + floorMillis, pace.retryAt)

/**
 * The wait after `failures` failed attempts in a row (`failures` ≥ 1): the floor (at least
 * {@link minBackoff}), doubling with each failure, at most {@link maxBackoff} or the floor if
 * longer.
 */
export const backoffAfter = (floorMillis: number, failures: number): number => {
  const initial = Math.max(floorMillis, Duration.toMillis(minBackoff))
  const cap = Math.max(initial, Duration.toMillis(maxBackoff))
  return Math.min(cap, initial * 2 ** Math.min(30, Math.max(0, failures - 1)))
}

/** `pace` after a failure at `now`. */
export const failed = <E>(pace: Pace<E>, error: E, now: number, floorMillis: number): Pace<E> => ({
  failures: pace.failures + 1,
  retryAt: now + backoffAfter(floorMillis, pace.failures + 1),
  lastError: Option.some(error)
})
