/**
 * Issue 11 against a hostile network, over real sockets: a tiny `node:http` server on
 * 127.0.0.1 answers what Twitch never would — a body that never ends, a 1 GB body, a proxy's
 * 401 page, JSON nested 3,000 deep, a 5 MB message, an echo of the request — and each test
 * asserts what a caller gets: a typed error, in time, with no secret in it, and the token kept.
 */
import {
  OpenIdConnect,
  Token,
  TokenStore,
  TwitchAuth,
  TwitchAuthConfig,
  TwitchCredentials,
  TwitchHttpClient,
  TwitchSession
} from "@effect-twitch/auth"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as NodePath from "node:path"
import * as NodeUtil from "node:util"
import { recordFigures } from "./figures.js"
import { type Operation, operations, runOperation } from "./operations.js"
import { fastRetry } from "./utils.js"

// ---------------------------------------------------------------------------------------------
// the hostile server
// ---------------------------------------------------------------------------------------------

interface Seen {
  readonly method: string
  readonly path: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** What the server did with one answer: resolves when its socket closed, with the bytes written. */
type Handler = (seen: Seen, response: Http.ServerResponse, written: (bytes: number) => void) => void

interface Hostile {
  readonly url: string
  readonly requests: ReadonlyArray<Seen>
  /** One per answer: the bytes of body the server had written when the connection closed. */
  readonly closed: ReadonlyArray<Promise<number>>
}

const hostile = (handler: Handler): Effect.Effect<Hostile, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Http.Server; readonly hostile: Hostile }>((resume) => {
      const requests: Array<Seen> = []
      const closed: Array<Promise<number>> = []
      const server = Http.createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const seen: Seen = {
            method: request.method ?? "",
            path: new URL(request.url ?? "/", "http://127.0.0.1").pathname,
            headers: request.headers,
            body: Buffer.concat(chunks).toString()
          }
          requests.push(seen)
          let bytes = 0
          closed.push(new Promise((resolve) => response.on("close", () => resolve(bytes))))
          handler(seen, response, (n) => {
            bytes += n
          })
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ server, hostile: { url: `http://127.0.0.1:${port}`, requests, closed } }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ hostile }) => hostile))

const json = (response: Http.ServerResponse, status: number, body: unknown) => {
  const text = typeof body === "string" ? body : JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  response.end(text)
}

/** Headers at once, then one byte every 50 ms, forever. */
const trickle: Handler = (_seen, response, written) => {
  response.writeHead(200, { "content-type": "application/json" })
  response.write("{\"access_token\":\"")
  const timer = setInterval(() => {
    response.write("x")
    written(1)
  }, 50)
  response.on("close", () => clearInterval(timer))
}

/** A body of `total` bytes, generated as the socket drains, without a Content-Length. */
const huge = (total: number, status = 200): Handler => (_seen, response, written) => {
  response.writeHead(status, { "content-type": "application/json" })
  const chunk = Buffer.alloc(64 * 1024, "x")
  let sent = 0
  const pump = () => {
    while (sent < total && !response.destroyed) {
      sent += chunk.length
      written(chunk.length)
      if (!response.write(chunk)) {
        response.once("drain", pump)
        return
      }
    }
    if (!response.destroyed) response.end()
  }
  response.write("{\"access_token\":\"")
  pump()
}

const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

// ---------------------------------------------------------------------------------------------
// the client under test
// ---------------------------------------------------------------------------------------------

// Secrets full of characters that URL and form encoding change, so that an echo of the
// request carries them in forms other than the raw one.
const secrets = {
  clientSecret: "hostile/secret+with space&and=more%",
  refreshToken: "refresh/token+with space&odd=chars%",
  accessToken: "access/token+with space&odd=chars%",
  code: "authorization/code+with space&=%",
  deviceCode: "device/code+with space&odd=%"
} as const

const forms = (secret: string): ReadonlyArray<string> => [
  secret,
  encodeURIComponent(secret),
  new URLSearchParams({ s: secret }).toString().slice(2)
]

const clientId = "hostileclient000000000000000000"

