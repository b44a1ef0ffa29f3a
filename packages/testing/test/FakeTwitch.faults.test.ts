import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import { FakeTwitch } from "../src/index.js"
import { bearer, clientCredentials, expectError, post } from "./fakeTwitchSupport.js"

describe("faults", () => {
  it.effect("ServerError: 503 by default, custom status, consumes one call", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.failNext("token", { _tag: "ServerError" })
      expectError(yield* twitch.token(post(clientCredentials)), 503, "Service Unavailable")
      assert.strictEqual((yield* twitch.token(post(clientCredentials))).status, 200)
      yield* twitch.failNext("token", { _tag: "ServerError", status: 500 })
      expectError(yield* twitch.token(post(clientCredentials)), 500, "Internal Server Error")
      assert.strictEqual(yield* twitch.calls("token"), 3)
    }))

  it.effect("faults are per endpoint, `any` matches all, `times` repeats", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.failNext("validate", { _tag: "ServerError" }, 2)
      assert.strictEqual((yield* twitch.token(post(clientCredentials))).status, 200)
      assert.strictEqual((yield* twitch.validate(bearer("x"))).status, 503)
      assert.strictEqual((yield* twitch.validate(bearer("x"))).status, 503)
      assert.strictEqual((yield* twitch.validate(bearer("x"))).status, 401)
      yield* twitch.failNext("any", { _tag: "ServerError", status: 502 })
      assert.strictEqual((yield* twitch.revoke(post({}))).status, 502)
      assert.strictEqual((yield* twitch.revoke(post({}))).status, 400)
    }))

  it.effect("RateLimited: 429 with ratelimit headers from the Clock", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* TestClock.adjust(Duration.seconds(1000))
      yield* twitch.failNext("validate", { _tag: "RateLimited", resetAfterSeconds: 30 })
      const response = yield* twitch.validate(bearer("x"))
      expectError(response, 429, "Too Many Requests")
      assert.strictEqual(response.headers["ratelimit-remaining"], "0")
      assert.strictEqual(response.headers["ratelimit-reset"], "1030")
      assert.match(response.headers["ratelimit-limit"] ?? "", /^\d+$/)
    }))

  it.effect("Malformed: 200 with a broken body", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.failNext("token", { _tag: "Malformed" })
      yield* twitch.failNext("token", { _tag: "Malformed", body: "<html>" })
      const first = yield* twitch.token(post(clientCredentials))
      assert.strictEqual(first.status, 200)
      assert.throws(() => JSON.parse(first.body))
      assert.strictEqual((yield* twitch.token(post(clientCredentials))).body, "<html>")
    }))

  it.effect("Delay: answers normally after the delay on the Clock", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.failNext("token", { _tag: "Delay", duration: "10 seconds" })
      const fiber = yield* Effect.fork(twitch.token(post(clientCredentials)))
      yield* TestClock.adjust(Duration.seconds(9))
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None")
      yield* TestClock.adjust(Duration.seconds(1))
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(yield* twitch.calls("token"), 1)
    }))
})

describe("new faults", () => {
  it.effect("ServerError with a body: the page as given, text/html unless told otherwise", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.failNext("token", { _tag: "ServerError", status: 502, body: "<html>Bad Gateway</html>" })
      yield* twitch.failNext("token", { _tag: "ServerError", status: 500, body: "oops", contentType: "text/plain" })
      const html = yield* twitch.token(post(clientCredentials))
      assert.deepStrictEqual([html.status, html.headers["content-type"], html.body], [
        502,
        "text/html; charset=utf-8",
        "<html>Bad Gateway</html>"
      ])
      const plain = yield* twitch.token(post(clientCredentials))
      assert.deepStrictEqual([plain.status, plain.headers["content-type"], plain.body], [500, "text/plain", "oops"])
    }))

  it.effect("RateLimited without ratelimit-reset", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.failNext("validate", { _tag: "RateLimited", resetHeader: false })
      const response = yield* twitch.validate(bearer("x"))
      expectError(response, 429, "Too Many Requests")
      assert.isUndefined(response.headers["ratelimit-reset"])
      assert.strictEqual(response.headers["ratelimit-remaining"], "0")
    }))

  it.effect("Raw: exactly the status, headers and body given", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.failNext("token", { _tag: "Raw", body: "" })
      yield* twitch.failNext("token", {
        _tag: "Raw",
        status: 418,
        headers: { "content-type": "text/csv", "x-a": "b" },
        body: "a,b"
      })
      assert.deepStrictEqual(yield* twitch.token(post(clientCredentials)), { status: 200, headers: {}, body: "" })
      assert.deepStrictEqual(yield* twitch.token(post(clientCredentials)), {
        status: 418,
        headers: { "content-type": "text/csv", "x-a": "b" },
        body: "a,b"
      })
      assert.strictEqual((yield* twitch.token(post(clientCredentials))).status, 200)
    }))

  it.effect("Hang: the call is recorded and never answered", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.failNext("token", { _tag: "Hang" })
      const fiber = yield* Effect.fork(twitch.token(post(clientCredentials)))
      yield* TestClock.adjust(Duration.days(365))
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None")
      assert.strictEqual(yield* twitch.calls("token"), 1)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual((yield* twitch.token(post(clientCredentials))).status, 200)
    }))

  it.effect("Reset: an answer marked `reset`, with nothing to send", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      yield* twitch.failNext("validate", { _tag: "Reset" })
      assert.deepStrictEqual(yield* twitch.validate(bearer("x")), { status: 0, headers: {}, body: "", reset: true })
      assert.isUndefined((yield* twitch.validate(bearer("x"))).reset)
    }))
})
