import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import { FakeTwitch } from "../src/index.js"
import { Ring } from "../src/internal/requestLog.js"

const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users
const callback = "http://localhost:3000/callback"

const post = (params: Record<string, string>): FakeTwitch.FakeTwitch.WireRequest => ({ method: "POST", headers: {}, params })
const get = (params: Record<string, string>, headers: Record<string, string> = {}): FakeTwitch.FakeTwitch.WireRequest => ({
  method: "GET",
  headers,
  params
})
const bearer = (token: string) => get({}, { authorization: `OAuth ${token}` })
const body = (response: FakeTwitch.FakeTwitch.WireResponse): unknown => JSON.parse(response.body)
const clientCredentials = { client_id: confidential.clientId, client_secret: confidential.clientSecret, grant_type: "client_credentials" }

const expectError = (response: FakeTwitch.FakeTwitch.WireResponse, status: number, message: string) => {
  assert.strictEqual(response.status, status)
  assert.strictEqual(response.headers["content-type"], "application/json")
  assert.deepStrictEqual(body(response), { status, message })
}

const refreshParams = (client: FakeTwitch.FakeTwitch.Client, refreshToken: string): Record<string, string> =>
  client.clientSecret === undefined
    ? { client_id: client.clientId, grant_type: "refresh_token", refresh_token: refreshToken }
    : { client_id: client.clientId, client_secret: client.clientSecret, grant_type: "refresh_token", refresh_token: refreshToken }

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

describe("client_credentials", () => {
  it.effect("issues an app token that validates without identity", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const response = yield* twitch.token(post(clientCredentials))
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers["content-type"], "application/json")
      const json = body(response)
      assert.deepStrictEqual(Object.keys(Object(json)), ["access_token", "expires_in", "token_type"])
      const { access_token, expires_in, token_type } = Object(json)
      assert.match(access_token, /^[a-z0-9]{30}$/)
      assert.strictEqual(expires_in, 5011271)
      assert.strictEqual(token_type, "bearer")

      const validated = yield* twitch.validate(bearer(access_token))
      assert.strictEqual(validated.status, 200)
      assert.deepStrictEqual(body(validated), { client_id: confidential.clientId, scopes: [], expires_in: 5011271 })
    }))

  it.effect("rejects bad clients and secrets with Twitch's strings", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      expectError(yield* twitch.token(post({ grant_type: "client_credentials" })), 400, "missing client id")
      expectError(
        yield* twitch.token(post({ ...clientCredentials, client_id: "nosuchclient" })),
        400,
        "invalid client"
      )
      expectError(
        yield* twitch.token(post({ ...clientCredentials, client_secret: "wrong" })),
        403,
        "invalid client secret"
      )
      expectError(
        yield* twitch.token(post({ client_id: confidential.clientId, grant_type: "client_credentials" })),
        400,
        "missing client secret"
      )
      expectError(
        yield* twitch.token(post({ client_id: publicClient.clientId, grant_type: "client_credentials" })),
        400,
        "missing client secret"
      )
      expectError(
        yield* twitch.token(post({ client_id: publicClient.clientId, client_secret: "x", grant_type: "client_credentials" })),
        403,
        "invalid client secret"
      )
    }))

  it.effect("unsupported and device grants", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      expectError(yield* twitch.token(post({ ...clientCredentials, grant_type: "password" })), 400, "unsupported grant type")
      expectError(
        yield* twitch.token(post({ client_id: confidential.clientId })),
        400,
        "unsupported grant type"
      )
      expectError(
        yield* twitch.token(
          post({ client_id: publicClient.clientId, device_code: "x", grant_type: "urn:ietf:params:oauth:grant-type:device_code" })
        ),
        400,
        "invalid device code"
      )
    }))

  it.effect("a GET to the token endpoint is a 404", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const response = yield* twitch.token(get(clientCredentials))
      assert.strictEqual(response.status, 404)
    }))

  it.effect("includeErrorField adds the HTTP reason", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ includeErrorField: true })
      const response = yield* twitch.token(post({ ...clientCredentials, client_secret: "wrong" }))
      assert.deepStrictEqual(body(response), { error: "Forbidden", status: 403, message: "invalid client secret" })
    }))

  it.effect("tokens are unique", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const tokens = new Set<string>()
      for (let i = 0; i < 50; i++) {
        tokens.add(Object(body(yield* twitch.token(post(clientCredentials)))).access_token)
      }
      assert.strictEqual(tokens.size, 50)
    }))
})

