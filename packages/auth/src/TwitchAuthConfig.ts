/**
 * The application's Twitch credentials and endpoints.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"

/**
 * Where real Twitch serves OAuth: `https://id.twitch.tv/oauth2`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultAuthUrl = "https://id.twitch.tv/oauth2"

/**
 * Where real Twitch serves the Helix API: `https://api.twitch.tv/helix`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultHelixUrl = "https://api.twitch.tv/helix"

/**
 * How long one HTTP attempt may take, from sending the request to the last byte of the
 * answer's body, before it counts as a timeout: 10 seconds. A deadline passed before the
 * answer's headers is transient (retried); one passed while the body arrives is not (Twitch
 * has acted on the request by then).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRequestTimeout: Duration.Duration = Duration.seconds(10)

/**
 * How transient failures (5xx, 429, 408, network errors, timeouts) are retried by default:
 * exponential backoff from 250 ms, jittered, at most 3 retries (4 attempts in all).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRetrySchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("250 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(3))
)

/**
 * The resolved configuration.
 *
 * @since 0.1.0
 * @category tags
 */
export class TwitchAuthConfig extends Context.Tag("@effect-twitch/auth/TwitchAuthConfig")<
  TwitchAuthConfig,
  TwitchAuthConfig.Service
>() {}

/**
 * @since 0.1.0
 */
export declare namespace TwitchAuthConfig {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** The application's client id from the Twitch developer console. */
    readonly clientId: string
    /** The client secret; `None` for public clients. */
    readonly clientSecret: Option.Option<Redacted.Redacted<string>>
    /** The default redirect URI for the authorization code flow. */
    readonly redirectUri: Option.Option<string>
    /** Base URL of the OAuth endpoints, without a trailing slash. */
    readonly authUrl: string
    /** Base URL of the Helix API, without a trailing slash. */
    readonly helixUrl: string
    /** Time allowed to one HTTP attempt. */
    readonly requestTimeout: Duration.Duration
    /** How transient failures are retried. */
    readonly retrySchedule: Schedule.Schedule<unknown, unknown>
  }

  /**
   * What `make` and `layer` accept.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Options {
    readonly clientId: string
    /** A plain string is wrapped in `Redacted` at once. */
    readonly clientSecret?: Redacted.Redacted<string> | string | undefined
    readonly redirectUri?: string | undefined
    /** Defaults to {@link defaultAuthUrl}. */
    readonly authUrl?: string | undefined
    /**
     * Defaults to the Helix beside `authUrl` ({@link helixUrlBesideAuthUrl}):
     * {@link defaultHelixUrl} for Twitch's, `…/helix` on the same origin for an `authUrl`
     * ending in `/oauth2`; any other `authUrl` needs it set. With Twitch's `authUrl`, an
     * explicit Helix URL must be `https:` or on a loopback address.
     */
    readonly helixUrl?: string | undefined
    /** Defaults to {@link defaultRequestTimeout}. */
    readonly requestTimeout?: Duration.DurationInput | undefined
    /** Defaults to {@link defaultRetrySchedule}. */
    readonly retrySchedule?: Schedule.Schedule<unknown, unknown> | undefined
  }
}

/**
 * A configuration option was missing or malformed. `field` names the option.
 *
 * @since 0.1.0
 * @category errors
 */
