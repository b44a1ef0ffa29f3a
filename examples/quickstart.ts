/**
 * The README's "Use it" program: an app token and its validation, against real Twitch
 * (or any `TWITCH_AUTH_URL`, such as `pnpm mock`'s). Run it with
 * `TWITCH_CLIENT_ID=… TWITCH_CLIENT_SECRET=… npx tsx examples/quickstart.ts`; or, against
 * the mock: `TWITCH_AUTH_URL=http://127.0.0.1:8787/oauth2 TWITCH_CLIENT_ID=hof5gwx0su6owfnys0yan9c87zr6t1
 * TWITCH_CLIENT_SECRET=41vpdji4e9gif29md0ouet6fktd2mk npx tsx examples/quickstart.ts`. It exits 0 on
 * success, 1 (after one line on stderr) on any failure.
 */
import { TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Duration, Effect, Layer, Option } from "effect"

const program = Effect.gen(function*() {
  const auth = yield* TwitchAuth.TwitchAuth
  const app = yield* auth.appToken() // client credentials
  const info = yield* auth.validateToken(app.accessToken)
  const expires = Option.match(info.expiresIn, { onNone: () => "never", onSome: Duration.format })
  yield* Console.log(`app token for ${info.clientId}, expires in ${expires}`)
})

// TWITCH_CLIENT_ID, TWITCH_CLIENT_SECRET (and optionally TWITCH_REDIRECT_URI,
// TWITCH_AUTH_URL, TWITCH_HELIX_URL, TWITCH_REQUEST_TIMEOUT) come from the environment.
const TwitchAuthLive = TwitchAuth.layer.pipe(
  Layer.provide(TwitchAuthConfig.layerConfig()),
  Layer.provide(NodeHttpClient.layerUndici)
)

program.pipe(
  Effect.provide(TwitchAuthLive),
  // InvalidClient (wrong TWITCH_CLIENT_ID / SECRET), a missing variable, Twitch out of reach…:
  // one line on stderr, and exit code 1
  Effect.tapError((error) => Console.error(error.message)),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
