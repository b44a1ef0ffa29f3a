import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import { FakeTwitch } from "../src/index.js"
import {
  bearer,
  body,
  clientCredentials,
  confidential,
  expectError,
  get,
  post,
  publicClient,
  refreshParams,
  user
} from "./fakeTwitchSupport.js"

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
      const { accessToken } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: []
      })
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
      assert.strictEqual(
        (yield* twitch.validate({ method: "POST", headers: { authorization: `OAuth ${accessToken}` }, params: {} }))
          .status,
        404
      )
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
      const scoped = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["chat:read"]
      })
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
      const { accessToken } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: []
      })
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
      const { accessToken } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: []
      })
      expectError(
        yield* twitch.revoke(post({ client_id: "nosuchclient", token: accessToken })),
        404,
        "client does not exist"
      )
      expectError(yield* twitch.revoke(post({ client_id: confidential.clientId })), 400, "missing oauth token")
      expectError(yield* twitch.revoke(post({ token: accessToken })), 400, "missing client id")
      expectError(yield* twitch.revoke(post({ client_id: confidential.clientId, token: "nope" })), 400, "Invalid token")
      // another client's token
      expectError(
        yield* twitch.revoke(post({ client_id: publicClient.clientId, token: accessToken })),
        400,
        "Invalid token"
      )
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
      expectError(
        yield* twitch.token(post(refreshParams(confidential, mine.refreshToken))),
        400,
        "Invalid refresh token"
      )
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
