/**
 * @since 0.1.0
 */

/**
 * The Twitch authentication client: every id.twitch.tv token operation as a typed Effect.
 *
 * @since 0.1.0
 */
export * as TwitchAuth from "./TwitchAuth.js"

/**
 * The application's credentials and endpoints, from code or from the environment.
 *
 * @since 0.1.0
 */
export * as TwitchAuthConfig from "./TwitchAuthConfig.js"

/**
 * The tagged errors, one per situation a caller handles differently.
 *
 * @since 0.1.0
 */
export * as TwitchAuthError from "./TwitchAuthError.js"

/**
 * User tokens, app tokens, validation results, and the wire schemas behind them.
 *
 * @since 0.1.0
 */
export * as Token from "./Token.js"
