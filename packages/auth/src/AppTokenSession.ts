/**
 * `AppTokenSession`: the application's own token (client credentials grant), fetched on
 * first use, replaced when it is about to expire or when Twitch rejects it, and validated
 * every hour. App tokens cannot be refreshed: a new one is requested instead.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as Pacing from "./internal/pacing.js"
import * as SessionScheduler from "./internal/scheduler.js"
import type * as Token from "./Token.js"
import { TwitchAuth } from "./TwitchAuth.js"
import type * as TwitchAuthError from "./TwitchAuthError.js"
import { isTransientError } from "./TwitchAuthError.js"
import { TwitchCredentials } from "./TwitchCredentials.js"
import type * as TwitchScope from "./TwitchScope.js"

/**
 * What getting an app token can fail with: `TwitchAuthError.AppTokenError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type AppTokenError = TwitchAuthError.AppTokenError

/**
 * The application's token.
 *
 * @since 0.1.0
 * @category tags
 */
export class AppTokenSession extends Context.Tag("@effect-twitch/auth/AppTokenSession")<
  AppTokenSession,
  AppTokenSession.Service
>() {}

/**
 * @since 0.1.0
 */
export declare namespace AppTokenSession {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service extends TwitchCredentials.Service {
    /**
     * The current app token; a new one is requested when none is held or the held one is
     * due (see `refreshMargin`). Requests are paced (see `minRefreshInterval`): while they
     * are, or after a failed request, the held token is handed out as long as it has not
     * expired; otherwise the error of the last request is returned at once, without asking
     * Twitch again.
     */
    readonly token: Effect.Effect<Token.AppToken, AppTokenError>
    /**
     * Requests a new app token. With `rejected`, compare-and-replace: if `rejected` is no
     * longer current, the current token is returned without a request.
     */
    readonly refresh: (rejected?: Redacted.Redacted<string>) => Effect.Effect<Token.AppToken, AppTokenError>
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options {
    /** Scopes to request (app tokens only carry a few). */
    readonly scopes?: Iterable<TwitchScope.Requested> | undefined
    /**
     * Replace the token this long before expiry. Default: 1 hour. The margin used for a
     * token is at most half its lifetime, so a token that lives less than twice the margin
     * is replaced at mid-life, not on every call.
     */
    readonly refreshMargin?: Duration.DurationInput | undefined
    /**
     * The shortest time between two token requests `token` makes of its own accord: a held
     * token is not replaced before it is this old, and after a failed request the next one
     * waits this long (at least 1 second), doubling with each failure in a row up to 5
     * minutes (or this interval, if longer). Explicit `refresh` calls are not paced.
     * Default: 10 seconds (see `TwitchSession.Options.minRefreshInterval`).
     */
    readonly minRefreshInterval?: Duration.DurationInput | undefined
    /** Validate the held token this often. Default: 1 hour. */
    readonly validateEvery?: Duration.DurationInput | undefined
    /**
     * How the hourly validation (and the new token it asks for when Twitch rejects the held
     * one) is retried when it fails transiently. Default, as `TwitchSession`'s: exponential
     * from 1 second, capped at 1 minute, forever. Any other failure is logged, and the
     * validation waits for its next turn.
     */
    readonly daemonRetry?: Schedule.Schedule<unknown, unknown> | undefined
  }
}

/**
 * Creates the session; its hourly validation, a job on the scheduler sessions share, runs
 * until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: AppTokenSession.Options = {}
): Effect.Effect<AppTokenSession.Service, never, TwitchAuth | Scope.Scope> =>
  Effect.gen(function*() {
    const auth = yield* TwitchAuth
    const scopes = options.scopes === undefined ? undefined : Array.from(options.scopes)
    const marginMillis = Duration.toMillis(Duration.decode(options.refreshMargin ?? "1 hour"))
    const floorMillis = Duration.toMillis(
      Duration.decode(options.minRefreshInterval ?? Pacing.defaultMinRefreshInterval)
    )
    const validateEvery = Duration.decode(options.validateEvery ?? "1 hour")
    const daemonRetry = options.daemonRetry ?? Pacing.defaultDaemonRetry
    const ref = yield* SynchronizedRef.make(Option.none<Token.AppToken>())
    /** The pacing of the requests `token` makes of its own accord. */
    const pace = yield* Ref.make(Pacing.fresh<AppTokenError>())

    // A new token ends any backoff.
    const fetch = Effect.tap(auth.appToken(scopes === undefined ? {} : { scopes }), () => Ref.set(pace, Pacing.fresh()))

    const replace = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      SynchronizedRef.modifyEffect(ref, (held) => {
        const current = Option.filter(
          held,
          (token) => Option.isSome(rejected) && Redacted.value(rejected.value) !== Redacted.value(token.accessToken)
        )
        return Option.match(current, {
          onSome: (token) => Effect.succeed([token, held] as const),
          onNone: () => Effect.map(fetch, (token) => [token, Option.some(token)] as const)
        })
      })

