import { Token } from "@effect-twitch/auth"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as TokenWire from "../src/internal/tokenWire.js"

const decodeToken = Schema.decodeUnknownSync(TokenWire.TokenResponse)
const decodeValidate = Schema.decodeUnknownSync(TokenWire.ValidateResponse)
const now = DateTime.unsafeMake("2026-01-01T00:00:00Z")

describe("wire quirks", () => {
  it("scope absent, null and [\"\"] all mean no scopes", () => {
    for (const scope of [undefined, null, [""]]) {
      const wire = decodeToken({
        access_token: "a",
        refresh_token: "r",
        expires_in: 100,
        token_type: "bearer",
        ...(scope === undefined ? {} : { scope })
      })
      const token = Either.getOrThrow(TokenWire.userTokenFromWire(wire, now))
      assert.deepStrictEqual(token.scopes, [])
    }
  })

  it("expires_in absent, 0 or beyond a century means the token never expires", () => {
    for (const expires of [undefined, 0, 1e300]) {
      const wire = decodeToken({
        access_token: "a",
        refresh_token: "r",
        ...(expires === undefined ? {} : { expires_in: expires })
      })
      const token = Either.getOrThrow(TokenWire.userTokenFromWire(wire, now))
      assert.isTrue(Option.isNone(token.expiresAt))
      assert.isFalse(token.isExpired(DateTime.unsafeMake("2100-01-01T00:00:00Z")))
      // and it can be stored
      assert.doesNotThrow(() => Schema.encodeSync(Token.UserToken)(token))
    }
  })

  it("validate: app tokens without login/user_id, or with null, and scopes null", () => {
    const absent = TokenWire.tokenInfoFromWire(decodeValidate({ client_id: "c", scopes: [], expires_in: 5206826 }), now)
    const nulls = TokenWire.tokenInfoFromWire(
      decodeValidate({ client_id: "c", login: null, user_id: null, scopes: null, expires_in: 5206826 }),
      now
    )
    for (const info of [absent, nulls]) {
      assert.isTrue(info.isAppToken)
      assert.deepStrictEqual(info.scopes, [])
      assert.strictEqual(Duration.toSeconds(Option.getOrThrow(info.expiresIn)), 5206826)
    }
    const legacy = TokenWire.tokenInfoFromWire(
      decodeValidate({ client_id: "c", login: "x", user_id: "1", scopes: ["a"], expires_in: 0 }),
      now
    )
    assert.isTrue(Option.isNone(legacy.expiresAt))
    assert.isFalse(legacy.isAppToken)
  })

  it("a user token response without a refresh token is refused, naming the field", () => {
    const wire = decodeToken({ access_token: "a", expires_in: 10 })
    assert.deepStrictEqual(TokenWire.userTokenFromWire(wire, now), Either.left("refresh_token is missing"))
  })

  it("negative or non-numeric expires_in does not decode", () => {
    assert.throws(() => decodeToken({ access_token: "a", expires_in: -1 }))
    assert.throws(() => decodeToken({ access_token: "a", expires_in: "10" }))
    assert.throws(() => decodeToken({ access_token: "", expires_in: 10 }))
  })
})

