/**
 * How `--mock` commands find the mock Twitch they share: a running `twitch-auth mock`
 * registers itself in the config dir ({@link fileName}: its URL, pid, id and a control
 * secret; mode 0600; removed when it stops). A `--mock` command uses the registered mock
 * when it answers; when none does, it starts one in the background (a detached
 * `twitch-auth mock --background` on a free port, which registers itself) and says so once.
 * Two commands racing to start one end with one mock: only the one that creates the start
 * lock ({@link startLockName}, exclusively) spawns it; the other waits for its registration.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as CliError from "../CliError.js"
import { controlPrefix, type MockHandle } from "./environment.js"
import type * as Output from "./output.js"

/** The registration file, in the config dir (hidden: `profiles` does not list it). */
export const fileName = ".twitch-auth-mock.json"
/** Held (created exclusively) by the one command starting a background mock. */
export const startLockName = ".twitch-auth-mock.starting"
/** A background mock stops after this long without a request. */
export const defaultIdleTimeoutSeconds = 30 * 60

/** What a running mock writes about itself. */
export const Registration = Schema.Struct({
  version: Schema.Literal(1),
  /** Random, per run: tells this run from another one that reused the port or the pid. */
  id: Schema.String,
  /** Authorizes the control routes (register a redirect URI, stop). */
  secret: Schema.String,
  pid: Schema.Number,
  url: Schema.String,
  authUrl: Schema.String,
  helixUrl: Schema.String,
  background: Schema.Boolean,
  idleTimeoutSeconds: Schema.NullOr(Schema.Number)
})
export type Registration = typeof Registration.Type

const RegistrationJson = Schema.parseJson(Registration)

/** 32 random hex characters. */
export const randomId = (): string => crypto.randomUUID().replaceAll("-", "")

/** The registration in `configDir`, if there is one that decodes. */
export const read = (
  configDir: string
): Effect.Effect<Option.Option<Registration>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const text = yield* Effect.option(fs.readFileString(path.join(configDir, fileName)))
    return Option.flatMap(text, (t) => Either.getRight(Schema.decodeUnknownEither(RegistrationJson)(t)))
  })

/** Writes the registration atomically (a 0600 temporary file renamed over it). */
export const write = (
  configDir: string,
  registration: Registration
): Effect.Effect<void, CliError.CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(configDir, fileName)
    const temporary = path.join(configDir, `${fileName}.${randomId()}.tmp`)
    yield* fs.makeDirectory(configDir, { recursive: true, mode: 0o700 })
    yield* fs.writeFileString(temporary, `${JSON.stringify(registration)}\n`, { flag: "wx", mode: 0o600 })
    yield* fs.rename(temporary, file).pipe(Effect.onError(() => Effect.ignore(fs.remove(temporary))))
  }).pipe(
    Effect.mapError((error) =>
      CliError.localResource(
        "MockUnregistered",
        `cannot register the mock in ${JSON.stringify(configDir)}: ${error.message}`
      )
    )
  )

/** Removes the registration if it is still run `id`'s (another mock may have replaced it). */
export const removeIfOwn = (
  configDir: string,
  id: string
): Effect.Effect<void, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const current = yield* read(configDir)
    if (Option.isSome(current) && current.value.id === id) {
      yield* Effect.ignore(fs.remove(path.join(configDir, fileName)))
    }
  })

const control = (
  registration: Registration,
  route: string,
  init: { readonly method: string; readonly body?: string }
) =>
  Effect.tryPromise({
    try: (signal) =>
      fetch(`${registration.url}${controlPrefix}${route}`, {
        method: init.method,
        headers: { authorization: `Bearer ${registration.secret}`, "content-type": "application/json" },
        ...(init.body === undefined ? {} : { body: init.body }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)])
      }).then(async (response) => ({ status: response.status, body: await response.text() })),
    catch: (cause) => cause
  })

/** Whether the registered mock answers, as itself (its id, behind its secret). */
export const answers = (registration: Registration): Effect.Effect<boolean> =>
  control(registration, "mock", { method: "GET" }).pipe(
    Effect.map((response) => {
      if (response.status !== 200) return false
      const id = Schema.decodeUnknownOption(Schema.parseJson(Schema.Struct({ id: Schema.String })))(response.body)
      return Option.isSome(id) && id.value.id === registration.id
    }),
    Effect.orElseSucceed(() => false)
  )