/** undici over its global dispatcher: a layer provided to one `make` outlives it. */
const Undici = NodeHttpClient.layerUndiciWithoutDispatcher.pipe(Layer.provide(NodeHttpClient.dispatcherLayerGlobal))
/** Short, where the deadline is to pass (a body that never ends); the guards are generous. */
const shortTimeout: Duration.DurationInput = "400 millis"
/** Long, where an answer is to arrive in time, even on a loaded machine. */
const longTimeout: Duration.DurationInput = "10 seconds"
const guard = "30 seconds"

const configFor = (server: Hostile, requestTimeout: Duration.DurationInput = longTimeout) =>
  Layer.orDie(TwitchAuthConfig.layer({
    clientId,
    clientSecret: secrets.clientSecret,
    redirectUri: "http://localhost:3000/callback",
    authUrl: `${server.url}/oauth2`,
    helixUrl: `${server.url}/helix`,
    requestTimeout,
    retrySchedule: fastRetry
  }))

const authFor = (server: Hostile, requestTimeout?: Duration.DurationInput) =>
  TwitchAuth.make.pipe(Effect.provide(Layer.merge(configFor(server, requestTimeout), Undici)))

const run = (auth: TwitchAuth.TwitchAuth.Service, operation: Operation) => runOperation(auth, operation, secrets)

/** The one typed failure of an exit (a defect or an interruption fails the test). */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure) || Cause.defects(exit.cause).length > 0) {
    return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  }
  return failure.value
}

/** Every way a value can be printed: what must never show a secret. */
const renderings = (value: unknown): ReadonlyArray<string> => [
  String(value),
  JSON.stringify(value) ?? "",
  NodeUtil.inspect(value, { depth: Infinity }),
  value instanceof Error ? value.message : "",
  Cause.pretty(Cause.fail(value), { renderErrorCause: true })
]

const assertNoSecret = (values: ReadonlyArray<unknown>, secretList: ReadonlyArray<string>) => {
  const texts = values.flatMap(renderings)
  const leaked = secretList.flatMap(forms).filter((form) => texts.some((text) => text.includes(form)))
  assert.deepStrictEqual(leaked, [], texts.join("\n"))
}

const figures: Record<string, unknown> = {}

// ---------------------------------------------------------------------------------------------
// issue 11 #4: one deadline covers the whole exchange, body included
// ---------------------------------------------------------------------------------------------

afterAll(() => recordFigures("hostile-network", figures))

describe("issue 11 #4: a body that never ends times out within requestTimeout", () => {
  for (const operation of operations) {
    it.scopedLive(`${operation}: headers at once, then a byte every 50 ms → TransportError Timeout, sent once`, () =>
      Effect.gen(function*() {
        const server = yield* hostile(trickle)
        const auth = yield* authFor(server, shortTimeout)
        const [elapsed, exit] = yield* Effect.timed(Effect.exit(run(auth, operation).pipe(Effect.timeout(guard))))
        figures[`endlessBodyFailedAfterMillis.${operation}`] = Math.round(Duration.toMillis(elapsed))
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual(Reflect.get(error, "reason"), "Timeout")
        // Twitch has acted on a request it began to answer: it is not sent again.
        assert.strictEqual(server.requests.length, 1)
        // and the client hung up
        yield* Effect.promise(() => Promise.all(server.closed))
      }))
  }

  it.scopedLive("a Helix call: the body is read within the deadline too → ResponseError Decode (BodyTimeout)", () =>
    Effect.gen(function*() {
      const server = yield* hostile(trickle)
      const helix = yield* helixFor(server, {}, shortTimeout)
      const error = failureOf(
        yield* Effect.exit(
          helix.client.get("/users").pipe(Effect.flatMap((r) => r.json), Effect.timeout(guard))
        )
      )
      assert.isTrue(HttpClientError.isHttpClientError(error))
      if (HttpClientError.isHttpClientError(error)) {
        assert.strictEqual(error._tag, "ResponseError")
        assert.strictEqual(error.reason, "Decode")
        assert.match(error.message, /did not arrive in full within the request timeout/)
      }
      assert.strictEqual(server.requests.length, 1)
      yield* Effect.promise(() => Promise.all(server.closed))
    }))

  it.scopedLive("a refresh through a TwitchSession holding the lock ends at the deadline, and the stored token is kept", () =>
    Effect.gen(function*() {
      const server = yield* hostile((seen, response, written) =>
        seen.path === "/oauth2/validate"
          ? json(response, 200, { client_id: clientId, login: "u", user_id: "1", scopes: [], expires_in: 100 })
          : trickle(seen, response, written)
      )
      const { error, stored, token } = yield* sessionRefresh(server, shortTimeout)
      assert.strictEqual(error._tag, "TransportError")
      assert.isTrue(
        Option.isSome(stored) && Redacted.value(stored.value.refreshToken) === Redacted.value(token.refreshToken)
      )
    }))
})

