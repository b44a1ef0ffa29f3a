/**
 * Secrets never leak: every operation's success and error paths, a session's daemon and its
 * failures, with the logger at its most verbose and a tracer recording every span, event and
 * attribute — then `String`, `JSON.stringify`, `util.inspect` and `Cause.pretty` of every
 * error and model. None of the client secret, the access tokens or the refresh tokens (which
 * carry characters that URL encoding changes) may appear, raw or URL-encoded.
 */
import {
  AppTokenSession,
  type Token,
  TwitchAuth,
  TwitchAuthConfig,
  TwitchCredentials,
  TwitchHttpClient,
  TwitchSession
} from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as List from "effect/List"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import type * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Tracer from "effect/Tracer"
import * as NodeUtil from "node:util"
import { recordFigures } from "./figures.js"
import { issueToken, overSockets } from "./lifecycle.js"
import { confidential, user } from "./utils.js"

/** Everything the program said: log lines and spans, as text. */
const transcript: Array<string> = []

const render = (value: unknown): string => {
  if (typeof value === "string") return value
  try {
    return `${JSON.stringify(value)} ${NodeUtil.inspect(value, { depth: 6 })}`
  } catch {
    return NodeUtil.inspect(value, { depth: 6 })
  }
}

const collectingLogger = Logger.make(({ annotations, cause, logLevel, message, spans }) => {
  transcript.push(
    [
      logLevel.label,
      render(message),
      Cause.isEmpty(cause) ? "" : Cause.pretty(cause, { renderErrorCause: true }),
      render(HashMap.toEntries(annotations)),
      List.toArray(spans).map((s) => s.label).join(",")
    ].join(" | ")
  )
})

class RecordingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = Math.random().toString(16).slice(2)
  readonly traceId = "trace"
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly links: Array<Tracer.SpanLink>
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.status = { _tag: "Started", startTime }
    this.links = [...links]
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    // What an exporter records: name, attributes, and the failure (a success value is the
    // program's own data; an HttpClientResponse among them is the platform's object, whose
    // request headers `Inspectable.redact` hides only when printed inside a fiber).
    transcript.push(
      `span ${this.name} ${render(Object.fromEntries(this.attributes))} ${
        Exit.isFailure(exit)
          ? Cause.pretty(exit.cause, { renderErrorCause: true }) + render(Cause.squash(exit.cause))
          : "ok"
      }`
    )
  }
  attribute(key: string, value: unknown): void {
    this.attributes.set(key, value)
  }
  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>): void {
    transcript.push(`event ${name} ${render(attributes ?? {})}`)
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
  }
}

const recordingTracer = Tracer.make({
  span: (name, parent, context, links, startTime, kind) =>
    new RecordingSpan(name, parent, context, links, startTime, kind),
  context: (f) => f()
})

const Observed = Layer.mergeAll(
  Logger.replace(Logger.defaultLogger, collectingLogger),
  Logger.minimumLogLevel(LogLevel.All),
  Layer.setTracer(recordingTracer)
)

/** A token Twitch would accept, whose refresh token is full of characters URL encoding changes. */
const secretsOf = (token: Token.UserToken) => [Redacted.value(token.accessToken), Redacted.value(token.refreshToken)]

const variants = (
  secret: string
) => [secret, encodeURIComponent(secret), new URLSearchParams({ x: secret }).toString().slice(2)]

