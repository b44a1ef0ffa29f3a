/**
 * `TwitchSession`: one user's live credentials. It hands out the current access token,
 * refreshes it ahead of expiry (paced: it backs off after a failure and never refreshes of
 * its own accord more often than `minRefreshInterval`), refreshes exactly once when many
 * callers see it rejected at the same time, validates it at start and every hour as Twitch
 * requires, and persists every new token through the `TokenStore` before anyone can use it.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as Changes from "./internal/changes.js"
import * as Pacing from "./internal/pacing.js"
import * as SessionScheduler from "./internal/scheduler.js"
import type * as Token from "./Token.js"
import { sameToken as sameStoredToken, TokenStore, type TokenStoreError } from "./TokenStore.js"
import { TwitchAuth } from "./TwitchAuth.js"
import type * as TwitchAuthError from "./TwitchAuthError.js"
import { type InvalidAccessToken, type InvalidRefreshToken, isTransientError } from "./TwitchAuthError.js"
import { TwitchCredentials } from "./TwitchCredentials.js"

/** Spans name the operation; no stack trace is captured on the hot path. */
const spanOptions = { captureStackTrace: false } as const

/**
 * What refreshing a user token can fail with: `TwitchAuthError.RefreshTokenError`, or the
 * store failed. `InvalidRefreshToken` ends the session.
 *
 * @since 0.1.0
 * @category errors
 */
export type RefreshError = TwitchAuthError.RefreshTokenError | TokenStoreError

/**
 * A session was asked for a user whose token is not in the store, and none was given.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoStoredToken extends Schema.TaggedError<NoStoredToken>("@effect-twitch/auth/NoStoredToken")(
  "NoStoredToken",
  { key: Schema.String }
) {
  override get message(): string {
    return `No token is stored for ${JSON.stringify(this.key)}: the user must authorize the app first`
  }
}

/**
 * One user's live credentials.
 *
 * @since 0.1.0
 * @category tags
 */
export class TwitchSession extends Context.Tag("@effect-twitch/auth/TwitchSession")<
  TwitchSession,
  TwitchSession.Service
>() {}

/**
 * @since 0.1.0
 */
