/**
 * `AppTokenSession`: the application's own token (client credentials grant), fetched on
 * first use, replaced when it is about to expire or when Twitch rejects it, and validated
 * every hour. App tokens cannot be refreshed: a new one is requested instead.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type * as Token from "./Token.js"
import { TwitchAuth } from "./TwitchAuth.js"
import type {
  InvalidClient,
  InvalidScope,
  MalformedResponse,
  MissingClientSecret,
  TransientError,
  UnexpectedResponse
} from "./TwitchAuthError.js"
import { TwitchCredentials } from "./TwitchCredentials.js"

/**
 * What getting an app token can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type AppTokenError =
  | InvalidClient
  | MissingClientSecret
  | InvalidScope
  | UnexpectedResponse
  | MalformedResponse
  | TransientError

/**
 * The application's token.
 *
 * @since 0.1.0
 * @category tags
 */
export class AppTokenSession extends Context.Tag("@effect-twitch/auth/AppTokenSession")<
  AppTokenSession,
  AppTokenSession.Service
>() {}

/**
 * @since 0.1.0
 */
export declare namespace AppTokenSession {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service extends TwitchCredentials.Service {
    /** The current app token; a new one is requested when none is held or it expires soon. */
    readonly token: Effect.Effect<Token.AppToken, AppTokenError>
    /**
     * Requests a new app token. With `rejected`, compare-and-replace: if `rejected` is no
     * longer current, the current token is returned without a request.
     */
    readonly refresh: (rejected?: Redacted.Redacted<string>) => Effect.Effect<Token.AppToken, AppTokenError>
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options {
    /** Scopes to request (app tokens only carry a few). */
    readonly scopes?: Iterable<string> | undefined
    /** Replace the token this long before expiry. Default: 1 hour. */
    readonly refreshMargin?: Duration.DurationInput | undefined
    /** Validate the held token this often. Default: 1 hour. */
    readonly validateEvery?: Duration.DurationInput | undefined
  }
}

/**
 * Creates the session; the validation daemon runs until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: AppTokenSession.Options = {}
): Effect.Effect<AppTokenSession.Service, never, TwitchAuth | Scope.Scope> =>
  Effect.gen(function*() {
    const auth = yield* TwitchAuth
    const scopes = options.scopes === undefined ? undefined : Array.from(options.scopes)
    const margin = Duration.decode(options.refreshMargin ?? "1 hour")
    const validateEvery = Duration.decode(options.validateEvery ?? "1 hour")
    const ref = yield* SynchronizedRef.make(Option.none<Token.AppToken>())

    const fetch = auth.appToken(scopes === undefined ? {} : { scopes })

    const replace = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      SynchronizedRef.modifyEffect(ref, (held) => {
        const current = Option.filter(held, (token) =>
          Option.isSome(rejected) && Redacted.value(rejected.value) !== Redacted.value(token.accessToken))
        return Option.match(current, {
          onSome: (token) => Effect.succeed([token, held] as const),
          onNone: () => Effect.map(fetch, (token) => [token, Option.some(token)] as const)
        })
      })

    const refresh: AppTokenSession.Service["refresh"] = (rejected) =>
      replace(Option.fromNullable(rejected)).pipe(Effect.withSpan("AppTokenSession.refresh"))

    const token: AppTokenSession.Service["token"] = Effect.gen(function*() {
      const held = yield* SynchronizedRef.get(ref)
      const now = yield* DateTime.now
      return yield* Option.match(Option.filter(held, (t) => !t.isExpired(now, margin)), {
        onSome: Effect.succeed,
        // Compare-and-replace against what we saw, so concurrent first calls share one request.
        onNone: () => replace(Option.map(held, (t) => t.accessToken).pipe(Option.orElseSome(() => Redacted.make(""))))
      })
    })

    yield* Effect.forkScoped(
      Effect.sleep(validateEvery).pipe(
        Effect.zipRight(Effect.gen(function*() {
          const held = yield* SynchronizedRef.get(ref)
          if (Option.isNone(held)) return
          yield* auth.validateToken(held.value.accessToken).pipe(
            Effect.catchTag("InvalidAccessToken", () => replace(Option.some(held.value.accessToken))),
            Effect.catchAll((error) => Effect.logWarning(`AppTokenSession: validation failed: ${error._tag}: ${error.message}`))
          )
        })),
        Effect.forever
      )
    )

    return AppTokenSession.of({
      token,
      refresh,
      accessToken: Effect.map(token, (t) => t.accessToken),
      refreshAccessToken: (rejected) => Effect.map(refresh(rejected), (t) => t.accessToken)
    })
  })

/**
 * Provides {@link AppTokenSession}, and the same as `TwitchCredentials` so that
 * `TwitchHttpClient` calls Helix with the app token.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: AppTokenSession.Options = {}
): Layer.Layer<AppTokenSession | TwitchCredentials, never, TwitchAuth> =>
  Layer.scopedContext(
    Effect.map(make(options), (session) =>
      Context.make(AppTokenSession, session).pipe(Context.add(TwitchCredentials, session)))
  )
