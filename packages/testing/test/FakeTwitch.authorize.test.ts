import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FakeTwitch } from "../src/index.js"
import { bearer, body, callback, confidential, expectError, get, post } from "./fakeTwitchSupport.js"

describe("authorize", () => {
  const authorize = (params: Record<string, string>) => get({ client_id: confidential.clientId, ...params })

  it.effect("code flow: redirect with code, encoded scope and state; the code exchanges", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      const response = yield* twitch.authorize(
        authorize({
          redirect_uri: callback,
          response_type: "code",
          scope: "channel:manage:polls channel:read:polls",
          state: "c3ab8aa6"
        })
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
      const response = yield* twitch.authorize(
        authorize({ redirect_uri: callback, response_type: "token", scope: "chat:read", state: "s" })
      )
      const location = response.headers["location"] ?? ""
      assert.match(
        location,
        /^http:\/\/localhost:3000\/callback#access_token=[a-z0-9]{30}&scope=chat%3Aread&state=s&token_type=bearer$/
      )
      const token = new URLSearchParams(new URL(location).hash.slice(1)).get("access_token") ?? ""
      assert.strictEqual(Object(body(yield* twitch.validate(bearer(token)))).login, "twitchdev")
    }))

  it.effect("redirect mismatch goes to the first registered URI", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      const withState = yield* twitch.authorize(
        authorize({ redirect_uri: "http://evil.example/cb", response_type: "code", state: "s1" })
      )
      assert.strictEqual(withState.status, 302)
      assert.strictEqual(
        withState.headers["location"],
        "http://localhost:3000/callback?error=redirect_mismatch&error_description=Parameter+redirect_uri+does+not+match+registered+URI&state=s1"
      )
      const withoutState = yield* twitch.authorize(
        authorize({ redirect_uri: "http://evil.example/cb", response_type: "code" })
      )
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
      const token =
        new URLSearchParams(new URL(response.headers["location"] ?? "").hash.slice(1)).get("access_token") ?? ""
      const json = Object(body(yield* twitch.validate(bearer(token))))
      assert.strictEqual(json.user_id, "42")
      assert.strictEqual(json.login, "other")
    }))

  it.effect("errors that cannot redirect are JSON", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.make({ autoConsent: true })
      expectError(
        yield* twitch.authorize(get({ redirect_uri: callback, response_type: "code" })),
        400,
        "missing client_id"
      )
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