export class TwitchAuthConfigError extends Schema.TaggedError<TwitchAuthConfigError>(
  "@effect-twitch/auth/TwitchAuthConfigError"
)("TwitchAuthConfigError", {
  field: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Invalid Twitch configuration: ${this.field} ${this.detail}`
  }
}

const checkClientId = (value: string): Either.Either<string, string> => {
  const trimmed = value.trim()
  if (trimmed.length === 0) return Either.left("must not be empty")
  if (!/^[A-Za-z0-9]+$/.test(trimmed)) {
    return Either.left("must contain only letters and digits (copy it from the Twitch developer console)")
  }
  return Either.right(trimmed)
}

const checkBaseUrl = (value: string): Either.Either<string, string> => {
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    return Either.left(`must be an absolute http(s) URL, got ${JSON.stringify(value)}`)
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return Either.left(`must be an http(s) URL, got ${JSON.stringify(value)}`)
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    return Either.left(`must not carry a query or fragment, got ${JSON.stringify(value)}`)
  }
  return Either.right(value.replace(/\/+$/, ""))
}

const checkRedirectUri = (value: string): Either.Either<string, string> => {
  try {
    const parsed = new URL(value)
    return parsed.protocol === "https:" || parsed.protocol === "http:"
      ? Either.right(value)
      : Either.left(`must be an http(s) URL, got ${JSON.stringify(value)}`)
  } catch {
    return Either.left(`must be an absolute URL, got ${JSON.stringify(value)}`)
  }
}

const checkTimeout = (value: unknown): Either.Either<Duration.Duration, string> => {
  const duration = Duration.decodeUnknown(value)
  return Option.match(duration, {
    onNone: () =>
      Either.left(
        `must be a duration such as "10 seconds" or "500 millis"${
          typeof value === "string" ? `, got ${JSON.stringify(value.slice(0, 40))}` : ""
        }`
      ),
    onSome: (d) =>
      Duration.greaterThan(d, Duration.zero) && Duration.isFinite(d)
        ? Either.right(d)
        : Either.left("must be a positive, finite duration such as \"10 seconds\"")
  })
}

const twitchAuthHost = "id.twitch.tv"
const twitchHelixHost = "api.twitch.tv"

const hostOf = (url: string): string => {
  try {
    return new URL(url).hostname
  } catch {
    return ""
  }
}

/** 127.0.0.0/8, `::1` and `localhost`: a request there never leaves the machine. */
const isLoopback = (url: string): boolean => {
  const host = hostOf(url)
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/**
 * Where Helix is, given where OAuth is: Twitch's own `authUrl` (host `id.twitch.tv`) gives
 * {@link defaultHelixUrl}; any other `authUrl` whose path ends in `/oauth2` gives `/helix` in
 * its place, on the same origin (`http://127.0.0.1:8787/oauth2` → `http://127.0.0.1:8787/helix`,
 * as `MockTwitchServer` and `twitch-auth mock` serve them); anything else gives `None`: Helix
 * cannot be guessed, and must be configured.
 *
 * `make`, `layer` and `layerConfig` use it when no Helix URL is given, so that the tokens and
 * client id of one server are never sent to another's Helix.
 *
 * @example
 * ```ts
 * import { TwitchAuthConfig } from "@effect-twitch/auth"
 *
 * TwitchAuthConfig.helixUrlBesideAuthUrl("http://127.0.0.1:8787/oauth2") // Option.some("http://127.0.0.1:8787/helix")
 * TwitchAuthConfig.helixUrlBesideAuthUrl("https://id.twitch.tv/oauth2") // Option.some("https://api.twitch.tv/helix")
 * TwitchAuthConfig.helixUrlBesideAuthUrl("https://auth.example.com/") // Option.none()
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const helixUrlBesideAuthUrl = (authUrl: string): Option.Option<string> => {
  if (hostOf(authUrl) === twitchAuthHost) return Option.some(defaultHelixUrl)
  const trimmed = authUrl.replace(/\/+$/, "")
  return Either.match(checkBaseUrl(trimmed), {
    onLeft: () => Option.none(),
    onRight: (url) => url.endsWith("/oauth2") ? Option.some(`${url.slice(0, -"/oauth2".length)}/helix`) : Option.none()
  })
}

/** What the options are called where they come from: in code, or in the environment. */
interface Names {
  readonly clientId: string
  readonly authUrl: string
  readonly helixUrl: string
  readonly redirectUri: string
  readonly requestTimeout: string
}

const optionNames: Names = {
  clientId: "clientId",
  authUrl: "authUrl",
  helixUrl: "helixUrl",
  redirectUri: "redirectUri",
  requestTimeout: "requestTimeout"
}

const variableNames: Names = {
  clientId: "TWITCH_CLIENT_ID",
  authUrl: "TWITCH_AUTH_URL",
  helixUrl: "TWITCH_HELIX_URL",
  redirectUri: "TWITCH_REDIRECT_URI",
  requestTimeout: "TWITCH_REQUEST_TIMEOUT"
}

/**
 * The Helix URL: the one given, checked; else the one beside `authUrl`; else a refusal that
 * asks for it. With Twitch's `authUrl` (real tokens), a Helix URL given explicitly must be
 * `https:` unless it is on a loopback address: a real token is never sent over the network
 * in clear text.
 */
const resolveHelixUrl = (
  given: string | undefined,
  authUrl: string,
  names: Names
): Either.Either<string, { readonly field: keyof Names; readonly detail: string }> => {
  if (given === undefined) {
    return Option.match(helixUrlBesideAuthUrl(authUrl), {
      onNone: () =>
        Either.left({
          field: "helixUrl",
          detail: `must be set when ${names.authUrl} is not Twitch's and does not end in /oauth2 (got ${
            JSON.stringify(authUrl)
          }): otherwise Helix calls would carry that server's token and client id to ${defaultHelixUrl}`
        }),
      onSome: Either.right
    })
  }
  return Either.flatMap(
    Either.mapLeft(checkBaseUrl(given), (detail) => ({ field: "helixUrl" as const, detail })),
    (helixUrl) =>
      hostOf(authUrl) === twitchAuthHost && hostOf(helixUrl) !== twitchHelixHost &&
        new URL(helixUrl).protocol === "http:" && !isLoopback(helixUrl)
        ? Either.left({
          field: "helixUrl",
          detail: `must be an https URL (or http on a loopback address) when ${names.authUrl} is Twitch's: ` +
            `Twitch's tokens would cross the network in clear text, got ${JSON.stringify(helixUrl)}`
        })
        : Either.right(helixUrl)
  )
}

