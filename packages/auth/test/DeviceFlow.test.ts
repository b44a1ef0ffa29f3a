/**
 * The device code flow end to end: against the in-memory Twitch with TestClock (poll counts
 * follow `interval` and `slow_down`, no real waiting), and against the mock server on real
 * sockets (public and confidential clients; approved, slow_down, expired, denied).
 */
import { DeviceFlow, type Token, TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { FakeTwitch, FakeTwitchHttpClient, MockTwitchServer } from "@effect-twitch/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { confidential, fastRetry, publicClient, user } from "./utils.js"

type Kind = "public" | "confidential"

const credentials = (kind: Kind) =>
  kind === "public"
    ? { clientId: publicClient.clientId }
    : { clientId: confidential.clientId, clientSecret: confidential.clientSecret }

/** The real TwitchAuth over the in-memory transport: every sleep is on the TestClock. */
const inMemory = (kind: Kind, fake: FakeTwitch.FakeTwitch.Options = {}) =>
  TwitchAuth.layer.pipe(
    Layer.provideMerge(Layer.orDie(TwitchAuthConfig.layer({ ...credentials(kind), retrySchedule: fastRetry }))),
    Layer.provideMerge(FakeTwitchHttpClient.layer),
    Layer.provideMerge(FakeTwitch.layer(fake))
  )

const twitch = FakeTwitch.FakeTwitch
const tokenCalls = Effect.flatMap(twitch, (t) => t.calls("token"))

/** Another poller of the same device code (e.g. a second instance of the app). */
const rawPoll = (authorization: Token.DeviceAuthorization, clientId: string = publicClient.clientId) =>
  Effect.flatMap(twitch, (t) =>
    t.token({
      method: "POST",
      headers: {},
      params: {
        client_id: clientId,
        device_code: Redacted.value(authorization.deviceCode),
        grant_type: "urn:ietf:params:oauth:grant-type:device_code"
      }
    }))

describe("DeviceFlow on the in-memory Twitch (TestClock, no real waiting)", () => {
  it.effect("polls every `interval` seconds: approved at 12 s → polls at 5, 10, 15 → 3 polls", () =>
    Effect.gen(function*() {
      const authorization = yield* DeviceFlow.start({ scopes: ["chat:read", "user:read:email"] })
      assert.strictEqual(authorization.intervalSeconds, 5)
      assert.match(authorization.verificationUri, /^https:\/\/www\.twitch\.tv\/activate\?public=true&device-code=/)
      const fiber = yield* Effect.fork(DeviceFlow.poll(authorization))
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual(yield* tokenCalls, 0)
      yield* TestClock.adjust("8 seconds") // t = 12 s
      assert.strictEqual(yield* tokenCalls, 2)
      yield* Effect.flatMap(twitch, (t) => t.approveDevice(authorization.userCode))
      yield* TestClock.adjust("3 seconds") // t = 15 s
      const token = yield* Fiber.join(fiber)
      assert.strictEqual(yield* tokenCalls, 3)
      assert.deepStrictEqual(token.scopes, ["chat:read", "user:read:email"])
      const valid = yield* Effect.flatMap(twitch, (t) => t.isAccessTokenValid(Redacted.value(token.accessToken)))
      assert.isTrue(valid)
    }).pipe(Effect.provide(inMemory("public"))))

  it.effect("slow_down: the interval grows by 5 s for good (states and poll counts)", () =>
    Effect.gen(function*() {
      const authorization = yield* DeviceFlow.start({ scopes: ["chat:read"] })
      const seen = yield* Queue.unbounded<DeviceFlow.DeviceFlowState>()
      const fiber = yield* Effect.fork(Stream.runForEach(DeviceFlow.states(authorization), (s) => Queue.offer(seen, s)))
      yield* TestClock.adjust("3 seconds")
      yield* rawPoll(authorization) // another poller at 3 s: the client's poll at 5 s is too soon
      yield* TestClock.adjust("2 seconds") // t = 5 s: slow_down
      assert.strictEqual(yield* tokenCalls, 2)
      yield* TestClock.adjust("9 seconds") // t = 14 s: nothing (the next poll is at 15 s, not 10 s)
      assert.strictEqual(yield* tokenCalls, 2)
      yield* TestClock.adjust("1 second") // t = 15 s: pending
      assert.strictEqual(yield* tokenCalls, 3)
      yield* TestClock.adjust("10 seconds") // t = 25 s: pending
      assert.strictEqual(yield* tokenCalls, 4)
      yield* Effect.flatMap(twitch, (t) => t.approveDevice(authorization.userCode))
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual(yield* tokenCalls, 4)
      yield* TestClock.adjust("1 second") // t = 35 s: the token
      yield* Fiber.join(fiber)
      const states = Chunk.toReadonlyArray(yield* Queue.takeAll(seen))
      assert.deepStrictEqual(states.map((s) => s._tag), ["Pending", "SlowDown", "Pending", "Pending", "Authorized"])
      const [first, slow, second] = states
      assert.strictEqual(first?._tag === "Pending" ? first.polls : -1, 0)
      assert.strictEqual(first?._tag === "Pending" ? first.userCode : "", authorization.userCode)
      assert.isTrue(slow?._tag === "SlowDown" && Duration.equals(slow.interval, Duration.seconds(10)))
      assert.strictEqual(second?._tag === "Pending" ? second.polls : -1, 2)
    }).pipe(Effect.provide(inMemory("public"))))

  it.effect("issue 11 #14: poll stops at expiresAt with DeviceCodeExpired — 11 polls in a 60 s life, none at or after 60 s", () =>
    Effect.gen(function*() {
      const authorization = yield* DeviceFlow.start()
      const fiber = yield* Effect.fork(Effect.flip(DeviceFlow.poll(authorization)))
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual(yield* tokenCalls, 11) // at 5, 10, …, 55 s
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 second") // t = 60 s = expiresAt
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "DeviceCodeExpired")
      // decided by the clock, not by Twitch: no twitchMessage, and no request at 60 s
      assert.isTrue(error._tag === "DeviceCodeExpired" && error.twitchMessage === undefined)
      assert.strictEqual(yield* tokenCalls, 11)
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual(yield* tokenCalls, 11)
    }).pipe(Effect.provide(inMemory("public", { deviceCodeTtlSeconds: 60 }))))

  it.effect("issue 11 #14: expiresAt between two polls — fails at expiresAt itself, not at the next poll (Effect and Stream)", () =>
    Effect.gen(function*() {
      // two codes, so that the two pollers do not slow each other down
      const polled = yield* Effect.fork(Effect.flip(Effect.flatMap(DeviceFlow.start(), DeviceFlow.poll)))
      const streamed = yield* Effect.fork(Effect.flip(Stream.runDrain(DeviceFlow.stream())))
      yield* TestClock.adjust("11999 millis")
      assert.strictEqual(yield* tokenCalls, 4) // each polled at 5 and 10 s
      assert.isTrue(Option.isNone(yield* Fiber.poll(polled)))
      assert.isTrue(Option.isNone(yield* Fiber.poll(streamed)))
      yield* TestClock.adjust("1 millis") // t = 12 s = expiresAt
      assert.strictEqual((yield* Fiber.join(polled))._tag, "DeviceCodeExpired")
      assert.strictEqual((yield* Fiber.join(streamed))._tag, "DeviceCodeExpired")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* tokenCalls, 4)
    }).pipe(Effect.provide(inMemory("public", { deviceCodeTtlSeconds: 12 }))))

  it.effect("issue 11 #14: interval 0 is polled at the minimum interval (1 s): 60 polls a minute, Effect and Stream", () =>
    Effect.gen(function*() {
      assert.strictEqual(Duration.toSeconds(DeviceFlow.minimumInterval), 1)
      const authorization = yield* DeviceFlow.start()
      assert.strictEqual(authorization.intervalSeconds, 0)
      const polled = yield* Effect.fork(DeviceFlow.poll(authorization))
      // let the poller run before any time passes: it must be asleep, not polling
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      assert.strictEqual(yield* tokenCalls, 0)
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(yield* tokenCalls, 0)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* tokenCalls, 1)
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual(yield* tokenCalls, 60)
      yield* Fiber.interrupt(polled)
      const seen = yield* Queue.unbounded<DeviceFlow.DeviceFlowState>()
      const streamed = yield* Effect.fork(
        Stream.runForEach(DeviceFlow.states(authorization), (s) => Queue.offer(seen, s))
      )
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual(yield* tokenCalls, 90)
      yield* Fiber.interrupt(streamed)
      const states = Chunk.toReadonlyArray(yield* Queue.takeAll(seen))
      assert.strictEqual(states.length, 31) // Pending 0, then one per poll
    }).pipe(Effect.provide(inMemory("public", { deviceIntervalSeconds: 0 }))))

  it.effect("denied: AccessDenied, and no poll after it", () =>
    Effect.gen(function*() {
      const authorization = yield* DeviceFlow.start()
      const fiber = yield* Effect.fork(Effect.flip(DeviceFlow.poll(authorization)))
      yield* TestClock.adjust("7 seconds")
      yield* Effect.flatMap(twitch, (t) => t.denyDevice(authorization.userCode))
      yield* TestClock.adjust("3 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "AccessDenied")
      assert.strictEqual(error._tag === "AccessDenied" ? error.flow : "", "DeviceCode")
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* tokenCalls, 2)
    }).pipe(Effect.provide(inMemory("public"))))

  it.effect("authorize: start, show the code, poll — a confidential client sends its secret", () =>
    Effect.gen(function*() {
      const shown = yield* Queue.unbounded<string>()
      const fiber = yield* Effect.fork(
        DeviceFlow.authorize({
          scopes: ["bits:read"],
          onStart: (authorization) => Queue.offer(shown, authorization.userCode)
        })
      )
      yield* TestClock.adjust("1 second")
      const userCode = yield* Queue.take(shown)
      yield* Effect.flatMap(twitch, (t) => t.approveDevice(userCode))
      yield* TestClock.adjust("4 seconds")
      const token = yield* Fiber.join(fiber)
      assert.deepStrictEqual(token.scopes, ["bits:read"])
      const poll = yield* Effect.flatMap(twitch, (t) => t.lastRequest("token"))
      assert.strictEqual(Option.getOrThrow(poll).params["client_secret"], confidential.clientSecret)
      const start = yield* Effect.flatMap(twitch, (t) => t.lastRequest("device"))
      assert.isUndefined(Option.getOrThrow(start).params["client_secret"])
    }).pipe(Effect.provide(inMemory("confidential"))))
})