describe("authorization_code", () => {
  const exchange = (code: string, redirectUri = callback, client: FakeTwitch.FakeTwitch.Client = confidential) =>
    post({
      client_id: client.clientId,
      ...(client.clientSecret === undefined ? {} : { client_secret: client.clientSecret }),
      code,
      grant_type: "authorization_code",
      redirect_uri: redirectUri
    })

  it.effect("exchanges a code once for a user token", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const code = yield* twitch.issueAuthorizationCode({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["chat:read", "chat:edit"],
        redirectUri: callback
      })
      assert.match(code, /^[a-z0-9]{30}$/)
      const response = yield* twitch.token(exchange(code))
      assert.strictEqual(response.status, 200)
      const json = Object(body(response))
      assert.deepStrictEqual(Object.keys(json), ["access_token", "expires_in", "refresh_token", "scope", "token_type"])
      assert.match(json.access_token, /^[a-z0-9]{30}$/)
      assert.strictEqual(json.expires_in, 14400)
      assert.deepStrictEqual(json.scope, ["chat:read", "chat:edit"])
      assert.strictEqual(json.token_type, "bearer")
      for (const c of ["%", "/", "=", "+", "&"]) assert.include(json.refresh_token, c)
      assert.match(json.refresh_token, /^[a-z0-9]{40}/)

      const validated = yield* twitch.validate(bearer(json.access_token))
      assert.deepStrictEqual(body(validated), {
        client_id: confidential.clientId,
        login: "twitchdev",
        scopes: ["chat:read", "chat:edit"],
        user_id: "141981764",
        expires_in: 14400
      })

      expectError(yield* twitch.token(exchange(code)), 400, "Invalid authorization code")
    }))

  it.effect("omits scope when none was granted", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const code = yield* twitch.issueAuthorizationCode({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: [],
        redirectUri: callback
      })
      const json = Object(body(yield* twitch.token(exchange(code))))
      assert.isFalse("scope" in json)
      assert.property(json, "refresh_token")
    }))

  it.effect("errors: unknown code, redirect mismatch, missing secret, public client, expiry", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const issue = twitch.issueAuthorizationCode({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["chat:read"],
        redirectUri: callback
      })
      expectError(yield* twitch.token(exchange("nosuchcode")), 400, "Invalid authorization code")
      const code = yield* issue
      expectError(
        yield* twitch.token(exchange(code, "http://localhost:3000/other")),
        400,
        "Parameter redirect_uri does not match registered URI"
      )
      expectError(
        yield* twitch.token(exchange(code, "http://evil.example/cb")),
        400,
        "Parameter redirect_uri does not match registered URI"
      )
      expectError(
        yield* twitch.token(post({ client_id: confidential.clientId, code, grant_type: "authorization_code", redirect_uri: callback })),
        400,
        "missing client secret"
      )
      // public clients cannot use the authorization code grant
      const publicCode = yield* twitch.issueAuthorizationCode({
        clientId: publicClient.clientId,
        userId: user.userId,
        scopes: [],
        redirectUri: callback
      })
      assert.strictEqual((yield* twitch.token(exchange(publicCode, callback, publicClient))).status, 400)
      // a code of another client is invalid
      expectError(
        yield* twitch.token(exchange(publicCode)),
        400,
        "Invalid authorization code"
      )
      // a mismatch did not consume the code
      assert.strictEqual((yield* twitch.token(exchange(code))).status, 200)

      const late = yield* issue
      yield* TestClock.adjust(Duration.seconds(599))
      const early = yield* issue
      yield* TestClock.adjust(Duration.seconds(2))
      expectError(yield* twitch.token(exchange(late)), 400, "Invalid authorization code")
      assert.strictEqual((yield* twitch.token(exchange(early))).status, 200)
    }))

  it.effect("test-setup errors are typed", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const error = yield* Effect.flip(
        twitch.issueUserToken({ clientId: "nosuchclient", userId: user.userId, scopes: [] })
      )
      assert.strictEqual(error._tag, "FakeTwitchSetupError")
      const noUser = yield* Effect.flip(twitch.setConsentingUser("42"))
      assert.include(noUser.message, "42")
    }))
})

