/**
 * The PostgreSQL server of the SQL store's tests (issue 16): the vitest `globalSetup` of
 * packages/sql (its vitest.config.ts names "../../scripts/postgres-global-setup.ts").
 *
 * - `EFFECT_TWITCH_PG_URL` set (a `postgres://` URL of a role that may CREATE DATABASE, as
 *   `.ci/run` exports): the server there must answer as PostgreSQL, or the run fails, saying
 *   so ("the PostgreSQL server at … does not answer").
 * - Unset: a throwaway server is started with `scripts/postgres.sh start` (Debian's
 *   `postgresql` binaries; a temporary directory, a free port on 127.0.0.1) and stopped, its
 *   directory removed, when the run ends (also if the run is killed: `--owner`). When no server
 *   can be started the run fails with how to install PostgreSQL or where to point the variable.
 *
 * No test is ever skipped for want of a server. The URL reaches the test workers through
 * `process.env.EFFECT_TWITCH_PG_URL`: vitest starts its workers after the global setups ran,
 * with the main process's environment (packages/sql/test/postgres.ts reads it).
 */
import * as ChildProcess from "node:child_process"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const variable = "EFFECT_TWITCH_PG_URL"
const script = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "postgres.sh")
/** A guard against a server that accepts the connection and then says nothing. */
const answerGuardMs = 30_000

const howToGetOne = [
  "The SQL store's tests need a PostgreSQL server. Either install PostgreSQL's binaries",
  "(Debian/Ubuntu: `sudo apt-get install -y postgresql`; no service needs to run: the tests start",
  "a throwaway server of their own with scripts/postgres.sh), or set EFFECT_TWITCH_PG_URL to the",
  "postgres:// URL of a running server and a role that may CREATE DATABASE."
].join("\n")

/** Where a URL points, without its password. */
const where = (url: URL): string =>
  `postgres://${url.username === "" ? "" : `${url.username}@`}${url.hostname}:${
    url.port === "" ? "5432" : url.port
  }${url.pathname}`

/** PostgreSQL's wire protocol: an int32, big-endian. */
const int32 = (value: number): Buffer => {
  const buffer = Buffer.alloc(4)
  buffer.writeInt32BE(value)
  return buffer
}

/**
 * Whether a PostgreSQL server answers at `url`: `undefined` when it does, else what went wrong
 * ("does not answer: …", "answered FATAL: …"). It asks
 * for TLS first (an SSLRequest); a server that accepts has answered (the check stops there). One
 * that declines gets a StartupMessage for the URL's user and database: an authentication request
 * (a password, or trust's AuthenticationOk followed by ReadyForQuery) is an answer; an
 * ErrorResponse (no such database, no such role) is reported as the server wrote it.
 */
export const answers = (url: URL): Promise<string | undefined> =>
  new Promise((resolve) => {
    const user = decodeURIComponent(url.username) || Os.userInfo().username
    const database = decodeURIComponent(url.pathname.slice(1)) || user
    const socket = Net.connect({ host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(url.port || "5432") })
    const done = (why: string | undefined): void => {
      clearTimeout(guard)
      socket.destroy()
      resolve(why)
    }
    const guard = setTimeout(() => done(`does not answer within ${answerGuardMs / 1000} s`), answerGuardMs)
    let received = Buffer.alloc(0)
    let startupSent = false
    socket.on("error", (error) => done(`does not answer: ${error.message}`))
    socket.on("close", () => done("does not answer: it closed the connection"))
    socket.on("connect", () => socket.write(Buffer.concat([int32(8), int32(80877103)])))
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk])
      if (!startupSent) {
        const reply = received[0]
        // "S": it would speak TLS, so it is a PostgreSQL server; checking the role would need TLS
        if (reply === 0x53) return done(undefined)
        if (reply !== 0x4e) return done(`does not answer as PostgreSQL (it answered 0x${reply?.toString(16)})`)
        received = received.subarray(1)
        startupSent = true
        const body = Buffer.from(`user\0${user}\0database\0${database}\0\0`)
        socket.write(Buffer.concat([int32(8 + body.length), int32(196608), body]))
      }
      // messages: a type byte, an int32 length (itself included), the body
      while (received.length >= 5) {
        const type = String.fromCharCode(received[0] ?? 0)
        const length = received.readInt32BE(1)
        if (received.length < 1 + length) return
        const body = received.subarray(5, 1 + length)
        received = received.subarray(1 + length)
        if (type === "E") {
          const fields = new Map<string, string>()
          for (const field of body.toString("utf8").split("\0")) {
            if (field.length > 1) fields.set(field[0] ?? "", field.slice(1))
          }
          return done(`answered ${fields.get("S") ?? "ERROR"}: ${fields.get("M") ?? "(no message)"}`)
        }
        // an authentication request other than AuthenticationOk: it answers; the password is
        // the tests' business
        if (type === "R" && body.readInt32BE(0) !== 0) return done(undefined)
        if (type === "Z") {
          socket.write(Buffer.concat([Buffer.from("X"), int32(4)]))
          return done(undefined)
        }
      }
    })
  })

