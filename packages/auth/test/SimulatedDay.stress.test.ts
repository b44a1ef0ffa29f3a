/**
 * Issue 14: 100,000 sessions held in `TwitchSessions` for a simulated day (TestClock). Twitch
 * requires an hourly validation of every token: that is 24 × 100,000 validations, which must
 * be spread over each hour (no minute holds more than twice the average), and every token
 * must be refreshed on time — after its refresh point (`refreshMargin` before expiry), before
 * it expires.
 *
 * Twitch is modelled at `TwitchAuth`'s two calls a session makes (`validateToken`,
 * `refreshToken`; the rest of `TwitchAuth` is the real one): each validation is counted in
 * the simulated minute it was made in — what Twitch would see. Not at the HTTP transport: the
 * request pipeline's per-attempt timeout registers a `TestClock` sleep for every request,
 * which `TestClock.adjust` then steps through one at a time (3 timer turns each), and 2.5
 * million of them would take hours. What is under test is when the sessions call, not how a
 * call is encoded (the contract suites test that).
 */
import { Token, TokenStore, TwitchAuth, TwitchAuthConfig, TwitchSessions } from "@effect-twitch/auth"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { eventually } from "./lifecycle.js"

/**
 * 10,000 by default, so the suite stays within minutes on a loaded 2-core machine;
 * `DAY_SESSIONS=100000` runs the issue's full size (about a minute per simulated hour there).
 */
const sessions = Number(process.env["DAY_SESSIONS"] ?? 10_000)
const minute = 60_000
const hour = 60 * minute
const day = 24 * hour
/** Tokens Twitch issues on refresh live 4 hours (as its user tokens do, about). */
const lifetimeSeconds = 4 * 60 * 60
const margin = 5 * minute
const clientId = "simulateddayclient0123456789"

/** Twitch, as far as validations and refreshes go; it counts what it sees. */
class Twitch {
  /** When each live access token expires (epoch millis), and whose it is. */
  readonly accessTokens = new Map<string, { readonly user: string; readonly expiresAt: number }>()
  /** The access token each refresh token was issued with. */
  readonly refreshTokens = new Map<string, string>()
  /** Validations per simulated minute of the day (minute i: after i minutes, up to i + 1). */
  readonly perMinute = new Array<number>(24 * 60).fill(0)
  validationsAfterDay = 0
  refreshes = 0
  /** Refreshes before the token's refresh point, or at or after its expiry. */
  readonly offTime: Array<string> = []
  issued = 0
  start = 0

  issue(user: string, expiresAt: number) {
    const n = this.issued++
    const access = `at-${n}`
    const refresh = `rt-${n}`
    this.accessTokens.set(access, { user, expiresAt })
    this.refreshTokens.set(refresh, access)
    return { access, refresh }
  }

  validate(access: string, now: number) {
    const held = this.accessTokens.get(access)
    if (held === undefined || held.expiresAt <= now) {
      return [401, { status: 401, message: "invalid access token" }] as const
    }
    const since = now - this.start
    if (since > 0 && since <= day) {
      const i = Math.floor((since - 1) / minute)
      this.perMinute[i] = (this.perMinute[i] ?? 0) + 1
    } else if (since > day) this.validationsAfterDay++
    return [200, {
      client_id: clientId,
      login: held.user,
      user_id: held.user,
      scopes: ["chat:read"],
      expires_in: Math.floor((held.expiresAt - now) / 1000)
    }] as const
  }

  refresh(refresh: string, now: number) {
    const access = this.refreshTokens.get(refresh)
    const held = access === undefined ? undefined : this.accessTokens.get(access)
    if (access === undefined || held === undefined) {
      return [400, { status: 400, message: "Invalid refresh token" }] as const
    }
    this.refreshTokens.delete(refresh)
    this.accessTokens.delete(access)
    this.refreshes++
    if (now < held.expiresAt - margin || now >= held.expiresAt) {
      this.offTime.push(`${held.user} at ${now - this.start} ms, token expiring at ${held.expiresAt - this.start} ms`)
    }
    const next = this.issue(held.user, now + lifetimeSeconds * 1000)
    return [200, {
      access_token: next.access,
      refresh_token: next.refresh,
      expires_in: lifetimeSeconds,
      scope: ["chat:read"],
      token_type: "bearer"
    }] as const
  }
}

