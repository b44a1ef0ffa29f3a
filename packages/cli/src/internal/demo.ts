/**
 * `twitch-auth demo`: the whole token lifecycle against an embedded mock Twitch, as a
 * readable transcript. It runs the CLI's own commands (the same code as `twitch-auth login`,
 * `revoke`…) with a temporary profile; a simulated browser and a simulated clock stand in
 * for the person and for the hours. Nothing leaves this machine; tokens are never printed.
 */
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import * as TwitchCredentials from "@effect-twitch/auth/TwitchCredentials"
import * as TwitchHttpClient from "@effect-twitch/auth/TwitchHttpClient"
import * as TwitchSession from "@effect-twitch/auth/TwitchSession"
import * as FakeTwitch from "@effect-twitch/testing/FakeTwitch"
import * as FakeTwitchHttpClient from "@effect-twitch/testing/FakeTwitchHttpClient"
import * as MockTwitchServer from "@effect-twitch/testing/MockTwitchServer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import * as CliError from "../CliError.js"
import * as Profiles from "../Profiles.js"
import * as Commands from "./commands.js"
import { Cli, embeddedHandle, type EmbeddedMock, resolveConfig, startMock } from "./environment.js"
import * as Output from "./output.js"

const say = (line: string) => Console.log(line)
const step = (n: number, title: string, command: string) => Console.log(`\n${n}. ${title}\n   $ ${command}\n`)
const note = (line: string) => Console.log(`   ${line}`)

/**
 * The browser of the demo: opens the authorize URL, the user clicks Authorize on the mock's
 * consent page, the browser follows the redirect to the CLI.
 */
const simulatedBrowser = (url: string): Effect.Effect<void, CliError.CliError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.filterStatusOk)
    const location = new URL(yield* MockTwitchServer.consent(url, "authorize").pipe(Effect.orDie))
    yield* note("browser: GET /oauth2/authorize → the consent page; the user clicks Authorize; Twitch redirects to")
    yield* note(`         ${location.origin}${location.pathname}?code=…&scope=…&state=… (the CLI's callback server)`)
    yield* client.get(location.toString()).pipe(Effect.orDie)
  })

const Users = Schema.Struct({ data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String })) })

const profileToken = Effect.flatMap(TokenStore.TokenStore, Profiles.stored)

const storedEntry = Effect.flatMap(
  profileToken,
  Option.match({
    onNone: () => Effect.fail(CliError.failure("DemoNoToken", "the demo's login stored no token")),
    onSome: Effect.succeed
  })
)

/** Step 3: a Helix call whose token Twitch has just dropped: 401, one refresh, the retry. */
const helixRecovers = (mock: EmbeddedMock) =>
  Effect.gen(function*() {
    const entry = yield* storedEntry
    const session = yield* TwitchSession.make({ key: entry.key })
    const helix = yield* TwitchHttpClient.make().pipe(
      Effect.provideService(TwitchCredentials.TwitchCredentials, session)
    )
    yield* mock.twitch.expireAccessToken(Redacted.value((yield* session.token).accessToken))
    yield* note("the mock expires the access token behind the session's back")
    const helixBefore = yield* mock.twitch.calls("helix")
    const tokenBefore = yield* mock.twitch.calls("token")
    const users = yield* helix.get("/users").pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(Users)))
    const helixCalls = (yield* mock.twitch.calls("helix")) - helixBefore
    const refreshes = (yield* mock.twitch.calls("token")) - tokenBefore
    yield* note(
      `GET /helix/users → 401 Invalid OAuth token → refresh → retry → 200: ${users.data.map((u) => u.login).join(", ")}`
    )
    yield* note(`Helix saw ${helixCalls} requests, id.twitch.tv ${refreshes} refresh; the new token is in the profile`)
    const after = yield* storedEntry
    yield* note(
      `stored token replaced: ${
        Redacted.value(after.token.accessToken) !== Redacted.value(entry.token.accessToken) ? "yes" : "no"
      }`
    )
  })