// ---------------------------------------------------------------------------------------------
// issue 11 #9: a cap on response bodies
// ---------------------------------------------------------------------------------------------

const gigabyte = 1024 * 1024 * 1024

describe("issue 11 #9: a 1 GB answer is not downloaded", () => {
  for (const operation of operations) {
    it.scopedLive(`${operation}: a 1 GB 200 body → MalformedResponse at the 64 KiB cap; the server wrote a bounded amount`, () =>
      Effect.gen(function*() {
        const server = yield* hostile(huge(gigabyte))
        const auth = yield* authFor(server)
        const error = failureOf(yield* Effect.exit(run(auth, operation).pipe(Effect.timeout(guard))))
        assert.strictEqual(error._tag, "MalformedResponse")
        assert.match(Reflect.get(error, "detail"), /larger than the cap of 65536 bytes/)
        const [written] = yield* Effect.promise(() => Promise.all(server.closed))
        figures[`bytesWrittenBeforeClose.${operation}`] = written
        // the cap, plus what socket buffers held: nowhere near the gigabyte
        assert.isBelow(written ?? Infinity, 32 * 1024 * 1024)
      }))
  }

  it.scopedLive("a 1 GB error body (400) on refreshToken → MalformedResponse, not read past the cap", () =>
    Effect.gen(function*() {
      const server = yield* hostile(huge(gigabyte, 400))
      const auth = yield* authFor(server)
      const error = failureOf(yield* Effect.exit(auth.refreshToken(Redacted.make(secrets.refreshToken))))
      assert.strictEqual(error._tag, "MalformedResponse")
      const [written] = yield* Effect.promise(() => Promise.all(server.closed))
      assert.isBelow(written ?? Infinity, 32 * 1024 * 1024)
    }))

  it.scopedLive("a declared Content-Length over the cap fails before any of the body is read", () =>
    Effect.gen(function*() {
      const server = yield* hostile((_seen, response) => {
        response.writeHead(200, { "content-type": "application/json", "content-length": String(gigabyte) })
        response.write("{")
      })
      const auth = yield* authFor(server)
      const error = failureOf(yield* Effect.exit(auth.validateToken(Redacted.make(secrets.accessToken))))
      assert.strictEqual(error._tag, "MalformedResponse")
      yield* Effect.promise(() => Promise.all(server.closed))
    }))

  it.scopedLive("a Helix call: a 1 GB body stops at maxBodyBytes (default 8 MiB) with a ResponseError whose cause says so", () =>
    Effect.gen(function*() {
      const server = yield* hostile(huge(gigabyte))
      const helix = yield* helixFor(server)
      const before = process.memoryUsage().rss
      const error = failureOf(yield* Effect.exit(helix.client.get("/users").pipe(Effect.timeout(guard))))
      const grown = process.memoryUsage().rss - before
      assert.isTrue(HttpClientError.isHttpClientError(error) && error._tag === "ResponseError")
      if (HttpClientError.isHttpClientError(error)) {
        assert.match(error.message, /larger than the cap of 8388608 bytes/)
      }
      const [written] = yield* Effect.promise(() => Promise.all(server.closed))
      figures["helixBytesWrittenBeforeClose"] = written
      figures["helixRssGrowthBytes"] = grown
      assert.isBelow(written ?? Infinity, 8 * 1024 * 1024 + 32 * 1024 * 1024)
      assert.strictEqual(TwitchHttpClient.defaultMaxBodyBytes, 8 * 1024 * 1024)
    }))
})