describe("no secret reaches a log line, a span, or the printed form of an error or model", () => {
  it.live("every operation and the session lifecycle, success and failure", () =>
    Effect.gen(function*() {
      transcript.length = 0
      const twitch = yield* FakeTwitch.FakeTwitch
      const auth = yield* TwitchAuth.TwitchAuth
      const config = yield* TwitchAuthConfig.TwitchAuthConfig
      const printed: Array<unknown> = [config]
      const secrets: Array<string> = [confidential.clientSecret]

      // successes
      const token = yield* issueToken()
      secrets.push(...secretsOf(token))
      const code = yield* Effect.orDie(twitch.issueAuthorizationCode({
        clientId: confidential.clientId,
        userId: user.userId,
        scopes: ["chat:read"],
        redirectUri: confidential.redirectUris[0]
      }))
      secrets.push(code)
      const exchanged = yield* auth.exchangeCode(code, { redirectUri: confidential.redirectUris[0] })
      const refreshed = yield* auth.refreshToken(exchanged.refreshToken)
      const info = yield* auth.validateToken(refreshed.accessToken)
      const app = yield* auth.appToken()
      secrets.push(...secretsOf(exchanged), ...secretsOf(refreshed), Redacted.value(app.accessToken))
      printed.push(exchanged, refreshed, info, app, yield* auth.validateToken(app.accessToken))

      // the device flow: the device code is a secret too
      const device = yield* auth.startDeviceAuthorization({ scopes: ["chat:read"] })
      secrets.push(Redacted.value(device.deviceCode))
      yield* Effect.orDie(twitch.approveDevice(device.userCode))
      const polled = yield* auth.pollDeviceToken(device.deviceCode)
      secrets.push(...secretsOf(polled))
      printed.push(device, polled, yield* Effect.flip(auth.pollDeviceToken(device.deviceCode)))

      // a session: start-up validation, a Helix call, a 401 storm, an ended session
      yield* Effect.scoped(Effect.gen(function*() {
        const session = yield* TwitchSession.make({ key: user.userId, token })
        const helix = yield* TwitchHttpClient.make().pipe(
          Effect.provideService(TwitchCredentials.TwitchCredentials, session)
        )
        yield* Effect.flatMap(helix.get("/users"), (r) => r.json)
        yield* twitch.expireAccessToken(Redacted.value(token.accessToken))
        yield* Effect.forEach(Array.from({ length: 5 }), () => Effect.flatMap(helix.get("/users"), (r) => r.json), {
          concurrency: "unbounded"
        })
        const current = yield* session.token
        secrets.push(...secretsOf(current))
        printed.push(current)
        yield* twitch.disconnectUser(user.userId)
        printed.push(yield* Effect.flip(session.refresh(current.accessToken)))
        printed.push(yield* Effect.flip(helix.get("/users")))
        printed.push(yield* Effect.flip(session.validate))
      }))

      // an app session and its Helix call
      yield* Effect.scoped(Effect.gen(function*() {
        const appSession = yield* AppTokenSession.make()
        const helix = yield* TwitchHttpClient.make().pipe(
          Effect.provideService(TwitchCredentials.TwitchCredentials, appSession)
        )
        yield* Effect.flatMap(helix.get("/users", { urlParams: { login: user.login } }), (r) => r.json)
        secrets.push(Redacted.value(yield* appSession.accessToken))
      }))

      // failures of every operation, with secrets in hand
      const wrong = yield* TwitchAuth.make.pipe(
        Effect.provide(TwitchAuthConfig.layer({
          clientId: confidential.clientId,
          clientSecret: "wrongsecretwrongsecretwrongsec",
          authUrl: config.authUrl
        })),
        Effect.orDie
      )
      secrets.push("wrongsecretwrongsecretwrongsec")
      printed.push(
        yield* Effect.flip(auth.exchangeCode(code)),
        yield* Effect.flip(auth.refreshToken(token.refreshToken)),
        yield* Effect.flip(auth.validateToken(token.accessToken)),
        yield* Effect.flip(auth.revokeToken(token.accessToken)),
        yield* Effect.flip(wrong.appToken()),
        yield* Effect.flip(wrong.refreshToken(refreshed.refreshToken)),
        yield* Effect.flip(auth.pollDeviceToken(token.refreshToken))
      )
      yield* twitch.failNext("token", {
        _tag: "Malformed",
        body: JSON.stringify([Redacted.value(refreshed.refreshToken)])
      })
      printed.push(yield* Effect.flip(auth.appToken()))

      const texts = [
        ...transcript,
        ...printed.flatMap((value) => [
          String(value),
          render(value),
          value instanceof Error ? Cause.pretty(Cause.fail(value), { renderErrorCause: true }) : ""
        ])
      ]
      assert.isAbove(transcript.length, 10, "the logger and tracer saw the run")
      assert.isTrue(transcript.some((t) => t.startsWith("span TwitchAuth.refreshToken")))
      const checked = secrets.flatMap(variants).filter((s) => s.length > 0)
      const leaked = checked.filter((s) => texts.some((t) => t.includes(s)))
      // every kind of model went through util.inspect, String and JSON above
      const kinds = new Set(printed.map((value) => (value instanceof Error ? "error" : value?.constructor?.name)))
      for (const model of ["UserToken", "AppToken", "TokenInfo", "DeviceAuthorization"]) {
        assert.isTrue(kinds.has(model), model)
      }
      // URL encoding changes the refresh tokens, so their encoded forms were checked too
      assert.isTrue(secrets.some((s) => encodeURIComponent(s) !== s))
      recordFigures("secret-leaks", {
        secrets: secrets.length,
        formsChecked: checked.length,
        textsSearched: texts.length,
        leaked: leaked.length
      })
      assert.deepStrictEqual(leaked, [])
    }).pipe(Effect.provide(Layer.merge(overSockets(), Observed))))
})