/** Checks every option and fills in the defaults; a refusal names the option as `names` do. */
const resolve = (
  // the environment gives the timeout as text, which is checked here like any other input
  options: Omit<TwitchAuthConfig.Options, "requestTimeout"> & { readonly requestTimeout?: unknown },
  names: Names
): Either.Either<TwitchAuthConfig.Service, { readonly field: keyof Names; readonly detail: string }> =>
  Either.gen(function*() {
    const at = <A>(field: keyof Names, result: Either.Either<A, string>) =>
      Either.mapLeft(result, (detail) => ({ field, detail }))
    const clientId = yield* at("clientId", checkClientId(options.clientId))
    const authUrl = yield* at("authUrl", checkBaseUrl(options.authUrl ?? defaultAuthUrl))
    const helixUrl = yield* resolveHelixUrl(options.helixUrl, authUrl, names)
    const redirectUri = options.redirectUri === undefined
      ? Option.none<string>()
      : Option.some(yield* at("redirectUri", checkRedirectUri(options.redirectUri)))
    const requestTimeout = yield* at("requestTimeout", checkTimeout(options.requestTimeout ?? defaultRequestTimeout))
    return {
      clientId,
      clientSecret: toSecret(options.clientSecret),
      redirectUri,
      authUrl,
      helixUrl,
      requestTimeout,
      retrySchedule: options.retrySchedule ?? defaultRetrySchedule
    }
  })

const toSecret = (value: Redacted.Redacted<string> | string | undefined): Option.Option<Redacted.Redacted<string>> => {
  if (value === undefined) return Option.none()
  const secret = Redacted.isRedacted(value) ? value : Redacted.make(value)
  return Redacted.value(secret).length === 0 ? Option.none() : Option.some(secret)
}

