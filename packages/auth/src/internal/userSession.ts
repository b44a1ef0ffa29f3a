/**
 * The body of `TwitchSession`: a session is one plain record (this class), its effects
 * prototype getters and methods built when asked for, not closures held per session. What a
 * session needs only while something happens is made then and dropped after: the locks that
 * serialise its refreshes, the `PubSub` behind `changes` (while someone subscribes), the
 * retry driver of a background refresh. Its background work is a job on the shared
 * scheduler (see `scheduler.ts`): the session itself is the job.
 *
 * State is in mutable fields, read and written in single synchronous steps (JavaScript runs
 * one fiber step at a time, so a step is atomic); a state change that needs effects (a
 * refresh, a write to the store) runs under the session's refresh lock, as
 * `SynchronizedRef.modifyEffect` would.
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as Token from "../Token.js"
import type { TokenStore, TokenStoreError } from "../TokenStore.js"
import { sameToken as sameStoredToken } from "../TokenStore.js"
import type { TwitchAuth } from "../TwitchAuth.js"
import { type InvalidAccessToken, type InvalidRefreshToken, isTransientError } from "../TwitchAuthError.js"
import type { RefreshError, TwitchSession } from "../TwitchSession.js"
import * as Changes from "./changes.js"
import * as Pacing from "./pacing.js"
import * as SessionScheduler from "./scheduler.js"

/** Spans name the operation; no stack trace is captured on the hot path. */
const spanOptions = { captureStackTrace: false } as const

/** What every session made with the same services and options shares. */
export interface Env {
  readonly auth: TwitchAuth.Service
  readonly store: TokenStore.Service
  readonly marginMillis: number
  readonly floorMillis: number
  readonly validateEveryMillis: number
  readonly daemonRetry: Schedule.Schedule<unknown, unknown>
  /** How a background refresh retries a transient failure: `daemonRetry`, never sooner than the floor. */
  readonly refreshRetry: Schedule.Schedule<unknown, unknown>
  /** The client id the last validation of a session of this `Env` reported (shared by the others). */
  clientId: string | undefined
  /** How many sessions started on this `Env`: the next one's validation slot (see {@link validationSlots}). */
  started: number
}

/** The options a session's `Env` is made of. */
export interface EnvOptions {
  readonly refreshMargin?: Duration.DurationInput | undefined
  readonly minRefreshInterval?: Duration.DurationInput | undefined
  readonly validateEvery?: Duration.DurationInput | undefined
  readonly daemonRetry?: Schedule.Schedule<unknown, unknown> | undefined
}

/** The `Env` of sessions with default options, one per pair of services. */
const defaultEnvs = new WeakMap<TwitchAuth.Service, WeakMap<TokenStore.Service, Env>>()

/** The `Env` of `options` (shared by every session with default options on the same services). */
export const envOf = (auth: TwitchAuth.Service, store: TokenStore.Service, options: EnvOptions): Env => {
  const isDefault = options.refreshMargin === undefined && options.minRefreshInterval === undefined &&
    options.validateEvery === undefined && options.daemonRetry === undefined
  const byStore = isDefault ? defaultEnvs.get(auth) : undefined
  const cached = byStore?.get(store)
  if (cached !== undefined) return cached
  const floorMillis = Duration.toMillis(Duration.decode(options.minRefreshInterval ?? Pacing.defaultMinRefreshInterval))
  const daemonRetry = options.daemonRetry ?? Pacing.defaultDaemonRetry
  const env: Env = {
    auth,
    store,
    marginMillis: Duration.toMillis(Duration.decode(options.refreshMargin ?? "5 minutes")),
    floorMillis,
    validateEveryMillis: Duration.toMillis(Duration.decode(options.validateEvery ?? "1 hour")),
    daemonRetry,
    refreshRetry: daemonRetry.pipe(Schedule.intersect(Schedule.spaced(Duration.millis(floorMillis)))),
    started: 0,
    clientId: undefined
  }
  if (isDefault) {
    const map = byStore ?? new WeakMap<TokenStore.Service, Env>()
    map.set(store, env)
    if (byStore === undefined) defaultEnvs.set(auth, map)
  }
  return env
}

