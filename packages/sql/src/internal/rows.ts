/**
 * The table's rows and the pure helpers around them: decoding a row into a token (naming
 * the columns at fault, never their values, which are tokens), the checks on table names
 * and keys, and errors that never carry a token, a SQL parameter or a server message.
 */
import * as Token from "@effect-twitch/auth/Token"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/** The default table. */
export const defaultTable = "effect_twitch_tokens"

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** Why `table` cannot name the table, or `undefined` when it can. */
export const invalidTable = (table: string): string | undefined =>
  identifier.test(table)
    ? undefined
    : "the table name must be 1-63 letters, digits or _ and not start with a digit (it is written into SQL unquoted)"

/** Milliseconds since the epoch: PostgreSQL's `bigint` arrives as a string, SQLite's as a number. */
const Millis = Schema.Union(Schema.Number, Schema.NumberFromString).pipe(
  Schema.filter((n) => Number.isSafeInteger(n), { message: () => "not an integer number of milliseconds" })
)

/** A row as the database returns it. */
export const Row = Schema.Struct({
  access_token: Schema.NonEmptyString,
  refresh_token: Schema.NonEmptyString,
  scopes: Schema.parseJson(Schema.Array(Schema.String)),
  obtained_at: Millis,
  expires_at: Schema.NullOr(Millis)
})

const decodeRow = Schema.decodeUnknownEither(Row, { errors: "all" })

/** The columns at fault in a decoding failure, by name only. */
const columnsAtFault = (error: ParseResult.ParseError): string => {
  const columns = new Set<string>()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const column = issue.path[0]
    columns.add(typeof column === "string" ? column : "the row")
  }
  return Array.from(columns).slice(0, 5).join(", ")
}

/** A row decoded into a token, or a description of the columns at fault. */
export const toToken = (row: unknown): Either.Either<Token.UserToken, string> =>
  Either.flatMap(
    Either.mapLeft(decodeRow(row), (error) => `invalid column(s): ${columnsAtFault(error)}`),
    (decoded) => {
      const obtainedAt = DateTime.make(decoded.obtained_at)
      const expiresAt = decoded.expires_at === null ? Option.some(Option.none()) : Option.map(
        DateTime.make(decoded.expires_at),
        Option.some
      )
      if (Option.isNone(obtainedAt)) return Either.left("invalid column(s): obtained_at")
      if (Option.isNone(expiresAt)) return Either.left("invalid column(s): expires_at")
      return Either.right(
        new Token.UserToken({
          accessToken: Redacted.make(decoded.access_token),
          refreshToken: Redacted.make(decoded.refresh_token),
          scopes: decoded.scopes,
          obtainedAt: DateTime.toUtc(obtainedAt.value),
          expiresAt: Option.map(expiresAt.value, DateTime.toUtc)
        })
      )
    }
  )

/** A token's columns, as written. */
export interface Columns {
  readonly access_token: string
  readonly refresh_token: string
  readonly scopes: string
  readonly obtained_at: number
  readonly expires_at: number | null
}

/** The columns of `token` (the secrets unwrapped here, for the statement's parameters only). */
export const toColumns = (token: Token.UserToken): Columns => ({
  access_token: Redacted.value(token.accessToken),
  refresh_token: Redacted.value(token.refreshToken),
  scopes: JSON.stringify(token.scopes),
  obtained_at: DateTime.toEpochMillis(token.obtainedAt),
  expires_at: Option.match(token.expiresAt, { onNone: () => null, onSome: DateTime.toEpochMillis })
})

/**
 * What went wrong with a statement, without the server's message (which may quote a
 * parameter) or the statement's parameters: the driver's error code (an SQLSTATE such as
 * `57P01`, or a system error such as `ECONNREFUSED`) when there is one.
 */
export const describeSqlError = (what: string, error: unknown): string => {
  const cause = Predicate.hasProperty(error, "cause") ? error.cause : undefined
  const code = Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? cause.code : undefined
  const safeCode = code !== undefined && /^[A-Z0-9_]{1,32}$/.test(code) ? code : undefined
  return safeCode === undefined ? `${what} failed` : `${what} failed (${safeCode})`
}

/** The store's errors name the table as their `path`: `sql:<table>`. */
export const storePath = (table: string): string => `sql:${table}`

/** A `TokenStoreError` for the store on `table`. */
export const storeError = (
  table: string,
  reason: TokenStoreError["reason"],
  detail: string
): TokenStoreError => new TokenStore.TokenStoreError({ reason, path: storePath(table), detail })

type TokenStoreError = TokenStore.TokenStoreError
