/**
 * One process of the fleet test (`Fleet.stress.test.ts`): a shard that serves every user of the
 * fleet from the shared token store, with `TwitchSessions` (one registry per client: a public and
 * a confidential one) and a `TwitchHttpClient` per user.
 *
 * Usage: worker.ts <worker id> <users file> (a JSON array of `{ userId, kind }`). Environment:
 * `FLEET_AUTH_URL`, `FLEET_HELIX_URL` (the mock), `FLEET_DATABASE` (the database's URL: see `./store.ts`),
 * `FLEET_CALLS` (Helix calls per user, sent at once; default 2), `FLEET_CONCURRENCY` (users
 * served at once; default 100).
 *
 * Protocol, one line each:
 * - stdout `ready <n>`: a session is open for each of the n users (each validated its token).
 * - stdin `go`: every user's calls are fired (`GET /helix/users`, the answer checked to be that
 *   user), all users in the same order in every worker, so that workers contend for each user.
 * - stdout `failed <userId> <tag>` for each call that failed, then
 *   `done ok=<calls that succeeded> failed=<calls that failed> ended=<sessions that ended>`,
 *   and the worker exits (0).
 *
 * Every request carries `x-fleet-worker: <id>`, so the mock knows whose refresh it answers.
 */
import { TwitchAuth, TwitchAuthConfig, TwitchCredentials, TwitchHttpClient, TwitchSessions } from "@effect-twitch/auth"
import { FakeTwitch } from "@effect-twitch/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Fs from "node:fs"
import * as Readline from "node:readline"
import { FleetUsers, workerStore } from "./store.js"

const [workerId = "0", usersFile = ""] = process.argv.slice(2)
const env = (name: string, fallback: string) => process.env[name] ?? fallback
const calls = Number(env("FLEET_CALLS", "2"))
const concurrency = Number(env("FLEET_CONCURRENCY", "100"))
const say = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

const Users = Schema.Struct({ data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String })) })

/** Resolves on the first stdin line equal to `word`. */
const heard = (word: string) =>
  Effect.async<void>((resume) => {
    const lines = Readline.createInterface({ input: process.stdin })
    lines.on("line", (line) => {
      if (line.trim() === word) {
        lines.close()
        // nothing more is read: stdin must not keep the process alive
        process.stdin.destroy()
        resume(Effect.void)
      }
    })
  })

/** Every request of this worker says whose it is (for the mock's count of refreshes). */
const Http = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(HttpClient.HttpClient, HttpClient.mapRequest(HttpClientRequest.setHeader("x-fleet-worker", workerId)))
).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** `TwitchAuth`, its config and a `TwitchSessions` registry for one client, over the shared store. */
const clientLayer = (kind: "confidential" | "public") => {
  const client = FakeTwitch.defaultSeed.clients[kind === "confidential" ? 0 : 1]
  return TwitchSessions.layer().pipe(
    Layer.provideMerge(TwitchAuth.layer),
    Layer.provideMerge(Layer.orDie(TwitchAuthConfig.layer({
      clientId: client.clientId,
      ...("clientSecret" in client ? { clientSecret: client.clientSecret } : {}),
      authUrl: env("FLEET_AUTH_URL", ""),
      helixUrl: env("FLEET_HELIX_URL", ""),
      retrySchedule: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(3))),
      // A guard against a hang, not a speed requirement: on a loaded machine an attempt that
      // times out is sent again, and a refresh sent again spends a refresh token twice.
      requestTimeout: "2 minutes"
    })))
  )
}

const program = Effect.gen(function*() {
  const users = yield* Schema.decodeUnknown(Schema.parseJson(FleetUsers))(Fs.readFileSync(usersFile, "utf8"))
  const contexts = {
    confidential: yield* Layer.build(clientLayer("confidential")),
    public: yield* Layer.build(clientLayer("public"))
  }

  // a session and a Helix client per user, held until the worker exits
  const served = yield* Effect.forEach(users, ({ kind, userId }) =>
    Effect.gen(function*() {
      const sessions = yield* TwitchSessions.TwitchSessions
      const session = yield* sessions.get(userId)
      const helix = yield* TwitchHttpClient.make().pipe(
        Effect.provideService(TwitchCredentials.TwitchCredentials, session)
      )
      return { userId, session, helix }
    }).pipe(Effect.provide(contexts[kind])), { concurrency })
  yield* say(`ready ${served.length}`)
  yield* heard("go")

  let ok = 0
  let failed = 0
  yield* Effect.forEach(
    served,
    ({ helix, userId }) =>
      Effect.forEach(Array.from({ length: calls }), () =>
        helix.get("/users").pipe(
          Effect.flatMap(HttpClientResponse.filterStatusOk),
          Effect.flatMap(HttpClientResponse.schemaBodyJson(Users)),
          Effect.flatMap((body) =>
            body.data[0]?.id === userId ? Effect.void : Effect.fail({ _tag: "WrongUser" as const })
          ),
          Effect.matchEffect({
            onSuccess: () => Effect.sync(() => ok++),
            onFailure: (error) => Effect.zipRight(Effect.sync(() => failed++), say(`failed ${userId} ${error._tag}`))
          })
        ), { concurrency: "unbounded", discard: true }),
    { concurrency, discard: true }
  )

  let ended = 0
  for (const { session } of served) {
    if (Option.isSome(yield* session.ended)) ended++
  }
  yield* say(`done ok=${ok} failed=${failed} ended=${ended}`)
}).pipe(
  Effect.scoped,
  Effect.provide(Layer.merge(workerStore(env("FLEET_DATABASE", ""), workerId), Http)),
  Effect.catchAll((error) =>
    Effect.sync(() => {
      process.stdout.write(`error ${error._tag}: ${error.message}\n`)
      process.exitCode = 1
    })
  )
)

Effect.runPromise(program).catch((defect: unknown) => {
  process.stdout.write(`defect ${String(defect)}\n`)
  process.exitCode = 2
})
