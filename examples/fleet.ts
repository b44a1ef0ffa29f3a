/**
 * The README's fleet snippet ("Keeping tokens fresh" → "A fleet of processes"): every process
 * of a fleet (bot shards, API workers, the web app taking OAuth callbacks) keeps its users'
 * tokens in one PostgreSQL table through `SqlTokenStore`, so each token is refreshed once
 * across the fleet. Type-checked by `pnpm check`; the README shows this file without this
 * comment (a test checks they are the same).
 */
import { TwitchAuth, TwitchAuthConfig, TwitchCredentials, TwitchHttpClient, TwitchSessions } from "@effect-twitch/auth"
import { SqlTokenStore } from "@effect-twitch/sql"
import { NodeHttpClient } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer } from "effect"

// Helix as one user, from whichever process of the fleet serves them.
export const usersOf = (userId: string) =>
  Effect.scoped(Effect.gen(function*() {
    const sessions = yield* TwitchSessions.TwitchSessions
    const session = yield* sessions.get(userId) // loaded from the table, kept fresh, shared
    const helix = yield* TwitchHttpClient.make().pipe(
      Effect.provideService(TwitchCredentials.TwitchCredentials, session)
    )
    return yield* Effect.flatMap(helix.get(`/users?id=${userId}`), (response) => response.json)
  }))

export const FleetLive = TwitchSessions.layer().pipe(
  // one table, one lock per user across every process and machine (created if missing)
  Layer.provideMerge(SqlTokenStore.layer()),
  Layer.provideMerge(PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") })),
  Layer.provideMerge(TwitchAuth.layer),
  Layer.provideMerge(TwitchAuthConfig.layerConfig()),
  Layer.provideMerge(NodeHttpClient.layerUndici)
)
