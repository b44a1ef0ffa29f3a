/**
 * The grant flows on the model: device codes (start, activation, polling with slow_down,
 * expiry, denial), implicit and OpenID Connect redirects, signed ID tokens, keys, discovery
 * and userinfo — and the same routes over both transports.
 */
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it, layer } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Option, TestClock } from "effect"
import { FakeTwitch, FakeTwitchHttpClient, MockTwitchServer } from "../src/index.js"

const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users
const callback = "http://localhost:3000/callback"
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

const post = (params: Record<string, string>, bodyParams?: Record<string, string>): FakeTwitch.FakeTwitch.WireRequest =>
  bodyParams === undefined
    ? { method: "POST", headers: {}, params }
    : { method: "POST", headers: {}, params, bodyParams }
const get = (
  params: Record<string, string>,
  headers: Record<string, string> = {}
): FakeTwitch.FakeTwitch.WireRequest => ({
  method: "GET",
  headers,
  params
})
const json = (response: FakeTwitch.FakeTwitch.WireResponse): Record<string, unknown> =>
  Object(JSON.parse(response.body))
const expectError = (response: FakeTwitch.FakeTwitch.WireResponse, status: number, message: string) => {
  assert.strictEqual(response.status, status)
  assert.deepStrictEqual(JSON.parse(response.body), { status, message })
}

const startDevice = (twitch: FakeTwitch.FakeTwitch.Service, clientId: string, scopes = "chat:read user:read:email") =>
  Effect.gen(function*() {
    const response = yield* twitch.device(post({ client_id: clientId, scopes }))
    assert.strictEqual(response.status, 200)
    const body = json(response)
    return { deviceCode: String(body["device_code"]), userCode: String(body["user_code"]), body }
  })

const poll = (twitch: FakeTwitch.FakeTwitch.Service, deviceCode: string, clientId = publicClient.clientId) =>
  twitch.token(post({ client_id: clientId, device_code: deviceCode, grant_type: deviceGrant }))

const base64UrlJson = (part: string | undefined): Record<string, unknown> =>
  Object(JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")))

/** Verifies an RS256 JWT against a JWKS with WebCrypto and returns its claims (None if the signature fails). */
const verifyWith = (jwks: unknown, jwt: string) =>
  Effect.promise(async () => {
    const [header, payload, signature] = jwt.split(".")
    const keys: ReadonlyArray<JsonWebKey> = Object(jwks)["keys"]
    const key = keys[0]
    if (key === undefined) return Option.none()
    const publicKey = await crypto.subtle.importKey("jwk", key, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
      "verify"
    ])
    const ok = await crypto.subtle.verify(
      "RSASSA-PKCS1-v1_5",
      publicKey,
      Buffer.from(signature ?? "", "base64url"),
      new TextEncoder().encode(`${header}.${payload}`)
    )
    return ok ? Option.some(base64UrlJson(payload)) : Option.none()
  })

