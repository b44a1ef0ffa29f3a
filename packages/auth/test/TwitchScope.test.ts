/**
 * The scope list (Twitch's scope reference, plus `openid`), its helpers, and unknown scopes
 * surviving every decoding on the way in.
 */
import { TwitchScope } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TokenWire from "../src/internal/tokenWire.js"
import { authWith, confidential, MockLayer, user } from "./utils.js"

describe("TwitchScope", () => {
  it("lists the 81 scopes of Twitch's scope reference and openid, each with a description", () => {
    assert.strictEqual(TwitchScope.all.length, 82)
    assert.strictEqual(new Set(TwitchScope.all).size, 82)
    assert.deepStrictEqual([...TwitchScope.all], [...TwitchScope.all].sort())
    for (
      const scope of [
        "analytics:read:extensions",
        "bits:read",
        "channel:bot",
        "channel:manage:polls",
        "channel:read:subscriptions",
        "chat:edit",
        "chat:read",
        "editor:manage:clips",
        "moderator:manage:warnings",
        "moderator:read:chatters",
        "openid",
        "user:read:email",
        "user:write:chat",
        "whispers:read"
      ]
    ) {
      assert.isTrue(TwitchScope.isScope(scope), scope)
    }
    // removed from Twitch's reference: not in the list (but still decoded, see below)
    for (const removed of ["channel_subscriptions", "user:edit:follows", "whispers:edit"]) {
      assert.isFalse(TwitchScope.isScope(removed), removed)
    }
    assert.deepStrictEqual(Object.keys(TwitchScope.descriptions).sort(), [...TwitchScope.all])
    for (const scope of TwitchScope.all) assert.isAbove(TwitchScope.descriptions[scope].length, 10, scope)
    assert.strictEqual(TwitchScope.describe("channel:manage:polls"), "Create and end a channel's polls.")
    assert.isUndefined(TwitchScope.describe("future:scope"))
  })

  it("decodes documented scopes and refuses others as a literal", () => {
    assert.strictEqual(Schema.decodeUnknownSync(TwitchScope.Scope)("chat:read"), "chat:read")
    assert.throws(() => Schema.decodeUnknownSync(TwitchScope.Scope)("chat:write"))
  })

  it("parses and formats the space-separated form", () => {
    assert.deepStrictEqual(TwitchScope.parse("  chat:read   chat:edit\tchat:read "), ["chat:read", "chat:edit"])
    assert.deepStrictEqual(TwitchScope.parse(""), [])
    assert.strictEqual(TwitchScope.format(["chat:read", "", "chat:edit", "chat:read"]), "chat:read chat:edit")
    assert.deepStrictEqual(Schema.decodeSync(TwitchScope.FromSpaceSeparated)("bits:read new:scope"), [
      "bits:read",
      "new:scope"
    ])
    assert.strictEqual(
      Schema.encodeSync(TwitchScope.FromSpaceSeparated)(["bits:read", "new:scope"]),
      "bits:read new:scope"
    )
  })

  it("checks that granted scopes cover what a call needs (data-first and data-last)", () => {
    const granted = ["chat:read", "moderator:read:chatters"]
    assert.isTrue(TwitchScope.covers(granted, ["chat:read"]))
    assert.isTrue(TwitchScope.covers(granted, []))
    assert.isFalse(TwitchScope.covers(granted, ["chat:read", "chat:edit"]))
    assert.deepStrictEqual(TwitchScope.missing(granted, ["chat:edit", "chat:read", "bits:read"]), [
      "chat:edit",
      "bits:read"
    ])
    assert.isFalse(TwitchScope.covers(["chat:edit"])(granted))
    assert.deepStrictEqual(TwitchScope.missing(["chat:edit"])(granted), ["chat:edit"])
  })

  it("partitions known from unknown scopes", () => {
    assert.deepStrictEqual(TwitchScope.partition(["chat:read", "future:scope", "openid"]), {
      known: ["chat:read", "openid"],
      unknown: ["future:scope"]
    })
  })

  it("an unknown scope survives decoding of token and validate responses", () => {
    const token = Schema.decodeUnknownSync(TokenWire.TokenResponse)({
      access_token: "a",
      refresh_token: "r",
      expires_in: 100,
      scope: ["chat:read", "future:scope"],
      token_type: "bearer"
    })
    assert.deepStrictEqual(token.scope, ["chat:read", "future:scope"])
    const info = Schema.decodeUnknownSync(TokenWire.ValidateResponse)({
      client_id: "c",
      login: "l",
      user_id: "1",
      scopes: ["future:scope"],
      expires_in: 100
    })
    assert.deepStrictEqual(info.scopes, ["future:scope"])
  })
})

layer(MockLayer, { excludeTestServices: true })("Scope against the mock", (it) => {
  it.effect("a token whose scopes include one this SDK does not know validates, scope kept", () =>
    Effect.gen(function*() {
      const auth = yield* authWith()
      const twitch = yield* FakeTwitch.FakeTwitch
      const issued = yield* Effect.orDie(
        twitch.issueUserToken({
          clientId: confidential.clientId,
          userId: user.userId,
          scopes: ["chat:read", "channel:manage:future_feature"]
        })
      )
      const info = yield* auth.validateToken(Redacted.make(issued.accessToken))
      assert.deepStrictEqual(info.scopes, ["chat:read", "channel:manage:future_feature"])
      assert.deepStrictEqual(TwitchScope.partition(info.scopes).unknown, ["channel:manage:future_feature"])
      assert.isTrue(TwitchScope.covers(info.scopes, ["chat:read"]))
      const refreshed = yield* auth.refreshToken(Redacted.make(issued.refreshToken))
      assert.deepStrictEqual(refreshed.scopes, ["chat:read", "channel:manage:future_feature"])
      assert.strictEqual(Option.getOrNull(info.userId), user.userId)
    }))
})
