/**
 * The callback server of `login`. It listens where the redirect URI points — 127.0.0.1 for
 * `127.0.0.1`, ::1 for `[::1]`, both loopbacks for `localhost` (::1 only when this machine
 * has it) — at the redirect URI's port, and waits for the one redirect that belongs to this
 * login:
 *
 * - a request whose `Host` header is not the redirect URI's host:port is answered 421 and
 *   ignored (a web page that rebinds a DNS name to 127.0.0.1 cannot talk to it);
 * - a request to the redirect URI's path without this login's `state` (missing, different,
 *   or before the state is known) is answered 400 and ignored: anything on this machine can
 *   send one, so it may not end the login — the login keeps waiting until its timeout;
 * - the first request with the right `state` decides: `AuthorizationCode.parseCallback`
 *   turns it into the code or a typed refusal (`access_denied`, …); later ones get 410.
 *
 * It stops when the login's scope closes.
 */
import * as AuthorizationCode from "@effect-twitch/auth/AuthorizationCode"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as CliError from "../CliError.js"
import { errnoCode, listenError } from "./environment.js"

/** What the redirect brought: the code and the scopes Twitch says were granted. */
export interface Authorized {
  readonly code: string
  readonly scopes: ReadonlyArray<string>
}

export interface CallbackServer {
  /** The redirect URI to put in the authorization URL (with the actual port). */
  readonly redirectUri: string
  /** Sets the `state` the redirect must carry. */
  readonly expectState: (state: string) => Effect.Effect<void>
  /** Waits for the redirect. */
  readonly authorized: Effect.Effect<Authorized, CliError.CliError>
}

/** A loopback redirect URI, as the callback server needs it. */
export interface RedirectTarget {
  /** The URI's host as the URL parser normalizes it: `localhost`, `127.0.0.1` or `[::1]`. */
  readonly hostname: "localhost" | "127.0.0.1" | "[::1]"
  /** 0 asks for any free port. */
  readonly port: number
  readonly path: string
}

const loopbackHosts: ReadonlyArray<RedirectTarget["hostname"]> = ["localhost", "127.0.0.1", "[::1]"]

const asLoopback = (hostname: string): Option.Option<RedirectTarget["hostname"]> =>
  Option.fromNullable(loopbackHosts.find((host) => host === hostname))

/** Checks that the CLI can receive redirects to `uri`: http, on this machine, with a port. */
export const parseRedirectUri = (uri: string): Either.Either<RedirectTarget, CliError.CliError> => {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return Either.left(
      CliError.usage("InvalidRedirectUri", `invalid redirect URI ${JSON.stringify(uri)}: not an absolute URL`)
    )
  }
  const hostname = asLoopback(url.hostname)
  if (url.protocol !== "http:" || Option.isNone(hostname)) {
    return Either.left(
      CliError.usage(
        "InvalidRedirectUri",
        `the redirect URI must be http://localhost:<port>/<path> (or 127.0.0.1, [::1]) for twitch-auth to receive it, got ${
          JSON.stringify(uri)
        }`
      )
    )
  }
  return Either.right({ hostname: hostname.value, port: url.port === "" ? 80 : Number(url.port), path: url.pathname })
}

/**
 * The `Host` header values a browser sends for the redirect URI: `host:port`, and the bare
 * host when the port is HTTP's default. Compared case-insensitively.
 */
const expectedHosts = (hostname: string, port: number): ReadonlySet<string> =>
  new Set(port === 80 ? [`${hostname}:80`, hostname] : [`${hostname}:${port}`])

const page = (title: string, text: string, status: number) =>
  HttpServerResponse.text(
    `<!doctype html><meta charset="utf-8"><title>twitch-auth</title>` +
      `<body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body>`,
    { status, contentType: "text/html; charset=utf-8" }
  )

/** `None` for a request that does not carry this login's state: it is ignored. */
const decide = (
  params: URLSearchParams,
  expected: { readonly state: string; readonly redirectUri: string }
): Option.Option<Either.Either<Authorized, CliError.CliError>> =>
  Either.match(AuthorizationCode.parseCallback(params, expected), {
    onLeft: (error) =>
      error._tag === "StateMismatch" ? Option.none() : Option.some(Either.left(CliError.fromTwitchError(error))),
    onRight: (callback) => Option.some(Either.right({ code: Redacted.value(callback.code), scopes: callback.scopes }))
  })

