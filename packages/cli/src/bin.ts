/**
 * The `twitch-auth` executable: runs the command, prints a failure as one line on stderr
 * (a JSON object with `--json`), and exits with the code its kind implies (see
 * `CliError.ExitCode`). Bundled into `bin/twitch-auth.js` by `scripts/build.ts`.
 *
 * @since 0.1.0
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as CliError from "./CliError.js"
import * as TwitchAuthCli from "./TwitchAuthCli.js"

const json = process.argv.includes("--json")

const report = (error: CliError.CliError): Effect.Effect<number> =>
  Effect.as(
    json
      ? Console.error(JSON.stringify({ error: { reason: error.reason, message: error.text, exitCode: error.exitCode } }))
      : Console.error(`twitch-auth: ${error.text}`),
    error.exitCode
  )

const main: Effect.Effect<number, never, NodeContext.NodeContext> = TwitchAuthCli.run(process.argv).pipe(
  Effect.as(CliError.ExitCode.Ok),
  Effect.catchAll((error) =>
    // @effect/cli has printed what was wrong with the command line, and the help.
    ValidationError.isValidationError(error) ? Effect.succeed(CliError.ExitCode.Usage) : report(error)
  ),
  Effect.catchAllCause((cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.succeed(130)
      : report(CliError.failure("Defect", `unexpected failure: ${Cause.pretty(cause).split("\n")[0] ?? "unknown"}`))
  ),
  Logger.withMinimumLogLevel(LogLevel.None)
)

NodeRuntime.runMain(main.pipe(Effect.provide(NodeContext.layer)), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 130)
})
