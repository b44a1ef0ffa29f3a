/**
 * What a token command runs in: the resolved configuration (flags over environment, or the
 * embedded mock's seeded client with `--mock`), `TwitchAuth` over `fetch`, the profile's
 * file `TokenStore`, and the output.
 */
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import * as FakeTwitch from "@effect-twitch/testing/FakeTwitch"
import * as MockTwitchServer from "@effect-twitch/testing/MockTwitchServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as CliError from "../CliError.js"
import * as Profiles from "../Profiles.js"
import * as MockRegistry from "./mockRegistry.js"
import type { Common } from "./options.js"
import * as Output from "./output.js"

/** A mock Twitch served by this process (`mock`, `demo`). */
export interface EmbeddedMock {
  readonly twitch: FakeTwitch.FakeTwitch.Service
  readonly url: string
  readonly authUrl: string
  readonly helixUrl: string
}

/**
 * The mock Twitch a command talks to: served by this process (`demo`), or by a running
 * `twitch-auth mock` (`--mock`), reached over HTTP.
 */
export interface MockHandle {
  readonly url: string
  readonly authUrl: string
  readonly helixUrl: string
  /** Registers more redirect URIs for the seeded clients (the CLI's own callback, say). */
  readonly registerRedirectUris: (uris: ReadonlyArray<string>) => Effect.Effect<void, CliError.CliError>
}

/** The handle of a mock served by this process. */
export const embeddedHandle = (mock: EmbeddedMock): MockHandle => ({
  url: mock.url,
  authUrl: mock.authUrl,
  helixUrl: mock.helixUrl,
  registerRedirectUris: (uris) => registerRedirectUris(mock, uris)
})

/**
 * What `twitch-auth mock` serves besides the mock itself: the control routes under
 * {@link controlPrefix} (for the holder of `secret`, read from the registration file), and
 * the time of the last request (for the idle timeout).
 */
export interface MockControl {
  readonly secret: string
  readonly id: string
  readonly stop: Deferred.Deferred<void>
  readonly lastRequest: Ref.Ref<number>
}

/** The path prefix of a `twitch-auth mock`'s control routes (not Twitch's). */
export const controlPrefix = "/_twitch-auth/"

const controlApp = (
  control: MockControl,
  twitch: FakeTwitch.FakeTwitch.Service,
  request: HttpServerRequest.HttpServerRequest
) =>
  Effect.gen(function*() {
    if (request.headers["authorization"] !== `Bearer ${control.secret}`) {
      return HttpServerResponse.unsafeJson({ status: 401, message: "unauthorized" }, { status: 401 })
    }
    const path = new URL(request.url, "http://mock").pathname.slice(controlPrefix.length)
    if (path === "mock" && request.method === "GET") return HttpServerResponse.unsafeJson({ id: control.id })
    if (path === "stop" && request.method === "POST") {
      yield* Deferred.succeed(control.stop, undefined)
      return HttpServerResponse.unsafeJson({ stopping: true })
    }
    if (path === "redirect-uris" && request.method === "POST") {
      const body = yield* Effect.orElseSucceed(
        Effect.flatMap(request.json, Schema.decodeUnknown(Schema.Struct({ uris: Schema.Array(Schema.String) }))),
        () => undefined
      )
      if (body === undefined) {
        return HttpServerResponse.unsafeJson({ status: 400, message: "expected {\"uris\": [...]}" }, { status: 400 })
      }
      yield* registerRedirectUris({ twitch }, body.uris)
      return HttpServerResponse.empty({ status: 204 })
    }
    return HttpServerResponse.unsafeJson({ status: 404, message: "Not Found" }, { status: 404 })
  })

/** The seeded confidential client of the mock (fake credentials, not secrets). */
export const mockClient = FakeTwitch.defaultSeed.clients[0]
/** The seeded public client of the mock. */
export const mockPublicClient = FakeTwitch.defaultSeed.clients[1]

/** The `code` of a Node system error (`EADDRINUSE`, …), if it has one. */
export const errnoCode = (cause: unknown): string | undefined =>
  Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? cause.code : undefined

/** `ServeError` → one line: the port is taken, or another reason to not listen. */
export const listenError = (what: string, port: number, host: string = "127.0.0.1") =>
(
  error: HttpServerError.ServeError
): CliError.CliError => {
  const code = errnoCode(error.cause)
  return code === "EADDRINUSE"
    ? CliError.localResource("PortInUse", `port ${port} on ${host} is in use: cannot start ${what}`)
    : CliError.localResource(
      "CannotListen",
      `cannot start ${what} on ${host.includes(":") ? `[${host}]` : host}:${port}${
        code === undefined ? "" : ` (${code})`
      }`
    )
}

