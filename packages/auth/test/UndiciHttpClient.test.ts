/**
 * Issue 14: the lean transport (`UndiciHttpClient`) runs each Twitch attempt whole — the
 * deadline over headers and body, the body cap, the abort — in one promise. Over real sockets
 * (a tiny `node:http` server on 127.0.0.1 that stalls its headers, stalls its body, sends too
 * much, or drops the connection mid-body), every answer and every error it gives must be the
 * ones the generic path gives on the platform's undici client, and the connection must be
 * closed when an attempt ends early.
 */
import {
  TwitchAuth,
  TwitchAuthConfig,
  TwitchAuthError,
  TwitchCredentials,
  TwitchHttpClient,
  UndiciHttpClient
} from "@effect-twitch/auth"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as NodeUtil from "node:util"
import * as Undici from "undici"
import * as Lean from "../src/internal/lean.js"

const token = "lean-secret-access-token-0123456789"
const clientId = "leanclient0000000000000000000000"

/** How the server answers, chosen by the first path segment. */
type Mode = "ok" | "stall-headers" | "stall-body" | "declared-too-large" | "chunked-too-large" | "reset-mid-body"

/** A request that arrived: `closed` resolves when its connection closed. */
interface Arrival {
  readonly closed: Promise<void>
}

interface Server {
  readonly url: string
  /** Resolves when a request of `mode` arrived, with a promise of its socket's close. */
  readonly arrived: (mode: Mode) => Promise<Arrival>
}

const server: Effect.Effect<Server, never, Scope.Scope> = Effect.acquireRelease(
  Effect.async<{ readonly server: Http.Server; readonly server_: Server }>((resume) => {
    const waiting = new Map<Mode, Array<(arrival: Arrival) => void>>()
    const arrivals = new Map<Mode, Array<Arrival>>()
    const sockets = new Set<Net.Socket>()
    const http = Http.createServer((request, response) => {
      const mode = (request.url ?? "/").split("/")[1]
      const socket = request.socket
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()))
      const found = modes.find((m) => m === mode)
      if (found !== undefined) {
        const waiter = waiting.get(found)?.shift()
        if (waiter !== undefined) waiter({ closed })
        else arrivals.set(found, [...(arrivals.get(found) ?? []), { closed }])
      }
      request.resume()
      request.once("end", () => answer(found ?? "ok", response))
    })
    http.on("connection", (socket) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
    })
    http.listen(0, "127.0.0.1", () => {
      const address = http.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed({
        server: http,
        server_: {
          url: `http://127.0.0.1:${port}`,
          arrived: (mode) =>
            new Promise((resolve) => {
              const early = arrivals.get(mode)?.shift()
              if (early !== undefined) resolve(early)
              else waiting.set(mode, [...(waiting.get(mode) ?? []), resolve])
            })
        }
      }))
    })
    http.on("close", () => {
      for (const socket of sockets) socket.destroy()
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ server_ }) => server_))

const modes: ReadonlyArray<Mode> = [
  "ok",
  "stall-headers",
  "stall-body",
  "declared-too-large",
  "chunked-too-large",
  "reset-mid-body"
]

const validBody = JSON.stringify({
  client_id: clientId,
  login: "lean",
  scopes: [],
  user_id: "1",
  expires_in: 3600
})

const answer = (mode: Mode, response: Http.ServerResponse): void => {
  switch (mode) {
    case "ok": {
      const body = Buffer.from(validBody)
      response.writeHead(200, { "content-type": "application/json", "content-length": body.length })
      response.end(body)
      return
    }
    case "stall-headers":
      return
    case "stall-body":
      response.writeHead(200, { "content-type": "application/json" })
      response.write("{\"data\":[")
      return
    case "declared-too-large":
      response.writeHead(200, { "content-type": "application/json", "content-length": 10_000_000 })
      response.write("{")
      return
    case "chunked-too-large":
      response.writeHead(200, { "content-type": "application/json" })
      // 100 KB in chunks, past both caps under test (4 KiB for Helix, 64 KiB for id.twitch.tv)
      for (let i = 0; i < 100; i++) response.write("x".repeat(1024))
      return
    case "reset-mid-body":
      response.writeHead(200, { "content-type": "application/json", "content-length": 1000 })
      response.write("{\"data\":[", () => response.socket?.destroy())
      return
  }
}

const transports: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["generic (NodeHttpClient.layerUndici)", NodeHttpClient.layerUndici],
  ["lean (UndiciHttpClient.layer)", UndiciHttpClient.layer]
]

