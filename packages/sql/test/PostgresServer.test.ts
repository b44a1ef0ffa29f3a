/**
 * issue 16: the PostgreSQL server the SQL tests run against. `scripts/postgres.sh` makes a
 * throwaway one (a temporary directory, a free port on 127.0.0.1) and removes it; the vitest
 * globalSetup (`scripts/postgres-global-setup.ts`) checks the server EFFECT_TWITCH_PG_URL names,
 * or starts one, and fails, saying what to do, when there is none: the tests are never skipped.
 * Everything runs as .ci/run and vitest run it: the scripts in processes of their own.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import { client, serverUrl } from "./postgres.js"

const root = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "..", "..")
const script = Path.join(root, "scripts", "postgres.sh")
const setupModule = Path.join(root, "scripts", "postgres-global-setup.ts")

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const run = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Promise<Ran> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const valueOf = (stdout: string, name: string): string => {
  const line = stdout.split("\n").find((l) => l.startsWith(`${name}=`))
  assert.isDefined(line, `${name}= in ${stdout}`)
  return (line ?? "").slice(name.length + 1)
}

const start = async (...args: ReadonlyArray<string>): Promise<{ readonly url: URL; readonly dir: string }> => {
  const started = await run("bash", [script, "start", ...args])
  assert.strictEqual(started.code, 0, started.stderr)
  return {
    url: new URL(valueOf(started.stdout, "EFFECT_TWITCH_PG_URL")),
    dir: valueOf(started.stdout, "EFFECT_TWITCH_PG_DIR")
  }
}

/** Whether something accepts a TCP connection on 127.0.0.1:port. */
const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    socket.on("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.on("error", () => resolve(false))
  })

/** Resolves once `dir` no longer exists (inotify events, not a timer). */
const removed = (dir: string): Promise<void> =>
  new Promise((resolve) => {
    const watcher = Fs.watch(Path.dirname(dir), () => {
      if (!Fs.existsSync(dir)) {
        watcher.close()
        resolve()
      }
    })
    if (!Fs.existsSync(dir)) {
      watcher.close()
      resolve()
    }
  })

/** A port nobody listens on (the kernel's choice, released). */
const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = Net.createServer().listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** The global setup and then its teardown, in a process of their own, as vitest runs them. */
const globalSetup = (env: NodeJS.ProcessEnv): Promise<Ran> =>
  run(process.execPath, [
    "--import",
    "tsx",
    "--input-type=module",
    "-e",
    [
      "import { pathToFileURL } from \"node:url\"",
      "const { default: setup } = await import(pathToFileURL(process.argv[1]).href)",
      "try {",
      "  const teardown = await setup()",
      "  console.log(`EFFECT_TWITCH_PG_URL=${process.env.EFFECT_TWITCH_PG_URL}`)",
      "  await teardown()",
      "  console.log(`after teardown: ${process.env.EFFECT_TWITCH_PG_URL ?? \"unset\"}`)",
      "} catch (error) {",
      "  console.error(`setup failed: ${error.message}`)",
      "  process.exit(3)",
      "}"
    ].join("\n"),
    setupModule
  ], env)

const withoutUrl = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  delete env["EFFECT_TWITCH_PG_URL"]
  return env
}

