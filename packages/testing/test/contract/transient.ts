/** The TwitchAuth contract's cases for transient failures (see TwitchAuthContract.ts). */
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import type * as TwitchAuthError from "@effect-twitch/auth/TwitchAuthError"
import { assert, describe } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { FakeTwitch, TwitchAuthTest } from "../../src/index.js"
import { confidential, type Test, untilCalls, user } from "./support.js"

/** The contract's cases for transient failures. */
export const transientCases = (test: Test) => {
  describe("transient failures", () => {
    /** Each operation, with the endpoint it calls and a call that succeeds on a healthy Twitch. */
    const operations: ReadonlyArray<{
      readonly name: string
      readonly endpoint: FakeTwitch.FakeTwitch.Endpoint
      readonly run: Effect.Effect<
        unknown,
        TwitchAuthError.TwitchAuthError | FakeTwitch.FakeTwitchSetupError,
        TwitchAuth.TwitchAuth | TwitchAuthConfig.TwitchAuthConfig | FakeTwitch.FakeTwitch
      >
    }> = [
      {
        name: "appToken",
        endpoint: "token",
        run: Effect.flatMap(TwitchAuth.TwitchAuth, (auth) => auth.appToken())
      },
      {
        name: "refreshToken",
        endpoint: "token",
        run: Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const issued = yield* TwitchAuthTest.authorize()
          return yield* auth.refreshToken(issued.refreshToken)
        })
      },
      {
        name: "validateToken",
        endpoint: "validate",
        run: Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const issued = yield* TwitchAuthTest.authorize()
          return yield* auth.validateToken(issued.accessToken)
        })
      },
      {
        name: "revokeToken",
        endpoint: "revoke",
        run: Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const issued = yield* TwitchAuthTest.authorize()
          return yield* auth.revokeToken(issued.accessToken)
        })
      },
      {
        name: "exchangeCode",
        endpoint: "token",
        run: Effect.gen(function*() {
          const auth = yield* TwitchAuth.TwitchAuth
          const twitch = yield* FakeTwitch.FakeTwitch
          const code = yield* twitch.issueAuthorizationCode({
            clientId: confidential.clientId,
            userId: user.userId,
            scopes: [],
            redirectUri: confidential.redirectUris[0]
          })
          return yield* auth.exchangeCode(code)
        })
      }
    ]

    for (const operation of operations) {
      test(
        `${operation.name}: 503 twice then an answer → the caller sees only the answer (3 calls); 503 four times → TwitchUnavailable`,
        Effect.gen(function*() {
          yield* TwitchAuthTest.serverError(operation.endpoint, { times: 2 })
          yield* operation.run
          assert.strictEqual(yield* TwitchAuthTest.calls(operation.endpoint), 3)
          yield* TwitchAuthTest.resetCounters
          yield* TwitchAuthTest.serverError(operation.endpoint, { times: 4, status: 502 })
          const error = yield* Effect.flip(operation.run)
          assert.strictEqual(error._tag, "TwitchUnavailable")
          if (error._tag === "TwitchUnavailable") assert.strictEqual(error.status, 502)
          assert.strictEqual(yield* TwitchAuthTest.calls(operation.endpoint), 4)
        })
      )

      test(
        `${operation.name}: 429 that persists → RateLimited with the seconds until Ratelimit-Reset`,
        Effect.gen(function*() {
          yield* TwitchAuthTest.rateLimit(operation.endpoint, { times: 4, resetAfterSeconds: 30 })
          const error = yield* Effect.flip(operation.run)
          assert.strictEqual(error._tag, "RateLimited")
          if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterSeconds, 30)
          assert.strictEqual(yield* TwitchAuthTest.calls(operation.endpoint), 4)
        })
      )
    }

    for (const operation of operations.filter((o) => o.name !== "revokeToken")) {
      test(
        `${operation.name}: a body that does not decode → MalformedResponse naming fields, not values, and no retry`,
        Effect.gen(function*() {
          yield* TwitchAuthTest.malformedBody(operation.endpoint)
          const error = yield* Effect.flip(operation.run)
          assert.strictEqual(error._tag, "MalformedResponse")
          if (error._tag === "MalformedResponse") assert.strictEqual(error.detail, "the body is not JSON")
          yield* TwitchAuthTest.malformedBody(operation.endpoint, {
            body: "{\"access_token\":\"secretvalue\",\"client_id\":7,\"expires_in\":\"soon\"}"
          })
          const typed = yield* Effect.flip(operation.run)
          assert.strictEqual(typed._tag, "MalformedResponse")
          assert.notInclude(typed.message, "secretvalue")
          assert.strictEqual(yield* TwitchAuthTest.calls(operation.endpoint), 2)
        })
      )
    }

    test(
      "an answer slower than the request timeout is retried (TestClock); always slow → TransportError(Timeout)",
      Effect.gen(function*() {
        const auth = yield* TwitchAuth.TwitchAuth
        yield* TwitchAuthTest.delay("token", "1 hour")
        const first = yield* Effect.fork(auth.appToken())
        yield* untilCalls("token", 1)
        yield* TestClock.adjust(TwitchAuthConfig.defaultRequestTimeout)
        const app = yield* Fiber.join(first)
        assert.isTrue(yield* TwitchAuthTest.isAccessTokenValid(app))
        assert.strictEqual(yield* TwitchAuthTest.calls("token"), 2)

        yield* TwitchAuthTest.resetCounters
        yield* TwitchAuthTest.delay("token", "1 hour", { times: 4 })
        const second = yield* Effect.fork(Effect.flip(auth.appToken()))
        for (let attempt = 1; attempt <= 4; attempt++) {
          yield* untilCalls("token", attempt)
          yield* TestClock.adjust(TwitchAuthConfig.defaultRequestTimeout)
        }
        const error = yield* Fiber.join(second)
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag === "TransportError") assert.strictEqual(error.reason, "Timeout")
      })
    )
  })
}