    const refresh: AppTokenSession.Service["refresh"] = (rejected) =>
      replace(Option.fromNullable(rejected)).pipe(Effect.withSpan("AppTokenSession.refresh"))

    /** Notes a failed request of `token`'s own accord: the next waits longer. One warning each. */
    const backOff = (error: AppTokenError) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const next = yield* Ref.updateAndGet(pace, (p) => Pacing.failed(p, error, now, floorMillis))
        yield* Effect.logWarning(
          `AppTokenSession: getting an app token failed: ${error._tag}: ${error.message}; next attempt in ${
            Duration.format(Duration.millis(next.retryAt - now))
          }`
        )
      })

    /**
     * Replaces `seen` (what the caller found held), one caller at a time: if another caller
     * replaced it meanwhile, that token is the answer; if another caller's request failed
     * meanwhile, that failure is (no request); else one request, whose failure backs off the
     * next.
     */
    const replaceAhead = (seen: Option.Option<Token.AppToken>) =>
      SynchronizedRef.modifyEffect(ref, (held) =>
        Effect.gen(function*() {
          const replaced = Option.filter(held, (t) => Option.isNone(seen) || t !== seen.value)
          if (Option.isSome(replaced)) return [replaced.value, held] as const
          const paced = yield* Ref.get(pace)
          if (Option.isSome(paced.lastError) && (yield* Clock.currentTimeMillis) < paced.retryAt) {
            return yield* Effect.fail(paced.lastError.value)
          }
          const token = yield* Effect.tapError(fetch, backOff)
          return [token, Option.some(token)] as const
        }))

    const token: AppTokenSession.Service["token"] = Effect.gen(function*() {
      const held = yield* SynchronizedRef.get(ref)
      const now = yield* Clock.currentTimeMillis
      if (Option.isSome(held) && now < Pacing.refreshPointOf(held.value, marginMillis)) return held.value
      const paced = yield* Ref.get(pace)
      const nextAttempt = Option.match(held, {
        onNone: () => paced.retryAt,
        onSome: (t) => Pacing.nextAttemptOf(t, marginMillis, floorMillis, paced)
      })
      /** A token that replaced `held` meanwhile, else `held` while it has not expired, else the last error (if any). */
      const fallback = (error: Option.Option<AppTokenError>): Effect.Effect<Token.AppToken, AppTokenError> =>
        Effect.gen(function*() {
          const after = yield* SynchronizedRef.get(ref)
          const at = yield* Clock.currentTimeMillis
          const usable = Option.filter(
            after,
            (t) => Option.isNone(held) || t !== held.value || at < Pacing.expiryOf(t) || Option.isNone(error)
          )
          if (Option.isSome(usable)) return usable.value
          return yield* Option.match(error, {
            // nothing usable and nothing failed (a backoff follows a failure): ask
            onNone: () => replaceAhead(after),
            onSome: Effect.fail
          })
        })
      if (now < nextAttempt) return yield* fallback(paced.lastError)
      return yield* replaceAhead(held).pipe(
        // A replacement ahead of expiry that failed leaves the held token in use until it expires.
        Effect.catchAll((error) => fallback(Option.some(error)))
      )
    })

    // Every `validateEvery`, the held token is validated (a rejected one replaced), transient
    // failures retried on `daemonRetry`: a job on the scheduler sessions share, as a user
    // session's background work is.
    const nextValidation = yield* Ref.make((yield* Clock.currentTimeMillis) + Duration.toMillis(validateEvery))
    yield* SessionScheduler.register({
      dueAt: Ref.get(nextValidation),
      run: Effect.gen(function*() {
        const held = yield* SynchronizedRef.get(ref)
        if (Option.isSome(held)) {
          yield* auth.validateToken(held.value.accessToken).pipe(
            Effect.catchTag("InvalidAccessToken", () => replace(Option.some(held.value.accessToken))),
            Effect.retry({ schedule: daemonRetry, while: isTransientError }),
            Effect.catchAll((error) =>
              Effect.logWarning(`AppTokenSession: validation failed: ${error._tag}: ${error.message}`)
            )
          )
        }
        yield* Ref.set(nextValidation, (yield* Clock.currentTimeMillis) + Duration.toMillis(validateEvery))
      })
    })

    return AppTokenSession.of({
      token,
      refresh,
      accessToken: Effect.map(token, (t) => t.accessToken),
      refreshAccessToken: (rejected) => Effect.map(refresh(rejected), (t) => t.accessToken)
    })
  })

/**
 * Provides {@link AppTokenSession}, and the same as `TwitchCredentials` so that
 * `TwitchHttpClient` calls Helix with the app token.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: AppTokenSession.Options = {}
): Layer.Layer<AppTokenSession | TwitchCredentials, never, TwitchAuth> =>
  Layer.scopedContext(
    Effect.map(make(options), (session) =>
      Context.make(AppTokenSession, session).pipe(Context.add(TwitchCredentials, session)))
  )