/** Whether process `pid` still runs (a zombie does not; EPERM: it runs, as someone else). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return typeof error === "object" && error !== null && "code" in error && error.code === "EPERM"
  }
  try {
    // Linux: "<pid> (<comm>) <state> …"; a zombie (Z) or dead (X) process has ended
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    return state !== "Z" && state !== "X"
  } catch {
    return true
  }
}

const handle = (registration: Registration): MockHandle => ({
  url: registration.url,
  authUrl: registration.authUrl,
  helixUrl: registration.helixUrl,
  registerRedirectUris: (uris) =>
    uris.length === 0 ? Effect.void : control(registration, "redirect-uris", {
      method: "POST",
      body: JSON.stringify({ uris })
    }).pipe(
      Effect.flatMap((response) => response.status === 204 ? Effect.void : Effect.fail(response.status)),
      Effect.mapError(() =>
        CliError.localResource(
          "MockUnreachable",
          `the mock at ${registration.url} did not register the callback's redirect URI; stop it with \`twitch-auth mock --stop\` and run the command again`
        )
      )
    )
})

/** How `--mock` starts its mock: this very program, as `twitch-auth mock --background`. */
const spawnBackground = (configDir: string): ChildProcess.ChildProcess => {
  const script = process.argv[1] ?? ""
  const child = ChildProcess.spawn(
    process.execPath,
    [...process.execArgv, script, "mock", "--background", "--port", "0", "--config-dir", configDir],
    // detached, in a directory of its own: it outlives this command, and holds no other directory busy
    { detached: true, stdio: "ignore", env: process.env, cwd: configDir }
  )
  child.unref()
  return child
}

/** How long a starter waits for the mock it spawned to answer. */
const startTimeoutMillis = 20_000

const lockStale = (content: string, ageMillis: number): boolean => {
  const pid = Number(/"pid":(\d+)/.exec(content)?.[1] ?? 0)
  // A starter gives up after startTimeout; a lock older than that (plus a margin) was left by
  // one that died without removing it, as was one whose process has ended. A starter killed
  // between creating the lock and writing it leaves it empty: its age decides.
  return ageMillis > startTimeoutMillis + 5_000 || (pid > 0 && !isAlive(pid))
}

/**
 * The mock `--mock` commands share: the one registered in `configDir` if it answers, else a
 * new one started in the background (said once on stderr, through `out`).
 */
export const connect = (
  configDir: string,
  out: Output.Output
): Effect.Effect<MockHandle, CliError.CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const lockFile = path.join(configDir, startLockName)
    const started = yield* Clock.currentTimeMillis
    const deadline = started + 2 * startTimeoutMillis + 10_000
    yield* fs.makeDirectory(configDir, { recursive: true, mode: 0o700 }).pipe(
      Effect.mapError((error) =>
        CliError.localResource(
          "ConfigDirUnwritable",
          `cannot create the config directory ${JSON.stringify(configDir)}: ${error.message}`
        )
      )
    )
    while ((yield* Clock.currentTimeMillis) < deadline) {
      const registered = yield* read(configDir)
      if (Option.isSome(registered) && (yield* answers(registered.value))) return handle(registered.value)
      const mine = `${JSON.stringify({ pid: process.pid, id: randomId() })}\n`
      const locked = yield* fs.writeFileString(lockFile, mine, { flag: "wx", mode: 0o600 }).pipe(
        Effect.as(true),
        Effect.catchIf((error) => error._tag === "SystemError" && error.reason === "AlreadyExists", () =>
          Effect.succeed(false)),
        Effect.mapError((error) =>
          CliError.localResource("MockLock", `cannot create ${JSON.stringify(lockFile)}: ${error.message}`)
        )
      )
      if (!locked) {
        // another command is starting one: wait for its registration (or break its lock if it died)
        const held = yield* Effect.option(fs.readFileString(lockFile))
        const info = yield* Effect.option(fs.stat(lockFile))
        const now = yield* Clock.currentTimeMillis
        const age = Option.match(
          Option.flatMap(info, (i) =>
            i.mtime),
          {
            onNone: () => 0,
            onSome: (mtime) => now - mtime.getTime()
          }
        )
        if (Option.isSome(held) && lockStale(held.value, age)) {
          const again = yield* Effect.option(fs.readFileString(lockFile))
          if (Option.isSome(again) && again.value === held.value) yield* Effect.ignore(fs.remove(lockFile))
        } else {
          yield* Effect.sleep("50 millis")
        }
        continue
      }
      return yield* startBackground(configDir, out).pipe(
        Effect.ensuring(Effect.gen(function*() {
          const content = yield* Effect.option(fs.readFileString(lockFile))
          if (Option.isSome(content) && content.value === mine) yield* Effect.ignore(fs.remove(lockFile))
        }))
      )
    }
    return yield* Effect.fail(
      CliError.localResource(
        "MockDidNotStart",
        `no mock Twitch answered in ${configDir} within ${
          Math.round((2 * startTimeoutMillis + 10_000) / 1000)
        }s; run \`twitch-auth mock\` to see why`
      )
    )
  })

