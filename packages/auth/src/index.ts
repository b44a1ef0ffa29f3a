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

/**
 * Where user tokens live: in memory, or in a 0600 JSON file written atomically.
 *
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"

/**
 * A current access token and a way to replace a rejected one — what `withTokenRefresh` and
 * `TwitchHttpClient` need.
 *
 * @since 0.1.0
 */
export * as TwitchCredentials from "./TwitchCredentials.js"

/**
 * One user's live credentials: single-flight refresh, refresh ahead of expiry, hourly
 * validation, persistence.
 *
 * @since 0.1.0
 */
export * as TwitchSession from "./TwitchSession.js"

/**
 * Many users' sessions, keyed by user id, loaded on demand and released when unused.
 *
 * @since 0.1.0
 */
export * as TwitchSessions from "./TwitchSessions.js"

/**
 * The application's own token (client credentials), renewed when it expires or is rejected.
 *
 * @since 0.1.0
 */
export * as AppTokenSession from "./AppTokenSession.js"

/**
 * `withTokenRefresh`: refresh the rejected token once and retry, for any effect.
 *
 * @since 0.1.0
 */
export * as Retry from "./Retry.js"

/**
 * An `HttpClient` for Helix with Client-Id, Bearer per attempt, refresh-on-401 and 429 waits.
 *
 * @since 0.1.0
 */
export * as TwitchHttpClient from "./TwitchHttpClient.js"

/**
 * Every scope Twitch documents as a Schema literal, with descriptions; parsing, formatting
 * and "does this token cover that call" checks.
 *
 * @since 0.1.0
 */
export * as TwitchScope from "./TwitchScope.js"

/**
 * The device code flow: start, then poll honouring `interval` and `slow_down` — as an Effect
 * or as a `Stream` of states for progress displays.
 *
 * @since 0.1.0
 */
export * as DeviceFlow from "./DeviceFlow.js"

/**
 * The authorization code flow's callback: `state` checked, error redirects typed, code exchanged.
 *
 * @since 0.1.0
 */
export * as AuthorizationCode from "./AuthorizationCode.js"

/**
 * The implicit flow: the consent URL with `response_type=token`, and the redirect's fragment parsed.
 *
 * @since 0.1.0
 */
export * as ImplicitFlow from "./ImplicitFlow.js"

/**
 * OpenID Connect: `openid`, `nonce` and `claims` on the consent URL, ID tokens verified with
 * `jose` against Twitch's keys, `userinfo` and discovery.
 *
 * @since 0.1.0
 */
export * as OpenIdConnect from "./OpenIdConnect.js"

/**
 * A lean `HttpClient` on undici (an optional peer dependency): the transport recommended on
 * Node, which also runs each Twitch attempt whole, under its deadline, in one promise.
 *
 * @since 0.1.0
 */
export * as UndiciHttpClient from "./UndiciHttpClient.js"