// ---------------------------------------------------------------------------------------------
// issue 11 #7: a proxy's 401 is not Twitch's word
// ---------------------------------------------------------------------------------------------

const proxyPage = "<html><head><title>401 Authorization Required</title></head><body>nginx</body></html>"

const proxy401: Handler = (_seen, response) => {
  response.writeHead(401, { "content-type": "text/html", "www-authenticate": "Basic realm=\"proxy\"" })
  response.end(proxyPage)
}

/** A session whose token is due: reading it refreshes, through the hostile server. */
const sessionRefresh = (server: Hostile, requestTimeout?: Duration.DurationInput) =>
  Effect.gen(function*() {
    const now = yield* DateTime.now
    const token = new Token.UserToken({
      accessToken: Redacted.make(secrets.accessToken),
      refreshToken: Redacted.make(secrets.refreshToken),
      scopes: [],
      // an hour-long token with a minute left: due for refresh (inside the default 5-minute margin)
      obtainedAt: DateTime.subtract(now, { minutes: 59 }),
      expiresAt: Option.some(DateTime.add(now, { seconds: 60 }))
    })
    return yield* Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const session = yield* TwitchSession.make({ key: "1", token })
      // an explicit refresh: the daemon may have tried already, and then `token` would hand out
      // the still-valid token while it backs off
      const exit = yield* Effect.exit(session.refresh().pipe(Effect.timeout(guard)))
      const error = failureOf(exit)
      const stored = yield* store.get("1")
      return { error, stored, token, ended: yield* session.ended }
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Layer.mergeAll(
          TwitchAuth.layer.pipe(Layer.provide(Layer.merge(configFor(server, requestTimeout), Undici))),
          TokenStore.layerMemory
        )
      )
    )
  })