export declare namespace TwitchSession {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service extends TwitchCredentials.Service {
    /** The key of this session in the `TokenStore` (usually the user id). */
    readonly key: string
    /**
     * The current token, refreshed first if it is due (see `refreshMargin`). While refreshes
     * are paced (see `minRefreshInterval`) or after a refresh ahead of expiry failed, the
     * current token is handed out as long as it has not expired; an expired one fails at once
     * with the error of the last attempt, without asking Twitch again.
     */
    readonly token: Effect.Effect<Token.UserToken, RefreshError>
    /**
     * Refreshes the token. With `rejected`, compare-and-refresh: if `rejected` is no longer
     * the current access token, the current token is returned without a request. Concurrent
     * calls are serialised, so N callers with the same rejected token cause one request.
     */
    readonly refresh: (rejected?: Redacted.Redacted<string>) => Effect.Effect<Token.UserToken, RefreshError>
    /** Validates the current token now (refreshing it if Twitch rejects it). */
    readonly validate: Effect.Effect<Token.TokenInfo, RefreshError | InvalidAccessToken>
    /** The result of the last successful validation. */
    readonly lastValidation: Effect.Effect<Option.Option<Token.TokenInfo>>
    /** The current token, then every new one. */
    readonly changes: Stream.Stream<Token.UserToken>
    /** `Some` once the refresh token was rejected: the user must authorize again. */
    readonly ended: Effect.Effect<Option.Option<InvalidRefreshToken>>
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options {
    /** The key in the `TokenStore`, usually the user id. */
    readonly key: string
    /** A token to start from (stored at once); otherwise the stored one is loaded. */
    readonly token?: Token.UserToken | undefined
    /**
     * Refresh this long before expiry. Default: 5 minutes. The margin used for a token is at
     * most half its lifetime, so a token that lives less than twice the margin is refreshed
     * at mid-life (a 30 s token at 15 s), not as soon as it is issued.
     */
    readonly refreshMargin?: Duration.DurationInput | undefined
    /**
     * The shortest time between two refreshes the session makes of its own accord (in the
     * background, or in `token` when the token is due): a token is not refreshed before it
     * is this old, and after a failed refresh the next one waits this long (at least 1
     * second), doubling with each failure in a row up to 5 minutes (or this interval, if
     * longer). A success, or any new token, ends the backoff. Explicit `refresh` calls are
     * not paced (they are bounded by their callers, e.g. `withTokenRefresh`'s schedule).
     *
     * Default: 10 seconds. Twitch's tokens live hours, so their refresh points are far apart
     * and this floor never delays one; it bounds the degenerate cases — a token that lives a
     * second, a clock that jumps — to 6 refreshes a minute per session, and it is below half
     * the lifetime of any token that can usefully be refreshed ahead (20 s and more).
     */
    readonly minRefreshInterval?: Duration.DurationInput | undefined
    /** Validate this often (Twitch requires hourly). Default: 1 hour. */
    readonly validateEvery?: Duration.DurationInput | undefined
    /**
     * How the background daemon retries a refresh or validation that failed transiently,
     * before giving up on that attempt. Default: exponential from 1 second, capped at 1
     * minute, forever (a transient failure never ends the session). Any other failure (or a
     * transient one once this schedule ends) is not retried at once: the refresh backs off
     * (see `minRefreshInterval`), the validation waits for its next turn.
     */
    readonly daemonRetry?: Schedule.Schedule<unknown, unknown> | undefined
  }
}

interface State {
  readonly token: Token.UserToken
  readonly ended: Option.Option<InvalidRefreshToken>
  /** False while a new token could not be written to the store yet. */
  readonly persisted: boolean
  /**
   * While not persisted: what the store held when the token was obtained (the token whose
   * refresh token was spent, or `None`). The write is a compare-and-set against it.
   */
  readonly replaces: Option.Option<Token.UserToken>
}

/** What one refresh under the lock yields: its outcome, and the state after it. */
type Step = readonly [Exit.Exit<Token.UserToken, RefreshError>, State]

const sameToken = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) =>
  Redacted.value(a) === Redacted.value(b)

