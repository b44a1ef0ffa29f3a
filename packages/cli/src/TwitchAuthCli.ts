/**
 * `twitch-auth`: get and manage Twitch tokens from the command line. The command tree, on
 * `@effect/cli`:
 *
 * ```text
 * twitch-auth login [--device] [--scope S]... [--no-open]   authorize a user, store the token
 * twitch-auth app-token [--scope S]...                      an app token (client credentials)
 * twitch-auth validate | refresh | revoke | whoami          the stored token
 * twitch-auth profiles                                      the stored profiles
 * twitch-auth mock [--port N] | mock --stop                 serve the mock Twitch (--mock uses it), or stop it
 * twitch-auth demo                                          the whole lifecycle, on an embedded mock
 * ```
 *
 * @since 0.1.0
 */
import * as FakeTwitch from "@effect-twitch/testing/FakeTwitch"
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as ValidationError from "@effect/cli/ValidationError"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as CliError from "./CliError.js"
import * as Commands from "./internal/commands.js"
import * as Demo from "./internal/demo.js"
import * as Environment from "./internal/environment.js"
import * as MockCommand from "./internal/mock.js"
import * as CommonOptions from "./internal/options.js"
import * as Output from "./internal/output.js"
import * as Scopes from "./internal/scopes.js"
import * as PackageVersion from "./internal/version.js"
import * as Profiles from "./Profiles.js"

/**
 * The version `twitch-auth --version` prints: the package's own (`package.json`).
 *
 * @since 0.1.0
 * @category constants
 */
export const version: string = PackageVersion.version

const login = Command.make(
  "login",
  {
    ...CommonOptions.common,
    scopes: CommonOptions.scopes,
    device: Options.boolean("device").pipe(
      Options.withDescription("Use the device code flow: enter a code on twitch.tv/activate from any device.")
    ),
    noOpen: Options.boolean("no-open").pipe(
      Options.withDescription("Only print the authorization URL; do not open a browser.")
    ),
    forceVerify: Options.boolean("force-verify").pipe(
      Options.withDescription("Make Twitch show the consent page even if the user already authorized the app.")
    ),
    timeout: Options.integer("timeout").pipe(
      Options.withDescription("Seconds to wait for the browser's redirect (default 300)."),
      Options.withDefault(300)
    )
  },
  (options) =>
    Effect.flatMap(Scopes.parse(options.scopes), (scopes) =>
      options.device
        ? Environment.run(options, Commands.loginWithDevice({ scopes }))
        : Environment.run(
          options,
          Commands.loginWithCode({
            scopes,
            open: !options.noOpen,
            forceVerify: options.forceVerify,
            timeout: Duration.seconds(Math.max(1, options.timeout))
          })
        ))
).pipe(
  Command.withDescription("Authorize a user (authorization code flow, or --device) and store the token in the profile.")
)

const appToken = Command.make(
  "app-token",
  { ...CommonOptions.common, scopes: CommonOptions.scopes },
  (options) =>
    Effect.flatMap(Scopes.parse(options.scopes), (scopes) => Environment.run(options, Commands.appToken(scopes)))
).pipe(Command.withDescription("Get an app access token (client credentials grant). It is printed, not stored."))

const validate = Command.make(
  "validate",
  CommonOptions.common,
  (options) => Environment.run(options, Commands.validate)
).pipe(
  Command.withDescription("Ask Twitch about the stored token: user, client, scopes, expiry. Exit 4 if it is not valid.")
)

const refresh = Command.make(
  "refresh",
  CommonOptions.common,
  (options) => Environment.run(options, Commands.refresh)
).pipe(Command.withDescription("Refresh the stored token and store the new one."))

const revoke = Command.make(
  "revoke",
  CommonOptions.common,
  (options) => Environment.run(options, Commands.revoke)
).pipe(Command.withDescription("Revoke the stored token at Twitch and remove it from the profile."))

const whoami = Command.make(
  "whoami",
  CommonOptions.common,
  (options) => Environment.run(options, Commands.whoami)
).pipe(
  Command.withDescription(
    "Show the stored token's user (Helix GET /users; refreshes once if Twitch rejects the token)."
  )
)