/** `TwitchAuth` whose validations and refreshes go to `twitch` (the other calls are the real ones). */
const twitchAuth = (twitch: Twitch) =>
  Layer.effect(
    TwitchAuth.TwitchAuth,
    Effect.map(TwitchAuth.TwitchAuth, (real) =>
      TwitchAuth.TwitchAuth.of({
        ...real,
        validateToken: (accessToken) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const [status, body] = twitch.validate(Redacted.value(accessToken), now)
            if (status !== 200) return Effect.die(`validation refused: ${body.message}`)
            return Effect.succeed(
              new Token.TokenInfo({
                clientId: body.client_id,
                login: Option.some(body.login),
                userId: Option.some(body.user_id),
                scopes: body.scopes,
                validatedAt: DateTime.unsafeMake(now),
                expiresAt: Option.some(DateTime.unsafeMake(now + body.expires_in * 1000))
              }, true)
            )
          }),
        refreshToken: (refreshToken) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const [status, body] = twitch.refresh(Redacted.value(refreshToken), now)
            if (status !== 200) return Effect.die(`refresh refused: ${body.message}`)
            return Effect.succeed(
              new Token.UserToken({
                accessToken: Redacted.make(body.access_token),
                refreshToken: Redacted.make(body.refresh_token),
                scopes: body.scope,
                obtainedAt: DateTime.unsafeMake(now),
                expiresAt: Option.some(DateTime.unsafeMake(now + body.expires_in * 1000))
              }, true)
            )
          })
      }))
  )

describe("issue 14: a simulated day of many sessions", () => {
  const twitch = new Twitch()
  it.scoped(
    `issue 14: ${sessions} sessions in TwitchSessions for a day: 24 validations each, spread over every hour (no minute over 2× the average), every refresh on time`,
    () =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        twitch.start = start
        const store = yield* TokenStore.TokenStore
        const now = DateTime.unsafeMake(start)
        // Users authorized over the last 4 hours: their tokens expire over the next 4 (on whole minutes).
        for (let i = 0; i < sessions; i++) {
          const user = `${100_000_000 + i}`
          const expiresAt = start + margin + (1 + (i % 230)) * minute
          const issued = twitch.issue(user, expiresAt)
          yield* store.set(
            user,
            new Token.UserToken({
              accessToken: Redacted.make(issued.access),
              refreshToken: Redacted.make(issued.refresh),
              scopes: ["chat:read"],
              obtainedAt: now,
              expiresAt: Option.some(DateTime.unsafeMake(expiresAt))
            })
          )
        }
        const registry = yield* TwitchSessions.make({ idleTimeToLive: "2 days" })
        const userIds = yield* registry.userIds
        const held = yield* Effect.forEach(userIds, registry.get, { concurrency: 64 })
        assert.strictEqual(held.length, sessions)

        const hours = Number(process.env["DAY_HOURS"] ?? 24)
        for (let h = 0; h < hours; h++) {
          yield* TestClock.adjust("1 hour")
          if (process.env["DAY_TRACE"] !== undefined) {
            console.log(
              h,
              performance.now(),
              twitch.perMinute.reduce((a, b) => a + b, 0)
            )
          }
        }
        const expected = 24 * sessions
        const counted = Effect.sync(() => twitch.perMinute.reduce((a, b) => a + b, 0))
        assert.isTrue(
          yield* eventually(Effect.map(counted, (n) => n >= expected)),
          `validations in the day: ${twitch.perMinute.reduce((a, b) => a + b, 0)} of ${expected}`
        )
        const total = yield* counted
        assert.strictEqual(total, expected, "24 validations a session, no more")
        const average = total / twitch.perMinute.length
        const busiest = Math.max(...twitch.perMinute)
        console.log(
          `simulated day: ${sessions} sessions, ${total} validations, busiest minute ${busiest} (${
            (busiest / average).toFixed(3)
          }× the average ${average.toFixed(1)}), ${twitch.refreshes} refreshes`
        )
        assert.isAtMost(busiest, 2 * average, `the busiest minute holds ${busiest}, the average ${average}`)
        assert.deepStrictEqual(twitch.offTime.slice(0, 5), [], "refreshes before the refresh point or after expiry")
        // every token was refreshed in time: each session holds one that has not expired,
        // without asking Twitch for it
        const refreshes = twitch.refreshes
        const end = yield* Clock.currentTimeMillis
        for (const session of held) {
          const token = yield* session.token
          assert.isTrue(Option.exists(token.expiresAt, (at) => DateTime.toEpochMillis(at) > end))
        }
        assert.strictEqual(twitch.refreshes, refreshes)
        // each token was refreshed at its refresh point: about 6 a day for a 4-hour token
        assert.isAtLeast(refreshes, 5 * sessions)
      }).pipe(
        Effect.provide(
          twitchAuth(twitch).pipe(
            Layer.provide(TwitchAuth.layer),
            Layer.provideMerge(TokenStore.layerMemory),
            Layer.provide(
              Layer.orDie(TwitchAuthConfig.layer({ clientId, clientSecret: "simulateddaysecret0123456789" }))
            ),
            Layer.provide(
              Layer.succeed(HttpClient.HttpClient, HttpClient.make(() => Effect.die("no HTTP in this test")))
            )
          )
        )
      ),
    // a guard against a hang, for a loaded 2-core machine: 60 ms a session (10 minutes at
    // the default size), and more for the issue's 100,000
    Math.max(600_000, 60 * sessions)
  )
})
