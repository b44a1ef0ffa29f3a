/**
 * Regression tests of issue 12 ("Behave like real Twitch, and like a user expects"), the
 * SDK's items: each test is named after the item it covers.
 */
import {
  TokenStore,
  TwitchAuth,
  TwitchAuthConfig,
  type TwitchAuthError,
  TwitchHttpClient,
  TwitchScope,
  TwitchSession
} from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { callsOf, type ClientKind, issueToken, overSockets, refreshCount } from "./lifecycle.js"
import { authWith, confidential, MockLayer, user } from "./utils.js"

/** A session for the seeded user (of `kind`'s client), plus the Helix client over it. */
const helixOver = (kind: ClientKind) =>
  Layer.unwrapEffect(
    Effect.map(issueToken(kind), (token) =>
      TwitchHttpClient.layer().pipe(Layer.provideMerge(TwitchSession.layer({ key: user.userId, token }))))
  ).pipe(Layer.provideMerge(overSockets(kind)))

/** Helix's 401 envelope, as Twitch sends it. */
const helix401 = (message: string): FakeTwitch.FakeTwitch.Fault => ({
  _tag: "Raw",
  status: 401,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ error: "Unauthorized", status: 401, message })
})

/** id.twitch.tv's JSON answer with `status`. */
const idAnswer = (status: number, body: unknown): FakeTwitch.FakeTwitch.Fault => ({
  _tag: "Raw",
  status,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body)
})

const broadcasterMismatch = "The ID in broadcaster_id must match the user ID found in the request's OAuth token."

describe("issue 12 #1: only Helix's token-death 401 spends a refresh", () => {
  for (const kind of ["public", "confidential"] as const) {
    it.scoped(`issue 12 #1: a broadcaster_id 401 is HelixUnauthorized with Twitch's message, no refresh (${kind})`, () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const helix = yield* TwitchHttpClient.TwitchHttpClient
        yield* twitch.resetCounters()
        yield* twitch.failNext("helix", helix401(broadcasterMismatch))
        const error = yield* Effect.flip(helix.post("/chat/announcements", { urlParams: { broadcaster_id: "1" } }))
        assert.strictEqual(error._tag, "HelixUnauthorized")
        if (error._tag === "HelixUnauthorized") {
          assert.strictEqual(error.reason, "Refused")
          assert.strictEqual(error.twitchMessage, broadcasterMismatch)
          assert.include(error.message, "broadcaster_id must match")
        }
        assert.strictEqual(yield* refreshCount, 0, "no refresh grant")
        assert.strictEqual(yield* callsOf("helix"), 1, "not sent again")
      }).pipe(Effect.provide(helixOver(kind))))
  }

  it.scoped("issue 12 #1: any other message in Helix's 401 envelope spends no refresh either", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const helix = yield* TwitchHttpClient.TwitchHttpClient
      yield* twitch.resetCounters()
      for (const message of ["Token invalid or missing required scope", "Something Twitch says tomorrow"]) {
        yield* twitch.failNext("helix", helix401(message))
        const error = yield* Effect.flip(helix.get("/users"))
        assert.strictEqual(error._tag, "HelixUnauthorized", message)
      }
      assert.strictEqual(yield* refreshCount, 0)
    }).pipe(Effect.provide(helixOver("public"))))

  it.effect("issue 12 #1: the same on /oauth2/validate: only Twitch's dead-token 401 is InvalidAccessToken (which sessions refresh)", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const auth = yield* authWith()
      yield* twitch.failNext("validate", idAnswer(401, { status: 401, message: "Something Twitch says tomorrow" }))
      const other = yield* Effect.flip(auth.validateToken(Redacted.make("some-access-token")))
      assert.strictEqual(other._tag, "UnexpectedResponse")
      yield* twitch.failNext("validate", idAnswer(401, { status: 401, message: "invalid access token" }))
      const dead = yield* Effect.flip(auth.validateToken(Redacted.make("some-access-token")))
      assert.strictEqual(dead._tag, "InvalidAccessToken")
    }).pipe(Effect.provide(MockLayer)))

  it.scoped("issue 12 #1: `Invalid OAuth token` is the one 401 that is refreshed (once) and retried", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const helix = yield* TwitchHttpClient.TwitchHttpClient
      yield* twitch.resetCounters()
      yield* twitch.failNext("helix", helix401("Invalid OAuth token"))
      const response = yield* helix.get("/users")
      assert.strictEqual(response.status, 200)
      assert.strictEqual(yield* refreshCount, 1)
      assert.strictEqual(yield* callsOf("helix"), 2)
    }).pipe(Effect.provide(helixOver("public"))))
})

