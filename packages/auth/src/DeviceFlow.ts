/**
 * The device code flow (RFC 8628 as Twitch runs it): for apps without a browser or a
 * redirect URI — CLIs, TVs, bots. Show the user a code and a URL, then poll
 * `POST /oauth2/token` until they approve on twitch.tv/activate.
 *
 * Polling honours Twitch's `interval` (never less than {@link minimumInterval}, 1 second) and
 * grows it by 5 seconds on every `slow_down`; it ends with the token, `AccessDenied` (the user
 * refused) or `DeviceCodeExpired` — at the code's `expiresAt` (~30 minutes) at the latest,
 * without asking Twitch once the code has run out. Time comes from Effect's `Clock`:
 * `TestClock` drives it in tests.
 *
 * Works for public clients (no secret, the only flow Twitch allows them besides implicit)
 * and confidential ones (the secret is sent when configured).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Token from "./Token.js"
import { TwitchAuth } from "./TwitchAuth.js"
import type * as TwitchAuthError from "./TwitchAuthError.js"
import { DeviceCodeExpired } from "./TwitchAuthError.js"
import type * as TwitchScope from "./TwitchScope.js"

/**
 * Where a device authorization stands, for progress displays:
 *
 * - `Pending`: waiting for the user; show `userCode` and `verificationUri`. `polls` is how
 *   many times Twitch has been asked so far (0 before the first poll).
 * - `SlowDown`: Twitch asked to poll less often; polls are now `interval` apart.
 * - `Authorized`: the user approved; `token` is theirs. Always the last state.
 *
 * @since 0.1.0
 * @category models
 */
export type DeviceFlowState = Data.TaggedEnum<{
  Pending: {
    readonly userCode: string
    readonly verificationUri: string
    readonly expiresAt: DateTime.Utc
    readonly polls: number
  }
  SlowDown: { readonly interval: Duration.Duration }
  Authorized: { readonly token: Token.UserToken }
}>

/**
 * Constructors and matchers of {@link DeviceFlowState}.
 *
 * @since 0.1.0
 * @category models
 */
export const DeviceFlowState = Data.taggedEnum<DeviceFlowState>()

/**
 * How the polling can end other than with a token: `TwitchAuthError.DeviceFlowError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type PollError = TwitchAuthError.DeviceFlowError

/**
 * How starting a device authorization can fail: `TwitchAuthError.DeviceAuthorizationError`.
 *
 * @since 0.1.0
 * @category errors
 */
export type StartError = TwitchAuthError.DeviceAuthorizationError

/** RFC 8628 §3.5: every `slow_down` adds 5 seconds to the interval, for good. */
const slowDownIncrement = Duration.seconds(5)

/**
 * The least time between two polls, whatever `interval` the server sends: 1 second. Twitch
 * sends 5 and that is honoured as is; the floor is for an `interval` of 0 (or a fraction),
 * which would otherwise poll as fast as the network allows — hundreds of requests a second.
 * 1 second rather than RFC 8628's default of 5 (meant for an absent `interval`) keeps servers
 * that ask for a short interval on purpose (test servers, the CLI's demo) fast.
 *
 * @since 0.1.0
 * @category polling
 */
export const minimumInterval: Duration.Duration = Duration.seconds(1)

type Step =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "SlowDown"; readonly interval: Duration.Duration }
  | { readonly _tag: "Authorized"; readonly token: Token.UserToken }

/**
 * Waits `interval`, then polls once — unless the code expires before the poll is due: then it
 * waits until `expiresAt` and fails with `DeviceCodeExpired` without asking Twitch.
 */
const step = (
  authorization: Token.DeviceAuthorization,
  interval: Duration.Duration
): Effect.Effect<Step, PollError, TwitchAuth> =>
  Effect.gen(function*() {
    const auth = yield* TwitchAuth
    const now = yield* Clock.currentTimeMillis
    const left = DateTime.toEpochMillis(authorization.expiresAt) - now
    if (!(Duration.toMillis(interval) < left)) {
      yield* Effect.sleep(Duration.millis(Math.max(0, left)))
      return yield* Effect.fail(new DeviceCodeExpired())
    }
    yield* Effect.sleep(interval)
    return yield* auth.pollDeviceToken(authorization.deviceCode).pipe(
      Effect.map((token): Step => ({ _tag: "Authorized", token })),
      Effect.catchTags({
        AuthorizationPending: () => Effect.succeed<Step>({ _tag: "Pending" }),
        SlowDown: () => Effect.succeed<Step>({ _tag: "SlowDown", interval: Duration.sum(interval, slowDownIncrement) })
      })
    )
  })

const initialInterval = (authorization: Token.DeviceAuthorization): Duration.Duration =>
  Duration.max(Duration.seconds(authorization.intervalSeconds), minimumInterval)

