/**
 * Cold start, ours: the smallest useful program — validate a token through `TwitchAuth` on the
 * given transport, with the deep imports a user writes — printing `done` after the first
 * completed call. MOCK_URL and TOKEN come from the bench. Each `ours*.ts` program calls it with
 * its transport (esbuild compiles it into each of them).
 */
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

/** Validates `TOKEN` once on `transport`, prints `done <client id>` and exits. */
export const validateOnce = (transport: Layer.Layer<HttpClient.HttpClient>): void => {
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
          Layer.provide(transport)
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
}
