/**
 * What a token command runs in: the resolved configuration (flags over environment, or the
 * embedded mock's seeded client with `--mock`), `TwitchAuth` over `fetch`, the profile's
 * file `TokenStore`, and the output.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as Path from "@effect/platform/Path"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import * as FakeTwitch from "@effect-twitch/testing/FakeTwitch"
import * as MockTwitchServer from "@effect-twitch/testing/MockTwitchServer"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as CliError from "../CliError.js"
import * as Profiles from "../Profiles.js"
import type { Common } from "./options.js"
import * as Output from "./output.js"

/** The embedded mock Twitch of `--mock`, `mock` and `demo`. */
export interface EmbeddedMock {
  readonly twitch: FakeTwitch.FakeTwitch.Service
  readonly url: string
  readonly authUrl: string
  readonly helixUrl: string
}

/** The seeded confidential client of the mock (fake credentials, not secrets). */
export const mockClient = FakeTwitch.defaultSeed.clients[0]
/** The seeded public client of the mock. */
export const mockPublicClient = FakeTwitch.defaultSeed.clients[1]

/** The `code` of a Node system error (`EADDRINUSE`, …), if it has one. */
export const errnoCode = (cause: unknown): string | undefined =>
  Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? cause.code : undefined

/** `ServeError` → one line: the port is taken, or another reason to not listen. */
export const listenError =
  (what: string, port: number, host: string = "127.0.0.1") => (error: HttpServerError.ServeError): CliError.CliError => {
    const code = errnoCode(error.cause)
    return code === "EADDRINUSE"
      ? CliError.localResource("PortInUse", `port ${port} on ${host} is in use: cannot start ${what}`)
      : CliError.localResource(
        "CannotListen",
        `cannot start ${what} on ${host.includes(":") ? `[${host}]` : host}:${port}${code === undefined ? "" : ` (${code})`}`
      )
  }

/**
 * Starts a seeded FakeTwitch behind the mock server on 127.0.0.1:`port` (0: any free port),
 * with `redirectUris` registered for the seeded clients besides their own.
 */
export const startMock = (options: {
  readonly port: number
  readonly redirectUris?: ReadonlyArray<string> | undefined
  readonly fake?: FakeTwitch.FakeTwitch.Options | undefined
}): Effect.Effect<EmbeddedMock, CliError.CliError, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      MockTwitchServer.layer({ port: options.port, host: "127.0.0.1" }).pipe(
        Layer.provideMerge(FakeTwitch.layer(options.fake ?? {}))
      )
    ).pipe(Effect.mapError(listenError("the mock Twitch", options.port)))
    const twitch = Context.get(context, FakeTwitch.FakeTwitch)
    const server = Context.get(context, MockTwitchServer.MockTwitchServer)
    const mock: EmbeddedMock = { twitch, ...server }
    yield* registerRedirectUris(mock, options.redirectUris ?? [])
    return mock
  })

/** Adds redirect URIs to the mock's seeded clients (the CLI's own callback, say). */
export const registerRedirectUris = (mock: EmbeddedMock, uris: ReadonlyArray<string>): Effect.Effect<void> =>
  uris.length === 0 ? Effect.void : Effect.forEach(FakeTwitch.defaultSeed.clients, (client) =>
    mock.twitch.registerClient({
      clientId: client.clientId,
      ...("clientSecret" in client ? { clientSecret: client.clientSecret } : {}),
      type: client.type,
      redirectUris: Array.from(new Set([...client.redirectUris, ...uris]))
    }), { discard: true })

/** The running command's surroundings. */
export interface CommandContext {
  readonly out: Output.Output
  readonly profile: Profiles.Profile
  readonly mock: Option.Option<EmbeddedMock>
  readonly config: TwitchAuthConfig.TwitchAuthConfig.Service
}

export class Cli extends Context.Tag("@effect-twitch/cli/Cli")<Cli, CommandContext>() {}

/** Everything a token command may use. */
export type Env =
  | Cli
  | TwitchAuth.TwitchAuth
  | TwitchAuthConfig.TwitchAuthConfig
  | HttpClient.HttpClient
  | TokenStore.TokenStore
  | FileSystem.FileSystem
  | Path.Path
  | Scope.Scope

const env = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.string(name)).pipe(
    Effect.map(Option.filter((value) => value.trim().length > 0)),
    Effect.orElseSucceed(() => Option.none<string>())
  )

const envSecret = (name: string): Effect.Effect<Option.Option<Redacted.Redacted<string>>> =>
  Config.option(Config.redacted(name)).pipe(Effect.orElseSucceed(() => Option.none()))

