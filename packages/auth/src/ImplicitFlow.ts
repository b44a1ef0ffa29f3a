/**
 * The implicit flow: for apps without a server (a single-page app, a browser extension) that
 * cannot keep a client secret. Twitch redirects with the access token in the URL fragment
 * (`#access_token=…&scope=…&state=…&token_type=bearer`) — no refresh token and no
 * `expires_in`: validate the token to learn when it expires, and send the user through the
 * flow again when it does. With OpenID Connect (`responseType: "token id_token"` and the
 * `openid` scope) the fragment also carries an `id_token`.
 *
 * Twitch sends errors (`access_denied`, `redirect_mismatch`) in the query string, not the
 * fragment, even in this flow: give {@link parseRedirect} the whole URL.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AuthorizationCode from "./AuthorizationCode.js"
import { type AuthorizationRequest, type AuthorizationUrlOptions, TwitchAuth } from "./TwitchAuth.js"
import {
  type AccessDenied,
  type AuthorizationFailed,
  MalformedRedirect,
  type MissingRedirectUri,
  type RedirectUriMismatch,
  type StateMismatch
} from "./TwitchAuthError.js"
import * as TwitchScope from "./TwitchScope.js"

/**
 * A user access token from the implicit flow. It cannot be refreshed.
 *
 * @since 0.1.0
 * @category models
 */
export class ImplicitToken extends Schema.Class<ImplicitToken>("@effect-twitch/auth/ImplicitToken")({
  accessToken: Schema.Redacted(Schema.String),
  scopes: Schema.Array(Schema.String),
  /** The OpenID Connect ID token, unverified (`OpenIdConnect.verifyIdToken`), when asked for. */
  idToken: Schema.OptionFromNullOr(Schema.Redacted(Schema.String))
}) {}

/**
 * How an implicit redirect can be refused.
 *
 * @since 0.1.0
 * @category errors
 */
export type RedirectError = StateMismatch | AccessDenied | RedirectUriMismatch | AuthorizationFailed | MalformedRedirect

/**
 * The consent URL of the implicit flow (`response_type=token`, or `token id_token` when
 * asked): `TwitchAuth.authorizationUrl` with the response type set.
 *
 * @since 0.1.0
 * @category constructors
 */
export const authorizationUrl = (
  options: Omit<AuthorizationUrlOptions, "responseType"> & {
    readonly responseType?: "token" | "token id_token" | undefined
  } = {}
): Effect.Effect<AuthorizationRequest, MissingRedirectUri, TwitchAuth> =>
  Effect.flatMap(
    TwitchAuth,
    (auth) => auth.authorizationUrl({ ...options, responseType: options.responseType ?? "token" })
  )

const splitUrl = (redirect: string | URL): { readonly query: string; readonly fragment: string } => {
  const text = redirect instanceof URL ? redirect.href : redirect
  const hash = text.indexOf("#")
  const beforeHash = hash >= 0 ? text.slice(0, hash) : text
  const fragment = hash >= 0 ? text.slice(hash + 1) : ""
  const question = beforeHash.indexOf("?")
  return { query: question >= 0 ? beforeHash.slice(question + 1) : "", fragment }
}

/**
 * Reads an implicit-flow redirect — the whole URL (`location.href`), or just its fragment
 * (`location.hash`, with or without `#`). Checks the state first, then an error in the
 * query string, then takes the token from the fragment.
 *
 * @example
 * ```ts
 * import { ImplicitFlow } from "@effect-twitch/auth"
 * import { Either, type Redacted } from "effect"
 *
 * // your code that calls Twitch with the token
 * declare const useToken: (accessToken: Redacted.Redacted<string>) => void
 *
 * const result = ImplicitFlow.parseRedirect(window.location.href, { state: sessionStorage.getItem("state")! })
 * if (Either.isRight(result)) useToken(result.right.accessToken)
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRedirect = (
  redirect: string | URL,
  expected: { readonly state: string; readonly redirectUri?: string | undefined }
): Either.Either<ImplicitToken, RedirectError> => {
  const bare = typeof redirect === "string" && !redirect.includes("?") && !redirect.includes("://")
  const { fragment, query } = bare
    ? { query: "", fragment: redirect.startsWith("#") ? redirect.slice(1) : redirect }
    : splitUrl(redirect)
  const fromQuery = AuthorizationCode.toParams(new URLSearchParams(query))
  const fromFragment = AuthorizationCode.toParams(new URLSearchParams(fragment))
  return Either.gen(function*() {
    // An error redirect carries its state in the query; a success in the fragment.
    const errored = fromQuery.has("error")
    yield* AuthorizationCode.checkState(errored ? fromQuery : fromFragment, expected.state)
    yield* AuthorizationCode.checkError(fromQuery, "Implicit", expected.redirectUri ?? "(the configured redirect URI)")
    const accessToken = fromFragment.get("access_token")
    const idToken = Option.filter(Option.fromNullable(fromFragment.get("id_token")), (s) => s.length > 0)
    if (accessToken === undefined || accessToken === "") {
      return yield* Either.left(new MalformedRedirect({ detail: "its fragment has no `access_token`" }))
    }
    return new ImplicitToken({
      accessToken: Redacted.make(accessToken),
      scopes: TwitchScope.parse(fromFragment.get("scope") ?? ""),
      idToken: Option.map(idToken, Redacted.make)
    })
  })
}
