import { TwitchAuthConfig } from "@effect-twitch/auth"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

const fromEnv = (env: Record<string, string>) =>
  TwitchAuthConfig.TwitchAuthConfig.pipe(
    Effect.provide(
      TwitchAuthConfig.layerConfig().pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
      )
    )
  )

describe("TwitchAuthConfig.layerConfig", () => {
  it.effect("reads every variable, with defaults for the URLs", () =>
    Effect.gen(function*() {
      const config = yield* fromEnv({
        TWITCH_CLIENT_ID: "abc123",
        TWITCH_CLIENT_SECRET: "s3cret",
        TWITCH_REDIRECT_URI: "http://localhost:3000/callback",
        TWITCH_REQUEST_TIMEOUT: "5 seconds"
      })
      assert.strictEqual(config.clientId, "abc123")
      assert.strictEqual(Redacted.value(Option.getOrThrow(config.clientSecret)), "s3cret")
      assert.deepStrictEqual(config.redirectUri, Option.some("http://localhost:3000/callback"))
      assert.strictEqual(config.authUrl, "https://id.twitch.tv/oauth2")
      assert.strictEqual(config.helixUrl, "https://api.twitch.tv/helix")
      assert.isTrue(Duration.equals(config.requestTimeout, Duration.seconds(5)))
    }))

  it.effect("a public client has no secret; an empty secret counts as none; a trailing slash is dropped", () =>
    Effect.gen(function*() {
      const none = yield* fromEnv({ TWITCH_CLIENT_ID: "abc123" })
      assert.isTrue(Option.isNone(none.clientSecret))
      const empty = yield* fromEnv({
        TWITCH_CLIENT_ID: "abc123",
        TWITCH_CLIENT_SECRET: "",
        TWITCH_AUTH_URL: "http://127.0.0.1:8787/oauth2/"
      })
      assert.isTrue(Option.isNone(empty.clientSecret))
      assert.strictEqual(empty.authUrl, "http://127.0.0.1:8787/oauth2")
    }))

  it.effect("a missing or malformed variable fails with a message naming it", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
        [{}, "TWITCH_CLIENT_ID"],
        [{ TWITCH_CLIENT_ID: "  " }, "TWITCH_CLIENT_ID"],
        [{ TWITCH_CLIENT_ID: "abc", TWITCH_AUTH_URL: "id.twitch.tv" }, "TWITCH_AUTH_URL"],
        [{ TWITCH_CLIENT_ID: "abc", TWITCH_HELIX_URL: "ftp://x" }, "TWITCH_HELIX_URL"],
        [{ TWITCH_CLIENT_ID: "abc", TWITCH_REDIRECT_URI: "/callback" }, "TWITCH_REDIRECT_URI"],
        [{ TWITCH_CLIENT_ID: "abc", TWITCH_REQUEST_TIMEOUT: "soon" }, "TWITCH_REQUEST_TIMEOUT"]
      ]
      for (const [env, name] of cases) {
        const error = yield* Effect.flip(fromEnv(env))
        assert.include(String(error), name, JSON.stringify(env))
      }
    }))

  it.effect("the secret never appears in a config error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromEnv({ TWITCH_CLIENT_SECRET: "hunter2hunter2", TWITCH_AUTH_URL: "nope" }))
      assert.notInclude(String(error), "hunter2hunter2")
    }))
})

describe("TwitchAuthConfig.layer", () => {
  it.effect("rejects bad options with TwitchAuthConfigError naming the option", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [TwitchAuthConfig.TwitchAuthConfig.Options, string]> = [
        [{ clientId: "" }, "clientId"],
        [{ clientId: "has spaces" }, "clientId"],
        [{ clientId: "abc", authUrl: "not a url" }, "authUrl"],
        [{ clientId: "abc", authUrl: "https://id.twitch.tv/oauth2?x=1" }, "authUrl"],
        [{ clientId: "abc", redirectUri: "callback" }, "redirectUri"],
        [{ clientId: "abc", requestTimeout: 0 }, "requestTimeout"]
      ]
      for (const [options, field] of cases) {
        const error = yield* Effect.flip(TwitchAuthConfig.make(options))
        assert.strictEqual(error._tag, "TwitchAuthConfigError")
        assert.strictEqual(error.field, field)
        assert.include(error.message, field)
      }
    }))

  it.effect("wraps a plain-string secret in Redacted", () =>
    Effect.gen(function*() {
      const config = yield* TwitchAuthConfig.make({ clientId: "abc", clientSecret: "plain" })
      const secret = Option.getOrThrow(config.clientSecret)
      assert.isTrue(Redacted.isRedacted(secret))
      assert.strictEqual(String(secret), "<redacted>")
    }))
})
