/**
 * @since 0.1.0
 */

/**
 * A `TokenStore` over `@effect/sql`: users' tokens shared by a fleet of processes in one
 * PostgreSQL database, with a per-user lock held across processes and machines.
 *
 * @since 0.1.0
 */
export * as SqlTokenStore from "./SqlTokenStore.js"
