/**
 * Fuzzed decoding: random and mutated bodies, with random statuses, fed to every operation
 * through a stub transport. Whatever Twitch (or a proxy in front of it) answers, an
 * operation succeeds with a decoded value or fails with one of its typed errors — never a
 * defect, and never an error that carries the secrets it was called with.
 */
import type { TwitchAuth } from "@effect-twitch/auth"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as TokenWire from "../src/internal/tokenWire.js"
import { recordFigures } from "./figures.js"
import { type Operation, operations, runOperation } from "./operations.js"
import { stubbed } from "./utils.js"

const secret = "41vpdji4e9gif29md0ouet6fktd2mk"
const centurySeconds = 100 * 365 * 24 * 60 * 60
const accessToken = "fuzzaccesstoken0000000000000a"
const refreshToken = "fuzz%2Frefresh/token+with&odd=chars"

const run = (auth: TwitchAuth.TwitchAuth.Service, operation: Operation) =>
  runOperation(auth, operation, { code: "fuzzcode", accessToken, refreshToken, deviceCode: refreshToken })

const knownTags: ReadonlySet<string> = new Set([
  "InvalidAccessToken",
  "InvalidRefreshToken",
  "InvalidAuthorizationCode",
  "RedirectUriMismatch",
  "InvalidClient",
  "MissingClientSecret",
  "MissingRedirectUri",
  "InvalidScope",
  "AuthorizationPending",
  "SlowDown",
  "AccessDenied",
  "DeviceCodeExpired",
  "RateLimited",
  "TwitchUnavailable",
  "TransportError",
  "MalformedResponse",
  "UnexpectedResponse"
])

/** Valid bodies of every shape Twitch sends, then mutated: fields dropped, retyped, nulled. */
const validBodies = FastCheck.oneof(
  Arbitrary.make(TokenWire.TokenResponse),
  Arbitrary.make(TokenWire.ValidateResponse),
  Arbitrary.make(TokenWire.DeviceCodeResponse),
  Arbitrary.make(TokenWire.ErrorResponse)
)
const mutated = FastCheck.tuple(
  validBodies,
  FastCheck.dictionary(FastCheck.string(), FastCheck.jsonValue()),
  FastCheck.boolean()
)
  .map(([body, extra, drop]) => {
    const copy: Record<string, unknown> = { ...body, ...extra }
    if (drop) delete copy[Object.keys(copy)[0] ?? ""]
    return JSON.stringify(copy)
  })
const bodies = FastCheck.oneof(
  mutated,
  validBodies.map((body) => JSON.stringify(body)),
  FastCheck.json(),
  FastCheck.string(),
  FastCheck.constantFrom("", "null", "[]", "{}", "<html><body>502 Bad Gateway</body></html>", "{\"access_tok"),
  FastCheck.uint8Array({ maxLength: 64 }).map((bytes) => String.fromCharCode(...bytes))
)
const statuses = FastCheck.constantFrom(200, 201, 204, 302, 400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504)
const resetHeaders = FastCheck.option(FastCheck.oneof(FastCheck.string(), FastCheck.integer().map(String)), {
  nil: undefined
})

/** Inputs each property was run with (fast-check's runs, shrinking included). */
const inputs = { answers: 0, tokenBodies: 0 }

