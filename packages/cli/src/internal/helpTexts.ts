/**
 * The help texts of the bundled launcher (`launcher.ts`), made at build time by running the
 * real command definition (`TwitchAuthCli.command`) through `@effect/cli` for each command
 * line that only asks for help or the version, and keeping what it printed on stdout. A test
 * (`test/FastHelp.test.ts`) checks that the launcher prints exactly what the full CLI prints.
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Util from "node:util"
import * as TwitchAuthCli from "../TwitchAuthCli.js"

/** The command lines (after `node twitch-auth`) the launcher answers by itself. */
export const commandLines: ReadonlyArray<ReadonlyArray<string>> = [
  [],
  ["--help"],
  ["-h"],
  ["--version"],
  ...Array.from(HashMap.keys(Command.getSubcommands(TwitchAuthCli.command))).sort().flatMap((name) => [
    [name, "--help"],
    [name, "-h"]
  ])
]

/** The key of a command line in `helpTable.texts`. */
export const key = (args: ReadonlyArray<string>): string => JSON.stringify(args)

/** What the CLI printed for one command line, and whether it printed on stderr or failed. */
interface Printed {
  readonly stdout: string
  readonly clean: boolean
}

/** Runs the CLI on one command line, keeping what it prints (as `console.log` would write it). */
const printed = (
  args: ReadonlyArray<string>
): Effect.Effect<Printed, never, CliApp.CliApp.Environment | FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(Effect.console, (console) => {
    const stdout: Array<string> = []
    let clean = true
    const captured = Console.withConsole(TwitchAuthCli.run(["node", "twitch-auth", ...args]), {
      ...console,
      log: (...values) => Effect.sync(() => void stdout.push(`${Util.format(...values)}\n`)),
      error: () => Effect.sync(() => void (clean = false))
    })
    return Effect.match(captured, {
      onFailure: () => ({ stdout: stdout.join(""), clean: false }),
      onSuccess: () => ({ stdout: stdout.join(""), clean })
    })
  })

/**
 * The table of `helpTable.ts`: for each of {@link commandLines}, what the CLI printed on
 * stdout, less its final newline. Fails (with the command line) if one of them printed on stderr or failed: such a
 * command line is not only asking for help.
 */
export const generate: Effect.Effect<
  Record<string, string>,
  string,
  CliApp.CliApp.Environment | FileSystem.FileSystem | Path.Path
> = Effect.reduce(
  commandLines,
  {},
  (table: Record<string, string>, args) =>
    Effect.flatMap(printed(args), (result) =>
      result.clean && result.stdout.endsWith("\n")
        // without the final newline: the launcher prints it with one `console.log`, which adds it
        ? Effect.succeed({ ...table, [key(args)]: result.stdout.slice(0, -1) })
        : Effect.fail(`twitch-auth ${args.join(" ")} does not only print help`))
)
