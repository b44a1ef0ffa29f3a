/**
 * The example of docs/testing.md ("Testing your app"), verbatim: a small bot function and
 * its tests on the test Layer. It imports only the public API of the two packages.
 */
import { TwitchHttpClient, TwitchSession } from "@effect-twitch/auth"
import { TwitchAuthTest } from "@effect-twitch/testing"
import { HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted, Schema, TestClock } from "effect"

// --- the bot (your code) --------------------------------------------------------------------

const Users = Schema.Struct({
  data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String }))
})

/** What the bot says when it joins a chat: who it is, or that it needs signing in again. */
const greeting = Effect.gen(function*() {
  const helix = yield* TwitchHttpClient.TwitchHttpClient
  const me = yield* helix.get("/users").pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Users)))
  return `Hi chat, ${me.data[0]?.login ?? "nobody"} here!`
}).pipe(
  // the user disconnected the app or changed their password: no refresh can help
  Effect.catchTag("InvalidRefreshToken", () => Effect.succeed("Please sign me in again."))
)

// --- its tests ------------------------------------------------------------------------------

/** A signed-in user (`twitchdev`) on a fresh in-memory Twitch, for each test. */
const SignedIn = TwitchAuthTest.layerSession({ scopes: ["chat:read", "chat:edit"] })

describe("greeting", () => {
  it.effect("recovers from a 401: the token is refreshed once and the call retried", () =>
    Effect.gen(function*() {
      const session = yield* TwitchSession.TwitchSession
      const before = yield* session.accessToken
      yield* TwitchAuthTest.expireAccessToken(before) // Helix now answers 401 Invalid OAuth token

      assert.strictEqual(yield* greeting, "Hi chat, twitchdev here!")

      assert.strictEqual(yield* TwitchAuthTest.grantCount("refresh_token"), 1)
      assert.strictEqual(yield* TwitchAuthTest.calls("helix"), 2) // the 401, then the retry
      const retry = Option.getOrThrow(yield* TwitchAuthTest.lastRequest("helix"))
      const after = yield* session.accessToken
      assert.notStrictEqual(Redacted.value(after), Redacted.value(before))
      assert.strictEqual(retry.headers["authorization"], `Bearer ${Redacted.value(after)}`)
    }).pipe(Effect.provide(SignedIn)))

  it.effect("rides out Twitch answering 503 while it refreshes", () =>
    Effect.gen(function*() {
      const session = yield* TwitchSession.TwitchSession
      yield* TwitchAuthTest.expireAccessToken(yield* session.accessToken)
      yield* TwitchAuthTest.serverError("token", { times: 2 }) // the refresh fails twice, then works

      assert.strictEqual(yield* greeting, "Hi chat, twitchdev here!")
      assert.strictEqual(yield* TwitchAuthTest.calls("token"), 3)
    }).pipe(Effect.provide(SignedIn)))

  it.effect("asks to be signed in again once the user disconnected the app", () =>
    Effect.gen(function*() {
      yield* TwitchAuthTest.disconnectUser() // revokes the tokens, kills the refresh token

      assert.strictEqual(yield* greeting, "Please sign me in again.")
      const session = yield* TwitchSession.TwitchSession
      assert.isTrue(Option.isSome(yield* session.ended))
    }).pipe(Effect.provide(SignedIn)))

  it.effect("keeps working after the token's 4 hours are up (TestClock, no waiting)", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("4 hours")

      assert.strictEqual(yield* greeting, "Hi chat, twitchdev here!")
      assert.strictEqual(yield* TwitchAuthTest.grantCount("refresh_token"), 1)
    }).pipe(Effect.provide(SignedIn)))
})
