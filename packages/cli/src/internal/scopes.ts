/**
 * `--scope` values: repeated, or several in one value separated by spaces or commas; each
 * one checked against the SDK's `TwitchScope` (every scope Twitch documents) before anything is
 * sent to Twitch, with the nearest known scope suggested for a typo.
 */
import * as TwitchScope from "@effect-twitch/auth/TwitchScope"
import * as Effect from "effect/Effect"
import * as CliError from "../CliError.js"

const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** The documented scope closest to `scope`, if it is close enough to be a typo of it. */
const nearest = (scope: string): string | undefined => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const known of TwitchScope.all) {
    const d = distance(scope.toLowerCase(), known)
    if (d < bestDistance) {
      best = known
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(2, Math.floor(scope.length / 4)) ? best : undefined
}

/** Splits, de-duplicates and checks the scopes given with `--scope`. */
export const parse = (values: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, CliError.CliError> => {
  const scopes = TwitchScope.parse(values.join(" ").replace(/,/g, " "))
  const unknown = scopes.filter((scope) => !TwitchScope.isScope(scope))
  const [first] = unknown
  if (first === undefined) return Effect.succeed(scopes)
  const suggestion = nearest(first)
  return Effect.fail(
    CliError.usage(
      "UnknownScope",
      `unknown scope ${JSON.stringify(first)}${suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`}` +
        `${
          unknown.length > 1 ? ` (and ${unknown.length - 1} more)` : ""
        }: see https://dev.twitch.tv/docs/authentication/scopes/`
    )
  )
}
