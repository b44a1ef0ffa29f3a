// The consumer test's CommonJS program (scripts/consumer-test.sh): the same app token through
// `require` and the packages' subpaths; `internal/*` must stay out of reach.
"use strict"
const TwitchAuth = require("@effect-twitch/auth/TwitchAuth")
const TwitchAuthConfig = require("@effect-twitch/auth/TwitchAuthConfig")
const { FakeTwitch, MockTwitchServer } = require("@effect-twitch/testing")
const { NodeHttpClient } = require("@effect/platform-node")
const { Effect, Layer } = require("effect")

for (const blocked of ["@effect-twitch/auth/internal/pipeline", "@effect-twitch/auth/internal/pipeline.js"]) {
  try {
    require(blocked)
    console.error(`cjs: ${blocked} should not be importable`)
    process.exit(1)
  } catch (error) {
    if (error.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw error
  }
}

const [client] = FakeTwitch.defaultSeed.clients

const program = Effect.gen(function*() {
  const mock = yield* MockTwitchServer.MockTwitchServer
  const TwitchAuthLive = TwitchAuth.layer.pipe(
    Layer.provide(
      TwitchAuthConfig.layer({ clientId: client.clientId, clientSecret: client.clientSecret, authUrl: mock.authUrl })
    ),
    Layer.provide(NodeHttpClient.layerUndici)
  )
  const info = yield* Effect.gen(function*() {
    const auth = yield* TwitchAuth.TwitchAuth
    const token = yield* auth.appToken()
    return yield* auth.validateToken(token.accessToken)
  }).pipe(Effect.provide(TwitchAuthLive))
  if (info.clientId !== client.clientId) return yield* Effect.dieMessage("the mock's app token did not validate")
  console.log(`cjs: app token for ${info.clientId}`)
})

Effect.runPromise(program.pipe(Effect.provide(MockTwitchServer.layerTest), Effect.scoped)).catch((error) => {
  console.error(error)
  process.exit(1)
})