// ---------------------------------------------------------------------------------------------
// against the mock server, real sockets
// ---------------------------------------------------------------------------------------------

/**
 * The mock on 127.0.0.1 and TwitchAuth over undici. The layer's TestClock is shared by the
 * client's sleeps and the mock's model, so the test steps time; a long request timeout keeps
 * the timeout's own (never-firing) sleep out of the way.
 */
const overSockets = (kind: Kind, fake: FakeTwitch.FakeTwitch.Options = {}) =>
  Layer.unwrapEffect(
    Effect.map(MockTwitchServer.MockTwitchServer, (server) =>
      TwitchAuth.layer.pipe(
        Layer.provide(Layer.orDie(TwitchAuthConfig.layer({
          ...credentials(kind),
          authUrl: server.authUrl,
          requestTimeout: "1 hour",
          retrySchedule: fastRetry
        })))
      ))
  ).pipe(
    Layer.provideMerge(
      Layer.merge(MockTwitchServer.layer().pipe(Layer.provideMerge(FakeTwitch.layer(fake))), NodeHttpClient.layerUndici)
    )
  )

/**
 * Waits (a few real milliseconds at a time) until the client has scheduled its next poll,
 * and returns how far ahead it is: over sockets the answer to the previous poll arrives
 * asynchronously, so time may only be stepped once the client sleeps again.
 */
