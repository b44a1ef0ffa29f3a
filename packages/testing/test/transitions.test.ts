/**
 * The fake's transitions called directly, as plain functions of the state and the request:
 * no Effect runtime, no clock, no transport. Each test builds a state, runs one transition
 * and reads the answer and the next state (issue 13 #1: each transition can be tested alone).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import { defaultQuirks, defaults, defaultSeed } from "../src/FakeTwitch.js"
import * as ConsentFlow from "../src/internal/consentFlow.js"
import * as Faults from "../src/internal/faults.js"
import * as Grants from "../src/internal/grants.js"
import * as Helix from "../src/internal/helix.js"
import type * as Model from "../src/internal/model.js"
import * as State from "../src/internal/state.js"

const [confidential, publicClient] = defaultSeed.clients
const [user] = defaultSeed.users
const start = 1_700_000_000_000

const fresh = (n: number): State.Fresh => ({
  accessToken: `access${n}`,
  refreshToken: `refresh${n}`,
  code: `code${n}`,
  deviceCode: `device${n}`,
  userCode: `USER${n}`
})

const ctxAt = (now: number, n = 0, options: Model.Options = {}): State.Ctx => ({
  now,
  fresh: fresh(n),
  lifetimes: State.lifetimesOf(options, defaults),
  issuer: defaults.issuer
})

const initial = (quirks: Partial<Model.Quirks> = {}): State.State =>
  State.initialState(defaultSeed, { ...defaultQuirks, ...quirks })

const request = (method: string, params: Record<string, string>, headers: Record<string, string> = {}) => ({
  method,
  headers,
  params
})

/** A transition's answer, which these tests expect to need no ID token. */
const answer = (reply: State.Reply): Model.WireResponse => {
  if ("_tag" in reply) return assert.fail("expected a wire answer, got a request to sign an ID token")
  return reply
}

const body = (reply: State.Reply): Record<string, unknown> => JSON.parse(answer(reply).body)