/**
 * The hourly validations of many sessions are spread over the hour. A session's first
 * validation after the one at start falls `validateEvery` after it starts, less a number of
 * slots (of `validateEvery / validationSlots`) given by the order in which the sessions of
 * its `Env` started, round robin: the first session of a program validates exactly
 * `validateEvery` after its start, the next one slot earlier, and so on; the next
 * validations keep that phase. 100,000 sessions started at once then validate about 833 at
 * a time every 30 seconds (hourly), never all in the same second; no session waits longer
 * than `validateEvery` between two validations; and the scheduler wakes at most once per
 * slot for them.
 */
export const validationSlots = 120

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
  /** When `token` falls due for a refresh ahead of expiry (epoch millis). */
  readonly refreshAt: number
}

/**
 * What the last validation said, kept without the objects a `TokenInfo` is made of (options,
 * `DateTime`s) and sharing the strings it repeats (the client id, the session's key, the
 * token's scopes): `lastValidation` builds the `TokenInfo` again when asked.
 */
interface Validated {
  readonly clientId: string
  readonly login: string | undefined
  readonly userId: string | undefined
  readonly scopes: ReadonlyArray<string>
  readonly validatedAt: number
  /** Epoch millis; `NaN`: never expires. */
  readonly expiresAt: number
}

const sameScopes = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((scope, i) => scope === b[i])

/** What one refresh under the lock yields: its outcome, and the state after it. */
type Step = readonly [Exit.Exit<Token.UserToken, RefreshError>, State]

/** A lock made when taken and dropped when nobody holds it or waits for it. */
interface Lock {
  readonly semaphore: Effect.Semaphore
  users: number
}

const sameToken = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) =>
  Redacted.value(a) === Redacted.value(b)

/** One user's session: see `TwitchSession`. */
export class UserSession implements TwitchSession.Service, SessionScheduler.Job, Changes.Hub<Token.UserToken> {
  state: State
  validation: Validated | undefined = undefined
  /** The pacing of the refreshes the session makes of its own accord (see `minRefreshInterval`). */
  pace: Pacing.Pace<RefreshError> = Pacing.fresh()
  /** When the background job validates next (epoch millis). */
  nextValidation: number
  /** Failed background writes of an unstored token in a row, and when to try again. */
  unstoredFailures = 0
  unstoredRetryAt = 0
  refreshLock: Lock | undefined = undefined
  aheadLock: Lock | undefined = undefined
  hub: Changes.Hub<Token.UserToken>["hub"] = undefined
  subscribers = 0
  registration: SessionScheduler.Registration | undefined = undefined

  constructor(readonly key: string, readonly env: Env, token: Token.UserToken, now: number) {
    this.state = this.stored(token)
    const slot = env.started++ % validationSlots
    this.nextValidation = now + env.validateEveryMillis - (env.validateEveryMillis * slot) / validationSlots
  }

  // ---- the service ----------------------------------------------------------------------

