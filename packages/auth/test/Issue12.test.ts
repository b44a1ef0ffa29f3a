/**
 * Regression tests of issue 12 ("Behave like real Twitch, and like a user expects"), the
 * SDK's items: each test is named after the item it covers.
 */
import { TwitchHttpClient, TwitchSession } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { callsOf, type ClientKind, issueToken, overSockets, refreshCount } from "./lifecycle.js"
import { authWith, MockLayer, user } from "./utils.js"

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

/** id.twitch.tv's JSON answer with `status`. */
const idAnswer = (status: number, body: unknown): FakeTwitch.FakeTwitch.Fault => ({
  _tag: "Raw",
  status,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body)
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
      assert.deepStrictEqual((yield* auth.exchangeCode(Redacted.make("a-code"))).scopes, ["chat:read"])
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
      const operations = [
        auth.revokeToken(Redacted.make("some-access-token")),
        auth.refreshToken(Redacted.make("some-refresh-token")),
        auth.appToken(),
        auth.exchangeCode(Redacted.make("a-code"))
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