describe("issue 13 #1: transitions are plain functions of the state and the request", () => {
  it("token, client_credentials: the fresh access token is answered and stored; the state given is not changed", () => {
    const state = initial()
    const [reply, next] = Grants.tokenTransition(request("POST", {
      client_id: confidential.clientId,
      client_secret: confidential.clientSecret,
      grant_type: "client_credentials"
    }))(state, ctxAt(start))
    assert.strictEqual(answer(reply).status, 200)
    assert.strictEqual(body(reply)["access_token"], "access0")
    assert.isTrue(State.isAccessTokenValid(next, "access0", start))
    assert.isFalse(State.isAccessTokenValid(state, "access0", start))
  })

  it("token, refresh_token: a public client's refresh token is spent and its successor is alive", () => {
    const minted = Grants.mintUserToken(initial(), ctxAt(start, 1), publicClient, user.userId, ["user:read:email"])
    const [reply, next] = Grants.tokenTransition(request("POST", {
      client_id: publicClient.clientId,
      grant_type: "refresh_token",
      refresh_token: "refresh1"
    }))(minted, ctxAt(start + 1000, 2))
    assert.strictEqual(answer(reply).status, 200)
    assert.strictEqual(body(reply)["refresh_token"], "refresh2")
    assert.isFalse(State.isRefreshTokenValid(next, "refresh1", start + 1000))
    assert.isTrue(State.isRefreshTokenValid(next, "refresh2", start + 1000))
  })

  it("validate: a token is answered until its expiry on the context's clock, then 401", () => {
    const minted = Grants.mintUserToken(initial(), ctxAt(start, 1), confidential, user.userId, [])
    const validate = Grants.validateTransition(request("GET", {}, { authorization: "OAuth access1" }))
    const [before] = validate(minted, ctxAt(start + 1000))
    assert.strictEqual(answer(before).status, 200)
    assert.strictEqual(body(before)["login"], "twitchdev")
    const [after] = validate(minted, ctxAt(start + defaults.userTokenTtlSeconds * 1000))
    assert.deepStrictEqual([answer(after).status, body(after)["message"]], [401, "invalid access token"])
  })

  it("revoke: the token is marked revoked in the next state only", () => {
    const minted = Grants.mintUserToken(initial(), ctxAt(start, 1), confidential, user.userId, [])
    const [reply, next] = Grants.revokeTransition(
      request("POST", { client_id: confidential.clientId, token: "access1" })
    )(
      minted,
      ctxAt(start)
    )
    assert.strictEqual(answer(reply).status, 200)
    assert.isFalse(State.isAccessTokenValid(next, "access1", start))
    assert.isTrue(State.isAccessTokenValid(minted, "access1", start))
  })

  it("device flow: start, poll too soon (slow_down, interval + 5), approve, poll: the token", () => {
    const [started, pending] = ConsentFlow.deviceTransition({
      ...request("POST", { client_id: publicClient.clientId, scopes: "user:read:email" }),
      bodyParams: { client_id: publicClient.clientId, scopes: "user:read:email" }
    })(initial(), ctxAt(start, 1))
    assert.strictEqual(body(started)["user_code"], "USER1")
    const poll = Grants.tokenTransition(request("POST", {
      client_id: publicClient.clientId,
      device_code: "device1",
      grant_type: "urn:ietf:params:oauth:grant-type:device_code"
    }))
    const [first, polled] = poll(pending, ctxAt(start, 2))
    assert.strictEqual(body(first)["message"], "authorization_pending")
    const [soon, slowed] = poll(polled, ctxAt(start + 1000, 3))
    assert.strictEqual(body(soon)["message"], "slow_down")
    assert.strictEqual(Option.getOrUndefined(HashMap.get(slowed.deviceCodes, "device1"))?.interval, 10)
    const approved = ConsentFlow.decideDevice(slowed, start + 2000, "user1", "approve", undefined)
    assert.isTrue(Either.isRight(approved))
    if (Either.isLeft(approved)) return
    const [granted, done] = poll(approved.right, ctxAt(start + 20_000, 4))
    assert.strictEqual(body(granted)["access_token"], "access4")
    assert.deepStrictEqual(ConsentFlow.deviceCodeStatus(done, start + 20_000, "USER1"), Option.some("consumed"))
  })

  it("authorize with autoConsent: the code redirect, and the code stored for the consenting user", () => {
    const [reply, next] = ConsentFlow.authorizeTransition(request("GET", {
      client_id: confidential.clientId,
      redirect_uri: confidential.redirectUris[0],
      response_type: "code",
      scope: "user:read:email",
      state: "xyz"
    }))(initial({ autoConsent: true }), ctxAt(start, 5))
    assert.strictEqual(answer(reply).status, 302)
    const location = new URL(answer(reply).headers["location"] ?? "")
    assert.deepStrictEqual([location.searchParams.get("code"), location.searchParams.get("state")], ["code5", "xyz"])
    assert.strictEqual(Option.getOrUndefined(HashMap.get(next.codes, "code5"))?.userId, user.userId)
  })

  it("helix: the bucket's last point answers, the next request is a 429 with the rate-limit headers", () => {
    const minted = Grants.mintUserToken(initial(), ctxAt(start, 1), confidential, user.userId, [])
    const users = Helix.helixTransition({
      ...request("GET", {}, { authorization: "Bearer access1", "client-id": confidential.clientId }),
      path: "/users"
    })
    const ctx = ctxAt(start, 2, { helixRateLimit: 1 })
    const [ok, charged] = users(minted, ctx)
    assert.strictEqual(answer(ok).status, 200)
    const [limited] = users(charged, ctx)
    assert.strictEqual(answer(limited).status, 429)
    assert.strictEqual(answer(limited).headers["ratelimit-remaining"], "0")
  })

  it("faults: a fault registered twice is taken twice, then no more", () => {
    const state = Faults.addFault(initial(), "token", { _tag: "ServerError" }, 2)
    const [first, once] = Faults.takeFault(state, "token")
    const [other] = Faults.takeFault(once, "validate")
    const [second, twice] = Faults.takeFault(once, "token")
    const [third] = Faults.takeFault(twice, "token")
    assert.deepStrictEqual(
      [Option.isSome(first), Option.isSome(other), Option.isSome(second), Option.isSome(third)],
      [true, false, true, false]
    )
  })
})