describe("FakeTwitch device code flow", () => {
  it.effect("POST /oauth2/device answers the five fields; public clients get public=true", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { body, userCode } = yield* startDevice(twitch, publicClient.clientId)
      assert.match(String(body["device_code"]), /^[a-z0-9]{40}$/)
      assert.match(userCode, /^[A-Z0-9]{8}$/)
      assert.strictEqual(body["expires_in"], 1800)
      assert.strictEqual(body["interval"], 5)
      assert.strictEqual(body["verification_uri"], `https://www.twitch.tv/activate?public=true&device-code=${userCode}`)
      assert.deepStrictEqual(Object.keys(body).sort(), [
        "device_code",
        "expires_in",
        "interval",
        "user_code",
        "verification_uri"
      ])
      const other = yield* startDevice(twitch, confidential.clientId)
      assert.strictEqual(other.body["verification_uri"], `https://www.twitch.tv/activate?device-code=${other.userCode}`)
      expectError(yield* twitch.device(post({ client_id: "nosuchclient" })), 400, "invalid client")
      expectError(yield* twitch.device(get({ client_id: publicClient.clientId })), 404, "Not Found")
      assert.strictEqual(yield* twitch.calls("device"), 4)
    }))

  it.effect("pending → approved: a token with the body's scopes, for the approving user; then the code is used", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { deviceCode, userCode } = yield* startDevice(twitch, publicClient.clientId)
      expectError(yield* poll(twitch, deviceCode), 400, "authorization_pending")
      assert.deepStrictEqual(yield* twitch.deviceCodeStatus(userCode), Option.some("pending"))
      yield* TestClock.adjust("5 seconds")
      yield* twitch.approveDevice(userCode.toLowerCase())
      const ok = yield* poll(twitch, deviceCode)
      assert.strictEqual(ok.status, 200)
      const token = json(ok)
      assert.deepStrictEqual(token["scope"], ["chat:read", "user:read:email"])
      assert.isString(token["refresh_token"])
      const validated = yield* twitch.validate(get({}, { authorization: `OAuth ${String(token["access_token"])}` }))
      assert.strictEqual(json(validated)["user_id"], user.userId)
      assert.deepStrictEqual(yield* twitch.deviceCodeStatus(userCode), Option.some("consumed"))
      yield* TestClock.adjust("5 seconds")
      expectError(yield* poll(twitch, deviceCode), 400, "invalid device code")
    }))

  it.effect("scopes in the query string are ignored (a scope-less token), like id.twitch.tv", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const response = yield* twitch.device(
        post({ client_id: publicClient.clientId, scopes: "chat:read" }, { client_id: publicClient.clientId })
      )
      const { user_code, device_code } = json(response)
      yield* twitch.approveDevice(String(user_code))
      const token = json(yield* poll(twitch, String(device_code)))
      assert.isFalse("scope" in token)
    }))

  it.effect("polling faster than the interval gets slow_down, and the interval grows by 5 s", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { deviceCode } = yield* startDevice(twitch, publicClient.clientId)
      expectError(yield* poll(twitch, deviceCode), 400, "authorization_pending")
      yield* TestClock.adjust("4 seconds")
      expectError(yield* poll(twitch, deviceCode), 400, "slow_down")
      yield* TestClock.adjust("5 seconds") // 5 s since the last poll, but the interval is now 10 s
      expectError(yield* poll(twitch, deviceCode), 400, "slow_down")
      yield* TestClock.adjust("15 seconds")
      expectError(yield* poll(twitch, deviceCode), 400, "authorization_pending")
    }))

  it.effect("denied: access_denied once, then the code is used up", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { deviceCode, userCode } = yield* startDevice(twitch, publicClient.clientId)
      yield* twitch.denyDevice(userCode)
      expectError(yield* poll(twitch, deviceCode), 400, "access_denied")
      yield* TestClock.adjust("5 seconds")
      expectError(yield* poll(twitch, deviceCode), 400, "invalid device code")
      const again = yield* Effect.flip(twitch.approveDevice(userCode))
      assert.include(again.message, "invalid user code")
    }))

  it.effect("expired after 1800 s: invalid device code, and it can no longer be approved", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { deviceCode, userCode } = yield* startDevice(twitch, publicClient.clientId)
      yield* TestClock.adjust(Duration.seconds(1800))
      assert.deepStrictEqual(yield* twitch.deviceCodeStatus(userCode), Option.some("expired"))
      expectError(yield* poll(twitch, deviceCode), 400, "invalid device code")
      assert.isTrue((yield* Effect.either(twitch.approveDevice(userCode)))._tag === "Left")
    }))

  it.effect("confidential clients may poll with their secret; a wrong one is refused; another client's code is invalid", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { deviceCode, userCode } = yield* startDevice(twitch, confidential.clientId)
      yield* twitch.approveDevice(userCode, user.userId)
      const wrong = yield* twitch.token(
        post({
          client_id: confidential.clientId,
          client_secret: "wrong",
          device_code: deviceCode,
          grant_type: deviceGrant
        })
      )
      expectError(wrong, 403, "invalid client secret")
      expectError(yield* poll(twitch, deviceCode, publicClient.clientId), 400, "invalid device code")
      const ok = yield* twitch.token(
        post({
          client_id: confidential.clientId,
          client_secret: confidential.clientSecret,
          device_code: deviceCode,
          grant_type: deviceGrant
        })
      )
      assert.strictEqual(ok.status, 200)
      expectError(
        yield* twitch.token(post({ client_id: confidential.clientId, grant_type: deviceGrant })),
        400,
        "missing device_code"
      )
    }))

  it.effect("the activation endpoint approves as a given user or denies", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const other = yield* twitch.registerUser({ login: "viewer" })
      const first = yield* startDevice(twitch, publicClient.clientId)
      const approved = yield* twitch.activate(post({ user_code: first.userCode, user_id: other.userId }))
      assert.deepStrictEqual(json(approved), { user_code: first.userCode, status: "authorized" })
      const token = json(yield* poll(twitch, first.deviceCode))
      const info = json(yield* twitch.validate(get({}, { authorization: `OAuth ${String(token["access_token"])}` })))
      assert.strictEqual(info["login"], "viewer")

      const second = yield* startDevice(twitch, publicClient.clientId)
      const denied = yield* twitch.activate(post({ "device-code": second.userCode, decision: "deny" }))
      assert.deepStrictEqual(json(denied), { user_code: second.userCode, status: "denied" })
      expectError(yield* twitch.activate(post({ user_code: second.userCode })), 400, "invalid user code")
      expectError(yield* twitch.activate(post({ user_code: "NOPE1234" })), 400, "invalid user code")
      const third = yield* startDevice(twitch, publicClient.clientId)
      expectError(yield* twitch.activate(post({ user_code: third.userCode, user_id: "999" })), 400, "invalid user")
      expectError(
        yield* twitch.activate(post({ user_code: third.userCode, decision: "maybe" })),
        400,
        "invalid decision"
      )
      expectError(yield* twitch.activate(post({})), 400, "missing user_code")
    }))
})

