/**
 * `TwitchSessions`: many users' sessions at once, keyed by user id. A session is loaded
 * from the `TokenStore` the first time it is needed, shared by everyone using it, and
 * released (its daemon stopped) when nobody has used it for `idleTimeToLive`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RcMap from "effect/RcMap"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as UserSession from "./internal/userSession.js"
import type * as Token from "./Token.js"
import { TokenStore, type TokenStoreError } from "./TokenStore.js"
import { TwitchAuth } from "./TwitchAuth.js"
import type * as TwitchAuthError from "./TwitchAuthError.js"
import { TwitchCredentials } from "./TwitchCredentials.js"
import * as TwitchSession from "./TwitchSession.js"

/**
 * All users' sessions.
 *
 * @since 0.1.0
 * @category tags
 */
export class TwitchSessions extends Context.Tag("@effect-twitch/auth/TwitchSessions")<
  TwitchSessions,
  TwitchSessions.Service
>() {}

/**
 * @since 0.1.0
 */
export declare namespace TwitchSessions {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** The session of `userId`, loaded from the store if it is not live; held while the scope is open. */
    readonly get: (
      userId: string
    ) => Effect.Effect<
      TwitchSession.TwitchSession.Service,
      TwitchSession.NoStoredToken | TokenStoreError,
      Scope.Scope
    >
    /**
     * Adds a freshly authorized user: validates the token to learn whose it is, stores it
     * under that user id (replacing any live session of the user) and returns the session.
     */
    readonly add: (
      token: Token.UserToken
    ) => Effect.Effect<
      TwitchSession.TwitchSession.Service,
      | TwitchSession.NoStoredToken
      | TokenStoreError
      | TwitchAuthError.ValidateTokenError
      | MissingUserId,
      Scope.Scope
    >
    /** The user ids in the store. */
    readonly userIds: Effect.Effect<ReadonlyArray<string>, TokenStoreError>
    /** Runs `effect` with `userId`'s session as `TwitchSession` and `TwitchCredentials`. */
    readonly withUser: (
      userId: string
    ) => <A, E, R>(
      effect: Effect.Effect<A, E, R>
    ) => Effect.Effect<
      A,
      E | TwitchSession.NoStoredToken | TokenStoreError,
      Exclude<R, TwitchSession.TwitchSession | TwitchCredentials>
    >
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options extends Omit<TwitchSession.TwitchSession.Options, "key" | "token"> {
    /** How long an unused session stays live. Default: 5 minutes. */
    readonly idleTimeToLive?: Duration.DurationInput | undefined
  }
}

/**
 * A token that Twitch validated had no user id: it is an app token, not a user's.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingUserId extends Schema.TaggedError<MissingUserId>("@effect-twitch/auth/MissingUserId")(
  "MissingUserId",
  {}
) {
  override get message(): string {
    return "Twitch says this token has no user: it is an app token, which cannot start a user session"
  }
}

/**
 * Creates the registry; live sessions are released when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: TwitchSessions.Options = {}
): Effect.Effect<TwitchSessions.Service, never, TwitchAuth | TokenStore | Scope.Scope> =>
  Effect.gen(function*() {
    const auth = yield* TwitchAuth
    const store = yield* TokenStore
    // Only these two: the session's daemons must live in the map entry's scope, not ours.
    const context = Context.make(TwitchAuth, auth).pipe(Context.add(TokenStore, store))
    const { idleTimeToLive, ...sessionOptions } = options
    // What every session shares (services, options), made once: a session holds its own state only.
    const env = UserSession.envOf(auth, store, sessionOptions)
    const noStoredToken = (key: string) => new TwitchSession.NoStoredToken({ key })
    // Every live session's background work runs on the scheduler sessions share (one fiber).
    const map = yield* RcMap.make({
      lookup: (userId: string) =>
        UserSession.start(env, userId, undefined, noStoredToken).pipe(Effect.provide(context)),
      idleTimeToLive: idleTimeToLive ?? "5 minutes"
    })

    const get: TwitchSessions.Service["get"] = (userId) => RcMap.get(map, userId)

    const add: TwitchSessions.Service["add"] = (token) =>
      Effect.gen(function*() {
        const info = yield* auth.validateToken(token.accessToken)
        if (Option.isNone(info.userId)) return yield* Effect.fail(new MissingUserId())
        yield* store.set(info.userId.value, token)
        yield* RcMap.invalidate(map, info.userId.value)
        return yield* get(info.userId.value)
      })

    const withUser: TwitchSessions.Service["withUser"] = (userId) => (effect) =>
      Effect.acquireUseRelease(
        Scope.make(),
        (scope) =>
          Effect.flatMap(Scope.extend(get(userId), scope), (session) =>
            Effect.provide(
              effect,
              Context.make(TwitchSession.TwitchSession, session).pipe(Context.add(TwitchCredentials, session))
            )),
        (scope, exit) => Scope.close(scope, exit)
      )

    return TwitchSessions.of({ get, add, userIds: store.keys, withUser })
  })

/**
 * Provides {@link TwitchSessions}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: TwitchSessions.Options = {}
): Layer.Layer<TwitchSessions, never, TwitchAuth | TokenStore> => Layer.scoped(TwitchSessions, make(options))