describe("issue 11 #7: a proxy's 401 page never kills a token", () => {
  it.scopedLive("refreshToken ← a proxy's 401 HTML page → UnexpectedResponse", () =>
    Effect.gen(function*() {
      const server = yield* hostile(proxy401)
      const auth = yield* authFor(server)
      const error = failureOf(yield* Effect.exit(auth.refreshToken(Redacted.make(secrets.refreshToken))))
      assert.strictEqual(error._tag, "UnexpectedResponse")
      assert.match(error.message, /not Twitch's error envelope/)
    }))

  it.scopedLive("a TwitchSession refreshing behind a proxy that answers 401: the stored token is kept, the session goes on", () =>
    Effect.gen(function*() {
      const server = yield* hostile((seen, response, written) =>
        seen.path === "/oauth2/validate"
          ? json(response, 200, { client_id: clientId, login: "u", user_id: "1", scopes: [], expires_in: 100 })
          : proxy401(seen, response, written)
      )
      const { ended, error, stored, token } = yield* sessionRefresh(server)
      assert.strictEqual(error._tag, "UnexpectedResponse")
      assert.isTrue(Option.isSome(stored), "the token is still stored")
      if (Option.isSome(stored)) {
        assert.strictEqual(Redacted.value(stored.value.refreshToken), Redacted.value(token.refreshToken))
      }
      assert.isTrue(Option.isNone(ended), "the session has not ended")
      assert.isTrue(server.requests.some((r) => r.path === "/oauth2/token"), "a refresh was tried")
    }))

  it.scopedLive("validateToken ← a proxy's 401 HTML page → UnexpectedResponse, not InvalidAccessToken", () =>
    Effect.gen(function*() {
      const server = yield* hostile(proxy401)
      const auth = yield* authFor(server)
      const error = failureOf(yield* Effect.exit(auth.validateToken(Redacted.make(secrets.accessToken))))
      assert.strictEqual(error._tag, "UnexpectedResponse")
    }))

  it.scopedLive("a Helix call ← a proxy's 401 page: handed back as the 401 it is, nothing refreshed", () =>
    Effect.gen(function*() {
      const server = yield* hostile(proxy401)
      const helix = yield* helixFor(server)
      const response = yield* helix.client.get("/users")
      assert.strictEqual(response.status, 401)
      assert.strictEqual(yield* response.text, proxyPage)
      assert.strictEqual(yield* helix.refreshes, 0)
      assert.strictEqual(server.requests.length, 1)
    }))

  it.scopedLive("a Helix call ← Helix's own 401 envelope: refreshed once and retried (as before)", () =>
    Effect.gen(function*() {
      const server = yield* hostile((_seen, response) =>
        json(response, 401, { error: "Unauthorized", status: 401, message: "Invalid OAuth token" })
      )
      const helix = yield* helixFor(server)
      const error = failureOf(yield* Effect.exit(helix.client.get("/users")))
      assert.strictEqual(error._tag, "InvalidAccessToken")
      assert.strictEqual(yield* helix.refreshes, 1)
      assert.strictEqual(server.requests.length, 2)
    }))
})

// ---------------------------------------------------------------------------------------------
// issue 11 #6: Helix errors carry no bearer token, in any rendering
// ---------------------------------------------------------------------------------------------

/** A TwitchHttpClient over fixed credentials, counting refreshes. */
const helixFor = (server: Hostile, options: TwitchHttpClient.Options = {}, requestTimeout?: Duration.DurationInput) =>
  Effect.gen(function*() {
    const refreshes = yield* Ref.make(0)
    const credentials = TwitchCredentials.TwitchCredentials.of({
      accessToken: Effect.succeed(Redacted.make(secrets.accessToken)),
      refreshAccessToken: () => Effect.as(Ref.update(refreshes, (n) => n + 1), Redacted.make(secrets.accessToken))
    })
    const client = yield* TwitchHttpClient.make(options).pipe(
      Effect.provideService(TwitchCredentials.TwitchCredentials, credentials),
      Effect.provide(Layer.merge(configFor(server, requestTimeout), Undici))
    )
    return { client, refreshes: Ref.get(refreshes) }
  })

const Users = Schema.Struct({ data: Schema.Array(Schema.Struct({ id: Schema.String })) })

describe("issue 11 #6: no error or response of TwitchHttpClient holds the bearer token", () => {
  it.scopedLive("RequestError (refused, timed out), ResponseError (status, decode, cap), the response itself: every rendering", () =>
    Effect.gen(function*() {
      const server = yield* hostile((seen, response, written) => {
        switch (seen.path) {
          case "/helix/hang":
            return
          case "/helix/500":
            return json(response, 500, { error: "Internal Server Error", status: 500, message: "oops" })
          case "/helix/html":
            response.writeHead(200, { "content-type": "text/html" })
            return response.end("<html>portal</html>")
          case "/helix/big":
            return huge(gigabyte)(seen, response, written)
          default:
            return json(response, 200, { data: [{ id: "1" }] })
        }
      })
      const helix = yield* helixFor(server, { maxBodyBytes: 1024 })
      const hanging = yield* helixFor(server, {}, shortTimeout)
      const refused = yield* helixFor({ url: "http://127.0.0.1:1", requests: [], closed: [] })
      const errors: Array<unknown> = [
        failureOf(yield* Effect.exit(hanging.client.get("/hang"))),
        failureOf(yield* Effect.exit(helix.client.get("/500").pipe(Effect.flatMap(HttpClientResponse.filterStatusOk)))),
        failureOf(yield* Effect.exit(helix.client.get("/html").pipe(Effect.flatMap((r) => r.json)))),
        failureOf(
          yield* Effect.exit(helix.client.get("/html").pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Users))))
        ),
        failureOf(yield* Effect.exit(helix.client.get("/big"))),
        failureOf(yield* Effect.exit(refused.client.get("/users")))
      ]
      const ok = yield* helix.client.get("/users")
      const tags = errors.map((e) =>
        HttpClientError.isHttpClientError(e) ? `${e._tag}:${e.reason}` : Reflect.get(Object(e), "_tag")
      )
      assert.deepStrictEqual(tags, [
        "RequestError:Transport",
        "ResponseError:StatusCode",
        "ResponseError:Decode",
        "ResponseError:Decode",
        "ResponseError:Decode",
        "RequestError:Transport"
      ])
      // the header was sent (Helix needs it) and is shown redacted
      assert.strictEqual(server.requests[0]?.headers.authorization, `Bearer ${secrets.accessToken}`)
      assert.include(JSON.stringify(errors[0]), "Bearer <redacted>")
      assertNoSecret([...errors, ok], [secrets.accessToken])

      // an unhandled rejection, outside any fiber, as a user's script would print it
      const rejection = yield* Effect.promise(() =>
        Effect.runPromise(
          helix.client.get("/500").pipe(Effect.flatMap(HttpClientResponse.filterStatusOk))
        ).then(() => "resolved", (reason: unknown) => reason)
      )
      assert.notStrictEqual(rejection, "resolved")
      assertNoSecret([rejection], [secrets.accessToken])
    }))

  it.scopedLive("InvalidAccessToken after a refresh keeps its token Redacted in every rendering", () =>
    Effect.gen(function*() {
      const server = yield* hostile((_seen, response) =>
        json(response, 401, { error: "Unauthorized", status: 401, message: "Invalid OAuth token" })
      )
      const helix = yield* helixFor(server)
      const error = failureOf(yield* Effect.exit(helix.client.get("/users")))
      assert.strictEqual(error._tag, "InvalidAccessToken")
      assertNoSecret([error], [secrets.accessToken])
    }))
})