/**
 * Step 4: a `TwitchSession` on a simulated clock (TestClock), over the same mock in memory:
 * it validates at start and every hour, and refreshes 5 minutes before the 4-hour expiry.
 */
const hourlyValidation = (mock: EmbeddedMock, config: TwitchAuthConfig.TwitchAuthConfig.Service) =>
  Effect.gen(function*() {
    const entry = yield* storedEntry
    const start = yield* Clock.currentTimeMillis
    yield* Effect.scoped(Effect.gen(function*() {
      yield* TestClock.setTime(start)
      const validations = () => mock.twitch.calls("validate")
      const refreshes = () => mock.twitch.calls("token")
      const v0 = yield* validations()
      const r0 = yield* refreshes()
      const session = yield* TwitchSession.make({ key: entry.key })
      // The session's fibers run after the clock moves: wait until the mock has seen what they
      // send and, for a validation, until the session has its answer (the validation it keeps
      // is from this step's simulated time). Moving the clock while a request is on its way
      // would pass that request's deadline, and the session would be left waiting on the
      // simulated clock to retry it. Checked every 10 ms of real time, however long a loaded
      // machine takes, up to a minute: a guard against a session that never gets there (then
      // the figures show it).
      const answered = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const last = yield* session.lastValidation
        return Option.isSome(last) && DateTime.toEpochMillis(last.value.validatedAt) >= now
      })
      const settle = (validated: number, refreshed: number) =>
        Effect.gen(function*() {
          const deadline = Date.now() + 60_000
          while (Date.now() < deadline) {
            if (
              (yield* validations()) - v0 >= validated && (yield* refreshes()) - r0 >= refreshed &&
              (refreshed > 0 || (yield* answered))
            ) return
            yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
          }
        })
      const report = (label: string, validated: number, refreshed: number) =>
        Effect.gen(function*() {
          yield* settle(validated, refreshed)
          const v = (yield* validations()) - v0
          const r = (yield* refreshes()) - r0
          yield* note(`${label.padEnd(8)} validations so far: ${v}, refreshes: ${r}`)
        })
      yield* report("t+0", 1, 0)
      for (const hour of [1, 2, 3]) {
        yield* TestClock.adjust(Duration.hours(1))
        yield* report(`t+${hour}h`, hour + 1, 0)
      }
      yield* TestClock.adjust(Duration.minutes(56))
      yield* report("t+3h56m", 4, 1)
      yield* note("(the session refreshed the 4-hour token 5 minutes before it expired, without being asked)")
    })).pipe(
      Effect.provide(
        TwitchAuth.layer.pipe(
          Layer.provide(Layer.succeed(TwitchAuthConfig.TwitchAuthConfig, config)),
          Layer.provide(FakeTwitchHttpClient.layer),
          Layer.provide(Layer.succeed(FakeTwitch.FakeTwitch, mock.twitch))
        )
      ),
      Effect.provide(TestContext.TestContext),
      // On a fiber of its own, so that the simulated clock stays in this step.
      Effect.forkScoped,
      Effect.flatMap(Fiber.await),
      Effect.flatten,
      Effect.scoped
    )
  })