  get token(): Effect.Effect<Token.UserToken, RefreshError> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const seen = this.state
      return seen.persisted && now < seen.refreshAt && Option.isNone(seen.ended)
        ? Effect.succeed(seen.token)
        : this.tokenDue
    })
  }

  get refresh(): TwitchSession.Service["refresh"] {
    return (rejected) =>
      this.refreshWith(Option.fromNullable(rejected)).pipe(Effect.withSpan("TwitchSession.refresh", spanOptions))
  }

  get validate(): Effect.Effect<Token.TokenInfo, RefreshError | InvalidAccessToken> {
    return Effect.gen(this, function*() {
      const current = yield* this.token
      const auth = this.env.auth
      const info = yield* auth.validateToken(current.accessToken).pipe(
        Effect.catchTag("InvalidAccessToken", () =>
          Effect.flatMap(
            this.refreshWith(Option.some(current.accessToken)),
            (next) => auth.validateToken(next.accessToken)
          ))
      )
      this.remember(info)
      return info
    }).pipe(Effect.withSpan("TwitchSession.validate", spanOptions))
  }

  get lastValidation(): Effect.Effect<Option.Option<Token.TokenInfo>> {
    return Effect.sync(() => {
      const held = this.validation
      if (held === undefined) return Option.none()
      return Option.some(
        new Token.TokenInfo({
          clientId: held.clientId,
          login: Option.fromNullable(held.login),
          userId: Option.fromNullable(held.userId),
          scopes: held.scopes,
          validatedAt: DateTime.unsafeMake(held.validatedAt),
          expiresAt: Number.isNaN(held.expiresAt) ? Option.none() : Option.some(DateTime.unsafeMake(held.expiresAt))
        })
      )
    })
  }

  /** Keeps what `info` says (see `Validated`). */
  remember(info: Token.TokenInfo): void {
    const env = this.env
    if (env.clientId !== info.clientId) env.clientId = info.clientId
    const scopes = this.state.token.scopes
    const userId = Option.getOrUndefined(info.userId)
    this.validation = {
      clientId: env.clientId,
      login: Option.getOrUndefined(info.login),
      userId: userId === this.key ? this.key : userId,
      scopes: sameScopes(scopes, info.scopes) ? scopes : info.scopes,
      validatedAt: DateTime.toEpochMillis(info.validatedAt),
      expiresAt: Option.match(info.expiresAt, { onNone: () => NaN, onSome: DateTime.toEpochMillis })
    }
  }

  get changes(): Stream.Stream<Token.UserToken> {
    return Changes.stream<Token.UserToken>(this, Effect.sync(() => this.state.token))
  }

  get ended(): Effect.Effect<Option.Option<InvalidRefreshToken>> {
    return Effect.sync(() => this.state.ended)
  }

  get accessToken(): Effect.Effect<Redacted.Redacted<string>, RefreshError> {
    return Effect.map(this.token, (t) => t.accessToken)
  }

  get refreshAccessToken(): TwitchSession.Service["refreshAccessToken"] {
    return (rejected) => Effect.map(this.refresh(rejected), (t) => t.accessToken)
  }

  toJSON(): unknown {
    return { _id: "TwitchSession", key: this.key }
  }
  toString(): string {
    return Inspectable.format(this.toJSON())
  }
  [Inspectable.NodeInspectSymbol](): unknown {
    return this.toJSON()
  }

  // ---- state ----------------------------------------------------------------------------

  stored(token: Token.UserToken): State {
    return {
      token,
      ended: Option.none(),
      persisted: true,
      replaces: Option.none(),
      refreshAt: Pacing.refreshPointOf(token, this.env.marginMillis)
    }
  }

  /** Runs `effect` holding one of the session's locks (made now if nobody holds it). */
  locked<A, E, R>(which: "refreshLock" | "aheadLock", effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) => {
      const lock = this[which] ?? { semaphore: Effect.unsafeMakeSemaphore(1), users: 0 }
      this[which] = lock
      lock.users++
      return Effect.ensuring(
        restore(lock.semaphore.withPermits(1)(effect)),
        Effect.sync(() => {
          lock.users--
          if (lock.users === 0 && this[which] === lock) this[which] = undefined
        })
      )
    })
  }

  /** Asks the scheduler when the job is due (after the state changed). */
  get reschedule(): Effect.Effect<void> {
    return Effect.suspend(() => this.registration === undefined ? Effect.void : this.registration.reschedule)
  }

  /** A new token: it replaces the state, ends any backoff (the failure no longer applies) and is published. */
  private become(next: State, previous: State): Effect.Effect<void> {
    this.state = next
    if (next.token === previous.token) return Effect.void
    this.pace = Pacing.fresh()
    return Changes.publish<Token.UserToken>(this, next.token)
  }

  // ---- refresh --------------------------------------------------------------------------

  /**
   * Writes an unpersisted token with a compare-and-set against what the store held when it
   * was obtained. If the store changed meanwhile (another process wrote it without the
   * lock, or the lock was lost), nothing is overwritten blindly: a token removed meanwhile
   * is written back (ours is then the only one that works: a refresh token was spent for
   * it), and a different token stored meanwhile is adopted.
   */
  persist(state: State): Effect.Effect<State, TokenStoreError> {
    return state.persisted ? Effect.succeed(state) : Effect.flatMap(
      this.env.store.compareAndSet(this.key, state.replaces, state.token),
      (written) => written ? Effect.succeed(this.stored(state.token)) : this.reconcile(state)
    )
  }

  reconcile(state: State): Effect.Effect<State, TokenStoreError> {
    const store = this.env.store
    return Effect.flatMap(
      store.get(this.key),
      Option.match({
        onNone: () =>
          Effect.flatMap(
            store.compareAndSet(this.key, Option.none(), state.token),
            (written) => written ? Effect.succeed(this.stored(state.token)) : this.reconcile(state)
          ),
        onSome: (other) =>
          sameStoredToken(other, state.token)
            ? Effect.succeed(this.stored(state.token))
            : Effect.as(
              Effect.logWarning(
                `TwitchSession ${
                  JSON.stringify(this.key)
                }: the stored token changed while this session refreshed it (another process wrote it without holding the lock, or this process lost the lock); adopted the stored token instead of overwriting it`
              ),
              this.stored(other)
            )
      })
    )
  }

  /**
   * The state-transition of one refresh, run under the refresh lock (one fiber at a time)
   * and the store's lock on `key` (one process at a time). The stored token is re-read
   * first: if another process sharing the store already replaced ours, it is adopted
   * instead of spending a refresh token that may be single-use and already spent.
   */
  refreshLocked(state: State, rejected: Option.Option<Redacted.Redacted<string>>): Effect.Effect<Step> {
    if (Option.isSome(state.ended)) return Effect.succeed([Exit.fail(state.ended.value), state])
    const store = this.env.store
    const locked = Effect.gen(this, function*() {
      // An unpersisted token in memory is newer than anything stored: keep it.
      if (!state.persisted) return yield* this.refreshChecked(state, rejected)
      const inStore = yield* store.get(this.key)
      const current: State = Option.match(inStore, {
        // removed meanwhile: a new token from a refresh is written back (see `persist`)
        onNone: () => state,
        onSome: (token) => sameStoredToken(token, state.token) ? state : this.stored(token)
      })
      return yield* this.refreshChecked(current, rejected)
    })
    return store.withLock(this.key, locked).pipe(
      Effect.catchAll((error) => Effect.succeed([Exit.fail(error), state] as const))
    )
  }

  /** Compare-and-refresh: no request when the rejected token was already replaced. */
  refreshChecked(
    current: State,
    rejected: Option.Option<Redacted.Redacted<string>>
  ): Effect.Effect<Step, TokenStoreError> {
    if (Option.isSome(rejected) && !sameToken(rejected.value, current.token.accessToken)) {
      // Someone (a fiber here, or another process) already replaced the rejected token.
      return Effect.map(this.persist(current), (next) => [Exit.succeed(next.token), next] as const)
    }
    return this.refreshFrom(current)
  }

  /**
   * Spends `state`'s refresh token; the new token is stored (compare-and-set against the
   * token it replaces) before it is handed out, and nothing else happens between Twitch's
   * answer and that write. A refresh token Twitch rejects removes the stored token only if
   * it is still the one that failed; if another process stored a new one meanwhile, that one
   * is adopted and the session goes on.
   */
  refreshFrom(state: State): Effect.Effect<Step> {
    const replaces = state.persisted ? Option.some(state.token) : state.replaces
    return this.env.auth.refreshToken(state.token.refreshToken).pipe(
      Effect.matchEffect({
        onFailure: (error): Effect.Effect<Step> =>
          error._tag === "InvalidRefreshToken"
            ? this.rejectedRefresh(state, replaces, error)
            : Effect.succeed([Exit.fail(error), state] as const),
        onSuccess: (token): Effect.Effect<Step> => {
          const next: State = { ...this.stored(token), persisted: false, replaces }
          // The new token is kept even if the write fails (a public client's old refresh
          // token is spent), but it is handed out only once it is stored.
          return this.persist(next).pipe(
            Effect.match({
              onFailure: (error) => [Exit.fail(error), next] as const,
              onSuccess: (written) => [Exit.succeed(written.token), written] as const
            })
          )
        }
      })
    )
  }

  rejectedRefresh(
    state: State,
    replaces: Option.Option<Token.UserToken>,
    error: InvalidRefreshToken
  ): Effect.Effect<Step> {
    const end: Step = [Exit.fail(error), { ...state, ended: Option.some(error) }]
    const store = this.env.store
    return Effect.gen(this, function*() {
      // the stored token that failed: ours if it was stored, else the one ours replaces
      const failed = state.persisted ? Option.some(state.token) : replaces
      if (Option.isSome(failed) && (yield* store.compareAndRemove(this.key, failed.value))) return end
      const now = yield* store.get(this.key)
      if (
        Option.isSome(now) && !sameStoredToken(now.value, state.token) &&
        !(Option.isSome(failed) && sameStoredToken(now.value, failed.value))
      ) {
        // another process refreshed (or the user authorized again) meanwhile: go on with that
        const adopted = this.stored(now.value)
        return [Exit.succeed(adopted.token), adopted] as const
      }
      return end
    }).pipe(Effect.orElseSucceed(() => end))
  }

  /**
   * A refresh under the refresh lock. The job is asked when it is due once the new state is
   * in place: a new token moves its refresh, an unstored one is due to be written at once.
   */
  refreshWith(rejected: Option.Option<Redacted.Redacted<string>>): Effect.Effect<Token.UserToken, RefreshError> {
    return Effect.flatten(this.locked(
      "refreshLock",
      Effect.suspend(() => {
        const state = this.state
        return Effect.flatMap(
          this.refreshLocked(state, rejected),
          ([exit, next]) => Effect.as(this.become(next, state), exit)
        )
      })
    )).pipe(Effect.ensuring(this.reschedule))
  }

  /** Writes a token that could not be stored earlier; nothing is handed out before that. */
  get ensurePersisted(): Effect.Effect<State, TokenStoreError> {
    return this.locked(
      "refreshLock",
      Effect.suspend(() => {
        const state = this.state
        return Effect.flatMap(this.persist(state), (next) => Effect.as(this.become(next, state), next))
      })
    )
  }

  logFailure(what: string, error: { readonly _tag: string; readonly message: string }): Effect.Effect<void> {
    return Effect.logWarning(
      `TwitchSession ${JSON.stringify(this.key)}: ${what} failed: ${error._tag}: ${error.message}`
    )
  }

  /** Notes a failed refresh of the session's own accord: the next waits longer. One warning each. */
  backOff(error: RefreshError): Effect.Effect<void> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const next = Pacing.failed(this.pace, error, now, this.env.floorMillis)
      this.pace = next
      const what = `TwitchSession ${
        JSON.stringify(this.key)
      }: refresh ahead of expiry failed: ${error._tag}: ${error.message}`
      return Effect.logWarning(
        error._tag === "InvalidRefreshToken"
          ? `${what}; the session has ended`
          : `${what}; next attempt in ${Duration.format(Duration.millis(next.retryAt - now))}`
      )
    })
  }

  /** When the session may next refresh `token` of its own accord (epoch millis). */
  nextRefreshOf(token: Token.UserToken): number {
    return Pacing.nextAttemptOf(token, this.env.marginMillis, this.env.floorMillis, this.pace)
  }

  /**
   * A refresh of the session's own accord of `current`, which is due. Such refreshes take
   * turns, so a burst of callers makes one request: if another caller's attempt failed while
   * this one waited its turn, that failure is the answer (no request); a failure of its own
   * backs off the next attempt.
   */
  refreshAhead(current: Token.UserToken): Effect.Effect<Token.UserToken, RefreshError> {
    return this.locked(
      "aheadLock",
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const paced = this.pace
        if (Option.isSome(paced.lastError) && now < paced.retryAt) return Effect.fail(paced.lastError.value)
        return Effect.tapError(this.refreshWith(Option.some(current.accessToken)), (error) => this.backOff(error))
      })
    )
  }

  /**
   * The daemon's refresh of `current`: transient failures are retried on `daemonRetry`
   * (never sooner than `minRefreshInterval` apart, one warning each); any other failure,
   * or a transient one once `daemonRetry` ends, backs off the next attempt. A failure that
   * will not be retried is recorded before the turn is handed on, so callers of `token`
   * waiting for it do not ask again.
   */
  refreshInBackground(current: Token.UserToken): Effect.Effect<void> {
    return this.locked(
      "aheadLock",
      Effect.tapError(
        this.refreshWith(Option.some(current.accessToken)),
        (error) => isTransientError(error) ? this.logFailure("refresh ahead of expiry", error) : this.backOff(error)
      )
    ).pipe(
      Effect.retry({ schedule: this.env.refreshRetry, while: isTransientError }),
      Effect.tapError((error) => isTransientError(error) ? this.backOff(error) : Effect.void),
      Effect.ignore
    )
  }

  /** `token` when the token is due, unstored, or the session ended. */
  get tokenDue(): Effect.Effect<Token.UserToken, RefreshError> {
    return Effect.gen(this, function*() {
      const seen = this.state
      if (Option.isSome(seen.ended)) return yield* Effect.fail(seen.ended.value)
      const state = seen.persisted ? seen : yield* this.ensurePersisted
      const now = yield* Clock.currentTimeMillis
      if (now < state.refreshAt) return state.token
      const paced = this.pace
      if (now >= this.nextRefreshOf(state.token)) {
        return yield* this.refreshAhead(state.token).pipe(
          // A refresh ahead of expiry that failed leaves the token in use until it expires
          // (or hands out one that replaced it meanwhile).
          Effect.catchAll((error) =>
            Effect.flatMap(Clock.currentTimeMillis, (at) => {
              const after = this.state
              const usable = Option.isNone(after.ended) && after.persisted &&
                (after.token !== state.token || at < Pacing.expiryOf(after.token))
              return usable ? Effect.succeed(after.token) : Effect.fail(error)
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
  }

  // ---- the background job ---------------------------------------------------------------

  /**
   * A new token whose write failed is written again in the background, backing off, so it
   * reaches the store even if nobody asks the session for a token before the process ends
   * (a public client's old refresh token is spent: this one is the user's only one).
   */
  get storeLate(): Effect.Effect<void> {
    return Effect.matchEffect(this.ensurePersisted, {
      onSuccess: () =>
        Effect.sync(() => {
          this.unstoredFailures = 0
          this.unstoredRetryAt = 0
        }),
      onFailure: (error) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          this.unstoredFailures++
          const wait = Pacing.backoffAfter(this.env.floorMillis, this.unstoredFailures)
          this.unstoredRetryAt = now + wait
          return Effect.logWarning(
            `TwitchSession ${
              JSON.stringify(this.key)
            }: storing the new token failed: ${error._tag}: ${error.message}; next attempt in ${
              Duration.format(Duration.millis(wait))
            }`
          )
        })
    })
  }

  get dueAt(): Effect.Effect<number> {
    return Effect.sync(() => {
      const state = this.state
      if (Option.isSome(state.ended)) return Infinity
      const due = Math.min(this.nextRefreshOf(state.token), this.nextValidation)
      return state.persisted ? due : Math.min(due, this.unstoredRetryAt)
    })
  }

  /**
   * Validates every `validateEvery` (keeping the phase its slot gave it, see
   * {@link validationSlots}), refreshes ahead of expiry (paced, see `nextRefreshOf`),
   * retrying transient failures on `daemonRetry`; writes an unstored token.
   */
  get run(): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      if (!this.state.persisted) {
        if (this.unstoredRetryAt > (yield* Clock.currentTimeMillis)) return
        yield* this.storeLate
      }
      const state = this.state
      if (Option.isSome(state.ended) || !state.persisted) return
      if (this.nextRefreshOf(state.token) <= (yield* Clock.currentTimeMillis)) {
        yield* this.refreshInBackground(state.token)
      }
      if (this.nextValidation <= (yield* Clock.currentTimeMillis)) {
        yield* this.validate.pipe(
          Effect.retry({ schedule: this.env.daemonRetry, while: isTransientError }),
          Effect.catchAll((error) => this.logFailure("hourly validation", error))
        )
        const now = yield* Clock.currentTimeMillis
        const every = this.env.validateEveryMillis
        // the next turn of this session's phase after now (at most `validateEvery` away)
        const missed = Math.floor((now - this.nextValidation) / every) + 1
        this.nextValidation += Math.max(1, missed) * every
      }
    })
  }
}

/**
 * Starts a session on `env`: loads (or stores) the token, validates it (a failure is logged,
 * not fatal: an outage at start-up must not block the program, and the background work
 * validates again), and registers its background work for as long as the scope is open.
 */
export const start = <E>(
  env: Env,
  key: string,
  token: Token.UserToken | undefined,
  missing: (key: string) => E
): Effect.Effect<UserSession, E | TokenStoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const initial = token === undefined
      ? yield* Effect.flatMap(env.store.get(key), (stored) =>
        Option.match(stored, {
          onNone: () => Effect.fail(missing(key)),
          onSome: Effect.succeed
        }))
      : yield* Effect.as(env.store.set(key, token), token)
    const session = new UserSession(key, env, initial, yield* Clock.currentTimeMillis)
    yield* Effect.catchAll(session.validate, (error) => session.logFailure("validation at start", error))
    session.registration = yield* SessionScheduler.register(session)
    return session
  })