describe("refresh_token", () => {
  it.effect("confidential: no secret, wrong secret, missing token, unknown token", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { refreshToken } = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: ["chat:read"] })
      expectError(
        yield* twitch.token(post({ client_id: confidential.clientId, grant_type: "refresh_token", refresh_token: refreshToken })),
        400,
        "missing client secret"
      )
      expectError(
        yield* twitch.token(post({ ...refreshParams(confidential, refreshToken), client_secret: "wrong" })),
        403,
        "invalid client secret"
      )
      expectError(
        yield* twitch.token(post({ client_id: confidential.clientId, client_secret: confidential.clientSecret, grant_type: "refresh_token" })),
        400,
        "missing refresh token"
      )
      expectError(yield* twitch.token(post(refreshParams(confidential, "nope"))), 400, "Invalid refresh token")
      // a refresh token is bound to its client
      expectError(yield* twitch.token(post(refreshParams(publicClient, refreshToken))), 400, "Invalid refresh token")
      // an unencoded token, as a form decoder would mangle it (`+` → space, `&` splits)
      const mangled = refreshToken.replace("+", " ").split("&")[0] ?? ""
      expectError(yield* twitch.token(post(refreshParams(confidential, mangled))), 400, "Invalid refresh token")
    }))

  it.effect("issue 12 #5: confidential: refresh rotates the refresh token by default; the old one is refused", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const issued = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: ["chat:read"] })
      const response = yield* twitch.token(post(refreshParams(confidential, issued.refreshToken)))
      assert.strictEqual(response.status, 200)
      const json = Object(body(response))
      assert.notStrictEqual(json.access_token, issued.accessToken)
      assert.notStrictEqual(json.refresh_token, issued.refreshToken)
      assert.deepStrictEqual(json.scope, ["chat:read"])
      assert.isFalse(yield* twitch.isRefreshTokenValid(issued.refreshToken))
      assert.isTrue(yield* twitch.isRefreshTokenValid(json.refresh_token))
      // code that ignores the returned refresh token fails, as Twitch's docs allow it to
      expectError(yield* twitch.token(post(refreshParams(confidential, issued.refreshToken))), 400, "Invalid refresh token")
      // the access token it replaced stays alive until it expires
      assert.strictEqual((yield* twitch.validate(bearer(issued.accessToken))).status, 200)
      // the new one works, and rotates again; confidential refresh tokens do not expire
      yield* TestClock.adjust(Duration.days(365))
      const again = Object(body(yield* twitch.token(post(refreshParams(confidential, json.refresh_token)))))
      assert.isString(again.refresh_token)
      assert.notStrictEqual(again.refresh_token, json.refresh_token)
    }))

  it.effect("confidential, rotateRefreshTokens off: refresh keeps the refresh token valid and the old access token alive", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ rotateRefreshTokens: false })
      const issued = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: ["chat:read"] })
      const response = yield* twitch.token(post(refreshParams(confidential, issued.refreshToken)))
      assert.strictEqual(response.status, 200)
      const json = Object(body(response))
      assert.notStrictEqual(json.access_token, issued.accessToken)
      assert.strictEqual(json.refresh_token, issued.refreshToken)
      assert.deepStrictEqual(json.scope, ["chat:read"])
      assert.strictEqual(json.expires_in, 14400)
      assert.isTrue(yield* twitch.isRefreshTokenValid(issued.refreshToken))
      assert.strictEqual((yield* twitch.validate(bearer(issued.accessToken))).status, 200)
      assert.strictEqual((yield* twitch.token(post(refreshParams(confidential, issued.refreshToken)))).status, 200)
      // confidential refresh tokens do not expire
      yield* TestClock.adjust(Duration.days(365))
      assert.isTrue(yield* twitch.isRefreshTokenValid(issued.refreshToken))
    }))

  it.effect("issue 12 #6: at most 50 live access tokens per refresh chain; the 51st invalidates the oldest", () =>
    Effect.gen(function*() {
      for (const [client, rotate] of [[confidential, true], [confidential, false], [publicClient, true]] as const) {
        const twitch = yield* FakeTwitch.make({ rotateRefreshTokens: rotate })
        const issued = yield* twitch.issueUserToken({ clientId: client.clientId, userId: user.userId, scopes: [] })
        // another authorization of the same user and client: a chain of its own
        const bystander = yield* twitch.issueUserToken({ clientId: client.clientId, userId: user.userId, scopes: [] })
        const minted = [issued.accessToken]
        let refreshToken = issued.refreshToken
        for (let i = 0; i < 49; i++) {
          const json = Object(body(yield* twitch.token(post(refreshParams(client, refreshToken)))))
          minted.push(json.access_token)
          refreshToken = json.refresh_token
        }
        // 50 live: all valid
        for (const token of minted) assert.isTrue(yield* twitch.isAccessTokenValid(token), `${client.type} ${rotate}`)
        const json = Object(body(yield* twitch.token(post(refreshParams(client, refreshToken)))))
        minted.push(json.access_token)
        // the 51st kills the 1st (the grant's own), only it
        assert.isFalse(yield* twitch.isAccessTokenValid(minted[0]!))
        expectError(yield* twitch.validate(bearer(minted[0]!)), 401, "invalid access token")
        for (const token of minted.slice(1)) assert.isTrue(yield* twitch.isAccessTokenValid(token))
        assert.isTrue(yield* twitch.isAccessTokenValid(bystander.accessToken))
        // a token that died on its own does not count: revoke one, the next refresh evicts nobody
        yield* twitch.revokeAccessToken(minted[10]!)
        const next = Object(body(yield* twitch.token(post(refreshParams(client, json.refresh_token)))))
        assert.isTrue(yield* twitch.isAccessTokenValid(minted[1]!))
        assert.isTrue(yield* twitch.isAccessTokenValid(next.access_token))
      }
      // the limit is an option
      const small = yield* FakeTwitch.make({ maxAccessTokensPerRefreshToken: 2 })
      const first = yield* small.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      const second = Object(body(yield* small.token(post(refreshParams(confidential, first.refreshToken)))))
      assert.isTrue(yield* small.isAccessTokenValid(first.accessToken))
      const third = Object(body(yield* small.token(post(refreshParams(confidential, second.refresh_token)))))
      assert.isFalse(yield* small.isAccessTokenValid(first.accessToken))
      assert.isTrue(yield* small.isAccessTokenValid(second.access_token))
      assert.isTrue(yield* small.isAccessTokenValid(third.access_token))
    }))

  it.effect("public: single use, rotated, no secret needed", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const issued = yield* twitch.issueUserToken({ clientId: publicClient.clientId, userId: user.userId, scopes: [] })
      const first = yield* twitch.token(post(refreshParams(publicClient, issued.refreshToken)))
      assert.strictEqual(first.status, 200)
      const json = Object(body(first))
      assert.notStrictEqual(json.refresh_token, issued.refreshToken)
      assert.isFalse("scope" in json)
      assert.isFalse(yield* twitch.isRefreshTokenValid(issued.refreshToken))
      assert.isTrue(yield* twitch.isRefreshTokenValid(json.refresh_token))
      expectError(
        yield* twitch.token(post(refreshParams(publicClient, issued.refreshToken))),
        400,
        "Invalid refresh token"
      )
      const second = yield* twitch.token(post(refreshParams(publicClient, json.refresh_token)))
      assert.strictEqual(second.status, 200)
    }))

  it.effect("public: refresh tokens expire 30 days after creation", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const issued = yield* twitch.issueUserToken({ clientId: publicClient.clientId, userId: user.userId, scopes: [] })
      yield* TestClock.adjust(Duration.subtract(Duration.days(30), Duration.seconds(1)))
      assert.isTrue(yield* twitch.isRefreshTokenValid(issued.refreshToken))
      yield* TestClock.adjust(Duration.seconds(1))
      assert.isFalse(yield* twitch.isRefreshTokenValid(issued.refreshToken))
      expectError(
        yield* twitch.token(post(refreshParams(publicClient, issued.refreshToken))),
        400,
        "Invalid refresh token"
      )
    }))

  it.effect("refreshFailureStatus: 401", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ refreshFailureStatus: 401 })
      expectError(yield* twitch.token(post(refreshParams(confidential, "nope"))), 401, "Invalid refresh token")
    }))
})