const nextPollIn = Effect.gen(function*() {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const now = yield* Clock.currentTimeMillis
    const soon = Chunk.filter(yield* TestClock.sleeps(), (deadline) => deadline > now && deadline - now <= 60_000)
    if (Chunk.isNonEmpty(soon)) return Duration.millis(Math.min(...soon) - now)
    yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))
  }
  return Duration.infinity
})

/** Runs the states stream into a queue; the fiber ends with the stream's failure or success. */
const watch = (authorization: Token.DeviceAuthorization) =>
  Effect.gen(function*() {
    const states = yield* Queue.unbounded<DeviceFlow.DeviceFlowState>()
    const fiber = yield* Effect.fork(
      Effect.either(Stream.runForEach(DeviceFlow.states(authorization), (s) => Queue.offer(states, s)))
    )
    return { states, fiber }
  })

/** Steps the clock to the client's next poll, checking it is `seconds` away, and returns the state it led to. */
const nextState = (states: Queue.Queue<DeviceFlow.DeviceFlowState>, seconds: number) =>
  Effect.gen(function*() {
    const delay = yield* nextPollIn
    assert.strictEqual(Duration.toSeconds(delay), seconds, "the next poll is scheduled one interval ahead")
    yield* TestClock.adjust(delay)
    return yield* Queue.take(states)
  })

