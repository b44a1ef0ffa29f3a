/**
 * `OpenIdConnect.verifyIdToken` against the in-memory Twitch on the TestClock: how often the
 * key set is fetched (counted by the fake's `/oauth2/keys`), `azp`, and the nonce that must
 * be given or skipped explicitly (issue 11 #12).
 */
import { OpenIdConnect, TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { FakeTwitch, FakeTwitchHttpClient } from "@effect-twitch/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { confidential, fastRetry, user } from "./utils.js"

/** The real OpenIdConnect over the in-memory transport; time is the TestClock's. */
const Live = OpenIdConnect.layer.pipe(
  Layer.provideMerge(TwitchAuth.layer),
  Layer.provideMerge(Layer.orDie(TwitchAuthConfig.layer({
    clientId: confidential.clientId,
    clientSecret: confidential.clientSecret,
    retrySchedule: fastRetry
  }))),
  Layer.provideMerge(FakeTwitchHttpClient.layer),
  Layer.provideMerge(FakeTwitch.layer())
)

const twitch = FakeTwitch.FakeTwitch
const keyFetches = Effect.flatMap(twitch, (t) => t.calls("keys"))

const mint = (overrides: FakeTwitch.FakeTwitch.IdTokenOverrides = {}, nonce: string = "n-1") =>
  Effect.map(
    Effect.flatMap(twitch, (t) =>
      t.mintIdToken({ clientId: confidential.clientId, userId: user.userId, nonce }, overrides)),
    Redacted.make
  )

const verify = (idToken: Redacted.Redacted<string>, nonce: OpenIdConnect.NonceCheck = "n-1") =>
  Effect.flatMap(OpenIdConnect.OpenIdConnect, (oidc) => oidc.verifyIdToken(idToken, { nonce }))

const rejection = (idToken: Redacted.Redacted<string>, nonce: OpenIdConnect.NonceCheck = "n-1") =>
  Effect.map(
    Effect.flip(verify(idToken, nonce)),
    (error) => (error._tag === "InvalidIdToken" ? error.reason : error._tag)
  )

describe("issue 11 #12: the key set is not refetched for forged tokens", () => {
  it.effect("200 ID tokens with a bad signature under Twitch's kid: one fetch of /oauth2/keys in all", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* verify(yield* mint())).userId, user.userId)
      assert.strictEqual(yield* keyFetches, 1)
      const forged = yield* mint({ key: "foreign" })
      for (let i = 0; i < 200; i++) assert.strictEqual(yield* rejection(forged), "Signature")
      assert.strictEqual(yield* keyFetches, 1)
      // even much later, within the key set's lifetime
      yield* TestClock.adjust("59 minutes")
      for (let i = 0; i < 200; i++) assert.strictEqual(yield* rejection(forged), "Signature")
      assert.strictEqual(yield* keyFetches, 1)
    }).pipe(Effect.provide(Live)))

  it.effect("200 tokens naming unknown kids: at most one fetch per keySetRefetchInterval (30 s)", () =>
    Effect.gen(function*() {
      assert.strictEqual(Duration.toSeconds(OpenIdConnect.keySetRefetchInterval), 30)
      yield* verify(yield* mint())
      assert.strictEqual(yield* keyFetches, 1)
      // the set was fetched just now: an unknown kid does not refetch it
      for (let i = 0; i < 200; i++) {
        assert.strictEqual(yield* rejection(yield* mint({ kid: `forged-${i}` })), "Signature")
      }
      assert.strictEqual(yield* keyFetches, 1)
      // 30 s later, one refetch for the next 200, then none again
      yield* TestClock.adjust("30 seconds")
      for (let i = 0; i < 200; i++) {
        assert.strictEqual(yield* rejection(yield* mint({ kid: `again-${i}` })), "Signature")
      }
      assert.strictEqual(yield* keyFetches, 2)
      // a span of 10 minutes, one forged token a second: 20 fetches (one per 30 s), not 600
      for (let second = 0; second < 600; second++) {
        yield* TestClock.adjust("1 second")
        yield* rejection(yield* mint({ kid: `flood-${second}` }))
      }
      assert.strictEqual(yield* keyFetches, 22)
    }).pipe(Effect.provide(Live)))

  it.effect("Twitch rotates its key: a token with the new kid verifies after one refetch", () =>
    Effect.gen(function*() {
      const old = yield* mint()
      yield* verify(old)
      yield* TestClock.adjust("5 minutes")
      yield* Effect.flatMap(twitch, (t) => t.rotateSigningKey())
      const rotated = yield* mint()
      assert.strictEqual((yield* verify(rotated)).userId, user.userId)
      assert.strictEqual(yield* keyFetches, 2)
      // the old key is gone: its tokens now fail, and cost no fetch (the set was just fetched)
      assert.strictEqual(yield* rejection(old), "Signature")
      assert.strictEqual(yield* keyFetches, 2)
    }).pipe(Effect.provide(Live)))

  it.effect("the key set is kept for keySetTtl (1 h), then fetched again", () =>
    Effect.gen(function*() {
      const token = yield* mint()
      yield* verify(token)
      yield* TestClock.adjust(Duration.subtract(OpenIdConnect.keySetTtl, Duration.millis(1)))
      yield* verify(yield* mint())
      assert.strictEqual(yield* keyFetches, 1)
      yield* TestClock.adjust("1 millis")
      yield* verify(yield* mint())
      assert.strictEqual(yield* keyFetches, 2)
    }).pipe(Effect.provide(Live)))

  it.effect("50 concurrent verifications on a cold cache share one fetch", () =>
    Effect.gen(function*() {
      const token = yield* mint()
      yield* Effect.all(Array.from({ length: 50 }, () => verify(token)), { concurrency: "unbounded" })
      assert.strictEqual(yield* keyFetches, 1)
    }).pipe(Effect.provide(Live)))

  it.effect("a failed fetch is not cached: the next verification fetches again", () =>
    Effect.gen(function*() {
      yield* Effect.flatMap(twitch, (t) => t.failNext("keys", { _tag: "ServerError", status: 400 }))
      assert.strictEqual(yield* rejection(yield* mint()), "UnexpectedResponse")
      assert.strictEqual(yield* keyFetches, 1)
      assert.strictEqual((yield* verify(yield* mint())).userId, user.userId)
      assert.strictEqual(yield* keyFetches, 2)
    }).pipe(Effect.provide(Live)))

  it.effect("while /oauth2/keys fails, forged kids cost one attempt per 30 s, and known keys keep working", () =>
    Effect.gen(function*() {
      yield* verify(yield* mint())
      yield* Effect.flatMap(twitch, (t) => t.failNext("keys", { _tag: "ServerError", status: 400 }, 1_000))
      yield* TestClock.adjust("30 seconds")
      const reasons = new Set<string>()
      for (let i = 0; i < 100; i++) reasons.add(yield* rejection(yield* mint({ kid: `forged-${i}` })))
      assert.deepStrictEqual([...reasons].sort(), ["Signature", "UnexpectedResponse"]) // the one attempt failed
      assert.strictEqual(yield* keyFetches, 2)
      assert.strictEqual((yield* verify(yield* mint())).userId, user.userId)
      assert.strictEqual(yield* keyFetches, 2)
    }).pipe(Effect.provide(Live)))

  it.effect("a set past its TTL that cannot be refreshed stays in use; the refresh is retried every 30 s", () =>
    Effect.gen(function*() {
      yield* verify(yield* mint())
      yield* Effect.flatMap(twitch, (t) => t.failNext("keys", { _tag: "ServerError", status: 400 }, 1_000))
      yield* TestClock.adjust(OpenIdConnect.keySetTtl)
      for (let i = 0; i < 50; i++) assert.strictEqual((yield* verify(yield* mint())).userId, user.userId)
      assert.strictEqual(yield* keyFetches, 2)
      yield* TestClock.adjust("30 seconds")
      yield* verify(yield* mint())
      assert.strictEqual(yield* keyFetches, 3)
    }).pipe(Effect.provide(Live)))
})

