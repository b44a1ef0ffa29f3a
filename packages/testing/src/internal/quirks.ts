/**
 * Reading quirk settings written as text (`name=value`), generic over a record of defaults:
 * a boolean quirk takes `true`/`false` with nothing else to declare, any other quirk takes one
 * of its listed choices. Not part of the public API (FakeTwitch exports the Twitch-specific
 * functions).
 */
import * as Either from "effect/Either"

/** The values a quirk can take. */
export type QuirkValue = string | number | boolean

/**
 * The choices of every quirk that is not a boolean (booleans need none): adding a non-boolean
 * quirk to `Q` without listing its choices does not compile.
 */
export type Choices<Q> = {
  readonly [K in keyof Q as boolean extends Q[K] ? never : K]: ReadonlyArray<Q[K]>
}

const isKeyOf = <O extends object>(o: O, key: PropertyKey): key is keyof O => Object.hasOwn(o, key)

/** The candidates of the same runtime type as `example` (for booleans: `true` and `false`). */
const sameType = <V>(example: V, candidates: ReadonlyArray<unknown>): ReadonlyArray<V> =>
  candidates.filter((c): c is V => typeof c === typeof example)

/** What a quirk accepts, in order. */
const allowedValues = <Q extends { readonly [P in keyof Q]: QuirkValue }, K extends keyof Q>(
  defaults: Q,
  choices: Partial<{ readonly [P in keyof Q]: ReadonlyArray<Q[P]> }>,
  name: K
): ReadonlyArray<Q[K]> => choices[name] ?? sameType(defaults[name], [false, true])

/** `name=a|b|c` for every quirk, for error messages. */
export const describeQuirks = <Q extends { readonly [P in keyof Q]: QuirkValue }>(
  defaults: Q,
  choices: Partial<{ readonly [P in keyof Q]: ReadonlyArray<Q[P]> }>
): string =>
  Object.keys(defaults)
    .filter((name) => isKeyOf(defaults, name))
    .map((name) => `${name}=${allowedValues(defaults, choices, name).map(String).join("|")}`)
    .join(", ")

/**
 * Parses `name=value` settings; a later setting of the same quirk wins. `Left` names the
 * first bad setting and lists the valid quirks and values.
 */
export const parseQuirkSpecs = <Q extends { readonly [P in keyof Q]: QuirkValue }>(
  defaults: Q,
  choices: Partial<{ readonly [P in keyof Q]: ReadonlyArray<Q[P]> }>,
  specs: ReadonlyArray<string>
): Either.Either<Partial<Q>, string> => {
  const out: Partial<Q> = {}
  const valid = () => `valid quirks: ${describeQuirks(defaults, choices)}`
  for (const spec of specs) {
    const equals = spec.indexOf("=")
    if (equals < 0) return Either.left(`quirk setting "${spec}" is not name=value; ${valid()}`)
    const name = spec.slice(0, equals).trim()
    const raw = spec.slice(equals + 1).trim()
    if (!isKeyOf(defaults, name)) return Either.left(`unknown quirk "${name}"; ${valid()}`)
    const allowed = allowedValues(defaults, choices, name)
    const value = allowed.find((candidate) => String(candidate) === raw)
    if (value === undefined) {
      return Either.left(
        `quirk "${name}" cannot be "${raw}": expected ${allowed.map(String).join(" or ")}; ${valid()}`
      )
    }
    out[name] = value
  }
  return Either.right(out)
}

/** Splits `name=value,name=value` (blanks ignored) into settings for {@link parseQuirkSpecs}. */
export const splitQuirkList = (list: string): ReadonlyArray<string> =>
  list.split(",").map((s) => s.trim()).filter((s) => s.length > 0)

/** `defaults` with every quirk `overrides` sets (an `undefined` leaves the default). */
export const withQuirks = <Q extends { readonly [P in keyof Q]: QuirkValue }>(
  defaults: Q,
  overrides: Partial<Q>
): Q => {
  const out: Q = { ...defaults }
  for (const name of Object.keys(defaults)) {
    if (!isKeyOf(defaults, name)) continue
    const value = overrides[name]
    if (value !== undefined) out[name] = value
  }
  return out
}
