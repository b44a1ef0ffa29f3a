/**
 * `TwitchCredentials`: the one thing `withTokenRefresh` and `TwitchHttpClient` need — a
 * current access token and a way to replace a rejected one. `TwitchSession` (a user's
 * token) and `AppTokenSession` (the app's token) both provide it.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type { TokenStoreError } from "./TokenStore.js"
import type * as TwitchAuthError from "./TwitchAuthError.js"

/**
 * What getting or replacing a token can fail with: a user session's refresh
 * (`TwitchAuthError.RefreshTokenError`), an app session's new token
 * (`TwitchAuthError.AppTokenError`), or the store. `InvalidRefreshToken` is terminal for a
 * user session: the user must authorize again.
 *
 * @since 0.1.0
 * @category errors
 */
export type CredentialsError = TwitchAuthError.RefreshTokenError | TwitchAuthError.AppTokenError | TokenStoreError

/**
 * A source of access tokens that can replace a rejected one.
 *
 * @since 0.1.0
 * @category tags
 */
export class TwitchCredentials extends Context.Tag("@effect-twitch/auth/TwitchCredentials")<
  TwitchCredentials,
  TwitchCredentials.Service
>() {}

/**
 * @since 0.1.0
 */
export declare namespace TwitchCredentials {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** The access token to use now (refreshed first if it is about to expire). */
    readonly accessToken: Effect.Effect<Redacted.Redacted<string>, CredentialsError>
    /**
     * Replaces `rejected` with a new token. Compare-and-refresh: if `rejected` is no longer
     * the current token (someone already replaced it), nothing is requested and the current
     * token is returned. Concurrent calls share one request.
     */
    readonly refreshAccessToken: (
      rejected: Redacted.Redacted<string>
    ) => Effect.Effect<Redacted.Redacted<string>, CredentialsError>
  }
}