describe("FakeTwitch OpenID Connect", () => {
  const authorize = (params: Record<string, string>) =>
    get({ client_id: confidential.clientId, redirect_uri: callback, ...params })

  it.effect("code flow with openid: the token answer carries an RS256 ID token signed by /oauth2/keys", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      const claims = JSON.stringify({ id_token: { email: null, picture: null }, userinfo: { updated_at: null } })
      const redirect = yield* twitch.authorize(
        authorize({ response_type: "code", scope: "openid user:read:email", nonce: "n-1", claims, state: "s" })
      )
      const code = new URL(redirect.headers["location"] ?? "").searchParams.get("code") ?? ""
      const answer = json(
        yield* twitch.token(
          post({
            client_id: confidential.clientId,
            client_secret: confidential.clientSecret,
            code,
            grant_type: "authorization_code",
            redirect_uri: callback
          })
        )
      )
      const idToken = String(answer["id_token"])
      const [header] = idToken.split(".")
      assert.deepStrictEqual(base64UrlJson(header), { alg: "RS256", typ: "JWT", kid: "1" })
      const keys = json(yield* twitch.keys(get({})))
      const verified = yield* verifyWith(keys, idToken)
      assert.isTrue(Option.isSome(verified))
      const payload = Option.getOrThrow(verified)
      assert.strictEqual(payload["iss"], "https://id.twitch.tv/oauth2")
      assert.strictEqual(payload["sub"], user.userId)
      assert.strictEqual(payload["aud"], confidential.clientId)
      assert.strictEqual(payload["azp"], confidential.clientId)
      assert.strictEqual(payload["nonce"], "n-1")
      assert.strictEqual(payload["preferred_username"], "Twitchdev")
      assert.strictEqual(payload["email"], "twitchdev@example.com")
      assert.isString(payload["picture"])
      assert.strictEqual(Number(payload["exp"]) - Number(payload["iat"]), 900)

      const info = json(
        yield* twitch.userinfo(get({}, { authorization: `Bearer ${String(answer["access_token"])}` }))
      )
      assert.strictEqual(info["sub"], user.userId)
      assert.strictEqual(info["aud"], confidential.clientId)
      assert.strictEqual(info["updated_at"], "2022-02-03T16:16:16.968509Z")
      assert.isFalse("email" in info)
    }))

  it.effect("no openid scope: no ID token, and userinfo refuses the token", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      const issued = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      expectError(
        yield* twitch.userinfo(get({}, { authorization: `Bearer ${issued.accessToken}` })),
        403,
        "missing required scope: openid"
      )
      expectError(yield* twitch.userinfo(get({}, { authorization: "Bearer nope" })), 401, "invalid access token")
      expectError(yield* twitch.userinfo(get({})), 401, "missing authorization token")
    }))

  it.effect("implicit: token in the fragment; token id_token adds a signed ID token; id_token needs openid", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      const plain = new URL(
        (yield* twitch.authorize(authorize({ response_type: "token", scope: "chat:read", state: "s" })))
          .headers["location"] ?? ""
      )
      const fragment = new URLSearchParams(plain.hash.slice(1))
      assert.deepStrictEqual(Array.from(fragment.keys()), ["access_token", "scope", "state", "token_type"])
      assert.strictEqual(fragment.get("token_type"), "bearer")

      const oidc = new URL(
        (yield* twitch.authorize(
          authorize({ response_type: "token id_token", scope: "openid", nonce: "abc", state: "s" })
        )).headers["location"] ?? ""
      )
      const params = new URLSearchParams(oidc.hash.slice(1))
      const idToken = params.get("id_token") ?? ""
      assert.isString(params.get("access_token"))
      const verified = yield* verifyWith(json(yield* twitch.keys(get({}))), idToken)
      assert.strictEqual(Option.getOrThrow(verified)["nonce"], "abc")

      const only = new URL(
        (yield* twitch.authorize(authorize({ response_type: "id_token", scope: "openid" })))
          .headers["location"] ?? ""
      )
      const onlyParams = new URLSearchParams(only.hash.slice(1))
      assert.isNull(onlyParams.get("access_token"))
      assert.isString(onlyParams.get("id_token"))
      const badClaims = yield* twitch.authorize(authorize({ response_type: "code", scope: "openid", claims: "{" }))
      expectError(badClaims, 400, "invalid claims parameter")
    }))

  it.effect("test hooks: the next ID token with other claims or a foreign key; mintIdToken", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      const keys = json(yield* twitch.keys(get({})))
      yield* twitch.nextIdToken({ claims: { aud: "someone-else", nonce: undefined } })
      const location = (yield* twitch.authorize(authorize({ response_type: "id_token", scope: "openid", nonce: "x" })))
        .headers["location"] ?? ""
      const first = new URLSearchParams(new URL(location).hash.slice(1)).get("id_token") ?? ""
      const payload = Option.getOrThrow(yield* verifyWith(keys, first))
      assert.strictEqual(payload["aud"], "someone-else")
      assert.isFalse("nonce" in payload)
      // used up: the next one is good again
      const again =
        (yield* twitch.authorize(authorize({ response_type: "id_token", scope: "openid" }))).headers["location"]
      const second = new URLSearchParams(new URL(again ?? "").hash.slice(1)).get("id_token") ?? ""
      assert.strictEqual(Option.getOrThrow(yield* verifyWith(keys, second))["aud"], confidential.clientId)

      const foreign = yield* twitch.mintIdToken({ clientId: confidential.clientId, userId: user.userId }, {
        key: "foreign"
      })
      assert.isTrue(Option.isNone(yield* verifyWith(keys, foreign)))
      const good = yield* twitch.mintIdToken({ clientId: confidential.clientId, userId: user.userId, nonce: "n" })
      assert.strictEqual(Option.getOrThrow(yield* verifyWith(keys, good))["nonce"], "n")
    }))
})

