/**
 * How commands talk: results on stdout (lines for people, or one JSON document with
 * `--json`), progress and prompts on stderr, so `--json` output can be piped as is. Tokens
 * appear only with `--show-token`; a client secret never.
 */
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import type * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

export interface Output {
  readonly json: boolean
  readonly showToken: boolean
  /** Progress for people, on stderr (also with `--json`, where stdout is reserved). */
  readonly info: (line: string) => Effect.Effect<void>
  /** The command's result: `human` lines, or `data` as JSON. */
  readonly result: (human: ReadonlyArray<string>, data: Record<string, unknown>) => Effect.Effect<void>
  /** A token's value if `--show-token`, else `undefined` (left out of JSON). */
  readonly secret: (value: Redacted.Redacted<string>) => string | undefined
  /** A token as a human line's value: the token, or a note on how to see it. */
  readonly secretText: (value: Redacted.Redacted<string>) => string
}

export const make = (options: {
  readonly json: boolean
  readonly showToken: boolean
  /** Where progress goes: stderr (default), or stdout for a transcript. */
  readonly progress?: "stderr" | "stdout" | undefined
}): Output => ({
  json: options.json,
  showToken: options.showToken,
  info: (line) => (options.progress === "stdout" ? Console.log(line) : Console.error(line)),
  result: (human, data) => options.json ? Console.log(JSON.stringify(data, null, 2)) : Console.log(human.join("\n")),
  secret: (value) => (options.showToken ? Redacted.value(value) : undefined),
  secretText: (value) => (options.showToken ? Redacted.value(value) : "(hidden; --show-token to print it)")
})

/** `label   value`, aligned for the human output. */
export const field = (label: string, value: string): string => `  ${`${label}:`.padEnd(15)} ${value}`

/** A duration for people: `3h 59m`, `58d 4h`, `42s`. */
export const humanDuration = (millis: number): string => {
  const seconds = Math.max(0, Math.round(millis / 1000))
  const d = Math.floor(seconds / 86400)
  const h = Math.floor((seconds % 86400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`
  if (m > 0) return s > 0 && m < 10 ? `${m}m ${s}s` : `${m}m`
  return `${s}s`
}

/** `in 3h 59m (2025-…Z)`, `expired`, or `never`. */
export const expiryText = (expiresAt: Option.Option<DateTime.Utc>, now: DateTime.Utc): string =>
  Option.match(expiresAt, {
    onNone: () => "never",
    onSome: (at) => {
      const left = DateTime.toEpochMillis(at) - DateTime.toEpochMillis(now)
      return left <= 0
        ? `expired (${DateTime.formatIso(at)})`
        : `in ${humanDuration(left)} (${DateTime.formatIso(at)})`
    }
  })

/** An expiry as JSON: ISO date or `null`. */
export const expiryJson = (expiresAt: Option.Option<DateTime.Utc>): string | null =>
  Option.match(expiresAt, { onNone: () => null, onSome: DateTime.formatIso })

export const scopesText = (scopes: ReadonlyArray<string>): string => (scopes.length === 0 ? "(none)" : scopes.join(" "))

/**
 * `true` while a command's handler runs (set by `TwitchAuthCli`): what `@effect/cli` prints on
 * stderr before that is its account of a bad command line, which `--json` replaces with one
 * JSON document.
 */
export const commandRunning: FiberRef.FiberRef<boolean> = FiberRef.unsafeMake(false)