interface Started {
  readonly url: string
  readonly dir: string
}

const start = (): Started | string => {
  const run = ChildProcess.spawnSync("bash", [script, "start", "--owner", String(process.pid)], {
    encoding: "utf8",
    // what it says on stderr (the server's version, port and directory) shows in the test output
    stdio: ["ignore", "pipe", "inherit"]
  })
  if (run.error !== undefined) return `bash ${script} start could not run: ${run.error.message}`
  if (run.status !== 0) return `bash ${script} start failed (it says why above)`
  const value = (name: string): string | undefined =>
    run.stdout.split("\n").find((line) => line.startsWith(`${name}=`))?.slice(name.length + 1)
  const url = value(variable)
  const dir = value("EFFECT_TWITCH_PG_DIR")
  if (url === undefined || dir === undefined) return `bash ${script} start printed no ${variable}`
  return { url, dir }
}

const stop = (dir: string): string | undefined => {
  const run = ChildProcess.spawnSync("bash", [script, "stop", dir], { encoding: "utf8", stdio: "inherit" })
  return run.status === 0 ? undefined : `bash ${script} stop ${dir} failed (it says why above)`
}

const parse = (raw: string): URL | undefined => {
  try {
    const url = new URL(raw)
    return url.protocol === "postgres:" || url.protocol === "postgresql:" ? url : undefined
  } catch {
    return undefined
  }
}

/** vitest's globalSetup: returns the teardown. */
export default async function setup(): Promise<() => Promise<void>> {
  const given = process.env[variable]
  if (given !== undefined && given !== "") {
    const url = parse(given)
    // the value itself is not repeated: it may hold a password
    if (url === undefined) return Promise.reject(new Error(`${variable} is not a postgres:// URL`))
    const why = await answers(url)
    if (why !== undefined) {
      return Promise.reject(
        new Error(`the PostgreSQL server at ${where(url)} (${variable}) ${why}`)
      )
    }
    console.log(`postgres-global-setup: the SQL tests use the PostgreSQL server at ${where(url)} (${variable})`)
    return () => Promise.resolve()
  }

  const started = start()
  if (typeof started === "string") return Promise.reject(new Error(`${started}.\n${howToGetOne}`))
  const url = parse(started.url)
  const why = url === undefined ? `printed ${started.url}, not a postgres:// URL` : await answers(url)
  if (why !== undefined) {
    stop(started.dir)
    return Promise.reject(new Error(`the PostgreSQL server scripts/postgres.sh started ${why}`))
  }
  process.env[variable] = started.url
  console.log(
    `postgres-global-setup: the SQL tests use a throwaway PostgreSQL server at ${started.url} (${started.dir}), stopped at the end`
  )
  return () => {
    delete process.env[variable]
    const failed = stop(started.dir)
    return failed === undefined ? Promise.resolve() : Promise.reject(new Error(failed))
  }
}
