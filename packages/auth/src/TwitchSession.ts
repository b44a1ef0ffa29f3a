/**
 * `TwitchSession`: one user's live credentials. It hands out the current access token,
 * refreshes it ahead of expiry (paced: it backs off after a failure and never refreshes of
 * its own accord more often than `minRefreshInterval`), refreshes exactly once when many
 * callers see it rejected at the same time, validates it at start and every hour as Twitch
 * requires, and persists every new token through the `TokenStore` before anyone can use it.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as UserSession from "./internal/userSession.js"
import type * as Token from "./Token.js"
import { TokenStore, type TokenStoreError } from "./TokenStore.js"
import { TwitchAuth } from "./TwitchAuth.js"
import type * as TwitchAuthError from "./TwitchAuthError.js"
import type { InvalidAccessToken, InvalidRefreshToken } from "./TwitchAuthError.js"
import { TwitchCredentials } from "./TwitchCredentials.js"

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

/**
 * Starts a session: loads (or stores) the token, validates it, and registers its background
 * work (validation every `validateEvery`, refresh `refreshMargin` before expiry — no earlier
 * than mid-life, never more often than `minRefreshInterval`, backing off after any failure)
 * on the scheduler every session shares. The work stops when the scope closes.
 *
 * A session is one record (see `internal/userSession.ts`): its effects are built when asked
 * for, its locks and `changes` hub exist only while in use, and its hourly validations are
 * spread over the hour by a slot its key hashes to (so many sessions never validate at once).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: TwitchSession.Options
): Effect.Effect<TwitchSession.Service, NoStoredToken | TokenStoreError, TwitchAuth | TokenStore | Scope.Scope> =>
  Effect.flatMap(
    Effect.zip(TwitchAuth, TokenStore),
    ([auth, store]) =>
      UserSession.start(
        UserSession.envOf(auth, store, options),
        options.key,
        options.token,
        (key) => new NoStoredToken({ key })
      )
  )

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