describe("issue 12 #2: Twitch's documented answers decode", () => {
  it.effect("issue 12 #2: a refresh answer whose scope is a space-separated string decodes into the list", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const auth = yield* authWith()
      yield* twitch.failNext(
        "token",
        idAnswer(200, {
          access_token: "1ssjqsqfy6bads1ws7m03gras79zfr",
          refresh_token: "eyJfMzUtNDU0OC4MWYwLTQ5MDY5ODY4NGNlMSJ9asdfasdf",
          expires_in: 14124,
          scope: "channel:read:subscriptions  channel:manage:polls",
          token_type: "bearer"
        })
      )
      const token = yield* auth.refreshToken(Redacted.make("some-refresh-token"))
      assert.deepStrictEqual(token.scopes, ["channel:read:subscriptions", "channel:manage:polls"])
    }).pipe(Effect.provide(MockLayer)))

  it.effect("issue 12 #2: every token answer (code, client credentials) takes the string form too", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const auth = yield* authWith()
      const answer = idAnswer(200, {
        access_token: "1ssjqsqfy6bads1ws7m03gras79zfr",
        refresh_token: "eyJfMzUtNDU0OC4MWYwLTQ5MDY5ODY4NGNlMSJ9asdfasdf",
        expires_in: 14124,
        scope: "chat:read",
        token_type: "bearer"
      })
      yield* twitch.failNext("token", answer)
      assert.deepStrictEqual((yield* auth.exchangeCode("a-code")).scopes, ["chat:read"])
      yield* twitch.failNext("token", answer)
      assert.deepStrictEqual((yield* auth.appToken()).scopes, ["chat:read"])
      yield* twitch.failNext("token", idAnswer(200, { access_token: "x1ssjqsqfy6bads1ws7m03gras79zfr", scope: "" }))
      assert.deepStrictEqual((yield* auth.appToken()).scopes, [])
    }).pipe(Effect.provide(MockLayer)))

  it.effect("issue 12 #2: the older revoke answer `400 Invalid client_id: …` is InvalidClient, on every operation", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const auth = yield* authWith()
      const refusal = idAnswer(400, { status: 400, message: "Invalid client_id: hof5gwx0su6owfnys0nyan9c87zr6t" })
      const operations: ReadonlyArray<Effect.Effect<unknown, TwitchAuthError.TwitchAuthError>> = [
        auth.revokeToken(Redacted.make("some-access-token")),
        auth.refreshToken(Redacted.make("some-refresh-token")),
        auth.appToken(),
        auth.exchangeCode("a-code")
      ]
      for (const operation of operations) {
        yield* twitch.failNext("any", refusal)
        const error = yield* Effect.flip(operation)
        assert.strictEqual(error._tag, "InvalidClient")
        if (error._tag === "InvalidClient") {
          assert.strictEqual(error.reason, "UnknownClient")
          assert.strictEqual(error.status, 400)
        }
      }
    }).pipe(Effect.provide(MockLayer)))
})

const fromEnv = (env: Record<string, string>) =>
  TwitchAuthConfig.TwitchAuthConfig.pipe(
    Effect.provide(
      TwitchAuthConfig.layerConfig().pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
      )
    )
  )

