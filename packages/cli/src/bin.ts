/**
 * The `twitch-auth` executable: runs the command, prints a failure as one line on stderr
 * (a JSON object with `--json`), and exits with the code its kind implies (see
 * `CliError.ExitCode`). Bundled into `bin/twitch-auth.js` by `scripts/build.ts`.
 *
 * @since 0.1.0
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import { identity } from "effect/Function"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as CliError from "./CliError.js"
import * as Output from "./internal/output.js"
import * as TwitchAuthCli from "./TwitchAuthCli.js"

const json = process.argv.includes("--json")

const report = (error: CliError.CliError): Effect.Effect<number> =>
  Effect.as(
    json
      ? Console.error(
        JSON.stringify({ error: { reason: error.reason, message: error.text, exitCode: error.exitCode } })
      )
      : Console.error(`twitch-auth: ${error.text}`),
    error.exitCode
  )

/** A bad command line (unknown command or flag, missing or invalid value), told in one line. */
const usageError = (error: ValidationError.ValidationError): CliError.CliError => {
  const text = "error" in error
    // eslint-disable-next-line no-control-regex
    ? HelpDoc.toAnsiText(error.error).replace(/\x1b\[[0-9;]*m/g, "").replace(/\s+/g, " ").trim()
    : ""
  return CliError.usage(error._tag, text.length === 0 ? "invalid command line: see twitch-auth --help" : text)
}

/**
 * With `--json`, what @effect/cli would print on stderr about a bad command line is held
 * back (the failure is then reported as one JSON document); once a command runs, its
 * progress lines go to stderr as usual.
 */
const quietUsage = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.console, (console) =>
    Console.withConsole(effect, {
      ...console,
      error: (...args) =>
        Effect.flatMap(FiberRef.get(Output.commandRunning), (running) => running ? console.error(...args) : Effect.void)
    }))

const main: Effect.Effect<number, never, NodeContext.NodeContext> = TwitchAuthCli.run(process.argv).pipe(
  json ? quietUsage : identity,
  Effect.as(CliError.ExitCode.Ok),
  Effect.catchAll((error) =>
    ValidationError.isValidationError(error)
      // @effect/cli has printed what was wrong with the command line (held back with --json)
      ? json ? report(usageError(error)) : Effect.succeed(CliError.ExitCode.Usage)
      : report(error)
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
