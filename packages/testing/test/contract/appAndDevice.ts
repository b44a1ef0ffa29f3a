/** The TwitchAuth contract's cases for appToken and the device code flow (see TwitchAuthContract.ts). */
import * as Token from "@effect-twitch/auth/Token"
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import { assert, describe } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { FakeTwitch, TwitchAuthTest } from "../../src/index.js"
import {
  appTtl,
  asPublicClient,
  authAs,
  confidential,
  millisBetween,
  redacted,
  type Test,
  unknownClient,
  user,
  wrongSecret
} from "./support.js"

/** The contract's cases for appToken and the device code flow. */
export const appAndDeviceCases = (test: Test) => {
  describe("appToken", () => {
    test(
      "client credentials: an app token living appTokenTtlSeconds, sent with the secret",
      Effect.gen(function*() {
        const auth = yield* TwitchAuth.TwitchAuth
        const app = yield* auth.appToken()
        assert.instanceOf(app, Token.AppToken)
        assert.deepStrictEqual(app.scopes, [])
        assert.strictEqual(millisBetween(app.obtainedAt, Option.getOrThrow(app.expiresAt)), Duration.toMillis(appTtl))
        assert.isTrue(yield* TwitchAuthTest.isAccessTokenValid(app))
        const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("token"))
        assert.deepStrictEqual(sent.params, {
          client_id: confidential.clientId,
          client_secret: confidential.clientSecret,
          grant_type: "client_credentials"
        })
        assert.strictEqual(yield* TwitchAuthTest.grantCount("client_credentials"), 1)
      })
    )

    test(
      "wrong secret: InvalidClient(WrongSecret, 403); unknown client: InvalidClient(UnknownClient); no secret: MissingClientSecret(Config)",
      Effect.gen(function*() {
        const wrong = yield* Effect.flip((yield* authAs({ clientSecret: wrongSecret })).appToken())
        assert.strictEqual(wrong._tag, "InvalidClient")
        if (wrong._tag === "InvalidClient") {
          assert.strictEqual(wrong.reason, "WrongSecret")
          assert.strictEqual(wrong.status, 403)
          assert.strictEqual(wrong.twitchMessage, "invalid client secret")
        }
        const unknown = yield* Effect.flip((yield* authAs({ clientId: unknownClient })).appToken())
        assert.strictEqual(unknown._tag, "InvalidClient")
        if (unknown._tag === "InvalidClient") {
          assert.strictEqual(unknown.reason, "UnknownClient")
          assert.strictEqual(unknown.status, 400)
        }
        assert.strictEqual(yield* TwitchAuthTest.calls("token"), 2)
        const secretless = yield* Effect.flip((yield* asPublicClient).appToken())
        assert.strictEqual(secretless._tag, "MissingClientSecret")
        if (secretless._tag === "MissingClientSecret") assert.strictEqual(secretless.source, "Config")
        assert.strictEqual(yield* TwitchAuthTest.calls("token"), 2)
      })
    )
  })

  describe("device code flow", () => {
    test(
      "start → pending → approved → a user token; the code is then spent",
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const auth = yield* asPublicClient
        const device = yield* auth.startDeviceAuthorization({ scopes: ["chat:read", "chat:edit"] })
        assert.match(device.userCode, /^[A-Z0-9]{4,}$/)
        assert.include(device.verificationUri, device.userCode)
        assert.include(device.verificationUri, "public=true")
        assert.strictEqual(device.intervalSeconds, 5)
        assert.deepStrictEqual(device.scopes, ["chat:read", "chat:edit"])
        const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("device"))
        assert.strictEqual(sent.params["scopes"], "chat:read chat:edit")
        assert.isUndefined(sent.params["client_secret"])

        const pending = yield* Effect.flip(auth.pollDeviceToken(device.deviceCode))
        assert.strictEqual(pending._tag, "AuthorizationPending")
        yield* Effect.orDie(twitch.approveDevice(device.userCode, user.userId))
        yield* TestClock.adjust("5 seconds")
        const token = yield* auth.pollDeviceToken(device.deviceCode)
        assert.deepStrictEqual(token.scopes, ["chat:read", "chat:edit"])
        assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(token.accessToken)))
        const info = yield* auth.validateToken(token.accessToken)
        assert.deepStrictEqual(info.userId, Option.some(user.userId))

        yield* TestClock.adjust("5 seconds")
        const spent = yield* Effect.flip(auth.pollDeviceToken(device.deviceCode))
        assert.strictEqual(spent._tag, "DeviceCodeExpired")
      })
    )

    test(
      "a confidential client sends its secret; a denied code is AccessDenied",
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const auth = yield* TwitchAuth.TwitchAuth
        const device = yield* auth.startDeviceAuthorization({ scopes: ["chat:read"] })
        assert.notInclude(device.verificationUri, "public=true")
        yield* Effect.orDie(twitch.denyDevice(device.userCode))
        const denied = yield* Effect.flip(auth.pollDeviceToken(device.deviceCode))
        assert.strictEqual(denied._tag, "AccessDenied")
        const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("token"))
        assert.strictEqual(sent.params["client_secret"], confidential.clientSecret)
      })
    )

    test(
      "polling faster than the interval is SlowDown; after expiry (TestClock) the code is DeviceCodeExpired",
      Effect.gen(function*() {
        const auth = yield* asPublicClient
        const device = yield* auth.startDeviceAuthorization({ scopes: [] })
        assert.strictEqual((yield* Effect.flip(auth.pollDeviceToken(device.deviceCode)))._tag, "AuthorizationPending")
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Effect.flip(auth.pollDeviceToken(device.deviceCode)))._tag, "SlowDown")
        const lifetime = millisBetween(yield* DateTime.now, device.expiresAt)
        assert.strictEqual(lifetime, 1800_000 - 1000)
        yield* TestClock.adjust(Duration.millis(lifetime))
        assert.strictEqual((yield* Effect.flip(auth.pollDeviceToken(device.deviceCode)))._tag, "DeviceCodeExpired")
      })
    )

    test(
      "polling with an unknown device code: DeviceCodeExpired; from an unknown client: InvalidClient",
      Effect.gen(function*() {
        const auth = yield* TwitchAuth.TwitchAuth
        const error = yield* Effect.flip(auth.pollDeviceToken(redacted("nosuchdevicecode0000000000000")))
        assert.strictEqual(error._tag, "DeviceCodeExpired")
        if (error._tag === "DeviceCodeExpired") assert.strictEqual(error.twitchMessage, "invalid device code")
        const sent = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("token"))
        assert.strictEqual(sent.params["grant_type"], "urn:ietf:params:oauth:grant-type:device_code")
        assert.strictEqual(sent.params["device_code"], "nosuchdevicecode0000000000000")
        const stranger = yield* authAs({ clientId: unknownClient })
        const unknown = yield* Effect.flip(stranger.pollDeviceToken(redacted("nosuchdevicecode0000000000000")))
        assert.strictEqual(unknown._tag, "InvalidClient")
        assert.strictEqual(yield* TwitchAuthTest.calls("token"), 2)
      })
    )
  })
}
