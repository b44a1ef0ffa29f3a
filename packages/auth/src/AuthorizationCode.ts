/**
 * The authorization code flow's second half: the redirect back from Twitch. For web apps and
 * anything with a server that can keep the client secret.
 *
 * 1. `TwitchAuth.authorizationUrl({ scopes })` gives the consent URL and a random `state`;
 *    keep the state (in the user's session) and send the user to the URL.
 * 2. Twitch redirects to your redirect URI with `?code=…&scope=…&state=…` — or with
 *    `?error=access_denied…` when the user refused, or `?error=redirect_mismatch…` (sent to
 *    the app's first registered URI) when the redirect URI is not registered.
 * 3. {@link handleCallback} checks the state first (a callback that does not carry this
 *    request's state is rejected whatever else it says), turns the error redirects into typed
 *    errors, and exchanges the code for a user token.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as Token from "./Token.js"
import { TwitchAuth } from "./TwitchAuth.js"
import type * as TwitchAuthError from "./TwitchAuthError.js"
import {
  AccessDenied,
  AuthorizationFailed,
  MalformedRedirect,
  RedirectUriMismatch,
  StateMismatch
} from "./TwitchAuthError.js"
import * as TwitchScope from "./TwitchScope.js"

/**
 * A redirect's query as your server has it: the full URL (or its path and query), the
 * query string (with or without `?`), `URLSearchParams`, or a record of parameters such as
 * a web framework's `req.query` (the first value of a repeated parameter counts).
 *
 * @since 0.1.0
 * @category models
 */
export type CallbackQuery =
  | string
  | URL
  | URLSearchParams
  | Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/**
 * What the callback must match: the `state` the authorization URL was made with, and the
 * redirect URI it named (sent again with the code exchange; defaults to the configured one).
 *
 * @since 0.1.0
 * @category models
 */
export interface Expected {
  readonly state: string
  readonly redirectUri?: string | undefined
}

/**
 * A checked callback: the code (single use, ~10 minutes) and the scopes Twitch says it
 * granted.
 *
 * @since 0.1.0
 * @category models
 */
export interface Callback {
  readonly code: Redacted.Redacted<string>
  readonly scopes: ReadonlyArray<string>
}

/**
 * How a callback can be refused before any request is made: `TwitchAuthError.CallbackError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type CallbackError = TwitchAuthError.CallbackError

/**
 * How the code exchange can fail (`TwitchAuth.exchangeCode`'s errors):
 * `TwitchAuthError.ExchangeCodeError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type ExchangeError = TwitchAuthError.ExchangeCodeError

/**
 * Reads a {@link CallbackQuery} into parameters (first value of each name).
 *
 * @since 0.1.0
 * @category parsing
 */
export const toParams = (query: CallbackQuery): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  const add = (name: string, value: string) => {
    if (!out.has(name)) out.set(name, value)
  }
  if (query instanceof URL) {
    query.searchParams.forEach((value, name) => add(name, value))
  } else if (query instanceof URLSearchParams) {
    query.forEach((value, name) => add(name, value))
  } else if (typeof query === "string") {
    const at = query.indexOf("?")
    const search = at >= 0 ? query.slice(at + 1) : query.includes("=") ? query : ""
    new URLSearchParams(search.split("#")[0] ?? "").forEach((value, name) => add(name, value))
  } else {
    for (const [name, value] of Object.entries(query)) {
      const first = typeof value === "string" ? value : value?.[0]
      if (first !== undefined) add(name, first)
    }
  }
  return out
}

/** What a `RedirectUriMismatch` names when the caller did not say which URI it used. */
const configuredRedirectUri = "(the configured redirect URI)"

/** Compares two strings in time that depends on their lengths only. */
const sameSecret = (a: string, b: string): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/**
 * Checks the `state` of a redirect: missing or different is a {@link StateMismatch}.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkState = (
  params: ReadonlyMap<string, string>,
  expected: string
): Either.Either<void, StateMismatch> => {
  const state = params.get("state")
  if (state === undefined || state === "") return Either.left(new StateMismatch({ reason: "Missing" }))
  return sameSecret(state, expected) ? Either.void : Either.left(new StateMismatch({ reason: "Different" }))
}

/**
 * Turns an error redirect (`error=…&error_description=…`) into its typed error; `Right` when
 * the redirect carries no error. Twitch sends errors in the query string for every flow,
 * the implicit one included.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkError = (
  params: ReadonlyMap<string, string>,
  flow: "AuthorizationCode" | "Implicit",
  redirectUri: string
): Either.Either<void, AccessDenied | RedirectUriMismatch | AuthorizationFailed> => {
  const error = params.get("error")
  if (error === undefined || error === "") return Either.void
  const description = params.get("error_description") ?? ""
  switch (error) {
    case "access_denied":
      return Either.left(new AccessDenied({ flow, description }))
    case "redirect_mismatch":
      return Either.left(new RedirectUriMismatch({ redirectUri, twitchMessage: description }))
    default:
      return Either.left(new AuthorizationFailed({ error, description }))
  }
}

/**
 * Checks a redirect without exchanging anything: the state, then an error, then the code.
 * `redirectUri` only names the URI in a `RedirectUriMismatch`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseCallback = (
  query: CallbackQuery,
  expected: { readonly state: string; readonly redirectUri?: string | undefined }
): Either.Either<Callback, CallbackError> => {
  const params = toParams(query)
  return Either.gen(function*() {
    yield* checkState(params, expected.state)
    yield* checkError(params, "AuthorizationCode", expected.redirectUri ?? configuredRedirectUri)
    const code = params.get("code")
    if (code === undefined || code === "") {
      return yield* Either.left(new MalformedRedirect({ detail: "it has no `code` parameter" }))
    }
    return { code: Redacted.make(code), scopes: TwitchScope.parse(params.get("scope") ?? "") }
  })
}

/**
 * Handles the redirect back from Twitch: checks the state, maps `error=access_denied` to
 * `AccessDenied` and `error=redirect_mismatch` to `RedirectUriMismatch`, then exchanges the
 * code for a user token.
 *
 * @example
 * ```ts
 * import { AuthorizationCode } from "@effect-twitch/auth"
 * import { Effect } from "effect"
 *
 * // in your /callback route, with the state saved in the user's session
 * const onCallback = (url: string, savedState: string) =>
 *   AuthorizationCode.handleCallback(url, { state: savedState }).pipe(
 *     Effect.catchTags({
 *       StateMismatch: () => Effect.fail("forged or stale callback"),
 *       AccessDenied: () => Effect.fail("the user said no")
 *     })
 *   )
 * ```
 *
 * @since 0.1.0
 * @category callbacks
 */
export const handleCallback = (
  query: CallbackQuery,
  expected: Expected
): Effect.Effect<Token.UserToken, CallbackError | ExchangeError, TwitchAuth> =>
  Effect.flatMap(
    parseCallback(query, expected),
    (callback) =>
      Effect.flatMap(TwitchAuth, (auth) =>
        auth.exchangeCode(Redacted.value(callback.code), { redirectUri: expected.redirectUri }))
  ).pipe(
    Effect.withSpan("AuthorizationCode.handleCallback")
  )