/**
 * Starts a session: loads (or stores) the token, validates it, and forks the daemon that
 * validates it every `validateEvery` and refreshes it `refreshMargin` before expiry (no
 * earlier than mid-life, never more often than `minRefreshInterval`, backing off after any
 * failure). The daemon stops when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: TwitchSession.Options
): Effect.Effect<TwitchSession.Service, NoStoredToken | TokenStoreError, TwitchAuth | TokenStore | Scope.Scope> =>
  Effect.gen(function*() {
    const auth = yield* TwitchAuth
    const store = yield* TokenStore
    const key = options.key
    const marginMillis = Duration.toMillis(Duration.decode(options.refreshMargin ?? "5 minutes"))
    const floorMillis = Duration.toMillis(
      Duration.decode(options.minRefreshInterval ?? Pacing.defaultMinRefreshInterval)
    )
    const validateEvery = Duration.decode(options.validateEvery ?? "1 hour")
    const daemonRetry = options.daemonRetry ?? Pacing.defaultDaemonRetry

    const initial = options.token === undefined
      ? yield* Effect.flatMap(store.get(key), (stored) =>
        Option.match(stored, {
          onNone: () => Effect.fail(new NoStoredToken({ key })),
          onSome: Effect.succeed
        }))
      : yield* Effect.as(store.set(key, options.token), options.token)

    const ref = yield* SynchronizedRef.make<State>({
      token: initial,
      ended: Option.none(),
      persisted: true,
      replaces: Option.none()
    })
    const validation = yield* Ref.make(Option.none<Token.TokenInfo>())
    const hub = yield* Changes.make(Effect.map(SynchronizedRef.get(ref), (state) => state.token))
    /** Set once the background job is registered: tells the scheduler the token changed. */
    const rescheduleJob = yield* Ref.make<Effect.Effect<void>>(Effect.void)
    /** The pacing of the refreshes the session makes of its own accord (see `minRefreshInterval`). */
    const pace = yield* Ref.make(Pacing.fresh<RefreshError>())
    // A new token ends any backoff: the failure it followed no longer applies.
    const publish = (token: Token.UserToken) => Effect.zipRight(Ref.set(pace, Pacing.fresh()), hub.publish(token))

    /**
     * Writes an unpersisted token with a compare-and-set against what the store held when it
     * was obtained. If the store changed meanwhile (another process wrote it without the
     * lock, or the lock was lost), nothing is overwritten blindly: a token removed meanwhile
     * is written back (ours is then the only one that works: a refresh token was spent for
     * it), and a different token stored meanwhile is adopted.
     */
    const persist = (state: State): Effect.Effect<State, TokenStoreError> =>
      state.persisted ? Effect.succeed(state) : Effect.flatMap(
        store.compareAndSet(key, state.replaces, state.token),
        (written) => written ? Effect.succeed(stored(state.token)) : reconcile(state)
      )

    const stored = (token: Token.UserToken): State => ({
      token,
      ended: Option.none(),
      persisted: true,
      replaces: Option.none()
    })

    const reconcile = (state: State): Effect.Effect<State, TokenStoreError> =>
      Effect.flatMap(
        store.get(key),
        Option.match({
          onNone: () =>
            Effect.flatMap(
              store.compareAndSet(key, Option.none(), state.token),
              (written) => written ? Effect.succeed(stored(state.token)) : reconcile(state)
            ),
          onSome: (other) =>
            sameStoredToken(other, state.token)
              ? Effect.succeed(stored(state.token))
              : Effect.as(
                Effect.logWarning(
                  `TwitchSession ${
                    JSON.stringify(key)
                  }: the stored token changed while this session refreshed it (another process wrote it without holding the lock, or this process lost the lock); adopted the stored token instead of overwriting it`
                ),
                stored(other)
              )
        })
      )

    /**
     * The state-transition of one refresh, run under the ref's lock (one fiber at a time)
     * and the store's lock on `key` (one process at a time). The stored token is re-read
     * first: if another process sharing the store already replaced ours, it is adopted
     * instead of spending a refresh token that may be single-use and already spent.
     */
    const refreshLocked = (
      state: State,
      rejected: Option.Option<Redacted.Redacted<string>>
    ): Effect.Effect<Step> => {
      if (Option.isSome(state.ended)) return Effect.succeed([Exit.fail(state.ended.value), state])
      const locked = Effect.gen(function*() {
        // An unpersisted token in memory is newer than anything stored: keep it.
        if (!state.persisted) return yield* refreshChecked(state, rejected)
        const inStore = yield* store.get(key)
        const current: State = Option.match(inStore, {
          // removed meanwhile: a new token from a refresh is written back (see `persist`)
          onNone: () => state,
          onSome: (token) => sameStoredToken(token, state.token) ? state : stored(token)
        })
        return yield* refreshChecked(current, rejected)
      })
      return store.withLock(key, locked).pipe(
        Effect.catchAll((error) => Effect.succeed([Exit.fail(error), state] as const))
      )
    }

    /** Compare-and-refresh: no request when the rejected token was already replaced. */
    const refreshChecked = (
      current: State,
      rejected: Option.Option<Redacted.Redacted<string>>
    ): Effect.Effect<Step, TokenStoreError> => {
      if (Option.isSome(rejected) && !sameToken(rejected.value, current.token.accessToken)) {
        // Someone (a fiber here, or another process) already replaced the rejected token.
        return Effect.map(persist(current), (next) => [Exit.succeed(next.token), next] as const)
      }
      return refreshFrom(current)
    }

    /**
     * Spends `state`'s refresh token; the new token is stored (compare-and-set against the
     * token it replaces) before it is handed out, and nothing else happens between Twitch's
     * answer and that write. A refresh token Twitch rejects removes the stored token only if
     * it is still the one that failed; if another process stored a new one meanwhile, that one
     * is adopted and the session goes on.
     */
    const refreshFrom = (state: State): Effect.Effect<Step> => {
      const replaces = state.persisted ? Option.some(state.token) : state.replaces
      return auth.refreshToken(state.token.refreshToken).pipe(
        Effect.matchEffect({
          onFailure: (error): Effect.Effect<Step> =>
            error._tag === "InvalidRefreshToken"
              ? rejectedRefresh(state, replaces, error)
              : Effect.succeed([Exit.fail(error), state] as const),
          onSuccess: (token): Effect.Effect<Step> => {
            const next: State = { token, ended: Option.none(), persisted: false, replaces }
            // The new token is kept even if the write fails (a public client's old refresh
            // token is spent), but it is handed out only once it is stored.
            return persist(next).pipe(
              Effect.match({
                onFailure: (error) => [Exit.fail(error), next] as const,
                onSuccess: (written) => [Exit.succeed(written.token), written] as const
              })
            )
          }
        })
      )
    }

    const rejectedRefresh = (
      state: State,
      replaces: Option.Option<Token.UserToken>,
      error: InvalidRefreshToken
    ): Effect.Effect<Step> => {
      const end: Step = [Exit.fail(error), { ...state, ended: Option.some(error) }]
      return Effect.gen(function*() {
        // the stored token that failed: ours if it was stored, else the one ours replaces
        const failed = state.persisted ? Option.some(state.token) : replaces
        if (Option.isSome(failed) && (yield* store.compareAndRemove(key, failed.value))) return end
        const now = yield* store.get(key)
        if (
          Option.isSome(now) && !sameStoredToken(now.value, state.token) &&
          !(Option.isSome(failed) && sameStoredToken(now.value, failed.value))
        ) {
          // another process refreshed (or the user authorized again) meanwhile: go on with that
          const adopted = stored(now.value)
          return [Exit.succeed(adopted.token), adopted] as const
        }
        return end
      }).pipe(Effect.orElseSucceed(() => end))
    }

    // The job is asked when it is due once the new state is in the ref (inside `modifyEffect`
    // it would still see the old one): a new token moves its refresh, an unstored one is due
    // to be written at once.
    const refreshWith = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      Effect.flatten(SynchronizedRef.modifyEffect(ref, (state) =>
        Effect.tap(
          refreshLocked(state, rejected),
          ([, next]) => next.token === state.token ? Effect.void : publish(next.token)
        ))).pipe(Effect.ensuring(Effect.flatten(Ref.get(rescheduleJob))))

    const refresh: TwitchSession.Service["refresh"] = (rejected) =>
      refreshWith(Option.fromNullable(rejected)).pipe(Effect.withSpan("TwitchSession.refresh", spanOptions))

    /** Writes a token that could not be stored earlier; nothing is handed out before that. */
    const ensurePersisted: Effect.Effect<State, TokenStoreError> = Effect.flatten(
      SynchronizedRef.modifyEffect(ref, (state) =>
        persist(state).pipe(
          Effect.match({
            onFailure: (error): readonly [Exit.Exit<State, TokenStoreError>, State] => [Exit.fail(error), state],
            onSuccess: (next): readonly [Exit.Exit<State, TokenStoreError>, State] => [Exit.succeed(next), next]
          })
        ))
    )

    /**
     * When the session may next refresh `token` of its own accord (epoch millis): at its
     * refresh point, once it is `minRefreshInterval` old, and once a backoff has ended.
     */
    const nextRefreshOf = (token: Token.UserToken, current: Pacing.Pace<RefreshError>): number =>
      Pacing.nextAttemptOf(token, marginMillis, floorMillis, current)

    const logFailure = (what: string) => (error: { readonly _tag: string; readonly message: string }) =>
      Effect.logWarning(`TwitchSession ${JSON.stringify(key)}: ${what} failed: ${error._tag}: ${error.message}`)

    /** Notes a failed refresh of the session's own accord: the next waits longer. One warning each. */
    const backOff = (error: RefreshError) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const next = yield* Ref.updateAndGet(pace, (p) => Pacing.failed(p, error, now, floorMillis))
        const what = `TwitchSession ${
          JSON.stringify(key)
        }: refresh ahead of expiry failed: ${error._tag}: ${error.message}`
        yield* Effect.logWarning(
          error._tag === "InvalidRefreshToken"
            ? `${what}; the session has ended`
            : `${what}; next attempt in ${Duration.format(Duration.millis(next.retryAt - now))}`
        )
      })

    /** Refreshes of the session's own accord take turns, so a burst of callers makes one request. */
    const aheadLock = yield* Effect.makeSemaphore(1)

    /**
     * A refresh of the session's own accord of `current`, which is due. If another caller's
     * attempt failed while this one waited its turn, that failure is the answer (no request);
     * a failure of its own backs off the next attempt.
     */
    const refreshAhead = (current: Token.UserToken) =>
      aheadLock.withPermits(1)(Effect.gen(function*() {
        const paced = yield* Ref.get(pace)
        if (Option.isSome(paced.lastError) && (yield* Clock.currentTimeMillis) < paced.retryAt) {
          return yield* Effect.fail(paced.lastError.value)
        }
        return yield* Effect.tapError(refreshWith(Option.some(current.accessToken)), backOff)
      }))

    /**
     * The daemon's refresh of `current`: transient failures are retried on `daemonRetry`
     * (never sooner than `minRefreshInterval` apart, one warning each); any other failure,
     * or a transient one once `daemonRetry` ends, backs off the next attempt. A failure that
     * will not be retried is recorded before the turn is handed on, so callers of `token`
     * waiting for it do not ask again.
     */
    const refreshInBackground = (current: Token.UserToken) =>
      aheadLock.withPermits(1)(
        Effect.tapError(
          refreshWith(Option.some(current.accessToken)),
          (error) => isTransientError(error) ? logFailure("refresh ahead of expiry")(error) : backOff(error)
        )
      ).pipe(
        // built when a background refresh runs, not held by every session
        Effect.retry({
          schedule: daemonRetry.pipe(Schedule.intersect(Schedule.spaced(Duration.millis(floorMillis)))),
          while: isTransientError
        }),
        Effect.tapError((error) => isTransientError(error) ? backOff(error) : Effect.void),
        Effect.ignore
      )

    const token: TwitchSession.Service["token"] = Effect.gen(function*() {
      const seen = yield* SynchronizedRef.get(ref)
      if (Option.isSome(seen.ended)) return yield* Effect.fail(seen.ended.value)
      const state = seen.persisted ? seen : yield* ensurePersisted
      const now = yield* Clock.currentTimeMillis
      if (now < Pacing.refreshPointOf(state.token, marginMillis)) return state.token
      const paced = yield* Ref.get(pace)
      if (now >= nextRefreshOf(state.token, paced)) {
        return yield* refreshAhead(state.token).pipe(
          // A refresh ahead of expiry that failed leaves the token in use until it expires
          // (or hands out one that replaced it meanwhile).
          Effect.catchAll((error) =>
            Effect.gen(function*() {
              const after = yield* SynchronizedRef.get(ref)
              const usable = Option.isNone(after.ended) && after.persisted &&
                (after.token !== state.token || (yield* Clock.currentTimeMillis) < Pacing.expiryOf(after.token))
              return usable ? after.token : yield* Effect.fail(error)
            })
          )
        )
      }
      // Paced: refreshed a moment ago, or backing off after a failure.
      if (now < Pacing.expiryOf(state.token)) return state.token
      return yield* Option.match(paced.lastError, {
        onNone: () => Effect.succeed(state.token),
        onSome: Effect.fail
      })
    })

    const validate: TwitchSession.Service["validate"] = Effect.gen(function*() {
      const current = yield* token
      const info = yield* auth.validateToken(current.accessToken).pipe(
        Effect.catchTag(
          "InvalidAccessToken",
          () =>
            Effect.flatMap(
              refreshWith(Option.some(current.accessToken)),
              (next) => auth.validateToken(next.accessToken)
            )
        )
      )
      yield* Ref.set(validation, Option.some(info))
      return info
    }).pipe(Effect.withSpan("TwitchSession.validate", spanOptions))

    const ended = Effect.map(SynchronizedRef.get(ref), (state) => state.ended)

    // Validate at start (Twitch requires it). A failure is logged, not fatal: an outage at
    // start-up must not block the program, and the daemon validates again.
    yield* Effect.catchAll(validate, logFailure("validation at start"))

    // Then, in the background: validate every `validateEvery`, refresh ahead of expiry
    // (paced, see `nextRefreshOf`), retrying transient failures on `daemonRetry`. A job on the
    // scheduler every session of this clock shares (see `internal/scheduler.ts`), rather than
    // fibers of its own per session. After a failure the job is due again only when the backoff ends, so it
    // never runs in a loop (and the scheduler defers any job that stays due).
    const nextValidation = yield* Ref.make(
      (yield* Clock.currentTimeMillis) + Duration.toMillis(validateEvery)
    )
    // A new token whose write failed is written again in the background, backing off, so it
    // reaches the store even if nobody asks the session for a token before the process ends
    // (a public client's old refresh token is spent: this one is the user's only one).
    const unstored = yield* Ref.make({ failures: 0, retryAt: 0 })
    const storeLate = () =>
      Effect.matchEffect(ensurePersisted, {
        onSuccess: () => Ref.set(unstored, { failures: 0, retryAt: 0 }),
        onFailure: (error) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            const failures = (yield* Ref.get(unstored)).failures + 1
            const wait = Pacing.backoffAfter(floorMillis, failures)
            yield* Ref.set(unstored, { failures, retryAt: now + wait })
            yield* Effect.logWarning(
              `TwitchSession ${
                JSON.stringify(key)
              }: storing the new token failed: ${error._tag}: ${error.message}; next attempt in ${
                Duration.format(Duration.millis(wait))
              }`
            )
          })
      })
    const job: SessionScheduler.Job = {
      dueAt: Effect.gen(function*() {
        const state = yield* SynchronizedRef.get(ref)
        if (Option.isSome(state.ended)) return Infinity
        const due = Math.min(nextRefreshOf(state.token, yield* Ref.get(pace)), yield* Ref.get(nextValidation))
        return state.persisted ? due : Math.min(due, (yield* Ref.get(unstored)).retryAt)
      }),
      run: Effect.gen(function*() {
        if (!(yield* SynchronizedRef.get(ref)).persisted) {
          if ((yield* Ref.get(unstored)).retryAt > (yield* Clock.currentTimeMillis)) return
          yield* storeLate()
        }
        const state = yield* SynchronizedRef.get(ref)
        if (Option.isSome(state.ended) || !state.persisted) return
        if (nextRefreshOf(state.token, yield* Ref.get(pace)) <= (yield* Clock.currentTimeMillis)) {
          yield* refreshInBackground(state.token)
        }
        if ((yield* Ref.get(nextValidation)) <= (yield* Clock.currentTimeMillis)) {
          yield* validate.pipe(
            Effect.retry({ schedule: daemonRetry, while: isTransientError }),
            Effect.catchAll(logFailure("hourly validation"))
          )
          yield* Ref.set(nextValidation, (yield* Clock.currentTimeMillis) + Duration.toMillis(validateEvery))
        }
      })
    }
    yield* Ref.set(rescheduleJob, yield* SessionScheduler.register(job))

    return TwitchSession.of({
      key,
      token,
      refresh,
      validate,
      lastValidation: Ref.get(validation),
      changes: hub.changes,
      ended,
      accessToken: Effect.map(token, (t) => t.accessToken),
      refreshAccessToken: (rejected) => Effect.map(refresh(rejected), (t) => t.accessToken)
    })
  })

/**
 * Provides a {@link TwitchSession} for one user, and the same as `TwitchCredentials`, so that
 * `withTokenRefresh` and `TwitchHttpClient` use it.
 *
 * @example
 * ```ts
 * import { TokenStore, TwitchSession } from "@effect-twitch/auth"
 * import { Layer } from "effect"
 *
 * // the user's token was stored under their user id after they authorized the app
 * const SessionLive = TwitchSession.layer({ key: "141981764" }).pipe(
 *   Layer.provide(TokenStore.layerMemory)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: TwitchSession.Options
): Layer.Layer<TwitchSession | TwitchCredentials, NoStoredToken | TokenStoreError, TwitchAuth | TokenStore> =>
  Layer.scopedContext(
    Effect.map(
      make(options),
      (session) => Context.make(TwitchSession, session).pipe(Context.add(TwitchCredentials, session))
    )
  )
