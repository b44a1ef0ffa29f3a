import { TwitchAuth, TwitchAuthConfig, UndiciHttpClient, TwitchHttpClient, TwitchSession, TokenStore, Token } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as DateTime from "effect/DateTime"
import * as Option from "effect/Option"
import { startMock } from "./internal/mock.js"
const [client] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users
const mock = await startMock()
const issued = await mock.issue()
const op = process.env["OP"] ?? "validate"
const config = TwitchAuthConfig.layer({ clientId: client.clientId, clientSecret: client.clientSecret, authUrl: mock.authUrl, helixUrl: mock.helixUrl })
const now = DateTime.unsafeNow()
const token = new Token.UserToken({ accessToken: Redacted.make(issued.accessToken), refreshToken: Redacted.make(issued.refreshToken), scopes: [], obtainedAt: now, expiresAt: Option.some(DateTime.add(now, { seconds: issued.expiresIn })) })
const layer = TwitchHttpClient.layer().pipe(Layer.provide(TwitchSession.layer({ key: user.userId, token }).pipe(Layer.provide(TwitchAuth.layer), Layer.provide(TokenStore.layerMemory))), Layer.provideMerge(TwitchAuth.layer), Layer.provide(config), Layer.provide(UndiciHttpClient.layer))
const rt = ManagedRuntime.make(layer)
const call = op === "validate"
  ? Effect.flatMap(TwitchAuth.TwitchAuth, (a) => a.validateToken(Redacted.make(issued.accessToken)))
  : Effect.flatMap(TwitchHttpClient.TwitchHttpClient, (h) => Effect.flatMap(h.get(`/users?id=${user.userId}`), (r) => r.json))
const n = Number(process.env["N"] ?? 20000)
await rt.runPromise(Effect.forEach(Array.from({ length: 2000 }), () => call, { concurrency: 64, discard: true }))
await mock.reset()
const c0 = process.cpuUsage(); const t0 = performance.now()
await rt.runPromise(Effect.forEach(Array.from({ length: n }), () => call, { concurrency: 64, discard: true }))
const c = process.cpuUsage(c0)
console.log(op, "cpu us/call", ((c.user + c.system) / n).toFixed(1), "wall", (performance.now() - t0).toFixed(0))
await rt.dispose(); await mock.stop()
