/**
 * The on-disk format of the file token store, and the pure helpers around it: decoding a
 * file's text into tokens (classifying what is wrong without ever quoting the file, whose
 * values are tokens), encoding tokens back, and the checks on keys.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { UserToken } from "../Token.js"
import * as Wire from "./wire.js"

/** The format version this code reads and writes. */
export const currentVersion = 1 as const

/**
 * `{ "version": 1, "tokens": { "<key>": <encoded UserToken> } }`; decoded, the tokens are a
 * `ReadonlyMap` (so no key can collide with an object's prototype).
 */
export const StoreFile = Schema.Struct({
  version: Schema.Literal(currentVersion),
  tokens: Schema.ReadonlyMapFromRecord({ key: Schema.String, value: UserToken })
})

/** The file's text: {@link StoreFile} as JSON, indented for people who look at it. */
export const StoreFileFromJson = Schema.parseJson(StoreFile, { space: 2 })

/** Why a file could not be decoded: a reason and a description by field path only. */
export interface DecodeFailure {
  readonly reason: "Corrupted" | "UnsupportedVersion"
  readonly detail: string
}

/**
 * Describes a decoding failure by the paths of the offending fields, never by their values
 * (which are tokens), at most five of them. Paths are JSON object keys: the keys of `tokens`
 * are the store's keys (user ids), not secrets.
 */
export const describeParseError = (error: ParseResult.ParseError): string =>
  Wire.describeParseError(error, { root: "the top level", max: 5 })

const decodeJson = Schema.decodeUnknownEither(Schema.parseJson())
const decodeFile = Schema.decodeUnknownEither(StoreFileFromJson, { errors: "all" })

/**
 * Decodes a store file's text. Not JSON, or the wrong shape: `Corrupted`; a numeric
 * `version` other than {@link currentVersion}: `UnsupportedVersion`.
 */
export const decode = (text: string): Either.Either<ReadonlyMap<string, UserToken>, DecodeFailure> =>
  Either.match(decodeFile(text), {
    onRight: (file) => Either.right(file.tokens),
    onLeft: (error) =>
      Either.left(Either.match(decodeJson(text), {
        onLeft: (): DecodeFailure => ({ reason: "Corrupted", detail: "the file is not valid JSON" }),
        onRight: (json): DecodeFailure =>
          Predicate.hasProperty(json, "version") && typeof json.version === "number" &&
            json.version !== currentVersion
            ? {
              reason: "UnsupportedVersion",
              detail:
                `the file is format version ${json.version}, and this version of the library reads only version ${currentVersion}`
            }
            : { reason: "Corrupted", detail: describeParseError(error) }
      }))
  })

/** The name of a key that cannot be stored, or `undefined` when the key is fine. */
export const invalidKey = (key: string): string | undefined =>
  key.trim().length === 0
    ? "the key is empty; use a non-empty key such as the user's id"
    : key === "__proto__"
    ? "the key \"__proto__\" is reserved; use the user's id"
    : undefined

/** The temporary file a write goes through: hidden, next to the target, unique. */
export const temporaryName = (basename: string, random: string): string => `.${basename}.${random}.tmp`

const plainKey = /^[A-Za-z0-9_-]{1,64}$/

/** A 53-bit hash of a string (cyrb53), as hex: names the lock of a key that cannot name a file. */
const hash = (text: string): string => {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16)
}

/**
 * The lock file of one key, next to the store: the key itself when it is a safe file name
 * (user ids are), else a hash of it. Two keys sharing a name share a lock: never wrong, only
 * less concurrent.
 */
export const keyLockName = (basename: string, key: string): string =>
  plainKey.test(key) ? `.${basename}.key-${key}.lock` : `.${basename}.hash-${hash(key)}.lock`

/** The file's text for `tokens`; a failure is described by field paths only. */
export const encode = (tokens: ReadonlyMap<string, UserToken>): Effect.Effect<string, string> =>
  Effect.mapError(
    Schema.encode(StoreFileFromJson)({ version: currentVersion, tokens }),
    (error) => `the tokens could not be encoded (${describeParseError(error)})`
  )
