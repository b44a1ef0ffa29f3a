/**
 * `pnpm mock`: serve the in-memory Twitch on 127.0.0.1 until Ctrl-C.
 *
 * PORT (default 8787) picks the port. Quirks (docs/testing.md) come from
 * `TWITCH_MOCK_QUIRKS="name=value,name=value"` and from `--quirk name=value` (repeatable; the
 * flags win). The credentials printed are the fake's seed, not secrets.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as FakeTwitch from "../src/FakeTwitch.js"
import * as MockTwitchServer from "../src/MockTwitchServer.js"

const parsePort = (raw: string | undefined): Effect.Effect<number, string> => {
  if (raw === undefined || raw === "") return Effect.succeed(8787)
  const port = Number(raw)
  return Number.isInteger(port) && port >= 0 && port <= 65535
    ? Effect.succeed(port)
    : Effect.fail(`PORT must be an integer between 0 and 65535, got ${JSON.stringify(raw)}`)
}

const usage = [
  "usage: pnpm mock [--quirk name=value]...",
  `  PORT=<port> (default 8787), ${FakeTwitch.quirksEnvVariable}="name=value,name=value"`,
  `  quirks: ${FakeTwitch.describeQuirks()}`
].join("\n")

/** The `name=value` settings given with `--quirk name=value` / `--quirk=name=value`. */
const quirkFlags = (args: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, string> => {
  const specs: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? ""
    if (arg === "--") continue
    if (arg === "--quirk") {
      const value = args[i + 1]
      if (value === undefined) return Effect.fail(`--quirk needs name=value\n${usage}`)
      specs.push(value)
      i++
    } else if (arg.startsWith("--quirk=")) {
      specs.push(arg.slice("--quirk=".length))
    } else {
      return Effect.fail(`unknown argument ${JSON.stringify(arg)}\n${usage}`)
    }
  }
  return Effect.succeed(specs)
}

/** The quirks from the environment, then from the flags (which win). */
const quirksFrom = (env: Readonly<Record<string, string | undefined>>, args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const fromEnv = yield* FakeTwitch.parseQuirksEnv(env)
    const fromFlags = yield* Either.mapLeft(FakeTwitch.parseQuirks(yield* quirkFlags(args)), (e) => `--quirk: ${e}`)
    return { ...fromEnv, ...fromFlags }
  })

const banner = (quirks: Partial<FakeTwitch.FakeTwitch.Quirks>) =>
  Effect.gen(function*() {
    const { authUrl, helixUrl, url } = yield* MockTwitchServer.MockTwitchServer
    const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
    const [user] = FakeTwitch.defaultSeed.users
    const curl = `curl -X POST '${authUrl}/token?client_id=${confidential.clientId}` +
      `&client_secret=${confidential.clientSecret}&grant_type=client_credentials'`
    yield* Console.log(
      [
        `Mock id.twitch.tv and api.twitch.tv/helix listening on ${url}`,
        `  auth base URL:        ${authUrl}   (also under ${url}/auth)`,
        `  Helix base URL:       ${helixUrl}   (GET /users, GET /moderation/moderators)`,
        `  confidential client:  ${confidential.clientId}`,
        `  client secret (fake): ${confidential.clientSecret}`,
        `  public client:        ${publicClient.clientId}`,
        `  redirect URIs:        ${confidential.redirectUris.join(", ")}`,
        `  user:                 ${user.login} (${user.userId}), the account the consent page signs in as`,
        `  quirks:               ${
          Object.entries({ ...FakeTwitch.defaultQuirks, ...quirks }).map(([k, v]) => `${k}=${String(v)}`).join(", ")
        }`,
        ``,
        `Try:`,
        `  ${curl}`,
        `  curl -H 'Authorization: Bearer <access_token>' -H 'Client-Id: ${confidential.clientId}' '${helixUrl}/users?login=${user.login}'`,
        ``,
        `Ctrl-C to stop.`
      ].join("\n")
    )
  })

const main = Effect.gen(function*() {
  const port = yield* parsePort(process.env["PORT"])
  const quirks = yield* quirksFrom(process.env, process.argv.slice(2))
  const server = MockTwitchServer.layer({ port, host: "127.0.0.1" }).pipe(
    Layer.provideMerge(FakeTwitch.layer(quirks)),
    Layer.mapError((error) =>
      `Cannot listen on 127.0.0.1:${port} (is the port taken? set PORT): ${String(error.cause)}`
    )
  )
  yield* Layer.launch(Layer.effectDiscard(banner(quirks)).pipe(Layer.provideMerge(server)))
}).pipe(
  Effect.catchAll((message) =>
    Console.error(message).pipe(Effect.zipRight(Effect.sync(() => {
      process.exitCode = 1
    })))
  )
)

NodeRuntime.runMain(main, { disableErrorReporting: false })
