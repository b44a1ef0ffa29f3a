import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FakeTwitch } from "../src/index.js"
import { Ring } from "../src/internal/requestLog.js"
import {
  bearer,
  callback,
  clientCredentials,
  confidential,
  expectError,
  get,
  post,
  publicClient,
  user
} from "./fakeTwitchSupport.js"

describe("FakeTwitch seed", () => {
  it("defaultSeed has the documented shapes", () => {
    assert.match(confidential.clientId, /^[a-z0-9]{30}$/)
    assert.match(confidential.clientSecret, /^[a-z0-9]{30}$/)
    assert.strictEqual(confidential.type, "confidential")
    assert.deepStrictEqual(confidential.redirectUris, ["http://localhost:3000/callback", "http://localhost:3000/other"])
    assert.match(publicClient.clientId, /^[a-z0-9]{30}$/)
    assert.strictEqual(publicClient.type, "public")
    assert.isFalse("clientSecret" in publicClient)
    assert.deepStrictEqual(user, { userId: "141981764", login: "twitchdev" })
  })

  it.effect("seed: false starts empty", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ seed: false, autoConsent: true })
      expectError(yield* twitch.token(post(clientCredentials)), 400, "invalid client")
      const client = yield* twitch.registerClient({ type: "confidential" })
      assert.match(client.clientId, /^[a-z0-9]{30}$/)
      assert.match(client.clientSecret ?? "", /^[a-z0-9]{30}$/)
      const ok = yield* twitch.token(
        post({ client_id: client.clientId, client_secret: client.clientSecret ?? "", grant_type: "client_credentials" })
      )
      assert.strictEqual(ok.status, 200)
      // no users: authorize cannot consent
      const noUser = yield* twitch.authorize(
        get({ client_id: client.clientId, redirect_uri: callback, response_type: "code" })
      )
      assert.strictEqual(noUser.status, 400)
      const registered = yield* twitch.registerUser({ login: "SomeOne" })
      assert.strictEqual(registered.login, "someone")
      const consented = yield* twitch.authorize(
        get({ client_id: client.clientId, redirect_uri: callback, response_type: "code" })
      )
      assert.strictEqual(consented.status, 302)
    }))
})

describe("counters and recorded requests", () => {
  it.effect("counts per endpoint, records requests, resets", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.token(post(clientCredentials))
      yield* twitch.token(post({ grant_type: "client_credentials" }))
      yield* twitch.validate(bearer("x"))
      assert.strictEqual(yield* twitch.calls("token"), 2)
      assert.strictEqual(yield* twitch.calls("validate"), 1)
      assert.strictEqual(yield* twitch.calls("revoke"), 0)
      assert.strictEqual(yield* twitch.calls("authorize"), 0)
      const [first, second] = yield* twitch.requests("token")
      assert.strictEqual(first?.params["client_secret"], confidential.clientSecret)
      assert.isUndefined(second?.params["client_id"])
      assert.strictEqual((yield* twitch.requests("validate"))[0]?.headers["authorization"], "OAuth x")
      yield* twitch.resetCounters()
      assert.strictEqual(yield* twitch.calls("token"), 0)
      assert.deepStrictEqual(yield* twitch.requests("validate"), [])
    }))

  it.effect("issue 11 #16: the log keeps the last requestLogLimit requests per endpoint; counts stay exact", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ requestLogLimit: 100 })
      for (let i = 0; i < 10_000; i++) yield* twitch.validate(bearer(`t${i}`))
      for (let i = 0; i < 300; i++) yield* twitch.token(post(clientCredentials))
      yield* twitch.token(post({ grant_type: "refresh_token", refresh_token: "nope" }))
      assert.strictEqual(yield* twitch.calls("validate"), 10_000)
      assert.strictEqual(yield* twitch.calls("token"), 301)
      assert.strictEqual((yield* twitch.requests("token")).length, 100)
      assert.strictEqual(yield* twitch.grantCalls("client_credentials"), 300) // exact, past the log's bound
      assert.strictEqual(yield* twitch.grantCalls("refresh_token"), 1)
      const kept = yield* twitch.requests("validate")
      assert.strictEqual(kept.length, 100)
      assert.deepStrictEqual(
        kept.map((r) => r.headers["authorization"]),
        Array.from({ length: 100 }, (_, i) => `OAuth t${9_900 + i}`)
      )
      const last = yield* twitch.lastRequest("validate")
      assert.strictEqual(last._tag === "Some" ? last.value.headers["authorization"] : "", "OAuth t9999")
      // what a caller gets is a copy: changing it does not change the log
      const copy = yield* twitch.requests("validate")
      assert.notStrictEqual(copy, kept)
      yield* Effect.sync(() => Array.prototype.splice.call(copy, 0, 50))
      assert.strictEqual((yield* twitch.requests("validate")).length, 100)
      yield* twitch.resetCounters()
      assert.strictEqual(yield* twitch.calls("validate"), 0)
      assert.strictEqual(yield* twitch.grantCalls("client_credentials"), 0)
      assert.deepStrictEqual(yield* twitch.requests("validate"), [])
      assert.isTrue((yield* twitch.lastRequest("validate"))._tag === "None")
    }))

  it.effect("issue 11 #16: by default the log keeps 10,000 requests per endpoint", () =>
    Effect.gen(function*() {
      assert.strictEqual(FakeTwitch.defaults.requestLogLimit, 10_000)
      const twitch = yield* FakeTwitch.make()
      for (let i = 0; i < 12_500; i++) yield* twitch.validate(bearer(`t${i}`))
      assert.strictEqual(yield* twitch.calls("validate"), 12_500)
      const kept = yield* twitch.requests("validate")
      assert.strictEqual(kept.length, 10_000)
      assert.strictEqual(kept[0]?.headers["authorization"], "OAuth t2500")
    }))

  it("issue 11 #16: recording into a full ring overwrites in place (no copy of the history)", () => {
    const ring = new Ring<number>(3)
    for (let i = 0; i < 100_000; i++) {
      ring.push(i)
      assert.isAtMost(ring.size, 3)
    }
    assert.strictEqual(ring.count, 100_000)
    assert.deepStrictEqual(ring.toArray(), [99_997, 99_998, 99_999])
    assert.strictEqual(ring.last(), 99_999)
    assert.deepStrictEqual(new Ring<number>(Number.NaN).toArray(), [])
    const none = new Ring<number>(0)
    none.push(1)
    assert.deepStrictEqual([none.count, none.size, none.last()], [1, 0, undefined])
  })
})

describe("layer", () => {
  it.effect("provides a fresh seeded FakeTwitch", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      assert.strictEqual((yield* twitch.token(post(clientCredentials))).status, 200)
    }).pipe(Effect.provide(FakeTwitch.layer())))

  it.effect("layer({ seed: false }) is empty", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      expectError(yield* twitch.token(post(clientCredentials)), 400, "invalid client")
    }).pipe(Effect.provide(FakeTwitch.layer({ seed: false }))))
})