/** Under the start lock: spawns the background mock and waits for it to register and answer. */
const startBackground = (configDir: string, out: Output.Output) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    // one registered meanwhile (its starter released the lock just before we took it)
    const registered = yield* read(configDir)
    if (Option.isSome(registered) && (yield* answers(registered.value))) return handle(registered.value)
    const child = yield* Effect.sync(() => spawnBackground(configDir))
    let exitCode: number | null | undefined
    child.on("exit", (code) => {
      exitCode = code
    })
    child.on("error", () => {
      exitCode = -1
    })
    const deadline = (yield* Clock.currentTimeMillis) + startTimeoutMillis
    while ((yield* Clock.currentTimeMillis) < deadline) {
      if (exitCode !== undefined) {
        return yield* Effect.fail(
          CliError.localResource(
            "MockDidNotStart",
            `the background mock Twitch exited (code ${exitCode}) before it answered; run \`twitch-auth mock\` to see why`
          )
        )
      }
      const current = yield* read(configDir)
      if (Option.isSome(current) && current.value.pid === child.pid && (yield* answers(current.value))) {
        const minutes = Math.round((current.value.idleTimeoutSeconds ?? defaultIdleTimeoutSeconds) / 60)
        yield* out.info(
          `Started a mock Twitch for --mock commands at ${current.value.url} (pid ${current.value.pid}), registered in ${
            path.join(configDir, fileName)
          }.\nIt stops with \`twitch-auth mock --stop\`, by itself after ${minutes} minutes without requests, or when that file is removed or replaced.`
        )
        return handle(current.value)
      }
      yield* Effect.sleep("50 millis")
    }
    if (child.pid !== undefined) yield* Effect.sync(() => child.kill())
    return yield* Effect.fail(
      CliError.localResource(
        "MockDidNotStart",
        "the background mock Twitch did not answer within 20s; run `twitch-auth mock` to see why"
      )
    )
  })

/** `mock --stop`: asks the registered mock to stop, and waits until its process has ended. */
export const stop = (
  configDir: string,
  out: Output.Output
): Effect.Effect<void, CliError.CliError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const file = path.join(configDir, fileName)
    const registered = yield* read(configDir)
    if (Option.isNone(registered)) {
      return yield* out.result([`No mock Twitch is registered in ${configDir}.`], { stopped: false, configDir })
    }
    const mock = registered.value
    if (!(yield* answers(mock))) {
      yield* removeIfOwn(configDir, mock.id)
      return yield* out.result(
        [`The mock registered in ${file} (pid ${mock.pid}) no longer answered; removed its registration.`],
        { stopped: false, configDir, url: mock.url, pid: mock.pid }
      )
    }
    yield* control(mock, "stop", { method: "POST" }).pipe(Effect.ignore)
    const deadline = (yield* Clock.currentTimeMillis) + 15_000
    while (isAlive(mock.pid) && (yield* Clock.currentTimeMillis) < deadline) yield* Effect.sleep("20 millis")
    if (isAlive(mock.pid)) {
      return yield* Effect.fail(
        CliError.failure(
          "MockDidNotStop",
          `the mock at ${mock.url} (pid ${mock.pid}) was asked to stop but still runs after 15s`
        )
      )
    }
    yield* removeIfOwn(configDir, mock.id)
    yield* out.result([`Stopped the mock Twitch at ${mock.url} (pid ${mock.pid}).`], {
      stopped: true,
      configDir,
      url: mock.url,
      pid: mock.pid
    })
  })
