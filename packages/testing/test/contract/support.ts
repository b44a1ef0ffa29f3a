/**
 * What the contract's flows share (see TwitchAuthContract.ts): the adapter type, the seed, the
 * clients built beside the adapter's, and the waits that count events, never time.
 */
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { FakeTwitch, MockTwitchServer, TwitchAuthTest } from "../../src/index.js"

/** What an adapter provides. */
export type Adapter = Layer.Layer<
  TwitchAuth.TwitchAuth | TwitchAuthConfig.TwitchAuthConfig | FakeTwitch.FakeTwitch | HttpClient.HttpClient,
  unknown
>

export const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
export const [user] = FakeTwitch.defaultSeed.users
export const userTtl = Duration.seconds(FakeTwitch.defaults.userTokenTtlSeconds)
export const appTtl = Duration.seconds(FakeTwitch.defaults.appTokenTtlSeconds)
export const wrongSecret = "0000000000wrongsecret000000000"
export const unknownClient = "nosuchclient000000000000000000"

export const redacted = (s: string) => Redacted.make(s)

/** A `TwitchAuth` like the adapter's, with some configuration changed, over the adapter's transport. */
export const authAs = (overrides: Partial<TwitchAuthConfig.TwitchAuthConfig.Options>) =>
  Effect.gen(function*() {
    const config = yield* TwitchAuthConfig.TwitchAuthConfig
    return yield* TwitchAuth.make.pipe(
      Effect.provide(TwitchAuthConfig.layer({
        clientId: config.clientId,
        clientSecret: Option.getOrUndefined(config.clientSecret),
        redirectUri: Option.getOrUndefined(config.redirectUri),
        authUrl: config.authUrl,
        helixUrl: config.helixUrl,
        requestTimeout: config.requestTimeout,
        retrySchedule: config.retrySchedule,
        ...overrides
      })),
      Effect.orDie
    )
  })

export const asPublicClient = authAs({ clientId: publicClient.clientId, clientSecret: undefined })

/** Opens an authorize URL like a browser and clicks `decision` on the consent page; returns the redirect. */
export const followAuthorize = (url: string, decision: "authorize" | "cancel" = "authorize") =>
  Effect.map(MockTwitchServer.consent(url, decision), (location) => new URL(location))

/** One turn of the event loop: promises and socket callbacks run, no time passes. */
export const turn = Effect.zipRight(
  Effect.yieldNow(),
  Effect.async<void>((resume) => {
    setImmediate(() => resume(Effect.void))
  })
)

/** Waits (in event-loop turns, never in time) until the fake has seen `n` calls to `endpoint`. */
export const untilCalls = (endpoint: FakeTwitch.FakeTwitch.Endpoint, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 2000 && (yield* TwitchAuthTest.calls(endpoint)) < n; i++) yield* turn
    assert.strictEqual(yield* TwitchAuthTest.calls(endpoint), n, `${endpoint} calls`)
  })

export const millisBetween = (from: DateTime.DateTime, to: DateTime.DateTime) =>
  DateTime.toEpochMillis(to) - DateTime.toEpochMillis(from)

export const Users = Schema.Struct({ data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String })) })

/** A contract case: `body` runs on a fresh adapter. */
export type Test = <A, E>(title: string, body: Effect.Effect<A, E, Layer.Layer.Success<Adapter>>) => void

/** The {@link Test} of one adapter: each case gets a fresh one. */
export const testWith = (adapter: Adapter): Test => (title, body) => {
  it.effect(title, () => Effect.provide(body, adapter))
}
