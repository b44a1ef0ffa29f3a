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
    /** Defaults to {@link defaultHelixUrl}. */
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

const checkTimeout = (value: Duration.DurationInput): Either.Either<Duration.Duration, string> => {
  const duration = Duration.decodeUnknown(value)
  return Option.match(duration, {
    onNone: () => Either.left("must be a duration such as \"10 seconds\""),
    onSome: (d) =>
      Duration.greaterThan(d, Duration.zero) && Duration.isFinite(d)
        ? Either.right(d)
        : Either.left("must be a positive, finite duration")
  })
}

const field = <A>(name: string, result: Either.Either<A, string>): Effect.Effect<A, TwitchAuthConfigError> =>
  Either.match(result, {
    onLeft: (detail) => Effect.fail(new TwitchAuthConfigError({ field: name, detail })),
    onRight: Effect.succeed
  })

const toSecret = (value: Redacted.Redacted<string> | string | undefined): Option.Option<Redacted.Redacted<string>> => {
  if (value === undefined) return Option.none()
  const secret = Redacted.isRedacted(value) ? value : Redacted.make(value)
  return Redacted.value(secret).length === 0 ? Option.none() : Option.some(secret)
}

/**
 * Checks options and fills in defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: TwitchAuthConfig.Options): Effect.Effect<TwitchAuthConfig.Service, TwitchAuthConfigError> =>
  Effect.gen(function*() {
    const clientId = yield* field("clientId", checkClientId(options.clientId))
    const authUrl = yield* field("authUrl", checkBaseUrl(options.authUrl ?? defaultAuthUrl))
    const helixUrl = yield* field("helixUrl", checkBaseUrl(options.helixUrl ?? defaultHelixUrl))
    const redirectUri = options.redirectUri === undefined
      ? Option.none()
      : Option.some(yield* field("redirectUri", checkRedirectUri(options.redirectUri)))
    const requestTimeout = yield* field("requestTimeout", checkTimeout(options.requestTimeout ?? defaultRequestTimeout))
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

const checked = <A, B>(config: Config.Config<A>, name: string, check: (a: A) => Either.Either<B, string>) =>
  Config.mapOrFail(config, (a) =>
    Either.mapLeft(check(a), (detail) => ConfigError.InvalidData([name], `${name} ${detail}`)))

/**
 * Reads the configuration from the environment (or any `ConfigProvider`):
 * `TWITCH_CLIENT_ID` (required), `TWITCH_CLIENT_SECRET`, `TWITCH_REDIRECT_URI`,
 * `TWITCH_AUTH_URL`, `TWITCH_HELIX_URL` and `TWITCH_REQUEST_TIMEOUT` (e.g. `"5 seconds"`).
 * A missing or malformed variable fails with a `ConfigError` that names it. `options` can
 * set what the environment does not carry, such as the retry schedule.
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
      const env = yield* Config.all({
        clientId: checked(Config.string("TWITCH_CLIENT_ID"), "TWITCH_CLIENT_ID", checkClientId),
        clientSecret: Config.option(Config.redacted("TWITCH_CLIENT_SECRET")),
        redirectUri: Config.option(checked(Config.string("TWITCH_REDIRECT_URI"), "TWITCH_REDIRECT_URI", checkRedirectUri)),
        authUrl: checked(Config.withDefault(Config.string("TWITCH_AUTH_URL"), defaultAuthUrl), "TWITCH_AUTH_URL", checkBaseUrl),
        helixUrl: checked(
          Config.withDefault(Config.string("TWITCH_HELIX_URL"), defaultHelixUrl),
          "TWITCH_HELIX_URL",
          checkBaseUrl
        ),
        requestTimeout: checked(
          Config.withDefault(Config.duration("TWITCH_REQUEST_TIMEOUT"), defaultRequestTimeout),
          "TWITCH_REQUEST_TIMEOUT",
          checkTimeout
        )
      })
      return {
        clientId: env.clientId,
        clientSecret: Option.flatMap(env.clientSecret, (s) => toSecret(s)),
        redirectUri: env.redirectUri,
        authUrl: env.authUrl,
        helixUrl: env.helixUrl,
        requestTimeout: env.requestTimeout,
        retrySchedule: options?.retrySchedule ?? defaultRetrySchedule
      }
    })
  )