/**
 * Starts a device authorization (`POST /oauth2/device` with the scopes in the body). Show
 * the result's `userCode` and `verificationUri` to the user, then {@link poll}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (
  options: { readonly scopes?: Iterable<TwitchScope.Requested> | undefined } = {}
): Effect.Effect<Token.DeviceAuthorization, StartError, TwitchAuth> =>
  Effect.flatMap(TwitchAuth, (auth) => auth.startDeviceAuthorization(options))

/**
 * Polls until the user decides: every `interval` seconds (at least {@link minimumInterval};
 * 5 s longer after each `slow_down`), first poll one interval after the start. Succeeds with
 * the user token; fails with `DeviceCodeExpired` at the code's `expiresAt` at the latest (no
 * poll is sent at or after it).
 *
 * @example
 * ```ts
 * import { DeviceFlow } from "@effect-twitch/auth"
 * import { Console, Effect } from "effect"
 *
 * const login = Effect.gen(function*() {
 *   const authorization = yield* DeviceFlow.start({ scopes: ["chat:read"] })
 *   yield* Console.log(`Open ${authorization.verificationUri} and enter ${authorization.userCode}`)
 *   return yield* DeviceFlow.poll(authorization)
 * })
 * ```
 *
 * @since 0.1.0
 * @category polling
 */
export const poll = (
  authorization: Token.DeviceAuthorization
): Effect.Effect<Token.UserToken, PollError, TwitchAuth> => {
  const loop = (interval: Duration.Duration): Effect.Effect<Token.UserToken, PollError, TwitchAuth> =>
    Effect.flatMap(step(authorization, interval), (result) => {
      switch (result._tag) {
        case "Authorized":
          return Effect.succeed(result.token)
        case "Pending":
          return loop(interval)
        case "SlowDown":
          return loop(result.interval)
      }
    })
  return loop(initialInterval(authorization)).pipe(Effect.withSpan("DeviceFlow.poll"))
}

interface Loop {
  readonly interval: Duration.Duration
  readonly polls: number
  readonly done: boolean
}

/**
 * The polling of {@link poll} as a stream of {@link DeviceFlowState}s: `Pending` with
 * `polls: 0` at once (show the code), then one state per poll — `Pending` again,
 * `SlowDown`, and finally `Authorized`, after which the stream ends. It fails like
 * {@link poll}: with `DeviceCodeExpired` at `expiresAt` at the latest.
 *
 * @since 0.1.0
 * @category polling
 */
export const states = (
  authorization: Token.DeviceAuthorization
): Stream.Stream<DeviceFlowState, PollError, TwitchAuth> => {
  const pending = (polls: number) =>
    DeviceFlowState.Pending({
      userCode: authorization.userCode,
      verificationUri: authorization.verificationUri,
      expiresAt: authorization.expiresAt,
      polls
    })
  const polling = Stream.unfoldEffect(
    { interval: initialInterval(authorization), polls: 0, done: false } satisfies Loop,
    (loop): Effect.Effect<Option.Option<readonly [DeviceFlowState, Loop]>, PollError, TwitchAuth> =>
      loop.done
        ? Effect.succeedNone
        : Effect.map(step(authorization, loop.interval), (result) => {
          const polls = loop.polls + 1
          switch (result._tag) {
            case "Authorized":
              return Option.some([DeviceFlowState.Authorized({ token: result.token }), { ...loop, polls, done: true }])
            case "Pending":
              return Option.some([pending(polls), { ...loop, polls }])
            case "SlowDown":
              return Option.some([
                DeviceFlowState.SlowDown({ interval: result.interval }),
                { ...loop, interval: result.interval, polls }
              ])
          }
        })
  )
  return Stream.concat(Stream.succeed(pending(0)), polling)
}

/**
 * {@link start}, then {@link states}: the whole flow as one stream. The first element is
 * `Pending` with the code to show.
 *
 * @example
 * ```ts
 * import { DeviceFlow } from "@effect-twitch/auth"
 * import { Console, Effect, Stream } from "effect"
 *
 * const login = DeviceFlow.stream({ scopes: ["chat:read"] }).pipe(
 *   Stream.tap(DeviceFlow.DeviceFlowState.$match({
 *     Pending: ({ polls, userCode, verificationUri }) =>
 *       polls === 0 ? Console.log(`Open ${verificationUri}, enter ${userCode}`) : Console.log("waiting…"),
 *     SlowDown: ({ interval }) => Console.log(`polling every ${interval}`),
 *     Authorized: () => Console.log("authorized")
 *   })),
 *   Stream.runLast
 * )
 * ```
 *
 * @since 0.1.0
 * @category polling
 */
export const stream = (
  options: { readonly scopes?: Iterable<TwitchScope.Requested> | undefined } = {}
): Stream.Stream<DeviceFlowState, StartError | PollError, TwitchAuth> =>
  Stream.unwrap(Effect.map(start(options), states))

/**
 * The whole flow as one Effect: {@link start}, `onStart` (show the code to the user), then
 * {@link poll}.
 *
 * @since 0.1.0
 * @category polling
 */
export const authorize = <E = never, R = never>(options: {
  readonly scopes?: Iterable<TwitchScope.Requested> | undefined
  readonly onStart: (authorization: Token.DeviceAuthorization) => Effect.Effect<void, E, R>
}): Effect.Effect<Token.UserToken, StartError | PollError | E, TwitchAuth | R> =>
  Effect.flatMap(
    start(options),
    (authorization) => Effect.zipRight(options.onStart(authorization), poll(authorization))
  )
