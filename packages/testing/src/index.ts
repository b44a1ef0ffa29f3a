/**
 * @since 0.1.0
 */

/**
 * An in-memory model of id.twitch.tv: clients, users, codes, tokens, expiry on Effect's
 * `Clock`, counters and fault injection.
 *
 * @since 0.1.0
 * @category modules
 */
export * as FakeTwitch from "./FakeTwitch.js"

/**
 * The FakeTwitch served over real HTTP on 127.0.0.1.
 *
 * @since 0.1.0
 * @category modules
 */
export * as MockTwitchServer from "./MockTwitchServer.js"
