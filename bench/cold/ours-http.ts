/**
 * Cold start, ours: the smallest useful program — validate a token through `TwitchAuth` on
 * `NodeHttpClient.layer` (`node:http`; no npm `undici`), with the deep imports a user writes — printing `done` after
 * the first completed call. MOCK_URL and TOKEN come from the bench.
 */
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const program = Effect.flatMap(
  TwitchAuth.TwitchAuth,
  (auth) => auth.validateToken(Redacted.make(process.env["TOKEN"] ?? ""))
)

Effect.runPromise(
  program.pipe(
    Effect.provide(
      TwitchAuth.layer.pipe(
        Layer.provide(
          TwitchAuthConfig.layer({
            clientId: process.env["CLIENT_ID"] ?? "",
            authUrl: `${process.env["MOCK_URL"] ?? ""}/oauth2`
          })
        ),
        Layer.provide(NodeHttpClient.layer)
      )
    )
  )
).then(
  (info) => {
    process.stdout.write(`done ${info.clientId}\n`)
    process.exit(0)
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
