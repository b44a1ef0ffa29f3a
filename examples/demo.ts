/**
 * `pnpm demo`: the seed library's token operations, end to end, against an embedded mock
 * id.twitch.tv on 127.0.0.1. Nothing leaves this machine; tokens are printed redacted.
 *
 * authorize URL → consent redirect → code → token → validate → refresh → revoke →
 * validate fails with the typed error.
 */
import { TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

const [client] = FakeTwitch.defaultSeed.clients

const step = (n: number, title: string) => Console.log(`\n${n}. ${title}`)
const show = (label: string, value: unknown) => Console.log(`   ${label.padEnd(14)} ${String(value)}`)

const expiry = (expiresIn: Option.Option<Duration.Duration>) =>
  Option.match(expiresIn, { onNone: () => "never", onSome: (d) => `in ${Duration.format(d)}` })

const program = Effect.gen(function*() {
  const auth = yield* TwitchAuth.TwitchAuth
  const server = yield* MockTwitchServer.MockTwitchServer
  const http = yield* HttpClient.HttpClient
  yield* Console.log(`effect-twitch demo — mock id.twitch.tv at ${server.authUrl}`)

  yield* step(1, "Build the authorization URL (authorizationUrl)")
  const request = yield* auth.authorizationUrl({ scopes: ["chat:read", "chat:edit"] })
  yield* show("url", request.url)
  yield* show("state", request.state)

  yield* step(2, "The user consents; Twitch redirects back with a code")
  const redirect = yield* http.get(request.url)
  const location = new URL(redirect.headers["location"] ?? "")
  const code = location.searchParams.get("code") ?? ""
  yield* show("redirect", `${location.origin}${location.pathname}?code=…&state=…`)
  yield* show("state check", location.searchParams.get("state") === request.state ? "matches" : "MISMATCH")

  yield* step(3, "Exchange the code for a user token (exchangeCode ← token_get_from_code)")
  const token = yield* auth.exchangeCode(code)
  const now = yield* DateTime.now
  yield* show("access token", token.accessToken)
  yield* show("refresh token", token.refreshToken)
  yield* show("scopes", token.scopes.join(" "))
  yield* show("expires", expiry(token.expiresIn(now)))

  yield* step(4, "Validate it (validateToken ← token_validate)")
  const info = yield* auth.validateToken(token.accessToken)
  yield* show("login", Option.getOrElse(info.login, () => "-"))
  yield* show("user id", Option.getOrElse(info.userId, () => "-"))
  yield* show("scopes", info.scopes.join(" "))
  yield* show("expires", expiry(info.expiresIn))

  yield* step(5, "Refresh it (refreshToken ← token_refresh)")
  const refreshed = yield* auth.refreshToken(token.refreshToken)
  yield* show("access token", refreshed.accessToken)
  yield* show("expires", expiry(refreshed.expiresIn(yield* DateTime.now)))

  yield* step(6, "Revoke the new access token (revokeToken ← token_revoke)")
  yield* auth.revokeToken(refreshed.accessToken)
  yield* show("revoked", "yes")

  yield* step(7, "Validate the revoked token: a typed error, not a status code")
  const outcome = yield* auth.validateToken(refreshed.accessToken).pipe(
    Effect.as("still valid (unexpected)"),
    Effect.catchTag("InvalidAccessToken", (error) => Effect.succeed(`${error._tag}: ${error.message}`))
  )
  yield* show("result", outcome)
  yield* Console.log("\nDone.")
})

const MainLive = Layer.unwrapEffect(
  Effect.map(MockTwitchServer.MockTwitchServer, (server) =>
    TwitchAuth.layer.pipe(
      Layer.provide(
        TwitchAuthConfig.layer({
          clientId: client.clientId,
          clientSecret: client.clientSecret,
          redirectUri: client.redirectUris[0],
          authUrl: server.authUrl
        })
      )
    ))
).pipe(
  Layer.provideMerge(MockTwitchServer.layerTest),
  Layer.provideMerge(NodeHttpClient.layerUndici)
)

program.pipe(Effect.provide(MainLive), NodeRuntime.runMain)