const profiles = Command.make(
  "profiles",
  { json: CommonOptions.json, configDir: CommonOptions.common.configDir },
  (options) =>
    Effect.gen(function*() {
      const out = Output.make({ json: options.json, showToken: false })
      const dir = yield* Profiles.configDir(options.configDir)
      const found = yield* Profiles.list(dir)
      const now = yield* Clock.currentTimeMillis
      const rows = found.map((profile) =>
        "error" in profile
          ? { name: profile.name, path: profile.path, error: profile.error.message }
          : Option.match(profile.entry, {
            onNone: () => ({ name: profile.name, path: profile.path, userId: null }),
            onSome: ({ key, token }) => ({
              name: profile.name,
              path: profile.path,
              userId: key,
              scopes: token.scopes,
              expiresAt: Output.expiryJson(token.expiresAt),
              expired: Option.match(token.expiresAt, {
                onNone: () => false,
                onSome: (at) => at.epochMillis <= now
              })
            })
          })
      )
      const human = rows.length === 0
        ? [`No profiles in ${dir}: run \`twitch-auth login\`.`]
        : [
          `Profiles in ${dir}:`,
          ...rows.map((row) =>
            "error" in row
              ? `  ${row.name.padEnd(16)} unreadable: ${row.error}`
              : row.userId === null
              ? `  ${row.name.padEnd(16)} (no token)`
              : `  ${row.name.padEnd(16)} user ${row.userId}, ${row.expired ? "expired" : "not expired"}, scopes ${
                Output.scopesText(row.scopes ?? [])
              }`
          )
        ]
      yield* out.result(human, { configDir: dir, profiles: rows })
    })
).pipe(Command.withDescription("List the profiles in the config directory (read locally, without asking Twitch)."))

const mock = Command.make(
  "mock",
  {
    json: CommonOptions.json,
    port: Options.integer("port").pipe(
      Options.withDescription("Port on 127.0.0.1 (default 8787; 0 for any free port)."),
      Options.withDefault(8787)
    ),
    redirectUris: Options.text("redirect-uri").pipe(
      Options.withDescription("Another redirect URI to register for the seeded clients (repeatable)."),
      Options.repeated
    ),
    configDir: CommonOptions.common.configDir,
    stop: Options.boolean("stop").pipe(
      Options.withDescription(
        "Stop the mock registered in the config dir (the one --mock commands use), and wait until it has ended."
      )
    ),
    background: Options.boolean("background").pipe(
      Options.withDescription(
        "Run as --mock starts it: print nothing, stop after --idle-timeout (default 1800 s) without requests or when the registration file is removed or replaced."
      )
    ),
    idleTimeout: Options.integer("idle-timeout").pipe(
      Options.withDescription(
        "Stop after this many seconds without a request (default: never; 1800 with --background)."
      ),
      Options.optional
    ),
    quirks: Options.text("quirk").pipe(
      Options.withDescription(
        `Make the mock answer one of the ways Twitch is known to (repeatable; also ${FakeTwitch.quirksEnvVariable}="name=value,…", which the flags override): ${FakeTwitch.describeQuirks()}.`
      ),
      Options.repeated
    )
  },
  (options) => MockCommand.serve(options)
).pipe(
  Command.withDescription(
    "Serve the mock id.twitch.tv (and its Helix routes) on 127.0.0.1, seeded, until Ctrl-C or `mock --stop`; --mock commands use it."
  )
)

/** Marks the handler's run (see `Output.commandRunning`): the command line was valid. */
const running = <Name extends string, R, E, A>(self: Command.Command<Name, R, E, A>): Command.Command<Name, R, E, A> =>
  Command.transformHandler(self, (effect) => Effect.locally(effect, Output.commandRunning, true))

const demo = Command.make("demo", {}, () => Demo.run).pipe(
  Command.withDescription("The whole token lifecycle against an embedded mock Twitch, as a transcript.")
)

/**
 * The `twitch-auth` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("twitch-auth").pipe(
  Command.withDescription("Get and manage Twitch tokens (id.twitch.tv), or try it all on a mock Twitch."),
  Command.withSubcommands([
    running(login),
    running(appToken),
    running(validate),
    running(refresh),
    running(revoke),
    running(whoami),
    running(profiles),
    running(mock),
    running(demo)
  ])
)

/**
 * Runs `twitch-auth` on the process's arguments (`process.argv`, the first two being node
 * and the script).
 *
 * @since 0.1.0
 * @category running
 */
export const run: (
  argv: ReadonlyArray<string>
) => Effect.Effect<
  void,
  CliError.CliError | ValidationError.ValidationError,
  CliApp.CliApp.Environment | FileSystem.FileSystem | Path.Path
> = Command.run(command, { name: "twitch-auth", version })