const fieldNames: Record<string, string> = {
  clientId: "client id (--client-id or TWITCH_CLIENT_ID)",
  authUrl: "auth URL (--auth-url or TWITCH_AUTH_URL)",
  helixUrl: "Helix URL (--helix-url or TWITCH_HELIX_URL)",
  redirectUri: "redirect URI (--redirect-uri or TWITCH_REDIRECT_URI)",
  requestTimeout: "request timeout (TWITCH_REQUEST_TIMEOUT)"
}

/** `http://127.0.0.1:8787/oauth2` → `http://127.0.0.1:8787/helix`: a mock serves both. */
const helixBesideAuth = (authUrl: string): Option.Option<string> => {
  const trimmed = authUrl.replace(/\/+$/, "")
  return trimmed.endsWith("/oauth2") && trimmed !== TwitchAuthConfig.defaultAuthUrl
    ? Option.some(`${trimmed.slice(0, -"/oauth2".length)}/helix`)
    : Option.none()
}

/** Flags, then environment, then defaults; or the embedded mock's seeded client. */
export const resolveConfig = (
  common: Common,
  mock: Option.Option<EmbeddedMock>
): Effect.Effect<TwitchAuthConfig.TwitchAuthConfig.Service, CliError.CliError> =>
  Effect.gen(function*() {
    const timeout = yield* Config.option(Config.duration("TWITCH_REQUEST_TIMEOUT")).pipe(
      Effect.mapError(CliError.fromConfigError)
    )
    const requestTimeout: { readonly requestTimeout?: Duration.Duration } = Option.match(timeout, {
      onNone: () => ({}),
      onSome: (requestTimeout) => ({ requestTimeout })
    })
    const redirectUri = common.redirectUri
    const options: TwitchAuthConfig.TwitchAuthConfig.Options = Option.isSome(mock)
      ? {
        clientId: mockClient.clientId,
        clientSecret: mockClient.clientSecret,
        authUrl: mock.value.authUrl,
        helixUrl: mock.value.helixUrl,
        redirectUri: Option.getOrUndefined(redirectUri),
        ...requestTimeout
      }
      : yield* Effect.gen(function*() {
        const id = Option.isSome(common.clientId) ? common.clientId : yield* env("TWITCH_CLIENT_ID")
        if (Option.isNone(id)) {
          return yield* Effect.fail(
            CliError.usage(
              "MissingClientId",
              "no client id: pass --client-id or set TWITCH_CLIENT_ID (register an application at https://dev.twitch.tv/console), or try --mock"
            )
          )
        }
        const secret = Option.isSome(common.clientSecret) ? common.clientSecret : yield* envSecret("TWITCH_CLIENT_SECRET")
        const authUrl = Option.isSome(common.authUrl) ? common.authUrl : yield* env("TWITCH_AUTH_URL")
        const helixUrl = Option.isSome(common.helixUrl)
          ? common.helixUrl
          : Option.orElse(yield* env("TWITCH_HELIX_URL"), () => Option.flatMap(authUrl, helixBesideAuth))
        const redirect = Option.isSome(redirectUri) ? redirectUri : yield* env("TWITCH_REDIRECT_URI")
        return {
          clientId: id.value,
          clientSecret: Option.getOrUndefined(secret),
          authUrl: Option.getOrUndefined(authUrl),
          helixUrl: Option.getOrUndefined(helixUrl),
          redirectUri: Option.getOrUndefined(redirect),
          ...requestTimeout
        }
      })
    return yield* TwitchAuthConfig.make(options).pipe(
      Effect.mapError((error) =>
        CliError.usage(
          "InvalidConfiguration",
          `invalid ${fieldNames[error.field] ?? error.field}: ${error.detail}`
        )
      )
    )
  })

/**
 * Runs a token command: resolves the profile and configuration (starting the embedded mock
 * with `--mock`), provides `TwitchAuth` over `fetch` and the profile's token store, and turns
 * every SDK error into a {@link CliError.CliError}.
 */
export const run = <A, E extends { readonly _tag: string; readonly message: string }>(
  common: Common,
  program: Effect.Effect<A, E, Env>
): Effect.Effect<A, CliError.CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.scoped(Effect.gen(function*() {
    const out = Output.make({ json: common.json, showToken: common.showToken })
    const profile = yield* Profiles.resolve(common)
    const mock = common.mock ? Option.some(yield* startMock({ port: 0 })) : Option.none<EmbeddedMock>()
    const config = yield* resolveConfig(common, mock)
    const layer = TwitchAuth.layer.pipe(
      Layer.provideMerge(Layer.succeed(TwitchAuthConfig.TwitchAuthConfig, config)),
      Layer.provideMerge(FetchHttpClient.layer),
      Layer.merge(TokenStore.layerFile(profile.path, { removeWhenEmpty: true })),
      Layer.merge(Layer.succeed(Cli, { out, profile, mock, config }))
    )
    return yield* program.pipe(
      Effect.mapError(CliError.fromTwitchError),
      Effect.provide(layer)
    )
  }))