describe("issue 11 #6: what leaves TwitchHttpClient holds no bearer token, outside a fiber too", () => {
  it.live("a response, a reset, a 503, an HTML body and an unhandled rejection, printed every way", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const token = yield* issueToken()
      const secrets = secretsOf(token)
      const printed = yield* Effect.scoped(Effect.gen(function*() {
        const session = yield* TwitchSession.make({ key: user.userId, token })
        const helix = yield* TwitchHttpClient.make().pipe(
          Effect.provideService(TwitchCredentials.TwitchCredentials, session)
        )
        const response = yield* helix.get("/users")
        yield* twitch.failNext("helix", { _tag: "Reset" }, 4)
        const reset = yield* Effect.flip(helix.get("/users"))
        yield* twitch.failNext("helix", { _tag: "ServerError", status: 503 }, 4)
        const unavailable = yield* Effect.flip(Effect.flatMap(helix.get("/users"), HttpClientResponse.filterStatusOk))
        yield* twitch.failNext("helix", { _tag: "Raw", headers: { "content-type": "text/html" }, body: "<html>" })
        const notJson = yield* Effect.flip(Effect.flatMap(helix.get("/users"), (r) => r.json))
        yield* twitch.failNext("helix", { _tag: "ServerError", status: 503 }, 4)
        const rejection: unknown = yield* Effect.promise(() =>
          Effect.runPromise(Effect.flatMap(helix.get("/users"), HttpClientResponse.filterStatusOk)).then(
            () => "resolved",
            (reason: unknown) => reason
          )
        )
        return [response, reset, unavailable, notJson, rejection]
      }))
      assert.deepStrictEqual(
        printed.slice(1, 4).map((e) => (e instanceof Error ? e.name : "")),
        ["RequestError", "ResponseError", "ResponseError"]
      )
      const texts = printed.flatMap((value) => [
        String(value),
        render(value),
        NodeUtil.inspect(value, { depth: Infinity }),
        value instanceof Error ? Cause.pretty(Cause.fail(value), { renderErrorCause: true }) : ""
      ])
      const leaked = secrets.flatMap(variants).filter((s) => s.length > 0 && texts.some((t) => t.includes(s)))
      assert.deepStrictEqual(leaked, [])
      assert.isTrue(texts.some((t) => t.includes("Bearer <redacted>")), "the header is shown, redacted")
    }).pipe(Effect.provide(overSockets())))
})
