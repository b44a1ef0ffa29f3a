// The consumer test's TypeScript program (scripts/consumer-test.sh): type-checked with `strict`
// under moduleResolution NodeNext and Bundler, then bundled by esbuild and run.
import { Token, TwitchAuth, TwitchAuthConfig, type TwitchAuthError } from "@effect-twitch/auth"
import type * as TwitchSession from "@effect-twitch/auth/TwitchSession"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import { NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

const [client] = FakeTwitch.defaultSeed.clients

const appToken = (authUrl: string): Effect.Effect<Token.AppToken, TwitchAuthError.AppTokenError> =>
  Effect.flatMap(TwitchAuth.TwitchAuth, (auth) => auth.appToken()).pipe(
    Effect.provide(
      TwitchAuth.layer.pipe(
        Layer.provide(
          TwitchAuthConfig.layer({ clientId: client.clientId, clientSecret: client.clientSecret, authUrl })
        ),
        Layer.provide(NodeHttpClient.layerUndici),
        Layer.orDie
      )
    )
  )

const program = Effect.gen(function*() {
  const mock = yield* MockTwitchServer.MockTwitchServer
  const token = yield* appToken(mock.authUrl).pipe(
    Effect.catchTag("InvalidClient", (error) => Effect.dieMessage(error.message))
  )
  const isAppToken: boolean = token instanceof Token.AppToken
  yield* Console.log(`bundle: app token (${isAppToken ? "Token.AppToken" : "?"})`)
})

// a type from a subpath, as a user names it
export type Session = TwitchSession.TwitchSession

Effect.runPromise(program.pipe(Effect.provide(MockTwitchServer.layerTest), Effect.scoped)).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