describe("validate", () => {
  it.effect("expiry follows the Clock", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ userTokenTtlSeconds: 3600 })
      const { accessToken, expiresIn } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["chat:read"]
      })
      assert.strictEqual(expiresIn, 3600)
      yield* TestClock.adjust(Duration.millis(100_500))
      const json = Object(body(yield* twitch.validate(bearer(accessToken))))
      assert.strictEqual(json.expires_in, 3499)
      yield* TestClock.adjust(Duration.seconds(3500))
      expectError(yield* twitch.validate(bearer(accessToken)), 401, "invalid access token")
      assert.isFalse(yield* twitch.isAccessTokenValid(accessToken))
    }))

  it.effect("expireAccessToken and revokeAccessToken", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const a = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      const b = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      yield* twitch.expireAccessToken(a.accessToken)
      yield* twitch.revokeAccessToken(b.accessToken)
      expectError(yield* twitch.validate(bearer(a.accessToken)), 401, "invalid access token")
      expectError(yield* twitch.validate(bearer(b.accessToken)), 401, "invalid access token")
      // the refresh token still works
      assert.strictEqual((yield* twitch.token(post(refreshParams(confidential, a.refreshToken)))).status, 200)
    }))

  it.effect("headers: OAuth and Bearer as documented, other spellings refused; missing and unknown", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { accessToken } = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      for (const prefix of ["OAuth", "Bearer"]) {
        const response = yield* twitch.validate(get({}, { authorization: `${prefix} ${accessToken}` }))
        assert.strictEqual(response.status, 200, prefix)
      }
      // guess (no capture of Twitch's answer): spellings the docs do not give are a missing token
      for (const prefix of ["oauth", "OAUTH", "bearer", "BEARER"]) {
        expectError(
          yield* twitch.validate(get({}, { authorization: `${prefix} ${accessToken}` })),
          401,
          "missing authorization token"
        )
      }
      expectError(yield* twitch.validate(get({})), 401, "missing authorization token")
      expectError(yield* twitch.validate(get({}, { authorization: "OAuth " })), 401, "missing authorization token")
      expectError(yield* twitch.validate(bearer("nosuchtoken")), 401, "invalid access token")
      assert.strictEqual((yield* twitch.validate({ method: "POST", headers: { authorization: `OAuth ${accessToken}` }, params: {} })).status, 404)
    }))

  it.effect("issue 12 #3: a scope-less user token validates with scopes null, an app token with []", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const issued = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      assert.deepStrictEqual(body(yield* twitch.validate(bearer(issued.accessToken))), {
        client_id: confidential.clientId,
        login: "twitchdev",
        scopes: null,
        user_id: user.userId,
        expires_in: 14400
      })
      const app = Object(body(yield* twitch.token(post(clientCredentials)))).access_token
      assert.deepStrictEqual(body(yield* twitch.validate(bearer(app))), {
        client_id: confidential.clientId,
        scopes: [],
        expires_in: 5011271
      })
      // a user token with scopes lists them
      const scoped = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: ["chat:read"] })
      assert.deepStrictEqual(Object(body(yield* twitch.validate(bearer(scoped.accessToken)))).scopes, ["chat:read"])
      // the quirk: `[]` for both
      yield* twitch.setQuirks({ emptyScopes: "empty" })
      assert.deepStrictEqual(Object(body(yield* twitch.validate(bearer(issued.accessToken)))).scopes, [])
    }))

  it.effect("quirks: null identity for app tokens, null scopes", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ appTokenValidateIdentity: "null", emptyScopes: "null" })
      const app = Object(body(yield* twitch.token(post(clientCredentials)))).access_token
      assert.deepStrictEqual(body(yield* twitch.validate(bearer(app))), {
        client_id: confidential.clientId,
        login: null,
        scopes: null,
        user_id: null,
        expires_in: 5011271
      })
      yield* twitch.setQuirks({ appTokenValidateIdentity: "absent", emptyScopes: "empty" })
      assert.deepStrictEqual(body(yield* twitch.validate(bearer(app))), {
        client_id: confidential.clientId,
        scopes: [],
        expires_in: 5011271
      })
    }))
})