// ---------------------------------------------------------------------------------------------
// issue 11 #8: nesting is a typed error, never a stack overflow
// ---------------------------------------------------------------------------------------------

describe("issue 11 #8: JSON nested 3,000 deep is a typed error", () => {
  const nested = deep(3000)

  for (const operation of operations) {
    it.scopedLive(`${operation}: a 200 body nested 3,000 deep (6 KB) → MalformedResponse, not a defect`, () =>
      Effect.gen(function*() {
        const server = yield* hostile((_seen, response) => json(response, 200, nested))
        const auth = yield* authFor(server)
        const error = failureOf(yield* Effect.exit(run(auth, operation)))
        assert.strictEqual(error._tag, "MalformedResponse")
      }))
  }

  it.scopedLive("every operation: a 400 whose message is nested 3,000 deep → UnexpectedResponse", () =>
    Effect.gen(function*() {
      const server = yield* hostile((_seen, response) => json(response, 400, `{"status":400,"message":${nested}}`))
      const auth = yield* authFor(server)
      for (const operation of operations) {
        const error = failureOf(yield* Effect.exit(run(auth, operation)))
        assert.strictEqual(error._tag, "UnexpectedResponse", operation)
      }
    }))

  it.scopedLive("the OIDC key set nested 3,000 deep → MalformedResponse from verifyIdToken and discovery", () =>
    Effect.gen(function*() {
      const server = yield* hostile((_seen, response) => json(response, 200, `{"keys":${nested}}`))
      const oidc = yield* OpenIdConnect.make.pipe(
        Effect.provide(
          TwitchAuth.layer.pipe(Layer.provideMerge(Layer.merge(configFor(server), Undici)))
        )
      )
      const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
      const jwt = `${segment({ alg: "RS256", kid: "k" })}.${segment({ sub: "1" })}.${segment("signature")}`
      const error = failureOf(yield* Effect.exit(oidc.verifyIdToken(Redacted.make(jwt), { nonce: "n" })))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.isTrue(server.requests.some((r) => r.path === "/oauth2/keys"))
      assert.strictEqual(failureOf(yield* Effect.exit(oidc.discovery))._tag, "MalformedResponse")
    }))

  it.scopedLive("a token file nested 3,000 deep → TokenStoreError, not a defect", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(NodePath.join(Os.tmpdir(), "hostile-store-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
      const file = NodePath.join(dir, "tokens.json")
      Fs.writeFileSync(file, `{"version":1,"tokens":{"1":${nested}}}`, { mode: 0o600 })
      const store = yield* TokenStore.makeFile(file).pipe(Effect.provide(NodeContext.layer))
      const error = failureOf(yield* Effect.exit(store.get("1")))
      assert.strictEqual(error._tag, "TokenStoreError")
      Fs.writeFileSync(file, nested, { mode: 0o600 })
      assert.strictEqual(failureOf(yield* Effect.exit(store.get("1")))._tag, "TokenStoreError")
    }))
})