describe("issue 12 #13: TwitchAuthConfig never mixes origins silently", () => {
  it("issue 12 #13: the Helix beside an authUrl", () => {
    assert.deepStrictEqual(
      TwitchAuthConfig.helixUrlBesideAuthUrl("http://127.0.0.1:8787/oauth2/"),
      Option.some("http://127.0.0.1:8787/helix")
    )
    assert.deepStrictEqual(
      TwitchAuthConfig.helixUrlBesideAuthUrl("https://mock.example/twitch/oauth2"),
      Option.some("https://mock.example/twitch/helix")
    )
    assert.deepStrictEqual(
      TwitchAuthConfig.helixUrlBesideAuthUrl(TwitchAuthConfig.defaultAuthUrl),
      Option.some(TwitchAuthConfig.defaultHelixUrl)
    )
    assert.isTrue(Option.isNone(TwitchAuthConfig.helixUrlBesideAuthUrl("http://127.0.0.1:8787/auth")))
    assert.isTrue(Option.isNone(TwitchAuthConfig.helixUrlBesideAuthUrl("not a url")))
  })

  it.effect("issue 12 #13: a mock's authUrl without helixUrl puts Helix on the mock's origin (options and environment)", () =>
    Effect.gen(function*() {
      const config = yield* TwitchAuthConfig.make({ clientId: "abc123", authUrl: "http://127.0.0.1:8787/oauth2" })
      assert.strictEqual(config.helixUrl, "http://127.0.0.1:8787/helix")
      const fromVariables = yield* fromEnv({
        TWITCH_CLIENT_ID: "abc123",
        TWITCH_AUTH_URL: "http://127.0.0.1:8787/oauth2"
      })
      assert.strictEqual(fromVariables.helixUrl, "http://127.0.0.1:8787/helix")
    }))

  it.effect("issue 12 #13: an authUrl Helix cannot be found beside fails at start-up, asking for helixUrl / TWITCH_HELIX_URL", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        TwitchAuthConfig.make({ clientId: "abc123", authUrl: "http://127.0.0.1:8787/auth" })
      )
      assert.strictEqual(error.field, "helixUrl")
      assert.include(error.message, "helixUrl must be set")
      const configError = yield* Effect.flip(
        fromEnv({ TWITCH_CLIENT_ID: "abc123", TWITCH_AUTH_URL: "http://127.0.0.1:8787/auth" })
      )
      assert.isTrue(ConfigError.isInvalidData(configError))
      if (ConfigError.isInvalidData(configError)) {
        assert.deepStrictEqual(configError.path, ["TWITCH_HELIX_URL"])
        assert.include(configError.message, "TWITCH_HELIX_URL must be set when TWITCH_AUTH_URL")
      }
      // explicit configuration is not silent: both given, both kept
      const explicit = yield* TwitchAuthConfig.make({
        clientId: "abc123",
        authUrl: "http://127.0.0.1:8787/auth",
        helixUrl: "http://127.0.0.1:8787/api"
      })
      assert.strictEqual(explicit.helixUrl, "http://127.0.0.1:8787/api")
    }))

  it.effect("issue 12 #13: with Twitch's authUrl, a custom Helix must be https or on loopback (a real token in clear text is refused)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        TwitchAuthConfig.make({ clientId: "abc123", helixUrl: "http://helix-proxy.example/helix" })
      )
      assert.strictEqual(error.field, "helixUrl")
      assert.include(error.message, "clear text")
      for (
        const helixUrl of [
          "https://helix-proxy.example/helix",
          "http://127.0.0.1:9000/helix",
          "http://localhost:9000/helix"
        ]
      ) {
        assert.strictEqual((yield* TwitchAuthConfig.make({ clientId: "abc123", helixUrl })).helixUrl, helixUrl)
      }
    }))

  it.scoped("issue 12 #13: over sockets, Helix calls of a config with only the mock's authUrl reach the mock", () =>
    Effect.gen(function*() {
      const server = yield* MockTwitchServer.MockTwitchServer
      const twitch = yield* FakeTwitch.FakeTwitch
      const token = yield* issueToken("confidential")
      const helix = yield* TwitchHttpClient.TwitchHttpClient.pipe(
        Effect.provide(
          TwitchHttpClient.layer().pipe(
            Layer.provideMerge(TwitchSession.layer({ key: user.userId, token })),
            Layer.provideMerge(TwitchAuth.layer),
            Layer.provideMerge(
              Layer.orDie(TwitchAuthConfig.layer({
                clientId: confidential.clientId,
                clientSecret: confidential.clientSecret,
                authUrl: server.authUrl
              }))
            ),
            Layer.provideMerge(TokenStore.layerMemory)
          )
        )
      )
      const response = yield* helix.get("/users")
      assert.strictEqual(response.status, 200)
      assert.strictEqual(yield* twitch.calls("helix"), 1)
    }).pipe(Effect.provide(Layer.merge(MockTwitchServer.layerTest, NodeHttpClient.layerUndici))))
})

