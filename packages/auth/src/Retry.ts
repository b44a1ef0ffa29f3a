/**
 * `withTokenRefresh`: the retry-on-auth-failure combinator. Wrap any effect that uses the
 * current access token; when it fails with `InvalidAccessToken`, the token that was rejected
 * is refreshed (once for all concurrent callers) and the effect runs again, reading the new
 * token.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Schedule from "effect/Schedule"
import * as Refresh from "./internal/refresh.js"
import type { InvalidAccessToken } from "./TwitchAuthError.js"
import { type CredentialsError, TwitchCredentials } from "./TwitchCredentials.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface WithTokenRefreshOptions {
  /**
   * Decides, for each `InvalidAccessToken`, whether to refresh and retry. Default:
   * `Schedule.recurs(1)` — one refresh, one retry.
   */
  readonly schedule?: Schedule.Schedule<unknown, InvalidAccessToken> | undefined
}

/**
 * Runs `self`; if it fails with `InvalidAccessToken`, asks `TwitchCredentials` to replace
 * the rejected token and runs `self` again, as often as the schedule allows (once by
 * default). The rejected token is the one named by the error (Twitch operations and
 * `TwitchHttpClient` record it) or else the token that was current when `self` started, so a
 * token that another caller already replaced is never refreshed twice. Other errors —
 * `MissingScope`, `HelixUnauthorized`, anything of your own — pass through untouched.
 *
 * @example
 * ```ts
 * import { Retry, TwitchAuth, TwitchCredentials } from "@effect-twitch/auth"
 * import { Effect } from "effect"
 *
 * // any effect that reads the current token; here: who does the token belong to?
 * const whoAmI = Effect.gen(function*() {
 *   const credentials = yield* TwitchCredentials.TwitchCredentials
 *   const auth = yield* TwitchAuth.TwitchAuth
 *   return yield* auth.validateToken(yield* credentials.accessToken)
 * }).pipe(Retry.withTokenRefresh())
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const withTokenRefresh: {
  (
    options?: WithTokenRefreshOptions
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CredentialsError, R | TwitchCredentials>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options?: WithTokenRefreshOptions
  ): Effect.Effect<A, E | CredentialsError, R | TwitchCredentials>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options?: WithTokenRefreshOptions
  ): Effect.Effect<A, E | CredentialsError, R | TwitchCredentials> =>
    Effect.flatMap(
      TwitchCredentials,
      (credentials) =>
        Effect.flatMap(credentials.accessToken, (first) => {
          // the token current for the next run: the one read first, then each refresh's
          let current = first
          return Refresh.onInvalidToken(
            self,
            options?.schedule ?? Schedule.recurs(1),
            (error) =>
              Effect.map(credentials.refreshAccessToken(error.token ?? current), (next) => {
                current = next
              })
          )
        })
    )
)
