// The consumer test's ES module program (scripts/consumer-test.sh): the README's install, then
// an app token from the mock started from the installed @effect-twitch/testing.
import { TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"

const [client] = FakeTwitch.defaultSeed.clients

const program = Effect.gen(function*() {
  const mock = yield* MockTwitchServer.MockTwitchServer
  const TwitchAuthLive = TwitchAuth.layer.pipe(
    Layer.provide(
      TwitchAuthConfig.layer({ clientId: client.clientId, clientSecret: client.clientSecret, authUrl: mock.authUrl })
    ),
    Layer.provide(NodeHttpClient.layerUndici)
  )
  const token = yield* Effect.flatMap(TwitchAuth.TwitchAuth, (auth) => auth.appToken()).pipe(
    Effect.provide(TwitchAuthLive)
  )
  const info = yield* Effect.flatMap(TwitchAuth.TwitchAuth, (auth) => auth.validateToken(token.accessToken)).pipe(
    Effect.provide(TwitchAuthLive)
  )
  if (Redacted.value(token.accessToken).length === 0 || info.clientId !== client.clientId) {
    return yield* Effect.dieMessage("the mock's app token did not validate")
  }
  console.log(`esm: app token for ${info.clientId}`)
})

await Effect.runPromise(program.pipe(Effect.provide(MockTwitchServer.layerTest), Effect.scoped))
