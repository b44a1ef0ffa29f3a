import { TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"

export const confidential = FakeTwitch.defaultSeed.clients[0]
export const publicClient = FakeTwitch.defaultSeed.clients[1]
export const user = FakeTwitch.defaultSeed.users[0]

/** Retries quickly so that tests of retry counts take milliseconds. */
export const fastRetry: Schedule.Schedule<unknown, unknown> = Schedule.spaced("5 millis").pipe(
  Schedule.intersect(Schedule.recurs(3))
)

/** The mock id.twitch.tv on loopback, its model, and a real HTTP client (undici). */
export const MockLayer = Layer.merge(MockTwitchServer.layerTest, NodeHttpClient.layerUndici)

/**
 * A real `TwitchAuth` pointed at the running mock, with the confidential seed client unless
 * `options` say otherwise.
 */
export const authWith = (options: Partial<TwitchAuthConfig.TwitchAuthConfig.Options> = {}) =>
  Effect.gen(function*() {
    const server = yield* MockTwitchServer.MockTwitchServer
    return yield* TwitchAuth.make.pipe(
      Effect.provide(
        TwitchAuthConfig.layer({
          clientId: confidential.clientId,
          clientSecret: confidential.clientSecret,
          redirectUri: confidential.redirectUris[0],
          authUrl: server.authUrl,
          retrySchedule: fastRetry,
          ...options
        })
      ),
      Effect.orDie
    )
  })

/** Every string in `haystack` that contains one of `needles`. */
export const leaks = (haystack: ReadonlyArray<string>, needles: ReadonlyArray<string>): Array<string> =>
  needles.filter((needle) => needle.length > 0 && haystack.some((text) => text.includes(needle)))

export interface Answer {
  readonly status: number
  readonly body: string
  readonly headers?: Record<string, string>
}

/** A TwitchAuth whose transport always gives `answer`, counting the requests. */
export const stubbed = (answer: Answer, options: Partial<TwitchAuthConfig.TwitchAuthConfig.Options> = {}) =>
  Effect.gen(function*() {
    const calls = yield* Ref.make(0)
    const client = HttpClient.make((request) =>
      Effect.as(
        Ref.update(calls, (n) => n + 1),
        HttpClientResponse.fromWeb(
          request,
          // 204/205/304 cannot carry a body in the Fetch API
          new Response(answer.body === "" || [204, 205, 304].includes(answer.status) ? null : answer.body, {
            status: answer.status,
            headers: { "content-type": "application/json", ...answer.headers }
          })
        )
      )
    )
    const auth = yield* TwitchAuth.make.pipe(
      Effect.provide(
        TwitchAuthConfig.layer({
          clientId: "hof5gwx0su6owfnys0yan9c87zr6t1",
          clientSecret: "41vpdji4e9gif29md0ouet6fktd2mk",
          redirectUri: "http://localhost:3000/callback",
          retrySchedule: fastRetry,
          ...options
        })
      ),
      Effect.provideService(HttpClient.HttpClient, client),
      Effect.orDie
    )
    return { auth, calls: Ref.get(calls) }
  })
