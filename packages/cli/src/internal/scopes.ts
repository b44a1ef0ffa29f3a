/**
 * `--scope` values: repeated, or several in one value separated by spaces or commas; each
 * one checked before anything is sent to Twitch.
 */
import * as Effect from "effect/Effect"
import * as CliError from "../CliError.js"

const shape = /^[a-z0-9_]+(?::[a-z0-9_]+)*$/

/** Splits, de-duplicates and checks the scopes given with `--scope`. */
export const parse = (values: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, CliError.CliError> => {
  const scopes = Array.from(new Set(values.flatMap((value) => value.split(/[\s,]+/)).filter((s) => s.length > 0)))
  const unknown = scopes.filter((scope) => !shape.test(scope))
  return unknown.length === 0
    ? Effect.succeed(scopes)
    : Effect.fail(
      CliError.usage(
        "UnknownScope",
        `unknown scope${unknown.length > 1 ? "s" : ""} ${unknown.map((s) => JSON.stringify(s)).join(", ")}`
      )
    )
}