describe("issue 16: the tests' PostgreSQL server", () => {
  it(
    "issue 16: postgres.sh start runs a server on a free port of 127.0.0.1, tuned for tests; stop stops it and deletes its directory",
    async () => {
      const { dir, url } = await start()
      const shared = await Effect.runPromise(serverUrl)
      assert.strictEqual(url.hostname, "127.0.0.1")
      assert.strictEqual(url.username, "postgres")
      // a second server beside the one the tests use: the port is whichever is free
      assert.notStrictEqual(url.port, shared.port)
      assert.isTrue(dir.startsWith(Os.tmpdir()), dir)
      const settings = await Effect.runPromise(
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) =>
            sql<{ readonly max: string; readonly fsync: string; readonly listen: string }>`SELECT
          current_setting('max_connections') AS max, current_setting('fsync') AS fsync,
          current_setting('listen_addresses') AS listen`
        ).pipe(Effect.provide(client(url.href)))
      )
      assert.deepStrictEqual(settings, [{ max: "300", fsync: "off", listen: "127.0.0.1" }])

      const stopped = await run("bash", [script, "stop", dir])
      assert.strictEqual(stopped.code, 0, stopped.stderr)
      assert.isFalse(Fs.existsSync(dir))
      assert.isFalse(await accepts(Number(url.port)))
      // stopping again (a trap after a failure) is not an error; a directory it did not make is left alone
      assert.strictEqual((await run("bash", [script, "stop", dir])).code, 0)
      const foreign = Fs.mkdtempSync(Path.join(Os.tmpdir(), "not-a-cluster-"))
      const refused = await run("bash", [script, "stop", foreign])
      assert.strictEqual(refused.code, 1)
      assert.include(refused.stderr, "not touching it")
      assert.isTrue(Fs.existsSync(foreign))
      Fs.rmSync(foreign, { recursive: true })
    },
    120_000
  )

  it("issue 16: a server started with --owner is stopped and deleted when its owner is killed (SIGKILL)", async () => {
    const owner = ChildProcess.spawn(process.execPath, ["-e", "setInterval(() => {}, 60_000)"], { stdio: "ignore" })
    const { dir, url } = await start("--owner", String(owner.pid))
    assert.isTrue(await accepts(Number(url.port)))
    const gone = removed(dir)
    owner.kill("SIGKILL")
    await gone
    assert.isFalse(await accepts(Number(url.port)))
  }, 120_000)

  it(
    "issue 16: without EFFECT_TWITCH_PG_URL the global setup starts a server, hands its URL to the tests, and stops it at teardown",
    async () => {
      const ran = await globalSetup(withoutUrl())
      assert.strictEqual(ran.code, 0, ran.stderr)
      const url = new URL(valueOf(ran.stdout, "EFFECT_TWITCH_PG_URL"))
      assert.strictEqual(url.hostname, "127.0.0.1")
      assert.include(ran.stdout, "the SQL tests use a throwaway PostgreSQL server at")
      assert.include(ran.stdout, "after teardown: unset")
      assert.include(ran.stderr, "stopped the server in")
      assert.isFalse(await accepts(Number(url.port)))
    },
    120_000
  )

  it(
    "issue 16: the global setup fails, saying so, when the server EFFECT_TWITCH_PG_URL names does not answer (its password not repeated)",
    async () => {
      const port = await closedPort()
      const ran = await globalSetup({
        ...process.env,
        EFFECT_TWITCH_PG_URL: `postgres://app:s3cret@127.0.0.1:${port}/app`
      })
      assert.strictEqual(ran.code, 3)
      assert.include(
        ran.stderr,
        `the PostgreSQL server at postgres://app@127.0.0.1:${port}/app (EFFECT_TWITCH_PG_URL) does not answer`
      )
      assert.notInclude(ran.stderr + ran.stdout, "s3cret")
    },
    120_000
  )

  it("issue 16: the global setup fails with the server's own words when it refuses the URL's database", async () => {
    const shared = await Effect.runPromise(serverUrl)
    const ran = await globalSetup({
      ...process.env,
      EFFECT_TWITCH_PG_URL: `postgres://postgres@127.0.0.1:${shared.port}/no_such_database`
    })
    assert.strictEqual(ran.code, 3)
    assert.include(ran.stderr, "answered FATAL: database \"no_such_database\" does not exist")
  }, 120_000)

  it("issue 16: the global setup fails when what answers at EFFECT_TWITCH_PG_URL is not PostgreSQL", async () => {
    const http = Net.createServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"))
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
    const address = http.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    try {
      const ran = await globalSetup({
        ...process.env,
        EFFECT_TWITCH_PG_URL: `postgres://postgres@127.0.0.1:${port}/postgres`
      })
      assert.strictEqual(ran.code, 3)
      assert.include(ran.stderr, "does not answer as PostgreSQL")
    } finally {
      http.close()
    }
  }, 120_000)

  it(
    "issue 16: without PostgreSQL's binaries the global setup fails with how to install them (no test is skipped)",
    async () => {
      const empty = Fs.mkdtempSync(Path.join(Os.tmpdir(), "no-postgres-"))
      try {
        const ran = await globalSetup({ ...withoutUrl(), EFFECT_TWITCH_PG_BINDIR: empty })
        assert.strictEqual(ran.code, 3)
        assert.include(ran.stderr, "has no initdb: install Debian's postgresql package")
        assert.include(ran.stderr, "sudo apt-get install -y postgresql")
        assert.include(ran.stderr, "or set EFFECT_TWITCH_PG_URL")
      } finally {
        Fs.rmSync(empty, { recursive: true })
      }
    },
    120_000
  )
})