for (const kind of ["public", "confidential"] as const) {
  layer(overSockets(kind))(`DeviceFlow against the mock server, ${kind} client (real sockets)`, (it) => {
    it.effect("pending → approved: the token, after one poll per interval", () =>
      Effect.gen(function*() {
        const authorization = yield* DeviceFlow.start({ scopes: ["chat:read"] })
        const expected = kind === "public" ? "?public=true&device-code=" : "?device-code="
        assert.include(authorization.verificationUri, expected + authorization.userCode)
        const before = yield* tokenCalls
        const { fiber, states } = yield* watch(authorization)
        assert.strictEqual((yield* Queue.take(states))._tag, "Pending")
        const pending = yield* nextState(states, 5)
        assert.isTrue(pending._tag === "Pending" && pending.polls === 1)
        yield* Effect.flatMap(twitch, (t) => t.approveDevice(authorization.userCode, user.userId))
        const authorized = yield* nextState(states, 5)
        assert.strictEqual(authorized._tag, "Authorized")
        assert.isTrue(Option.isSome(yield* Effect.flatMap(twitch, (t) => t.lastRequest("token"))))
        assert.strictEqual((yield* tokenCalls) - before, 2)
        assert.strictEqual((yield* Fiber.join(fiber))._tag, "Right")
        const sentSecret = Option.getOrThrow(yield* Effect.flatMap(twitch, (t) => t.lastRequest("token"))).params[
          "client_secret"
        ]
        assert.strictEqual(sentSecret, kind === "public" ? undefined : confidential.clientSecret)
      }))

    it.effect("slow_down is honoured: the next poll comes 10 s later, and it is pending, not slow_down", () =>
      Effect.gen(function*() {
        const authorization = yield* DeviceFlow.start()
        const { fiber, states } = yield* watch(authorization)
        yield* Queue.take(states)
        const delay = yield* nextPollIn
        yield* TestClock.adjust(Duration.subtract(delay, Duration.seconds(2)))
        yield* rawPoll(authorization, credentials(kind).clientId) // someone else polls 2 s before the client
        yield* TestClock.adjust("2 seconds")
        const slow = yield* Queue.take(states)
        assert.isTrue(slow._tag === "SlowDown" && Duration.equals(slow.interval, Duration.seconds(10)))
        const pending = yield* nextState(states, 10)
        assert.strictEqual(pending._tag, "Pending")
        yield* Effect.flatMap(twitch, (t) => t.approveDevice(authorization.userCode))
        assert.strictEqual((yield* nextState(states, 10))._tag, "Authorized")
        assert.strictEqual((yield* Fiber.join(fiber))._tag, "Right")
      }))

    it.effect("denied: the stream fails with AccessDenied", () =>
      Effect.gen(function*() {
        const authorization = yield* DeviceFlow.start()
        const { fiber, states } = yield* watch(authorization)
        yield* Queue.take(states)
        yield* Effect.flatMap(twitch, (t) => t.denyDevice(authorization.userCode))
        const delay = yield* nextPollIn
        yield* TestClock.adjust(delay)
        const result = yield* Fiber.join(fiber)
        assert.isTrue(result._tag === "Left" && result.left._tag === "AccessDenied")
      }))
  })
}

layer(overSockets("public", { deviceCodeTtlSeconds: 12 }))("DeviceFlow against the mock server, expiry", (it) => {
  it.effect("issue 11 #14: expired — DeviceCodeExpired at expiresAt (12 s), without a poll at 15 s", () =>
    Effect.gen(function*() {
      const authorization = yield* DeviceFlow.start()
      const { fiber, states } = yield* watch(authorization)
      yield* Queue.take(states)
      assert.strictEqual((yield* nextState(states, 5))._tag, "Pending") // t = 5
      assert.strictEqual((yield* nextState(states, 5))._tag, "Pending") // t = 10
      const polls = yield* tokenCalls
      const left = yield* nextPollIn
      assert.strictEqual(Duration.toSeconds(left), 2) // no poll at 15 s: the code ends at 12 s
      yield* TestClock.adjust(left)
      const result = yield* Fiber.join(fiber)
      assert.isTrue(result._tag === "Left" && result.left._tag === "DeviceCodeExpired")
      assert.strictEqual(yield* tokenCalls, polls)
    }))
})
