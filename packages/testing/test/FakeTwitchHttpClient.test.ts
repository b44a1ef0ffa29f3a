import { HttpBody, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, Option, Stream, TestClock } from "effect"
import { FakeTwitch, FakeTwitchHttpClient } from "../src/index.js"

const [confidential] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users

const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, text }
  })

const json = (text: string): Record<string, unknown> => Object(JSON.parse(text))

const clientCredentials = {
  client_id: confidential.clientId,
  client_secret: confidential.clientSecret,
  grant_type: "client_credentials"
}

const tokenRequest = HttpClientRequest.post("https://id.twitch.tv/oauth2/token").pipe(
  HttpClientRequest.bodyUrlParams(clientCredentials)
)

describe("FakeTwitchHttpClient", () => {
  it.effect("answers any host, and the model sees every request", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      for (const host of ["https://id.twitch.tv", "http://127.0.0.1:1", "http://anything.invalid"]) {
        const response = yield* send(
          HttpClientRequest.post(`${host}/oauth2/token`).pipe(HttpClientRequest.bodyUrlParams(clientCredentials))
        )
        assert.strictEqual(response.status, 200, host)
        assert.strictEqual(response.headers["access-control-allow-origin"], "*")
      }
      assert.strictEqual(yield* twitch.calls("token"), 3)
      const last = yield* twitch.lastRequest("token")
      const headers = Option.getOrUndefined(last)?.headers ?? {}
      assert.strictEqual(headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(headers["content-length"], String(new URLSearchParams(clientCredentials).toString().length))
    }).pipe(Effect.provide(FakeTwitchHttpClient.layerTest)))

  it.effect("a Delay fault answers only after TestClock.adjust", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      yield* twitch.failNext("token", { _tag: "Delay", duration: "10 seconds" })
      const fiber = yield* Effect.fork(send(tokenRequest))
      yield* TestClock.adjust(Duration.seconds(9))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      assert.strictEqual(yield* twitch.calls("token"), 1)
      yield* TestClock.adjust(Duration.seconds(1))
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.status, 200)
    }).pipe(Effect.provide(FakeTwitchHttpClient.layerTest)))

  it.effect("a Hang fault never answers: only a timeout on the Clock ends the call", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      yield* twitch.failNext("token", { _tag: "Hang" })
      const fiber = yield* Effect.fork(Effect.timeout(send(tokenRequest), "10 seconds"))
      yield* TestClock.adjust(Duration.seconds(9))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(Duration.seconds(1))
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "TimeoutException")
      assert.strictEqual(yield* twitch.calls("token"), 1)
      assert.strictEqual((yield* send(tokenRequest)).status, 200)
    }).pipe(Effect.provide(FakeTwitchHttpClient.layerTest)))

  it.effect("a Reset fault fails like a dropped connection: a transport RequestError (ECONNRESET)", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      yield* twitch.failNext("any", { _tag: "Reset" })
      const error = yield* Effect.flip(send(tokenRequest))
      assert.strictEqual(error._tag, "RequestError")
      if (error._tag === "RequestError") {
        assert.strictEqual(error.reason, "Transport")
        assert.propertyVal(error.cause, "code", "ECONNRESET")
      }
      assert.strictEqual(yield* twitch.calls("token"), 1)
      assert.strictEqual((yield* send(tokenRequest)).status, 200)
    }).pipe(Effect.provide(FakeTwitchHttpClient.layerTest)))

  it.effect("a Delay fault on helix too", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { accessToken } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: []
      })
      yield* twitch.failNext("any", { _tag: "Delay", duration: "3 seconds" })
      const fiber = yield* Effect.fork(
        send(
          HttpClientRequest.get("https://api.twitch.tv/helix/users").pipe(
            HttpClientRequest.bearerToken(accessToken),
            HttpClientRequest.setHeader("Client-Id", confidential.clientId)
          )
        )
      )
      yield* TestClock.adjust(Duration.millis(2999))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual((yield* Fiber.join(fiber)).status, 200)
    }).pipe(Effect.provide(FakeTwitchHttpClient.layerTest)))

  it.effect("token expiry and Helix rate-limit times follow the TestClock", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { accessToken } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: []
      })
      const validate = send(
        HttpClientRequest.get("https://id.twitch.tv/oauth2/validate").pipe(
          HttpClientRequest.setHeader("Authorization", `OAuth ${accessToken}`)
        )
      )
      const users = send(
        HttpClientRequest.get("https://api.twitch.tv/helix/users").pipe(
          HttpClientRequest.bearerToken(accessToken),
          HttpClientRequest.setHeader("Client-Id", confidential.clientId)
        )
      )
      yield* TestClock.adjust(Duration.seconds(400))
      assert.strictEqual(json((yield* validate).text)["expires_in"], 14000)
      const ok = yield* users
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(ok.headers["ratelimit-reset"], "460")
      yield* twitch.failNext("helix", { _tag: "RateLimited", resetAfterSeconds: 7 })
      const limited = yield* users
      assert.deepStrictEqual(
        [limited.status, limited.headers["ratelimit-remaining"], limited.headers["ratelimit-reset"]],
        [429, "0", "407"]
      )
      yield* TestClock.adjust(Duration.seconds(14000))
      assert.strictEqual((yield* validate).status, 401)
      const expired = yield* users
      assert.deepStrictEqual([expired.status, json(expired.text)], [401, {
        error: "Unauthorized",
        status: 401,
        message: "Invalid OAuth token"
      }])
    }).pipe(Effect.provide(FakeTwitchHttpClient.layerTest)))

  it.effect("reads urlencoded bodies given as a stream or as raw URLSearchParams", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const encoded = new TextEncoder().encode(
        new URLSearchParams({ ...clientCredentials, client_secret: "wrong" }).toString()
      )
      const streamed = yield* send(
        HttpClientRequest.post("https://id.twitch.tv/oauth2/token").pipe(
          HttpClientRequest.bodyStream(Stream.fromChunk(Chunk.make(encoded.slice(0, 10), encoded.slice(10))), {
            contentType: "application/x-www-form-urlencoded"
          })
        )
      )
      assert.deepStrictEqual([streamed.status, json(streamed.text)], [403, {
        status: 403,
        message: "invalid client secret"
      }])
      assert.strictEqual(Option.getOrUndefined(yield* twitch.lastRequest("token"))?.params["client_secret"], "wrong")

      const raw = yield* send(
        HttpClientRequest.post("https://id.twitch.tv/oauth2/token").pipe(
          HttpClientRequest.setBody(HttpBody.raw(new URLSearchParams(clientCredentials)))
        )
      )
      assert.strictEqual(raw.status, 200)
    }).pipe(Effect.provide(FakeTwitchHttpClient.layerTest)))

  it.effect("a non-form body carries no params; a bad multipart body is a 400", () =>
    Effect.gen(function*() {
      const asJson = yield* send(
        HttpClientRequest.post("https://id.twitch.tv/oauth2/token").pipe(
          HttpClientRequest.bodyUnsafeJson(clientCredentials)
        )
      )
      assert.deepStrictEqual([asJson.status, json(asJson.text)], [400, { status: 400, message: "missing client id" }])
      const broken = yield* send(
        HttpClientRequest.post("https://id.twitch.tv/oauth2/token").pipe(
          HttpClientRequest.bodyText("not multipart at all", "multipart/form-data; boundary=xyz")
        )
      )
      assert.deepStrictEqual([broken.status, json(broken.text)], [400, {
        status: 400,
        message: "malformed request body"
      }])
    }).pipe(Effect.provide(FakeTwitchHttpClient.layerTest)))

  it.effect("a status no HTTP response can carry fails as a RequestError", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      yield* twitch.failNext("token", { _tag: "ServerError", status: 999 })
      const error = yield* Effect.flip(send(tokenRequest))
      assert.strictEqual(error._tag, "RequestError")
      if (error._tag === "RequestError") assert.strictEqual(error.reason, "Transport")
      assert.strictEqual((yield* send(tokenRequest)).status, 200)
    }).pipe(Effect.provide(FakeTwitchHttpClient.layerTest)))
})