describe("fuzzed answers", () => {
  afterAll(() => recordFigures("fuzz", inputs))

  it.live.prop(
    "every operation ends in its value or a typed error, never a defect or a leaked secret",
    [FastCheck.constantFrom(...operations), statuses, bodies, resetHeaders],
    ([operation, status, body, reset]) =>
      Effect.gen(function*() {
        inputs.answers++
        const { auth } = yield* stubbed(
          { status, body, ...(reset === undefined ? {} : { headers: { "ratelimit-reset": reset } }) },
          { retrySchedule: Schedule.recurs(1) }
        )
        const exit = yield* Effect.exit(run(auth, operation))
        if (Exit.isFailure(exit)) {
          const error = Cause.failureOption(exit.cause)
          assert.isTrue(Option.isSome(error), `not a typed failure: ${Cause.pretty(exit.cause)}`)
          if (Option.isSome(error)) {
            assert.isTrue(knownTags.has(error.value._tag), error.value._tag)
            const text = [error.value.message, JSON.stringify(error.value), String(error.value)].join("\n")
            for (const s of [secret, accessToken, refreshToken, encodeURIComponent(refreshToken)]) {
              assert.notInclude(text, s)
            }
          }
        }
      }),
    { timeout: 60_000, fastCheck: { numRuns: 1500 } }
  )

  it.live.prop(
    "a valid token body always decodes into the matching domain value",
    [Arbitrary.make(TokenWire.TokenResponse)],
    ([wire]) =>
      Effect.gen(function*() {
        inputs.tokenBodies++
        const { auth } = yield* stubbed({ status: 200, body: JSON.stringify(wire) })
        const exit = yield* Effect.exit(auth.refreshToken(Redacted.make(refreshToken)))
        if (wire.refresh_token === undefined || wire.refresh_token.length === 0) {
          assert.isTrue(Exit.isFailure(exit))
          return
        }
        const token = yield* exit
        assert.strictEqual(Redacted.value(token.accessToken), wire.access_token)
        assert.strictEqual(Redacted.value(token.refreshToken), wire.refresh_token)
        assert.deepStrictEqual(token.scopes, (wire.scope ?? []).filter((s) => s.length > 0))
        // absent, null, 0, or beyond a century: no expiry (see TokenWire.expiresAtFromWire)
        // absent, 0, or beyond a century (not a real lifetime): no expiry
        const never = wire.expires_in === undefined || wire.expires_in === null || wire.expires_in === 0 ||
          wire.expires_in > centurySeconds ||
          wire.expires_in > 100 * 365 * 24 * 60 * 60
        assert.strictEqual(Option.isNone(token.expiresAt), never)
      }),
    { timeout: 60_000, fastCheck: { numRuns: 300 } }
  )

  it.live.prop(
    "issue 11 #8: a body nested up to 20,000 deep, in any field, is a typed error on every operation",
    [
      FastCheck.constantFrom(...operations),
      FastCheck.integer({ min: 1, max: 20_000 }),
      FastCheck.constantFrom(200, 400, 401),
      FastCheck.constantFrom("[", "{\"a\":")
    ],
    ([operation, depth, status, open]) =>
      Effect.gen(function*() {
        const close = open === "[" ? "]" : "}"
        const nested = open.repeat(depth) + "0" + close.repeat(depth)
        const body = status === 200
          ? `{"access_token":${nested},"client_id":${nested},"device_code":${nested}}`
          : `{"status":${status},"message":${nested}}`
        const { auth } = yield* stubbed({ status, body }, { retrySchedule: Schedule.recurs(0) })
        const exit = yield* Effect.exit(run(auth, operation))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          const error = Cause.failureOption(exit.cause)
          assert.isTrue(Option.isSome(error), `not a typed failure: ${Cause.pretty(exit.cause)}`)
          if (Option.isSome(error)) assert.isTrue(knownTags.has(error.value._tag), error.value._tag)
        }
      }),
    { timeout: 60_000, fastCheck: { numRuns: 200 } }
  )

  it.live.prop(
    "issue 11 #10: whatever message an answer carries, with the request's secrets in any encoding, the error shows none and at most 200 characters of it",
    [
      FastCheck.constantFrom(...operations),
      FastCheck.array(
        FastCheck.tuple(
          FastCheck.string({ maxLength: 20 }),
          FastCheck.constantFrom(secret, accessToken, refreshToken, "fuzzcode"),
          FastCheck.constantFrom("raw", "uri", "form", "lower")
        ),
        { maxLength: 6 }
      ),
      FastCheck.string({ maxLength: 400 })
    ],
    ([operation, pieces, tail]) =>
      Effect.gen(function*() {
        const encode = (value: string, form: string) =>
          form === "raw"
            ? value
            : form === "uri"
            ? encodeURIComponent(value)
            : form === "form"
            ? new URLSearchParams({ s: value }).toString().slice(2)
            : encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())
        const message = pieces.map(([text, value, form]) => text + encode(value, form)).join("") + tail
        const { auth } = yield* stubbed({ status: 400, body: JSON.stringify({ status: 400, message }) })
        const error = yield* Effect.flip(run(auth, operation))
        const twitchMessage = Reflect.get(error, "twitchMessage") ?? Reflect.get(error, "description") ?? ""
        assert.isAtMost(Array.from(String(twitchMessage)).length, 201)
        const text = [error.message, JSON.stringify(error), String(error)].join("\n")
        // fuzzcode is the code exchangeCode sends: a secret only there
        const sent = operation === "exchangeCode" ? ["fuzzcode"] : []
        for (const s of [secret, accessToken, refreshToken, ...sent]) {
          for (const form of ["raw", "uri", "form", "lower"]) {
            const shown = encode(s, form)
            // a secret the operation did not send is not the caller's: only check those it sent
            const carried = s === secret || s === "fuzzcode" ||
              (s === accessToken && (operation === "validateToken" || operation === "revokeToken")) ||
              (s === refreshToken && (operation === "refreshToken" || operation === "pollDeviceToken"))
            if (carried) assert.notInclude(text, shown)
          }
        }
      }),
    { timeout: 60_000, fastCheck: { numRuns: 500 } }
  )
})