describe("revoke", () => {
  it.effect("revokes once, then Invalid token", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { accessToken } = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      const revoked = yield* twitch.revoke(post({ client_id: confidential.clientId, token: accessToken }))
      assert.deepStrictEqual(revoked, { status: 200, headers: {}, body: "" })
      expectError(yield* twitch.validate(bearer(accessToken)), 401, "invalid access token")
      expectError(
        yield* twitch.revoke(post({ client_id: confidential.clientId, token: accessToken })),
        400,
        "Invalid token"
      )
    }))

  it.effect("errors", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const { accessToken } = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      expectError(yield* twitch.revoke(post({ client_id: "nosuchclient", token: accessToken })), 404, "client does not exist")
      expectError(yield* twitch.revoke(post({ client_id: confidential.clientId })), 400, "missing oauth token")
      expectError(yield* twitch.revoke(post({ token: accessToken })), 400, "missing client id")
      expectError(yield* twitch.revoke(post({ client_id: confidential.clientId, token: "nope" })), 400, "Invalid token")
      // another client's token
      expectError(yield* twitch.revoke(post({ client_id: publicClient.clientId, token: accessToken })), 400, "Invalid token")
      assert.isTrue(yield* twitch.isAccessTokenValid(accessToken))
    }))
})

describe("disconnectUser", () => {
  it.effect("kills the user's access and refresh tokens only", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const other = yield* twitch.registerUser({ userId: "42", login: "other" })
      const mine = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      const theirs = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: other.userId, scopes: [] })
      yield* twitch.disconnectUser(user.userId)
      expectError(yield* twitch.validate(bearer(mine.accessToken)), 401, "invalid access token")
      assert.isFalse(yield* twitch.isRefreshTokenValid(mine.refreshToken))
      expectError(yield* twitch.token(post(refreshParams(confidential, mine.refreshToken))), 400, "Invalid refresh token")
      assert.strictEqual((yield* twitch.validate(bearer(theirs.accessToken))).status, 200)
      assert.isTrue(yield* twitch.isRefreshTokenValid(theirs.refreshToken))
    }))

  it.effect("can target one client", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      const conf = yield* twitch.issueUserToken({ clientId: confidential.clientId, userId: user.userId, scopes: [] })
      const pub = yield* twitch.issueUserToken({ clientId: publicClient.clientId, userId: user.userId, scopes: [] })
      yield* twitch.disconnectUser(user.userId, publicClient.clientId)
      assert.isTrue(yield* twitch.isAccessTokenValid(conf.accessToken))
      assert.isFalse(yield* twitch.isAccessTokenValid(pub.accessToken))
    }))
})

