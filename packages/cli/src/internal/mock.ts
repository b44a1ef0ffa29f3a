/**
 * `twitch-auth mock`: the seeded mock id.twitch.tv (and its Helix routes) on 127.0.0.1 until
 * Ctrl-C (or `twitch-auth mock --stop`), with the settings to point `twitch-auth` (or any
 * client) at it. It registers itself in the config dir, so that `--mock` commands use it
 * (see `mockRegistry.ts`). The credentials printed are the mock's seed: fakes, not secrets.
 */
import * as FakeTwitch from "@effect-twitch/testing/FakeTwitch"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Net from "node:net"
import * as CliError from "../CliError.js"
import * as Profiles from "../Profiles.js"
import { mockClient, mockPublicClient, startMock } from "./environment.js"
import * as MockRegistry from "./mockRegistry.js"
import * as Output from "./output.js"

/** Options of `twitch-auth mock`. */
export interface MockOptions {
  readonly json: boolean
  readonly port: number
  readonly redirectUris: ReadonlyArray<string>
  readonly configDir: Option.Option<string>
  readonly stop: boolean
  readonly background: boolean
  readonly idleTimeout: Option.Option<number>
  /** `name=value` quirk settings (`--quirk`), over those of `TWITCH_MOCK_QUIRKS`. */
  readonly quirks: ReadonlyArray<string>
}

/** The quirks `TWITCH_MOCK_QUIRKS` sets, overridden by the `--quirk` flags; a bad one is a usage error naming it. */
const quirksOf = (
  flags: ReadonlyArray<string>
): Effect.Effect<Partial<FakeTwitch.FakeTwitch.Quirks>, CliError.CliError> =>
  Effect.gen(function*() {
    const invalid = (message: string) => CliError.usage("InvalidQuirk", message)
    const fromEnvironment = yield* Effect.mapError(FakeTwitch.parseQuirksEnv(process.env), invalid)
    const fromFlags = yield* Effect.mapError(FakeTwitch.parseQuirks(flags), (message) => invalid(`--quirk: ${message}`))
    return { ...fromEnvironment, ...fromFlags }
  })

/** Returns once run `id` is no longer the registered mock (its file removed or replaced). */
const unregistered = (configDir: string, id: string) =>
  Effect.gen(function*() {
    while (true) {
      yield* Effect.sleep("250 millis")
      const current = yield* MockRegistry.read(configDir)
      if (Option.isNone(current) || current.value.id !== id) return
    }
  })

/** Returns once no request came for `seconds`. */
const idle = (lastRequest: Ref.Ref<number>, seconds: number) =>
  Effect.gen(function*() {
    const limit = seconds * 1000
    while (true) {
      const quiet = (yield* Clock.currentTimeMillis) - (yield* Ref.get(lastRequest))
      if (quiet >= limit) return
      yield* Effect.sleep(Math.min(limit - quiet, 60_000))
    }
  })

