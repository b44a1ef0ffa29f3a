/**
 * @since 0.1.0
 */

/**
 * The `twitch-auth` command tree and its runner.
 *
 * @since 0.1.0
 */
export * as TwitchAuthCli from "./TwitchAuthCli.js"

/**
 * The CLI's failures and exit codes.
 *
 * @since 0.1.0
 */
export * as CliError from "./CliError.js"

/**
 * Profiles: one token file per profile under the user's config directory.
 *
 * @since 0.1.0
 */
export * as Profiles from "./Profiles.js"