const credentials = Layer.succeed(
  TwitchCredentials.TwitchCredentials,
  TwitchCredentials.TwitchCredentials.of({
    accessToken: Effect.succeed(Redacted.make(token)),
    refreshAccessToken: () => Effect.succeed(Redacted.make(token))
  })
)

const configFor = (url: string, mode: Mode, requestTimeout: Duration.DurationInput) =>
  Layer.orDie(TwitchAuthConfig.layer({
    clientId,
    authUrl: `${url}/${mode}/oauth2`,
    helixUrl: `${url}/${mode}/helix`,
    requestTimeout,
    // no retry: one attempt, so that its error is what the caller gets
    retrySchedule: Schedule.recurs(0)
  }))

/** Short where the deadline is to pass; long where an answer is to arrive in time on a loaded machine. */
const timeoutOf = (mode: Mode): Duration.DurationInput =>
  mode === "stall-headers" || mode === "stall-body" ? "300 millis" : "20 seconds"

/** What a caller can see of a platform error: everything but object identity. */
const shapeOf = (error: unknown) => {
  if (!HttpClientError.isHttpClientError(error)) return { tag: String(error) }
  const cause: unknown = error.cause
  return {
    tag: error._tag,
    reason: error.reason,
    cause: cause instanceof Error && "_tag" in cause ? String(cause._tag) : typeof cause,
    causeMessage: cause instanceof Error && "_tag" in cause ? cause.message : "",
    description: error.description ?? "",
    authorization: error.request.headers["authorization"] ?? "",
    url: error.request.url,
    status: error._tag === "ResponseError" ? error.response.status : 0,
    responseAuthorization: error._tag === "ResponseError"
      ? (error.response.request.headers["authorization"] ?? "")
      : ""
  }
}

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  return Option.isSome(failure) ? failure.value : assert.fail(`expected a typed failure: ${Cause.pretty(exit.cause)}`)
}

/** A Helix GET through `TwitchHttpClient` on `transport`, its body read as text. */
const helixGet = (url: string, mode: Mode, transport: Layer.Layer<HttpClient.HttpClient>) =>
  Effect.flatMap(
    TwitchHttpClient.TwitchHttpClient,
    (helix) =>
      Effect.flatMap(helix.get("/users"), (response) => Effect.map(response.text, (text) => ({ response, text })))
  ).pipe(
    Effect.provide(
      TwitchHttpClient.layer({ maxBodyBytes: 4096 }).pipe(
        Layer.provide(Layer.mergeAll(configFor(url, mode, timeoutOf(mode)), credentials, transport))
      )
    )
  )

const validate = (url: string, mode: Mode, transport: Layer.Layer<HttpClient.HttpClient>) =>
  Effect.flatMap(TwitchAuth.TwitchAuth, (auth) => auth.validateToken(Redacted.make(token))).pipe(
    Effect.provide(TwitchAuth.layer.pipe(Layer.provide(Layer.merge(configFor(url, mode, timeoutOf(mode)), transport))))
  )

const failing: ReadonlyArray<Mode> = [
  "stall-headers",
  "stall-body",
  "declared-too-large",
  "chunked-too-large",
  "reset-mid-body"
]

/** The cause each mode's Helix error carries, as the generic path defines it. */
const expectedCause: Record<Mode, { readonly tag: string; readonly reason: string; readonly cause: string }> = {
  "ok": { tag: "", reason: "", cause: "" },
  "stall-headers": { tag: "RequestError", reason: "Transport", cause: "RequestTimeout" },
  "stall-body": { tag: "ResponseError", reason: "Decode", cause: "BodyTimeout" },
  "declared-too-large": { tag: "ResponseError", reason: "Decode", cause: "BodyTooLarge" },
  "chunked-too-large": { tag: "ResponseError", reason: "Decode", cause: "BodyTooLarge" },
  "reset-mid-body": { tag: "ResponseError", reason: "Decode", cause: "object" }
}