const listen = (host: string, port: number, what: string) =>
  NodeHttpServer.make(() => Http.createServer(), { port, host }).pipe(
    Effect.mapError((error) => ({ error, mapped: listenError(what, port, host)(error) }))
  )

/** Starts listening; the server stops when the scope closes. */
export const start = (redirectUri: string): Effect.Effect<CallbackServer, CliError.CliError, Scope.Scope> =>
  Effect.gen(function*() {
    const target = yield* Either.match(parseRedirectUri(redirectUri), { onLeft: Effect.fail, onRight: Effect.succeed })
    const what = `the callback server for ${redirectUri}`
    // [::1] → ::1 only; 127.0.0.1 and localhost → 127.0.0.1 first (it picks the port when 0).
    const first = target.hostname === "[::1]" ? "::1" : "127.0.0.1"
    const primary = yield* listen(first, target.port, what).pipe(
      Effect.mapError(({ error, mapped }) => {
        const code = errnoCode(error.cause)
        return first === "::1" && (code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT")
          ? CliError.localResource(
            "CannotListen",
            `this machine has no IPv6 loopback (::1, ${code}), so ${redirectUri} cannot reach twitch-auth: register and use http://127.0.0.1:${target.port}${target.path} instead`
          )
          : mapped
      })
    )
    const port = primary.address._tag === "TcpAddress" ? primary.address.port : target.port
    // localhost may resolve to ::1 in the browser: listen there too, or another program on
    // [::1]:port would receive the redirect. No IPv6 on this machine: 127.0.0.1 is enough.
    const secondary = target.hostname === "localhost"
      ? yield* listen("::1", port, what).pipe(
        Effect.map(Option.some),
        Effect.catchAll(({ error, mapped }) => {
          const code = errnoCode(error.cause)
          return code === "EADDRNOTAVAIL" || code === "EAFNOSUPPORT"
            ? Effect.succeed(Option.none())
            : Effect.fail(mapped)
        })
      )
      : Option.none()
    const url = new URL(redirectUri)
    url.port = String(port)
    const hosts = expectedHosts(target.hostname, port)
    const expected = yield* Ref.make(Option.none<string>())
    const outcome = yield* Deferred.make<Authorized, CliError.CliError>()

    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const requested = new URL(request.url, "http://127.0.0.1")
      if (request.method !== "GET" || requested.pathname !== target.path) {
        return page("Not found", "This is twitch-auth's login callback; nothing lives here.", 404)
      }
      if (!hosts.has((request.headers["host"] ?? "").toLowerCase())) {
        return page("Misdirected request", "This request was not addressed to twitch-auth's redirect URI.", 421)
      }
      if (yield* Deferred.isDone(outcome)) {
        return page("Already done", "twitch-auth already received a redirect; you can close this tab.", 410)
      }
      const state = yield* Ref.get(expected)
      const decision = Option.flatMap(
        state,
        (state) => decide(requested.searchParams, { state, redirectUri: url.toString() })
      )
      if (Option.isNone(decision)) {
        return page(
          "Not this login",
          "This redirect does not carry the state of the login in progress (a stale or forged redirect); it was ignored and twitch-auth is still waiting.",
          400
        )
      }
      const first = yield* Deferred.complete(
        outcome,
        Either.match(decision.value, { onLeft: Effect.fail, onRight: Effect.succeed })
      )
      if (!first) {
        return page("Already done", "twitch-auth already received a redirect; you can close this tab.", 410)
      }
      return Either.match(decision.value, {
        onLeft: (error) => page("Login failed", `${escapeHtml(error.text)}. You can close this tab.`, 400),
        onRight: () => page("Logged in", "twitch-auth received the authorization. You can close this tab.", 200)
      })
    })
    yield* primary.serve(app)
    if (Option.isSome(secondary)) yield* secondary.value.serve(app)
    return {
      redirectUri: url.toString(),
      expectState: (state) => Ref.set(expected, Option.some(state)),
      authorized: Deferred.await(outcome)
    }
  })

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