/** A port on 127.0.0.1 nobody listens on right now (for the redirect URI the mock suggests). */
const freePort: Effect.Effect<number> = Effect.async((resume) => {
  const server = Net.createServer()
  server.on("error", () => resume(Effect.succeed(0)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

export const serve = (
  options: MockOptions
): Effect.Effect<void, CliError.CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.scoped(Effect.gen(function*() {
    const configDir = yield* Profiles.configDir(options.configDir)
    if (options.stop) return yield* MockRegistry.stop(configDir, Output.make({ json: options.json, showToken: false }))
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      return yield* Effect.fail(
        CliError.usage("InvalidPort", `--port must be between 0 and 65535, got ${options.port}`)
      )
    }
    const idleTimeout = Option.orElse(
      options.idleTimeout,
      () => options.background ? Option.some(MockRegistry.defaultIdleTimeoutSeconds) : Option.none()
    )
    if (Option.isSome(idleTimeout) && !(idleTimeout.value > 0)) {
      return yield* Effect.fail(
        CliError.usage(
          "InvalidIdleTimeout",
          `--idle-timeout must be a positive number of seconds, got ${idleTimeout.value}`
        )
      )
    }
    const quirks = yield* quirksOf(options.quirks)
    const control = {
      id: MockRegistry.randomId(),
      secret: MockRegistry.randomId(),
      stop: yield* Deferred.make<void>(),
      lastRequest: yield* Ref.make(yield* Clock.currentTimeMillis)
    }
    // A redirect URI on a port that is free now, registered and suggested, so that `login`
    // does not depend on localhost:3000 (the seeded one) being free.
    const callbackPort = options.background ? 0 : yield* freePort
    const suggested = callbackPort === 0 ? [] : [`http://127.0.0.1:${callbackPort}/callback`]
    const mock = yield* startMock({
      port: options.port,
      redirectUris: [...suggested, ...options.redirectUris],
      control,
      fake: quirks
    })
    const quirksText = Object.entries(quirks).map(([name, value]) => `${name}=${String(value)}`).join(", ")
    yield* Effect.addFinalizer(() => MockRegistry.removeIfOwn(configDir, control.id))
    yield* MockRegistry.write(configDir, {
      version: 1,
      id: control.id,
      secret: control.secret,
      pid: process.pid,
      url: mock.url,
      authUrl: mock.authUrl,
      helixUrl: mock.helixUrl,
      background: options.background,
      idleTimeoutSeconds: Option.getOrNull(idleTimeout)
    })
    const [user] = FakeTwitch.defaultSeed.users
    const redirectUris = Array.from(new Set([...suggested, ...mockClient.redirectUris, ...options.redirectUris]))
    const registration = `${configDir}/${MockRegistry.fileName}`
    if (options.background) {
      // nobody reads a background mock's output
    } else if (options.json) {
      yield* Console.log(JSON.stringify({
        url: mock.url,
        authUrl: mock.authUrl,
        helixUrl: mock.helixUrl,
        clientId: mockClient.clientId,
        clientSecret: mockClient.clientSecret,
        publicClientId: mockPublicClient.clientId,
        redirectUris,
        redirectUri: suggested[0] ?? null,
        activateUrl: `${mock.authUrl}/activate`,
        user: { login: user.login, userId: user.userId },
        pid: process.pid,
        registration,
        quirks: { ...FakeTwitch.defaultQuirks, ...quirks }
      }))
    } else {
      yield* Console.log(
        [
          `Mock Twitch (id.twitch.tv and api.twitch.tv/helix) listening on ${mock.url} (pid ${process.pid})`,
          `Registered in ${registration}: \`twitch-auth … --mock\` commands use this mock.`,
          "",
          "Or point twitch-auth (or your app) at it (these are the mock's seeded fakes, not credentials):",
          `  export TWITCH_AUTH_URL=${mock.authUrl}`,
          `  export TWITCH_HELIX_URL=${mock.helixUrl}`,
          `  export TWITCH_CLIENT_ID=${mockClient.clientId}`,
          `  export TWITCH_CLIENT_SECRET=${mockClient.clientSecret}`,
          ...suggested.map((uri) => `  export TWITCH_REDIRECT_URI=${uri}`),
          "  twitch-auth login --no-open      # then open the URL it prints in a browser, and click Authorize",
          "  twitch-auth login --device       # then approve the code it shows with:",
          `    curl -X POST '${mock.authUrl}/activate?user_code=<code>'`,
          "",
          `  redirect URIs:  ${redirectUris.join(", ")}`,
          `  public client:  ${mockPublicClient.clientId} (no secret)`,
          `  user:           ${user.login} (${user.userId}), the account the consent page signs in as`,
          `  quirks:         ${
            quirksText === "" ? "none (answers as Twitch does; see --help for --quirk)" : quirksText
          }`,
          "",
          `Ctrl-C (or \`twitch-auth mock --stop\`) to stop${
            Option.isSome(idleTimeout) ? `; stops by itself after ${idleTimeout.value}s without requests` : ""
          }.`
        ].join("\n")
      )
    }
    yield* Effect.raceAll([
      Deferred.await(control.stop),
      ...(Option.isSome(idleTimeout) ? [idle(control.lastRequest, idleTimeout.value)] : []),
      // a background mock goes when it is no longer the registered one; one in a terminal stays
      ...(options.background ? [unregistered(configDir, control.id)] : [])
    ])
    if (!options.background) yield* Console.error("Stopped.")
  }))
