/**
 * The README's "Keeping tokens fresh" snippet: Helix calls through `TwitchHttpClient`, with
 * the stored token of one user kept fresh by a `TwitchSession`. Type-checked by `pnpm check`;
 * the README shows this file without this comment (a test checks they are the same).
 * `examples/helix.ts` is a complete program built the same way, against an embedded mock.
 */
import { TokenStore, TwitchAuth, TwitchAuthConfig, TwitchHttpClient, TwitchSession } from "@effect-twitch/auth"
import { HttpClientResponse } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"

// What this program reads of Helix's `GET /users` answer.
const Users = Schema.Struct({
  data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String, display_name: Schema.String }))
})

// The key the user's token is stored under: their Twitch user id (`twitch-auth login` uses it too).
const userId = "141981764"

export const whoAmI = Effect.gen(function*() {
  const helix = yield* TwitchHttpClient.TwitchHttpClient
  return yield* Effect.flatMap(helix.get("/users"), HttpClientResponse.schemaBodyJson(Users))
})

export const TwitchLive = TwitchHttpClient.layer().pipe(
  Layer.provideMerge(TwitchSession.layer({ key: userId })), // the user's stored token
  Layer.provideMerge(TwitchAuth.layer),
  Layer.provideMerge(TokenStore.layerFile("/var/lib/mybot/tokens.json")),
  Layer.provideMerge(TwitchAuthConfig.layerConfig()),
  Layer.provideMerge(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
)