describe("issue 11 #12: azp", () => {
  it.effect("an azp of another client is refused (AuthorizedParty), even with this client as the only audience", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* rejection(yield* mint({ claims: { azp: "someone-else" } })), "AuthorizedParty")
      // several audiences: azp must be present and be this client
      const both = [confidential.clientId, "someone-else"]
      assert.strictEqual(yield* rejection(yield* mint({ claims: { aud: both, azp: undefined } })), "AuthorizedParty")
      assert.strictEqual(
        yield* rejection(yield* mint({ claims: { aud: both, azp: "someone-else" } })),
        "AuthorizedParty"
      )
      const ours = yield* verify(yield* mint({ claims: { aud: both, azp: confidential.clientId } }))
      assert.deepStrictEqual(ours.audience, both)
      // one audience, no azp: fine (OIDC makes azp optional then)
      assert.strictEqual((yield* verify(yield* mint({ claims: { azp: undefined } }))).userId, user.userId)
      // the message names the reason, never the token
      const error = yield* Effect.flip(verify(yield* mint({ claims: { azp: "someone-else" } })))
      assert.include(error.message, "AuthorizedParty")
      assert.notInclude(error.message, "eyJ")
    }).pipe(Effect.provide(Live)))
})

describe("issue 11 #12: the nonce is required, or skipped explicitly", () => {
  it.effect("a given nonce must match; { skip: true } accepts any nonce, or none", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* rejection(yield* mint({}, "n-1"), "n-2"), "Nonce")
      assert.strictEqual(yield* rejection(yield* mint({ claims: { nonce: undefined } }), "n-1"), "Nonce")
      assert.strictEqual((yield* verify(yield* mint({}, "n-1"), "n-1")).userId, user.userId)
      assert.strictEqual((yield* verify(yield* mint({}, "anything"), { skip: true })).userId, user.userId)
      assert.strictEqual(
        (yield* verify(yield* mint({ claims: { nonce: undefined } }), { skip: true })).userId,
        user.userId
      )
      // a skip still checks everything else
      assert.strictEqual(yield* rejection(yield* mint({ key: "foreign" }), { skip: true }), "Signature")
    }).pipe(Effect.provide(Live)))
})