/**
 * Starts a seeded FakeTwitch behind the mock server on 127.0.0.1:`port` (0: any free port),
 * with `redirectUris` registered for the seeded clients besides their own; with `control`,
 * also its control routes, and every request noted for the idle timeout.
 */
export const startMock = (options: {
  readonly port: number
  readonly redirectUris?: ReadonlyArray<string> | undefined
  readonly fake?: FakeTwitch.FakeTwitch.Options | undefined
  readonly control?: MockControl | undefined
}): Effect.Effect<EmbeddedMock, CliError.CliError, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      NodeHttpServer.layer(() => Http.createServer(), { port: options.port, host: "127.0.0.1" }).pipe(
        Layer.merge(FakeTwitch.layer(options.fake ?? {}))
      )
    ).pipe(Effect.mapError(listenError("the mock Twitch", options.port)))
    const twitch = Context.get(context, FakeTwitch.FakeTwitch)
    const server = Context.get(context, HttpServer.HttpServer)
    const control = options.control
    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (control !== undefined) {
        yield* Ref.set(control.lastRequest, yield* Clock.currentTimeMillis)
        if (request.url.startsWith(controlPrefix)) return yield* controlApp(control, twitch, request)
      }
      return yield* MockTwitchServer.httpApp
    }).pipe(Effect.provideService(FakeTwitch.FakeTwitch, twitch))
    yield* server.serve(app)
    const url = server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : "http://127.0.0.1"
    const mock: EmbeddedMock = { twitch, url, authUrl: `${url}/oauth2`, helixUrl: `${url}/helix` }
    yield* registerRedirectUris(mock, options.redirectUris ?? [])
    return mock
  })

/** Adds redirect URIs to the mock's seeded clients (the CLI's own callback, say). */
export const registerRedirectUris = (
  mock: { readonly twitch: FakeTwitch.FakeTwitch.Service },
  uris: ReadonlyArray<string>
): Effect.Effect<void> =>
  uris.length === 0 ?
    Effect.void :
    Effect.forEach(FakeTwitch.defaultSeed.clients, (client) =>
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
  readonly mock: Option.Option<MockHandle>
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

/**
 * `TWITCH_REQUEST_TIMEOUT`, if set, read as the SDK reads it; a value that is not a duration
 * fails naming the variable and showing a valid one.
 */
export const requestTimeout: Effect.Effect<Option.Option<Duration.Duration>, CliError.CliError> = Effect.mapError(
  TwitchAuthConfig.requestTimeoutFromConfig,
  CliError.fromConfigError
)

/** Flags, then environment, then defaults; or the embedded mock's seeded client. */
export const resolveConfig = (
  common: Common,
  mock: Option.Option<{ readonly authUrl: string; readonly helixUrl: string }>
): Effect.Effect<TwitchAuthConfig.TwitchAuthConfig.Service, CliError.CliError> =>
  Effect.gen(function*() {
    const timeout = yield* requestTimeout
    const timeoutOption: { readonly requestTimeout?: Duration.Duration } = Option.match(timeout, {
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
        ...timeoutOption
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
        const secret = Option.isSome(common.clientSecret)
          ? common.clientSecret
          : yield* envSecret("TWITCH_CLIENT_SECRET")
        const authUrl = Option.isSome(common.authUrl) ? common.authUrl : yield* env("TWITCH_AUTH_URL")
        const helixUrl = Option.isSome(common.helixUrl)
          ? common.helixUrl
          : yield* env("TWITCH_HELIX_URL") // unset: the SDK puts Helix beside a mock's auth URL, or asks for it
        const redirect = Option.isSome(redirectUri) ? redirectUri : yield* env("TWITCH_REDIRECT_URI")
        return {
          clientId: id.value,
          clientSecret: Option.getOrUndefined(secret),
          authUrl: Option.getOrUndefined(authUrl),
          helixUrl: Option.getOrUndefined(helixUrl),
          redirectUri: Option.getOrUndefined(redirect),
          ...timeoutOption
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
 * Runs a token command: resolves the profile and configuration (with `--mock`, the running
 * `twitch-auth mock` registered in the config dir, started in the background if none runs), provides `TwitchAuth` over `fetch` and the profile's token store, and turns
 * every SDK error into a {@link CliError.CliError}.
 */
export const run = <A, E extends { readonly _tag: string; readonly message: string }>(
  common: Common,
  program: Effect.Effect<A, E, Env>
): Effect.Effect<A, CliError.CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.scoped(Effect.gen(function*() {
    const out = Output.make({ json: common.json, showToken: common.showToken })
    const profile = yield* Profiles.resolve(common)
    yield* requestTimeout // a bad value fails before a mock is started for --mock
    const mock = common.mock
      ? Option.some(yield* MockRegistry.connect(profile.configDir, out))
      : Option.none<MockHandle>()
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
