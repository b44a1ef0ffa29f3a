/**
 * Issue 14: the usual answers of `/oauth2/validate` and `/oauth2/token` are checked by hand
 * instead of through the schema interpreter. Whatever the hand-written check accepts, the
 * schema must accept and decode to the same value; whatever it refuses goes to the schema
 * (which then describes what is wrong), so the errors cannot change.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as TokenWire from "../src/internal/tokenWire.js"

const maybe = <A>(arbitrary: FastCheck.Arbitrary<A>) =>
  FastCheck.oneof(arbitrary, FastCheck.constant(undefined), FastCheck.constant(null), FastCheck.anything())

const scopes = FastCheck.oneof(FastCheck.array(FastCheck.string()), FastCheck.string())
const count = FastCheck.oneof(FastCheck.integer({ min: -10, max: 100_000 }), FastCheck.double())

const validateLike = FastCheck.record({
  client_id: FastCheck.oneof(FastCheck.string(), FastCheck.anything()),
  login: maybe(FastCheck.string()),
  user_id: maybe(FastCheck.string()),
  scopes: maybe(scopes),
  expires_in: maybe(count),
  extra: FastCheck.anything()
}, { requiredKeys: [] })

const tokenLike = FastCheck.record({
  access_token: FastCheck.oneof(FastCheck.string(), FastCheck.anything()),
  refresh_token: maybe(FastCheck.string()),
  expires_in: maybe(count),
  scope: maybe(scopes),
  token_type: maybe(FastCheck.string()),
  id_token: maybe(FastCheck.string())
}, { requiredKeys: [] })

/** Through JSON, as an answer's body is. */
const json = <A>(arbitrary: FastCheck.Arbitrary<A>) =>
  arbitrary.map((value): unknown => JSON.parse(JSON.stringify(value) ?? "null"))

const agrees = <A, I>(schema: Schema.Schema<A, I>, fast: (u: unknown) => A | undefined) => (u: unknown) => {
  const quick = fast(u)
  if (quick === undefined) return
  const decoded = Schema.decodeUnknownEither(schema)(u)
  assert.isTrue(Either.isRight(decoded), "the schema accepts what the fast check accepts")
  if (Either.isRight(decoded)) assert.deepStrictEqual(quick, decoded.right)
}

describe("issue 14: fast decoding of the validate and token answers", () => {
  it("/oauth2/validate: what the fast check accepts, the schema decodes to the same value", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.oneof(json(validateLike), json(FastCheck.anything())),
        agrees(TokenWire.ValidateResponse, TokenWire.fastValidateResponse)
      ),
      { numRuns: 2000 }
    )
    // and the usual answer takes the fast path
    assert.isDefined(TokenWire.fastValidateResponse({
      client_id: "c",
      login: "l",
      scopes: ["chat:read"],
      user_id: "1",
      expires_in: 100
    }))
  })

  it("/oauth2/token: what the fast check accepts, the schema decodes to the same value", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.oneof(json(tokenLike), json(FastCheck.anything())),
        agrees(TokenWire.TokenResponse, TokenWire.fastTokenResponse)
      ),
      { numRuns: 2000 }
    )
    assert.isDefined(TokenWire.fastTokenResponse({
      access_token: "a",
      refresh_token: "r",
      expires_in: 100,
      scope: ["chat:read"],
      token_type: "bearer"
    }))
  })
})
