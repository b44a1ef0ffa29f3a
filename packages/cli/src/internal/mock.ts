/**
 * `twitch-auth mock`: the seeded mock id.twitch.tv (and its Helix routes) on 127.0.0.1 until
 * Ctrl-C, with the settings to point `twitch-auth` (or any client) at it. The credentials
 * printed are the mock's seed: fakes, not secrets.
 */
import * as FakeTwitch from "@effect-twitch/testing/FakeTwitch"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as CliError from "../CliError.js"
import { mockClient, mockPublicClient, startMock } from "./environment.js"

export const serve = (options: {
  readonly json: boolean
  readonly port: number
  readonly redirectUris: ReadonlyArray<string>
}): Effect.Effect<void, CliError.CliError> =>
  Effect.scoped(Effect.gen(function*() {
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      return yield* Effect.fail(CliError.usage("InvalidPort", `--port must be between 0 and 65535, got ${options.port}`))
    }
    const mock = yield* startMock({ port: options.port, redirectUris: options.redirectUris })
    const [user] = FakeTwitch.defaultSeed.users
    const redirectUris = Array.from(new Set([...mockClient.redirectUris, ...options.redirectUris]))
    if (options.json) {
      yield* Console.log(JSON.stringify({
        url: mock.url,
        authUrl: mock.authUrl,
        helixUrl: mock.helixUrl,
        clientId: mockClient.clientId,
        clientSecret: mockClient.clientSecret,
        publicClientId: mockPublicClient.clientId,
        redirectUris,
        activateUrl: `${mock.authUrl}/activate`,
        user: { login: user.login, userId: user.userId }
      }))
    } else {
      yield* Console.log(
        [
          `Mock Twitch (id.twitch.tv and api.twitch.tv/helix) listening on ${mock.url}`,
          "",
          "Point twitch-auth at it (these are the mock's seeded fakes, not credentials):",
          `  export TWITCH_AUTH_URL=${mock.authUrl}`,
          `  export TWITCH_HELIX_URL=${mock.helixUrl}`,
          `  export TWITCH_CLIENT_ID=${mockClient.clientId}`,
          `  export TWITCH_CLIENT_SECRET=${mockClient.clientSecret}`,
          "  twitch-auth login --no-open      # then open the URL it prints: then open the URL it prints and click Authorize",
          "  twitch-auth login --device       # then approve the code it prints:",
          `    curl -X POST '${mock.authUrl}/activate?user_code=<code>'`,
          "",
          `  redirect URIs:  ${redirectUris.join(", ")}`,
          `  public client:  ${mockPublicClient.clientId} (no secret)`,
          `  user:           ${user.login} (${user.userId}), the account the consent page signs in as`,
          "",
          "Ctrl-C to stop."
        ].join("\n")
      )
    }
    return yield* Effect.never
  }))