describe("UserToken", () => {
  it.effect("expiry follows Effect's Clock (TestClock)", () =>
    Effect.gen(function*() {
      const receivedAt = yield* DateTime.now
      const wire = decodeToken({ access_token: "a", refresh_token: "r", expires_in: 3600 })
      const token = Either.getOrThrow(TokenWire.userTokenFromWire(wire, receivedAt))
      assert.isFalse(token.isExpired(yield* DateTime.now))
      yield* TestClock.adjust("50 minutes")
      assert.isFalse(token.isExpired(yield* DateTime.now))
      assert.isTrue(token.isExpired(yield* DateTime.now, "15 minutes"))
      assert.strictEqual(Duration.toMinutes(Option.getOrThrow(token.expiresIn(yield* DateTime.now))), 10)
      yield* TestClock.adjust("10 minutes")
      assert.isTrue(token.isExpired(yield* DateTime.now))
      assert.isTrue(Duration.equals(Option.getOrThrow(token.expiresIn(yield* DateTime.now)), Duration.zero))
    }))

  it("encodes for storage and decodes back, secrets included, but prints them redacted", () => {
    const token = new Token.UserToken({
      accessToken: Redacted.make("access-secret"),
      refreshToken: Redacted.make("refresh%2F/secret="),
      scopes: ["chat:read"],
      obtainedAt: now,
      expiresAt: Option.some(DateTime.unsafeMake("2026-01-01T04:00:00Z"))
    })
    const encoded = Schema.encodeSync(Token.UserToken)(token)
    assert.strictEqual(encoded.refreshToken, "refresh%2F/secret=")
    assert.strictEqual(encoded.expiresAt, "2026-01-01T04:00:00.000Z")
    const decoded = Schema.decodeSync(Token.UserToken)(encoded)
    assert.strictEqual(Redacted.value(decoded.refreshToken), "refresh%2F/secret=")
    assert.notInclude(String(token), "secret")
    assert.notInclude(JSON.stringify(token), "secret")
  })
})

describe("issue 13 #4: a smaller public surface", () => {
  it("Twitch's wire schemas and the *FromWire converters are not exported: users see domain classes only", () => {
    const exported = Object.keys(Token)
    const wire = exported.filter((name) => /FromWire|Response$|^Wire/.test(name))
    assert.deepStrictEqual(wire, [], `wire names exported from Token: ${wire.join(", ")}`)
    assert.includeMembers(exported, ["UserToken", "AppToken", "TokenInfo", "DeviceAuthorization"])
    // what the SDK decodes with is still there, internally
    assert.isFunction(TokenWire.userTokenFromWire)
  })

  it("isExpired / expiresIn are one definition shared by UserToken and AppToken, and behave alike on both", () => {
    assert.strictEqual(Token.UserToken.prototype.isExpired, Token.AppToken.prototype.isExpired)
    assert.strictEqual(Token.UserToken.prototype.expiresIn, Token.AppToken.prototype.expiresIn)
    const lifetime = {
      accessToken: Redacted.make("a"),
      scopes: [],
      obtainedAt: now,
      expiresAt: Option.some(DateTime.unsafeMake("2026-01-01T01:00:00Z"))
    }
    const tokens = [
      new Token.AppToken(lifetime),
      new Token.UserToken({ ...lifetime, refreshToken: Redacted.make("r") })
    ]
    const later = DateTime.unsafeMake("2026-01-01T00:50:00Z")
    for (const token of tokens) {
      assert.isFalse(token.isExpired(later))
      assert.isTrue(token.isExpired(later, "10 minutes"))
      assert.strictEqual(Duration.toMinutes(Option.getOrThrow(token.expiresIn(later))), 10)
    }
  })

  it("the shared definition changes no token's fields: the stored JSON keeps its keys, in the same order", () => {
    const token = new Token.UserToken({
      accessToken: Redacted.make("a"),
      refreshToken: Redacted.make("r"),
      scopes: ["chat:read"],
      obtainedAt: now,
      expiresAt: Option.none()
    })
    assert.deepStrictEqual(Object.keys(Schema.encodeSync(Token.UserToken)(token)), [
      "accessToken",
      "refreshToken",
      "scopes",
      "obtainedAt",
      "expiresAt"
    ])
    const app = new Token.AppToken({
      accessToken: Redacted.make("a"),
      scopes: [],
      obtainedAt: now,
      expiresAt: Option.none()
    })
    assert.deepStrictEqual(Object.keys(Schema.encodeSync(Token.AppToken)(app)), [
      "accessToken",
      "scopes",
      "obtainedAt",
      "expiresAt"
    ])
  })
})