describe("authorize", () => {
  const authorize = (params: Record<string, string>) => get({ client_id: confidential.clientId, ...params })

  it.effect("code flow: redirect with code, encoded scope and state; the code exchanges", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      const response = yield* twitch.authorize(
        authorize({ redirect_uri: callback, response_type: "code", scope: "channel:manage:polls channel:read:polls", state: "c3ab8aa6" })
      )
      assert.strictEqual(response.status, 302)
      const location = response.headers["location"] ?? ""
      assert.match(
        location,
        /^http:\/\/localhost:3000\/callback\?code=[a-z0-9]{30}&scope=channel%3Amanage%3Apolls\+channel%3Aread%3Apolls&state=c3ab8aa6$/
      )
      const code = new URL(location).searchParams.get("code") ?? ""
      const exchanged = yield* twitch.token(post({
        client_id: confidential.clientId,
        client_secret: confidential.clientSecret,
        code,
        grant_type: "authorization_code",
        redirect_uri: callback
      }))
      assert.deepStrictEqual(Object(body(exchanged)).scope, ["channel:manage:polls", "channel:read:polls"])
    }))

  it.effect("implicit flow: token in the fragment", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      const response = yield* twitch.authorize(authorize({ redirect_uri: callback, response_type: "token", scope: "chat:read", state: "s" }))
      const location = response.headers["location"] ?? ""
      assert.match(location, /^http:\/\/localhost:3000\/callback#access_token=[a-z0-9]{30}&scope=chat%3Aread&state=s&token_type=bearer$/)
      const token = new URLSearchParams(new URL(location).hash.slice(1)).get("access_token") ?? ""
      assert.strictEqual(Object(body(yield* twitch.validate(bearer(token)))).login, "twitchdev")
    }))

  it.effect("redirect mismatch goes to the first registered URI", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      const withState = yield* twitch.authorize(authorize({ redirect_uri: "http://evil.example/cb", response_type: "code", state: "s1" }))
      assert.strictEqual(withState.status, 302)
      assert.strictEqual(
        withState.headers["location"],
        "http://localhost:3000/callback?error=redirect_mismatch&error_description=Parameter+redirect_uri+does+not+match+registered+URI&state=s1"
      )
      const withoutState = yield* twitch.authorize(authorize({ redirect_uri: "http://evil.example/cb", response_type: "code" }))
      assert.strictEqual(
        withoutState.headers["location"],
        "http://localhost:3000/callback?error=redirect_mismatch&error_description=Parameter+redirect_uri+does+not+match+registered+URI"
      )
    }))

  it.effect("denyNextAuthorization denies once", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      yield* twitch.denyNextAuthorization()
      const other = "http://localhost:3000/other"
      const denied = yield* twitch.authorize(authorize({ redirect_uri: other, response_type: "code", state: "s2" }))
      assert.strictEqual(
        denied.headers["location"],
        "http://localhost:3000/other?error=access_denied&error_description=The+user+denied+you+access&state=s2"
      )
      const allowed = yield* twitch.authorize(authorize({ redirect_uri: other, response_type: "code", state: "s2" }))
      assert.include(allowed.headers["location"], "code=")
    }))

  it.effect("consenting user can be changed", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      yield* twitch.registerUser({ userId: "42", login: "Other" })
      yield* twitch.setConsentingUser("42")
      const response = yield* twitch.authorize(authorize({ redirect_uri: callback, response_type: "token" }))
      const token = new URLSearchParams(new URL(response.headers["location"] ?? "").hash.slice(1)).get("access_token") ?? ""
      const json = Object(body(yield* twitch.validate(bearer(token))))
      assert.strictEqual(json.user_id, "42")
      assert.strictEqual(json.login, "other")
    }))

  it.effect("errors that cannot redirect are JSON", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      expectError(yield* twitch.authorize(get({ redirect_uri: callback, response_type: "code" })), 400, "missing client_id")
      expectError(
        yield* twitch.authorize(get({ client_id: "nosuchclient", redirect_uri: callback, response_type: "code" })),
        400,
        "invalid client"
      )
      expectError(yield* twitch.authorize(authorize({ response_type: "code" })), 400, "missing redirect_uri")
      expectError(yield* twitch.authorize(authorize({ redirect_uri: callback })), 400, "missing response_type")
      expectError(
        yield* twitch.authorize(authorize({ redirect_uri: callback, response_type: "code token" })),
        400,
        "unsupported response_type"
      )
      expectError(
        yield* twitch.authorize(authorize({ redirect_uri: callback, response_type: "id_token" })),
        400,
        "missing openid scope"
      )
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
      yield* twitch.failNext("token", { _tag: "Raw", status: 418, headers: { "content-type": "text/csv", "x-a": "b" }, body: "a,b" })
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

describe("scopes", () => {
  it.effect("client credentials and /oauth2/device refuse a scope that is not Twitch's form", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      expectError(
        yield* twitch.token(post({ ...clientCredentials, scope: "chat:read not_a_scope" })),
        400,
        "invalid scope requested: 'not_a_scope'"
      )
      expectError(
        yield* twitch.device(post({ client_id: clientCredentials.client_id, scopes: "Chat:Read" })),
        400,
        "invalid scope requested: 'Chat:Read'"
      )
      const ok = ["chat:read", "moderator:manage:shield_mode", "openid"].join(" ")
      assert.strictEqual((yield* twitch.token(post({ ...clientCredentials, scope: ok }))).status, 200)
      assert.strictEqual((yield* twitch.device(post({ client_id: clientCredentials.client_id, scopes: ok }))).status, 200)
    }))
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
