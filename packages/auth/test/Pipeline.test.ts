/**
 * Issue 13 #2: one request pipeline to Twitch. `Ratelimit-Reset` is read by one rule for
 * id.twitch.tv and Helix alike (over real sockets), and the message → error classification
 * is the tables of `internal/refusals.ts`: every message a table names reaches the caller
 * as that row's error.
 */
import { OpenIdConnect, TwitchAuth, TwitchAuthConfig, TwitchCredentials, TwitchHttpClient } from "@effect-twitch/auth"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as NodePath from "node:path"
import * as Refusals from "../src/internal/refusals.js"
import { stubbed } from "./utils.js"

/** A server on 127.0.0.1 that answers every request 429 with `headers`, counting requests. */
const limiter = (headers: Record<string, string>): Effect.Effect<{ readonly url: string }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Http.Server; readonly url: string }>((resume) => {
      const server = Http.createServer((request, response) => {
        request.resume()
        request.on("end", () => {
          response.writeHead(429, { "content-type": "application/json", ...headers })
          response.end(JSON.stringify({ error: "Too Many Requests", status: 429, message: "Too Many Requests" }))
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${port}` }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const credentials = TwitchCredentials.TwitchCredentials.of({
  accessToken: Effect.succeed(Redacted.make("helix-access-token")),
  refreshAccessToken: () => Effect.succeed(Redacted.make("helix-access-token"))
})

/** `retryAfterSeconds` of the `RateLimited` that id.twitch.tv's and Helix's clients give for `headers`. */
const retryAfterBoth = (headers: Record<string, string>) =>
  Effect.gen(function*() {
    const { url } = yield* limiter(headers)
    const config = TwitchAuthConfig.layer({
      clientId: "hof5gwx0su6owfnys0yan9c87zr6t1",
      clientSecret: "41vpdji4e9gif29md0ouet6fktd2mk",
      authUrl: `${url}/oauth2`,
      helixUrl: `${url}/helix`,
      // no retry: the first 429 is the answer
      retrySchedule: Schedule.recurs(0)
    })
    // built in the test's scope: the transport outlives the constructors
    const deps = yield* Layer.build(Layer.merge(config, NodeHttpClient.layerUndici))
    const auth = yield* Effect.provide(TwitchAuth.make, deps)
    const helix = yield* TwitchHttpClient.make({ rateLimitRetries: 0 }).pipe(
      Effect.provideService(TwitchCredentials.TwitchCredentials, credentials),
      Effect.provide(deps)
    )
    const idError = yield* Effect.flip(auth.appToken())
    const helixError = yield* Effect.flip(helix.get("/users"))
    assert.strictEqual(idError._tag, "RateLimited", idError.message)
    assert.strictEqual(helixError._tag, "RateLimited")
    return [
      idError._tag === "RateLimited" ? idError.retryAfterSeconds : "not RateLimited",
      helixError._tag === "RateLimited" ? helixError.retryAfterSeconds : "not RateLimited"
    ]
  })

describe("issue 13 #2: one Ratelimit-Reset parser", () => {
  // The TestClock stands at 0: `Ratelimit-Reset` (Unix seconds) is then the seconds to wait.
  it.scoped("a fractional Ratelimit-Reset is rounded up, at id.twitch.tv and at Helix alike", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* retryAfterBoth({ "ratelimit-reset": "12.5" }), [13, 13])
    }))

  it.scoped("without Ratelimit-Reset, Retry-After (seconds) is read, at id.twitch.tv and at Helix alike", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* retryAfterBoth({ "retry-after": "7" }), [7, 7])
    }))

  it.scoped("Ratelimit-Reset wins over Retry-After; with neither, no figure is made up", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* retryAfterBoth({ "ratelimit-reset": "5", "retry-after": "99" }), [5, 5])
      assert.deepStrictEqual(yield* retryAfterBoth({}), [undefined, undefined])
    }))
})

/** A message that a row's matcher accepts, as Twitch would word it. */
const messageFor = (said: Refusals.Said): string =>
  "is" in said ? said.is : "startsWith" in said ? `${said.startsWith} abc` : `parameter ${said.includes} is wrong`

const someToken = Redacted.make("some-token")

const tables: ReadonlyArray<{
  readonly name: string
  readonly table: Refusals.Table<{ readonly _tag: string }, never>
  readonly run: (auth: TwitchAuth.TwitchAuth.Service) => Effect.Effect<unknown, { readonly _tag: string }>
}> = [
  { name: "exchangeCode", table: Refusals.exchangeCode, run: (auth) => auth.exchangeCode("some-code") },
  { name: "refreshToken", table: Refusals.refreshToken, run: (auth) => auth.refreshToken(someToken) },
  { name: "validateToken", table: Refusals.validateToken, run: (auth) => auth.validateToken(someToken) },
  { name: "revokeToken", table: Refusals.revokeToken, run: (auth) => auth.revokeToken(someToken) },
  { name: "appToken", table: Refusals.appToken, run: (auth) => auth.appToken() },
  {
    name: "startDeviceAuthorization",
    table: Refusals.startDeviceAuthorization,
    run: (auth) => auth.startDeviceAuthorization()
  },
  { name: "pollDeviceToken", table: Refusals.pollDeviceToken, run: (auth) => auth.pollDeviceToken(someToken) }
]

const context = { operation: "test", redirectUri: "http://localhost:3000/callback", token: someToken }

describe("issue 13 #2: the message → error classification is tables", () => {
  for (const { name, run, table } of tables) {
    it.effect(`${name}: every message its table names reaches the caller as that row's error`, () =>
      Effect.gen(function*() {
        let checked = 0
        for (const rule of table) {
          const status = rule.status ?? 400
          for (const said of rule.said ?? []) {
            const message = messageFor(said)
            const { auth } = yield* stubbed({ status, body: JSON.stringify({ status, message }) })
            const error = yield* Effect.flip(run(auth))
            const refusal = { endpoint: "POST /oauth2/token", status, twitchMessage: message, normalized: message }
            // the row's error, as the table says: the operation holds no classification of its own
            assert.strictEqual(error._tag, rule.error(refusal, context as never)._tag, `${name}: ${status} ${message}`)
            checked++
          }
        }
        assert.isTrue(checked > 0)
        // a message no row names is UnexpectedResponse
        const { auth } = yield* stubbed({
          status: 400,
          body: JSON.stringify({ status: 400, message: "tomorrow's words" })
        })
        assert.strictEqual((yield* Effect.flip(run(auth)))._tag, "UnexpectedResponse")
      }))
  }
})

describe("issue 13 #2: OpenIdConnect's wire bodies are internal", () => {
  it("the module exports no wire schema or converter", () => {
    for (const name of ["IdTokenPayload", "UserInfoResponse", "DiscoveryResponse", "KeysResponse"]) {
      assert.isFalse(name in OpenIdConnect, name)
    }
    assert.deepStrictEqual(Object.keys(OpenIdConnect).filter((key) => /FromWire|Response$|Payload$/.test(key)), [])
  })
})

describe("issue 13: a file is a chapter", () => {
  it("TwitchAuth, OpenIdConnect, TokenStore, TwitchHttpClient and the pipeline's internals are under 600 lines", () => {
    const files = [
      "TwitchAuth.ts",
      "OpenIdConnect.ts",
      "TokenStore.ts",
      "TwitchHttpClient.ts",
      "internal/pipeline.ts",
      "internal/refusals.ts",
      "internal/grants.ts",
      "internal/wire.ts",
      "internal/oidcWire.ts",
      "internal/atomicFile.ts"
    ]
    for (const file of files) {
      const lines = Fs.readFileSync(NodePath.join(import.meta.dirname, "..", "src", file), "utf8").split("\n").length
      assert.isBelow(lines, 600, file)
    }
  })
})
