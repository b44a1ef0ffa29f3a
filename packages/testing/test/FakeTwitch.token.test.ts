import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import { FakeTwitch } from "../src/index.js"
import {
  bearer,
  body,
  callback,
  clientCredentials,
  confidential,
  expectError,
  get,
  post,
  publicClient,
  refreshParams,
  user
} from "./fakeTwitchSupport.js"

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
        yield* twitch.token(
          post({ client_id: publicClient.clientId, client_secret: "x", grant_type: "client_credentials" })
        ),
        403,
        "invalid client secret"
      )
    }))

  it.effect("unsupported and device grants", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make()
      expectError(
        yield* twitch.token(post({ ...clientCredentials, grant_type: "password" })),
        400,
        "unsupported grant type"
      )
      expectError(
        yield* twitch.token(post({ client_id: confidential.clientId })),
        400,
        "unsupported grant type"
      )
      expectError(
        yield* twitch.token(
          post({
            client_id: publicClient.clientId,
            device_code: "x",
            grant_type: "urn:ietf:params:oauth:grant-type:device_code"
          })
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
        yield* twitch.token(
          post({ client_id: confidential.clientId, code, grant_type: "authorization_code", redirect_uri: callback })
        ),
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
      const { refreshToken } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["chat:read"]
      })
      expectError(
        yield* twitch.token(
          post({ client_id: confidential.clientId, grant_type: "refresh_token", refresh_token: refreshToken })
        ),
        400,
        "missing client secret"
      )
      expectError(
        yield* twitch.token(post({ ...refreshParams(confidential, refreshToken), client_secret: "wrong" })),
        403,
        "invalid client secret"
      )
      expectError(
        yield* twitch.token(
          post({
            client_id: confidential.clientId,
            client_secret: confidential.clientSecret,
            grant_type: "refresh_token"
          })
        ),
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
      const issued = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["chat:read"]
      })
      const response = yield* twitch.token(post(refreshParams(confidential, issued.refreshToken)))
      assert.strictEqual(response.status, 200)
      const json = Object(body(response))
      assert.notStrictEqual(json.access_token, issued.accessToken)
      assert.notStrictEqual(json.refresh_token, issued.refreshToken)
      assert.deepStrictEqual(json.scope, ["chat:read"])
      assert.isFalse(yield* twitch.isRefreshTokenValid(issued.refreshToken))
      assert.isTrue(yield* twitch.isRefreshTokenValid(json.refresh_token))
      // code that ignores the returned refresh token fails, as Twitch's docs allow it to
      expectError(
        yield* twitch.token(post(refreshParams(confidential, issued.refreshToken))),
        400,
        "Invalid refresh token"
      )
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
      const issued = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["chat:read"]
      })
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
      assert.strictEqual(
        (yield* twitch.device(post({ client_id: clientCredentials.client_id, scopes: ok }))).status,
        200
      )
    }))
})
