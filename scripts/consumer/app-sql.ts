// The consumer test's TypeScript use of @effect-twitch/sql (scripts/consumer-test.sh): the
// fleet's store layer, type-checked with `strict` under moduleResolution NodeNext and Bundler.
import { type TokenStore, TwitchSessions } from "@effect-twitch/auth"
import { SqlTokenStore } from "@effect-twitch/sql"
import type * as SqlTokenStoreModule from "@effect-twitch/sql/SqlTokenStore"
import type { SqlClient, SqlError } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Config, Layer } from "effect"

const options: SqlTokenStoreModule.Options = { table: "twitch_tokens", lockTimeout: "10 seconds" }

export const TokenStoreLive: Layer.Layer<
  TokenStore.TokenStore,
  SqlError.SqlError | TokenStore.TokenStoreError,
  SqlClient.SqlClient
> = SqlTokenStore.layer(options)

export const SessionsLive = TwitchSessions.layer().pipe(
  Layer.provide(TokenStoreLive),
  Layer.provide(PgClient.layerConfig({ url: Config.redacted("DATABASE_URL") }))
)
