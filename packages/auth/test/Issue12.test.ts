/**
 * Regression tests of issue 12 ("Behave like real Twitch, and like a user expects"), the
 * SDK's items: each test is named after the item it covers.
 */
import { TwitchHttpClient, TwitchSession } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { callsOf, type ClientKind, issueToken, overSockets, refreshCount } from "./lifecycle.js"
import { user } from "./utils.js"

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