/**
 * Checks options and fills in defaults. Without `helixUrl`, Helix is found beside `authUrl`
 * ({@link helixUrlBesideAuthUrl}), or the options are refused (`field: "helixUrl"`): the
 * origins are never mixed silently.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: TwitchAuthConfig.Options
): Effect.Effect<TwitchAuthConfig.Service, TwitchAuthConfigError> =>
  Either.match(resolve(options, optionNames), {
    onLeft: ({ detail, field }) => Effect.fail(new TwitchAuthConfigError({ field: optionNames[field], detail })),
    onRight: Effect.succeed
  })

/**
 * Provides the configuration from options given in code.
 *
 * @example
 * ```ts
 * import { TwitchAuthConfig } from "@effect-twitch/auth"
 * import * as Redacted from "effect/Redacted"
 *
 * const ConfigLive = TwitchAuthConfig.layer({
 *   clientId: "hof5gwx0su6owfnys0nyan9c87zr6t",
 *   clientSecret: Redacted.make(process.env.MY_SECRET ?? ""),
 *   redirectUri: "http://localhost:3000/callback"
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: TwitchAuthConfig.Options): Layer.Layer<TwitchAuthConfig, TwitchAuthConfigError> =>
  Layer.effect(TwitchAuthConfig, make(options))

/**
 * Reads the configuration from the environment (or any `ConfigProvider`):
 * `TWITCH_CLIENT_ID` (required), `TWITCH_CLIENT_SECRET`, `TWITCH_REDIRECT_URI`,
 * `TWITCH_AUTH_URL`, `TWITCH_HELIX_URL` and `TWITCH_REQUEST_TIMEOUT` (e.g. `"5 seconds"`).
 * A missing or malformed variable fails with a `ConfigError` whose path is the variable and
 * whose message names it and says what a valid value looks like. Without
 * `TWITCH_HELIX_URL`, Helix is found beside `TWITCH_AUTH_URL` ({@link helixUrlBesideAuthUrl})
 * or the layer fails asking for it. `options` can set what the environment does not carry,
 * such as the retry schedule.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: { readonly retrySchedule?: Schedule.Schedule<unknown, unknown> | undefined }
): Layer.Layer<TwitchAuthConfig, ConfigError.ConfigError> =>
  Layer.effect(
    TwitchAuthConfig,
    Effect.gen(function*() {
      const clientId = yield* Config.option(Config.string(variableNames.clientId))
      if (Option.isNone(clientId)) {
        return yield* Effect.fail(
          ConfigError.MissingData(
            [variableNames.clientId],
            `${variableNames.clientId} is not set: the application's client id, from https://dev.twitch.tv/console`
          )
        )
      }
      const secret = yield* Config.option(Config.redacted("TWITCH_CLIENT_SECRET"))
      const optional = (name: string) => Effect.map(Config.option(Config.string(name)), Option.getOrUndefined)
      return yield* Either.match(
        resolve({
          clientId: clientId.value,
          clientSecret: Option.getOrUndefined(secret),
          redirectUri: yield* optional(variableNames.redirectUri),
          authUrl: yield* optional(variableNames.authUrl),
          helixUrl: yield* optional(variableNames.helixUrl),
          requestTimeout: yield* optional(variableNames.requestTimeout),
          retrySchedule: options?.retrySchedule
        }, variableNames),
        {
          // The variable is named once, in the path, and again in the message (which is what
          // most programs print): never `TWITCH_CLIENT_ID.TWITCH_CLIENT_ID`.
          onLeft: ({ detail, field }) =>
            Effect.fail(ConfigError.InvalidData([variableNames[field]], `${variableNames[field]} ${detail}`)),
          onRight: Effect.succeed
        }
      )
    })
  )

/**
 * `TWITCH_REQUEST_TIMEOUT` from the environment (or any `ConfigProvider`), checked as
 * {@link layerConfig} checks it: `None` when unset, and a `ConfigError` naming the variable,
 * and what a valid value looks like, when it is not a positive duration.
 *
 * @since 0.1.0
 * @category config
 */
export const requestTimeoutFromConfig: Effect.Effect<Option.Option<Duration.Duration>, ConfigError.ConfigError> = Effect
  .flatMap(
    Config.option(Config.string(variableNames.requestTimeout)),
    Option.match({
      onNone: () => Effect.succeedNone,
      onSome: (text) =>
        Either.match(checkTimeout(text), {
          onLeft: (detail) =>
            Effect.fail(
              ConfigError.InvalidData([variableNames.requestTimeout], `${variableNames.requestTimeout} ${detail}`)
            ),
          onRight: Effect.succeedSome
        })
    })
  )