describe("issue 14: the lean UndiciHttpClient gives the generic path's answers and errors", () => {
  it.scopedLive("a good answer is the same on both transports, and the lean client takes the fast path", () =>
    Effect.gen(function*() {
      const { url } = yield* server
      // the lean client runs whole attempts; once decorated by a user, it is any HttpClient
      const agent = new Undici.Agent()
      yield* Effect.addFinalizer(() => Effect.promise(() => agent.close()))
      const lean = UndiciHttpClient.make(agent)
      assert.isDefined(Lean.exchangeOf(lean))
      assert.isUndefined(Lean.exchangeOf(HttpClient.mapRequest(lean, HttpClientRequest.acceptJson)))
      const results = yield* Effect.forEach(transports, ([, transport]) => helixGet(url, "ok", transport))
      for (const { response, text } of results) {
        assert.strictEqual(response.status, 200)
        assert.strictEqual(text, validBody)
        assert.strictEqual(response.request.headers["authorization"], "Bearer <redacted>")
        assert.strictEqual(response.request.headers["client-id"], clientId)
      }
    }))

  for (const mode of failing) {
    it.scopedLive(`Helix, ${mode}: the same platform error on both transports, over a redacted request`, () =>
      Effect.gen(function*() {
        const { url } = yield* server
        const shapes = yield* Effect.forEach(
          transports,
          ([, transport]) => Effect.map(Effect.exit(helixGet(url, mode, transport)), (exit) => shapeOf(failureOf(exit)))
        )
        const [generic, lean] = shapes
        assert.deepStrictEqual(lean, generic)
        const expected = expectedCause[mode]
        assert.strictEqual(lean?.tag, expected.tag)
        assert.strictEqual(lean?.reason, expected.reason)
        assert.strictEqual(lean?.cause, expected.cause)
        assert.strictEqual(lean?.authorization, "Bearer <redacted>")
      }))

    it.scopedLive(`validateToken, ${mode}: the same TwitchAuthError on both transports`, () =>
      Effect.gen(function*() {
        const { url } = yield* server
        const errors = yield* Effect.forEach(transports, ([, transport]) =>
          Effect.map(Effect.exit(validate(url, mode, transport)), failureOf))
        const [generic, lean] = errors
        assert.isTrue(TwitchAuthError.isTwitchAuthError(lean))
        assert.deepStrictEqual(JSON.parse(JSON.stringify(lean)), JSON.parse(JSON.stringify(generic)))
        for (const error of errors) {
          for (const rendering of [String(error), JSON.stringify(error), NodeUtil.inspect(error, { depth: null })]) {
            assert.notInclude(rendering, token)
          }
        }
      }))
  }

  it.scopedLive("the deadline passed during the body closes the connection (the lean client destroys it)", () =>
    Effect.gen(function*() {
      const { arrived, url } = yield* server
      const closed = arrived("stall-body")
      const exit = yield* Effect.exit(helixGet(url, "stall-body", UndiciHttpClient.layer))
      assert.strictEqual(shapeOf(failureOf(exit)).cause, "BodyTimeout")
      // waits for the server to see its socket closed (the test's guard is the timeout)
      yield* Effect.promise(() => closed.then((arrival) => arrival.closed))
    }))

  it.scopedLive("interrupting a call aborts its request: the server sees the connection close", () =>
    Effect.gen(function*() {
      const { arrived, url } = yield* server
      const seen = arrived("stall-headers")
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Effect.flatMap(
          TwitchHttpClient.TwitchHttpClient,
          (helix) => Effect.zipRight(Deferred.succeed(started, undefined), helix.get("/users"))
        ).pipe(
          Effect.provide(
            TwitchHttpClient.layer().pipe(
              Layer.provide(Layer.mergeAll(configFor(url, "stall-headers", "60 seconds"), credentials)),
              Layer.provide(UndiciHttpClient.layer)
            )
          )
        )
      )
      yield* Deferred.await(started)
      const { closed } = yield* Effect.promise(() => seen)
      yield* Fiber.interrupt(fiber)
      yield* Effect.promise(() => closed)
    }))

  it.scopedLive("an installed tracer still gets the operation's span (none is made for the default tracer)", () =>
    Effect.gen(function*() {
      const { url } = yield* server
      const names: Array<string> = []
      const base = yield* Effect.tracer
      const recording = Tracer.make({
        span: (...args) => {
          names.push(args[0])
          return base.span(...args)
        },
        context: base.context
      })
      const info = yield* validate(url, "ok", UndiciHttpClient.layer)
      assert.strictEqual(info.clientId, clientId)
      assert.deepStrictEqual(names, [])
      yield* validate(url, "ok", UndiciHttpClient.layer).pipe(Effect.withTracer(recording))
      assert.deepStrictEqual(names, ["TwitchAuth.validateToken"])
    }))

  it.scopedLive("as a general HttpClient, it serves a user's own request (body, status, headers)", () =>
    Effect.gen(function*() {
      const { url } = yield* server
      const [status, text] = yield* Effect.flatMap(HttpClient.HttpClient, (client) =>
        Effect.flatMap(
          client.execute(HttpClientRequest.post(`${url}/ok/anything`).pipe(HttpClientRequest.bodyText("hello"))),
          (response) => Effect.map(response.text, (text) => [response.status, text] as const)
        )).pipe(Effect.provide(UndiciHttpClient.layer))
      assert.strictEqual(status, 200)
      assert.strictEqual(text, validBody)
    }))
})
