/** The version of @effect-twitch/cli: written from its package.json by scripts/version.ts. */
export const version = "0.1.0"
