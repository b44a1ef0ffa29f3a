/**
 * @since 0.1.0
 */

/**
 * An in-memory model of id.twitch.tv and of Helix's authentication: clients, users, codes,
 * tokens, expiry on Effect's `Clock`, counters, recorded requests and fault injection.
 *
 * @since 0.1.0
 * @category modules
 */
export * as FakeTwitch from "./FakeTwitch.js"

/**
 * An `HttpClient` answered in memory by the FakeTwitch: no sockets, fake time on `TestClock`.
 *
 * @since 0.1.0
 * @category modules
 */
export * as FakeTwitchHttpClient from "./FakeTwitchHttpClient.js"

/**
 * The FakeTwitch served over real HTTP on 127.0.0.1 (`/oauth2/*`, `/auth/*`, `/helix/*`).
 *
 * @since 0.1.0
 * @category modules
 */
export * as MockTwitchServer from "./MockTwitchServer.js"

/**
 * The test Layer: the real `TwitchAuth` over a fresh in-memory Twitch (no sockets, time from
 * `TestClock`), a ready signed-in session, and the situations users test — expire, revoke,
 * disconnect, 503/429/malformed answers, what Twitch saw.
 *
 * @since 0.1.0
 * @category modules
 */
export * as TwitchAuthTest from "./TwitchAuthTest.js"
