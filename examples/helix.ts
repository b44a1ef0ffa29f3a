/**
 * Keeping tokens fresh: a user session persisted in a token file, and Helix calls through
 * `TwitchHttpClient`, against an embedded mock Twitch (nothing leaves 127.0.0.1).
 *
 *   npx tsx examples/helix.ts
 *
 * Against real Twitch you would drop the mock, provide `TwitchAuthConfig.layerConfig()` and
 * start the session from the stored token of a user who authorized your app.
 */
import { Token, TokenStore, TwitchAuth, TwitchAuthConfig, TwitchHttpClient, TwitchSession } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

const [client] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users

const Users = Schema.Struct({
  data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String, display_name: Schema.String }))
})

/** Your code: call Helix, never thinking about tokens. */
const whoAmI = Effect.gen(function*() {
  const helix = yield* TwitchHttpClient.TwitchHttpClient
  const response = yield* helix.get("/users")
  const { data } = yield* HttpClientResponse.schemaBodyJson(Users)(response)
  return data[0]?.display_name ?? "nobody"
})

const program = Effect.gen(function*() {
  const twitch = yield* FakeTwitch.FakeTwitch
  const session = yield* TwitchSession.TwitchSession

  yield* Console.log(`1. Helix says we are ${yield* whoAmI}`)

  const before = yield* session.token
  yield* twitch.expireAccessToken(Redacted.value(before.accessToken))
  yield* Console.log("2. Twitch expires the access token behind our back")

  const results = yield* Effect.all(Array.from({ length: 50 }, () => whoAmI), { concurrency: "unbounded" })
  const refreshes = yield* twitch.grantCalls("refresh_token")
  yield* Console.log(
    `3. 50 concurrent calls hit 401: ${results.length} succeeded after ${refreshes} refresh`
  )

  const after = yield* session.token
  const left = Option.match(after.expiresIn(yield* DateTime.now), { onNone: () => "never", onSome: Duration.format })
  yield* Console.log(`4. The new token (${after.accessToken}) expires in ${left}; it is already in the token file`)
})

/** An embedded mock Twitch and a user who authorized the app, with their token in a file. */
const MockLive = Layer.unwrapScoped(Effect.gen(function*() {
  const server = yield* MockTwitchServer.MockTwitchServer
  const twitch = yield* FakeTwitch.FakeTwitch
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped()
  const issued = yield* twitch.issueUserToken({ clientId: client.clientId, userId: user.userId, scopes: ["chat:read"] })
  const now = yield* DateTime.now
  const token = new Token.UserToken({
    accessToken: Redacted.make(issued.accessToken),
    refreshToken: Redacted.make(issued.refreshToken),
    scopes: ["chat:read"],
    obtainedAt: now,
    expiresAt: Option.some(DateTime.addDuration(now, Duration.seconds(issued.expiresIn)))
  })

  // What a program of yours provides: config, transport, a token store, the session, Helix.
  const TwitchLive = TwitchHttpClient.layer().pipe(
    Layer.provideMerge(TwitchSession.layer({ key: user.userId, token })),
    Layer.provideMerge(TwitchAuth.layer),
    Layer.provideMerge(TokenStore.layerFile(`${dir}/tokens.json`)),
    Layer.provideMerge(TwitchAuthConfig.layer({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      authUrl: server.authUrl,
      helixUrl: server.helixUrl
    }))
  )
  return TwitchLive
})).pipe(
  Layer.provideMerge(MockTwitchServer.layerTest),
  Layer.provideMerge(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
)

program.pipe(Effect.provide(MockLive), NodeRuntime.runMain)