class AuthBase extends Context.Tag("test/AuthBase")<AuthBase, string>() {}

type Services = FakeTwitch.FakeTwitch | HttpClient.HttpClient | AuthBase

const socket: Layer.Layer<Services, unknown> = Layer.mergeAll(
  MockTwitchServer.layerTest,
  FetchHttpClient.layer,
  Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" })
).pipe((services) =>
  Layer.provideMerge(Layer.effect(AuthBase, Effect.map(MockTwitchServer.MockTwitchServer, (s) => s.authUrl)), services)
)

const inMemory: Layer.Layer<Services> = Layer.merge(
  FakeTwitchHttpClient.layerTest,
  Layer.succeed(AuthBase, "https://id.twitch.tv/oauth2")
)

const transports = [
  { name: "socket mock", layer: socket },
  { name: "in-memory client", layer: inMemory }
] as const

for (const transport of transports) {
  layer(transport.layer)(`new routes over the ${transport.name}`, (it) => {
    const send = (request: HttpClientRequest.HttpClientRequest) =>
      Effect.gen(function*() {
        const response = yield* (yield* HttpClient.HttpClient).execute(request)
        return { status: response.status, body: Object(yield* response.json) }
      })

    it.effect("discovery names the issuer the client addressed; keys, device, activate, userinfo are served", () =>
      Effect.gen(function*() {
        const base = yield* AuthBase
        const discovery = yield* send(HttpClientRequest.get(`${base}/.well-known/openid-configuration`))
        assert.strictEqual(discovery.status, 200)
        assert.strictEqual(discovery.body["issuer"], base)
        assert.strictEqual(discovery.body["jwks_uri"], `${base}/keys`)
        assert.strictEqual(discovery.body["userinfo_endpoint"], `${base}/userinfo`)
        assert.deepStrictEqual(discovery.body["id_token_signing_alg_values_supported"], ["RS256"])
        const keys = yield* send(HttpClientRequest.get(`${base}/keys`))
        assert.strictEqual(keys.body["keys"][0]["kty"], "RSA")

        // scopes in the query string are ignored; in the body they count
        const device = yield* send(
          HttpClientRequest.post(`${base}/device`).pipe(
            HttpClientRequest.setUrlParams({ scopes: "bits:read" }),
            HttpClientRequest.bodyUrlParams({ client_id: publicClient.clientId, scopes: "chat:read" })
          )
        )
        assert.strictEqual(device.status, 200)
        const activated = yield* send(
          HttpClientRequest.post(`${base}/activate`).pipe(
            HttpClientRequest.bodyUrlParams({ user_code: device.body["user_code"] })
          )
        )
        assert.strictEqual(activated.body["status"], "authorized")
        const token = yield* send(
          HttpClientRequest.post(`${base}/token`).pipe(
            HttpClientRequest.bodyUrlParams({
              client_id: publicClient.clientId,
              device_code: device.body["device_code"],
              grant_type: deviceGrant
            })
          )
        )
        assert.deepStrictEqual(token.body["scope"], ["chat:read"])
        const userinfo = yield* send(
          HttpClientRequest.get(`${base}/userinfo`).pipe(HttpClientRequest.bearerToken(token.body["access_token"]))
        )
        assert.strictEqual(userinfo.status, 403)
        const twitch = yield* FakeTwitch.FakeTwitch
        assert.strictEqual(yield* twitch.calls("discovery"), 1)
      }))
  })
}