describe("issue 12 #15: every variable of TwitchAuthConfig.layerConfig is named once, with what a valid value looks like", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
    ["TWITCH_CLIENT_ID", {}, "dev.twitch.tv/console"],
    ["TWITCH_CLIENT_ID", { TWITCH_CLIENT_ID: "  " }, "must not be empty"],
    ["TWITCH_CLIENT_ID", { TWITCH_CLIENT_ID: "abc-123" }, "only letters and digits"],
    ["TWITCH_REDIRECT_URI", { TWITCH_CLIENT_ID: "abc", TWITCH_REDIRECT_URI: "/callback" }, "absolute URL"],
    ["TWITCH_AUTH_URL", { TWITCH_CLIENT_ID: "abc", TWITCH_AUTH_URL: "id.twitch.tv" }, "absolute http(s) URL"],
    ["TWITCH_HELIX_URL", { TWITCH_CLIENT_ID: "abc", TWITCH_HELIX_URL: "ftp://x" }, "http(s) URL"],
    ["TWITCH_REQUEST_TIMEOUT", { TWITCH_CLIENT_ID: "abc", TWITCH_REQUEST_TIMEOUT: "banana" }, "such as \"10 seconds\""],
    ["TWITCH_REQUEST_TIMEOUT", { TWITCH_CLIENT_ID: "abc", TWITCH_REQUEST_TIMEOUT: "0 seconds" }, "positive"]
  ]
  for (const [name, env, hint] of cases) {
    it.effect(`issue 12 #15: ${name}=${JSON.stringify(env[name] ?? null)} names ${name} once and says ${hint}`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(fromEnv(env))
        assert.isTrue(ConfigError.isMissingData(error) || ConfigError.isInvalidData(error))
        if (ConfigError.isMissingData(error) || ConfigError.isInvalidData(error)) {
          assert.deepStrictEqual(error.path, [name])
          assert.isTrue(error.message.startsWith(`${name} `), error.message)
          assert.include(error.message, hint)
        }
        assert.notInclude(String(error), `${name}.${name}`)
      }))
  }

  it.effect("issue 12 #15: TWITCH_CLIENT_SECRET has no malformed value (empty is none), and never shows in an error", () =>
    Effect.gen(function*() {
      const none = yield* fromEnv({ TWITCH_CLIENT_ID: "abc", TWITCH_CLIENT_SECRET: "" })
      assert.isTrue(Option.isNone(none.clientSecret))
      const error = yield* Effect.flip(
        fromEnv({ TWITCH_CLIENT_SECRET: "hunter2hunter2", TWITCH_REQUEST_TIMEOUT: "banana" })
      )
      assert.notInclude(String(error), "hunter2hunter2")
    }))

  it.effect("issue 12 #15: requestTimeoutFromConfig, for programs that read the timeout themselves, says the same", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) =>
        TwitchAuthConfig.requestTimeoutFromConfig.pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
        )
      assert.isTrue(Option.isNone(yield* read({})))
      assert.isTrue(Option.isSome(yield* read({ TWITCH_REQUEST_TIMEOUT: "5 seconds" })))
      const error = yield* Effect.flip(read({ TWITCH_REQUEST_TIMEOUT: "banana" }))
      assert.include(error.message, "TWITCH_REQUEST_TIMEOUT must be a duration such as \"10 seconds\"")
    }))
})

describe("issue 12 #14: a scope Twitch adds tomorrow is passed explicitly (the typing is in TwitchScope.test-d.ts)", () => {
  it("issue 12 #14: TwitchScope.unlisted and TwitchScope.requested are the scope itself at run time, and covers/missing take them", () => {
    const tomorrow = TwitchScope.unlisted("channel:read:tomorrow")
    assert.strictEqual(tomorrow, "channel:read:tomorrow")
    assert.strictEqual(TwitchScope.requested("chat:read"), "chat:read")
    assert.strictEqual(TwitchScope.requested("channel:read:tomorrow"), tomorrow)
    assert.isTrue(TwitchScope.covers(["chat:read", "channel:read:tomorrow"], ["chat:read", tomorrow]))
    assert.deepStrictEqual(TwitchScope.missing(["chat:read"], [tomorrow, "chat:read", tomorrow]), [tomorrow])
  })

  it.effect("issue 12 #14: an unlisted scope is sent as written (the consent URL carries it)", () =>
    Effect.gen(function*() {
      const auth = yield* authWith()
      const request = yield* auth.authorizationUrl({
        scopes: ["chat:read", TwitchScope.unlisted("channel:read:tomorrow")]
      })
      assert.strictEqual(new URL(request.url).searchParams.get("scope"), "chat:read channel:read:tomorrow")
    }).pipe(Effect.provide(MockLayer)))
})