export const run: Effect.Effect<void, CliError.CliError, FileSystem.FileSystem | Path.Path> = Effect.scoped(
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    // polls every second, so that the simulated approval is seen at once
    const mock = yield* startMock({ port: 0, fake: { deviceIntervalSeconds: 1 } })
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "twitch-auth-demo-" }).pipe(
      Effect.mapError((error) =>
        CliError.localResource("TempDir", `cannot create a temporary directory: ${error.message}`)
      )
    )
    const profile: Profiles.Profile = { name: "demo", configDir: dir, path: path.join(dir, "demo.json") }
    const config = yield* resolveConfig(
      {
        json: false,
        showToken: false,
        profile: Option.none(),
        configDir: Option.none(),
        mock: true,
        clientId: Option.none(),
        clientSecret: Option.none(),
        redirectUri: Option.none(),
        authUrl: Option.none(),
        helixUrl: Option.none()
      },
      Option.some(mock)
    )
    const out = Output.make({ json: false, showToken: false, progress: "stdout" })
    const env = TwitchAuth.layer.pipe(
      Layer.provideMerge(Layer.succeed(TwitchAuthConfig.TwitchAuthConfig, config)),
      Layer.provideMerge(FetchHttpClient.layer),
      Layer.merge(TokenStore.layerFile(profile.path, { removeWhenEmpty: true })),
      Layer.merge(Layer.succeed(Cli, { out, profile, mock: Option.some(embeddedHandle(mock)), config }))
    )

    const program = Effect.gen(function*() {
      yield* say(`effect-twitch demo: the token lifecycle, run by twitch-auth's own commands against a mock`)
      yield* say(`Twitch at ${mock.url} (id.twitch.tv and Helix in this process; nothing leaves this machine).`)
      yield* say(`Profile "demo" in ${dir}; tokens are never printed.`)

      yield* step(1, "Log in with the authorization code flow", "twitch-auth login --scope user:read:email --mock")
      yield* Commands.loginWithCode({
        scopes: ["user:read:email"],
        open: false,
        forceVerify: false,
        timeout: Duration.seconds(30),
        browser: simulatedBrowser
      })
      const text = yield* fs.readFileString(profile.path).pipe(Effect.orDie)
      const mode = ((yield* fs.stat(profile.path).pipe(Effect.orDie)).mode & 0o777).toString(8)
      const secret = Option.getOrElse(Option.map(config.clientSecret, Redacted.value), () => "")
      const leaked = secret !== "" && text.includes(secret)
      yield* note(`token file: ${profile.path}, mode ${mode}, client secret inside: ${leaked ? "YES" : "no"}`)

      yield* step(
        2,
        "Log in with the device code flow (the approval is simulated)",
        "twitch-auth login --device --scope chat:read --scope user:read:email --mock"
      )
      yield* Commands.loginWithDevice({
        scopes: ["chat:read", "user:read:email"],
        onCode: (authorization) =>
          Effect.gen(function*() {
            yield* note(`the user enters ${authorization.userCode} at ${authorization.verificationUri} and approves`)
            yield* mock.twitch.approveDevice(authorization.userCode).pipe(Effect.orDie)
          })
      })

      yield* step(3, "Ask Twitch about the stored token", "twitch-auth validate --mock")
      yield* Commands.validate

      yield* step(4, "A Helix call that hits 401 and recovers through one refresh", "twitch-auth whoami --mock")
      yield* Effect.scoped(helixRecovers(mock))

      yield* step(
        5,
        "The hourly validation Twitch requires, on a simulated clock",
        "(TwitchSession, in any long-running app)"
      )
      yield* hourlyValidation(mock, config)

      yield* step(6, "Revoke it", "twitch-auth revoke --mock")
      const revoked = yield* storedEntry
      yield* Commands.revoke
      const entry = yield* profileToken
      yield* note(
        `profile file left: ${(yield* fs.exists(profile.path).pipe(Effect.orDie)) ? "yes" : "no"}, token in it: ${
          Option.isSome(entry) ? "yes" : "no"
        }`
      )

      yield* step(
        7,
        "The revoked token, validated: a typed error, one line, exit code 4",
        "twitch-auth validate --mock"
      )
      const outcome = yield* Effect.flatMap(
        TwitchAuth.TwitchAuth,
        (auth) => auth.validateToken(revoked.token.accessToken)
      ).pipe(
        Effect.mapError(CliError.fromTwitchError),
        Effect.flip,
        Effect.map((error) => `twitch-auth: ${error.text}   (exit ${error.exitCode})`),
        Effect.orElseSucceed(() => "still valid (unexpected)")
      )
      yield* note(outcome)
    })

    yield* program.pipe(Effect.provide(env))
    const elapsed = (yield* Clock.currentTimeMillis) - started
    yield* say(
      `\nDone in ${
        (elapsed / 1000).toFixed(1)
      } s. Try it yourself: twitch-auth mock, then twitch-auth login (see --help).`
    )
  })
).pipe(Effect.mapError(CliError.fromTwitchError))