// ---------------------------------------------------------------------------------------------
// issue 11 #10: Twitch's message bounded and scrubbed
// ---------------------------------------------------------------------------------------------

/** Every value the request carried (header, form fields), echoed raw, URL-encoded and form-encoded. */
const echo: Handler = (seen, response) => {
  const values = [
    ...Array.from(new URLSearchParams(seen.body).values()),
    String(seen.headers.authorization ?? "").replace(/^OAuth /, "")
  ].filter((value) => value.length > 0)
  const message = values.flatMap((value) => forms(value)).join(" | ")
  json(response, 400, { status: 400, message: `you sent ${message}` })
}

describe("issue 11 #10: Twitch's message is bounded and scrubbed of every secret the request carried", () => {
  for (const operation of operations) {
    it.scopedLive(`${operation}: a server echoing the request into message → UnexpectedResponse with <redacted>, no secret in any form`, () =>
      Effect.gen(function*() {
        const server = yield* hostile(echo)
        const auth = yield* authFor(server)
        const error = failureOf(yield* Effect.exit(run(auth, operation)))
        assert.strictEqual(error._tag, "UnexpectedResponse")
        const twitchMessage = String(Reflect.get(error, "twitchMessage"))
        assert.match(twitchMessage, /^you sent /)
        if (operation !== "startDeviceAuthorization") assert.include(twitchMessage, "<redacted>")
        assertNoSecret([error], Object.values(secrets))
      }))
  }

  it.scopedLive("a 5 MB message: the exchange stops at the cap; a 60 KB one is cut to 200 characters", () =>
    Effect.gen(function*() {
      const long = yield* hostile((_seen, response) =>
        json(response, 400, { status: 400, message: "m".repeat(5 * 1024 * 1024) })
      )
      const tooLong = failureOf(yield* Effect.exit((yield* authFor(long)).appToken()))
      assert.strictEqual(tooLong._tag, "MalformedResponse")
      assert.isBelow(tooLong.message.length, 300)

      const server = yield* hostile((_seen, response) =>
        json(response, 400, { status: 400, message: `\u001b[31mred\u202e ${"m".repeat(60_000)}` })
      )
      const error = failureOf(yield* Effect.exit((yield* authFor(server)).appToken()))
      assert.strictEqual(error._tag, "UnexpectedResponse")
      const twitchMessage = String(Reflect.get(error, "twitchMessage"))
      assert.strictEqual(Array.from(twitchMessage).length, 201)
      assert.isTrue(twitchMessage.endsWith("…"))
      assert.notInclude(twitchMessage, "\u001b")
      assert.notInclude(twitchMessage, "\u202e")
      assert.isBelow(error.message.length, 300)
    }))

  it.scopedLive("Helix: a 5 MB 401 message and one echoing the token are bounded and scrubbed", () =>
    Effect.gen(function*() {
      const server = yield* hostile((seen, response) =>
        json(response, 401, {
          error: "Unauthorized",
          status: 401,
          message: seen.path === "/helix/echo"
            ? `Missing scope: ${forms(String(seen.headers.authorization)).join(" ")}`
            : `Missing scope: ${"s".repeat(5 * 1024 * 1024)}`
        })
      )
      const helix = yield* helixFor(server)
      const long = failureOf(yield* Effect.exit(helix.client.get("/long")))
      assert.strictEqual(long._tag, "MissingScope")
      assert.isAtMost(Array.from(String(Reflect.get(long, "twitchMessage"))).length, 201)
      assert.isBelow(String(Reflect.get(long, "message")).length, 500)
      const echoed = failureOf(yield* Effect.exit(helix.client.get("/echo")))
      assert.strictEqual(echoed._tag, "MissingScope")
      assert.include(String(Reflect.get(echoed, "twitchMessage")), "<redacted>")
      assertNoSecret([echoed], [secrets.accessToken])
    }))
})
