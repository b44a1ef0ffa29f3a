/** The TwitchAuth contract's cases for a session and Helix on top of TwitchAuth (see TwitchAuthContract.ts). */
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as TwitchCredentials from "@effect-twitch/auth/TwitchCredentials"
import * as TwitchHttpClient from "@effect-twitch/auth/TwitchHttpClient"
import * as TwitchSession from "@effect-twitch/auth/TwitchSession"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { TwitchAuthTest } from "../../src/index.js"
import { confidential, type Test, user, Users } from "./support.js"

/** The contract's cases for a session and Helix on top of TwitchAuth. */
export const sessionCases = (test: Test) => {
  describe("on top: a session and Helix", () => {
    test(
      "a Helix call with an expired token is refreshed once and retried with the new token",
      Effect.gen(function*() {
        const token = yield* TwitchAuthTest.authorize({ scopes: ["user:read:email"] })
        const session = yield* TwitchSession.make({ key: user.userId, token })
        const helix = yield* TwitchHttpClient.make().pipe(
          Effect.provideService(TwitchCredentials.TwitchCredentials, session)
        )
        yield* TwitchAuthTest.expireAccessToken(token)
        const me = yield* Effect.flatMap(helix.get("/users"), HttpClientResponse.schemaBodyJson(Users))
        assert.deepStrictEqual(me.data.map((u) => u.login), [user.login])
        const current = yield* session.token
        const bearers = (yield* TwitchAuthTest.requests("helix")).map((r) => r.headers["authorization"])
        assert.deepStrictEqual(bearers, [
          `Bearer ${Redacted.value(token.accessToken)}`,
          `Bearer ${Redacted.value(current.accessToken)}`
        ])
        assert.strictEqual(
          Option.getOrThrow(yield* TwitchAuthTest.lastRequest("helix")).headers["client-id"],
          confidential.clientId
        )
        assert.strictEqual(yield* TwitchAuthTest.grantCount("refresh_token"), 1)
      }).pipe(Effect.scoped, Effect.provide(TokenStore.layerMemory))
    )
  })
}
