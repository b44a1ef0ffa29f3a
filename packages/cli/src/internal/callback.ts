/**
 * The one-shot callback server of `login`: it listens on 127.0.0.1 at the redirect URI's
 * port, takes the first request to the redirect URI's path, checks it with the SDK's
 * `AuthorizationCode.parseCallback` (`state` first, then error redirects, then the code), answers the browser with a short page, and hands the code
 * (or the refusal) to the login flow. It stops when the login's scope closes.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as AuthorizationCode from "@effect-twitch/auth/AuthorizationCode"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as CliError from "../CliError.js"
import { listenError } from "./environment.js"

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

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"])

/** Checks that the CLI can receive redirects to `uri`: http, on this machine, with a port. */
export const parseRedirectUri = (
  uri: string
): Either.Either<{ readonly port: number; readonly path: string }, CliError.CliError> => {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return Either.left(CliError.usage("InvalidRedirectUri", `invalid redirect URI ${JSON.stringify(uri)}: not an absolute URL`))
  }
  if (url.protocol !== "http:" || !loopbackHosts.has(url.hostname)) {
    return Either.left(
      CliError.usage(
        "InvalidRedirectUri",
        `the redirect URI must be http://localhost:<port>/<path> for twitch-auth to receive it, got ${JSON.stringify(uri)}`
      )
    )
  }
  return Either.right({ port: url.port === "" ? 80 : Number(url.port), path: url.pathname })
}

const page = (title: string, text: string, status: number) =>
  HttpServerResponse.text(
    `<!doctype html><meta charset="utf-8"><title>twitch-auth</title>` +
      `<body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body>`,
    { status, contentType: "text/html; charset=utf-8" }
  )

const decide = (
  params: URLSearchParams,
  expected: { readonly state: string; readonly redirectUri: string }
): Either.Either<Authorized, CliError.CliError> =>
  Either.match(AuthorizationCode.parseCallback(params, expected), {
    onLeft: (error) => Either.left(CliError.fromTwitchError(error)),
    onRight: (callback) => Either.right({ code: Redacted.value(callback.code), scopes: callback.scopes })
  })

/** Starts listening; the server stops when the scope closes. */
export const start = (redirectUri: string): Effect.Effect<CallbackServer, CliError.CliError, Scope.Scope> =>
  Effect.gen(function*() {
    const target = yield* Either.match(parseRedirectUri(redirectUri), { onLeft: Effect.fail, onRight: Effect.succeed })
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: target.port, host: "127.0.0.1" }).pipe(
      Effect.mapError(listenError(`the callback server for ${redirectUri}`, target.port))
    )
    const port = server.address._tag === "TcpAddress" ? server.address.port : target.port
    const url = new URL(redirectUri)
    url.port = String(port)
    const expected = yield* Ref.make(Option.none<string>())
    const outcome = yield* Deferred.make<Authorized, CliError.CliError>()

    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const requested = new URL(request.url, "http://127.0.0.1")
      if (request.method !== "GET" || requested.pathname !== target.path) {
        return page("Not found", "This is twitch-auth's login callback; nothing lives here.", 404)
      }
      if (yield* Deferred.isDone(outcome)) {
        return page("Already done", "twitch-auth already received a redirect; you can close this tab.", 410)
      }
      const decision = decide(requested.searchParams, {
        state: Option.getOrElse(yield* Ref.get(expected), () => ""),
        redirectUri: url.toString()
      })
      yield* Deferred.complete(outcome, Either.match(decision, { onLeft: Effect.fail, onRight: Effect.succeed }))
      return Either.match(decision, {
        onLeft: (error) => page("Login failed", `${escapeHtml(error.text)}. You can close this tab.`, 400),
        onRight: () => page("Logged in", "twitch-auth received the authorization. You can close this tab.", 200)
      })
    })
    yield* server.serve(app)
    return {
      redirectUri: url.toString(),
      expectState: (state) => Ref.set(expected, Option.some(state)),
      authorized: Deferred.await(outcome)
    }
  })

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
