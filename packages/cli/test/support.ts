/**
 * Running the built `twitch-auth` as a separate process, as a user would.
 */
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import { afterAll } from "vitest"

export const bin = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "bin", "twitch-auth.js")

export const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
export const [user] = FakeTwitch.defaultSeed.users

export interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A running `twitch-auth`: its output so far, and its end. */
export interface Running {
  readonly child: ChildProcess.ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the first match of `pattern` in stderr (rejects if the process ends first). */
  readonly waitForStderr: (pattern: RegExp) => Promise<RegExpMatchArray>
  /** The same for stdout. */
  readonly waitForStdout: (pattern: RegExp) => Promise<RegExpMatchArray>
  readonly done: Promise<Result>
}

/** A clean environment: no TWITCH_* from the machine running the tests, a fresh HOME. */
export const baseEnv = (
  home: string
): { readonly PATH: string; readonly HOME: string; readonly XDG_CONFIG_HOME: string } => ({
  PATH: process.env["PATH"] ?? "",
  HOME: home,
  XDG_CONFIG_HOME: Path.join(home, ".config")
})

export const start = (args: ReadonlyArray<string>, env: Record<string, string>): Running => {
  const child = ChildProcess.spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  const waiters: Array<() => void> = []
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
    for (const wake of waiters.splice(0)) wake()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
    for (const wake of waiters.splice(0)) wake()
  })
  const done = new Promise<Result>((resolve) => {
    child.on("close", (code) => {
      for (const wake of waiters.splice(0)) wake()
      resolve({ code, stdout, stderr })
    })
  })
  let exited = false
  void done.then(() => {
    exited = true
  })
  const waitFor = (output: () => string) => (pattern: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const match = output().match(pattern)
        if (match !== null) return resolve(match)
        if (exited) return reject(new Error(`twitch-auth exited before printing ${pattern}: ${stderr}`))
        waiters.push(check)
      }
      check()
    })
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStderr: waitFor(() => stderr),
    waitForStdout: waitFor(() => stdout),
    done
  }
}

export const run = (args: ReadonlyArray<string>, env: Record<string, string>): Promise<Result> => start(args, env).done

/**
 * The temporary directories made by {@link tempDir}: removed once the tests of the file that
 * made them have run (the hook is registered when a test file imports this module).
 */
const tempDirs: Array<string> = []
afterAll(() => {
  for (const dir of tempDirs.splice(0)) Fs.rmSync(dir, { recursive: true, force: true })
})

/** A fresh temporary directory (profiles, token files), removed after the test file's tests. */
export const tempDir = (): string => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "twitch-auth-test-"))
  tempDirs.push(dir)
  return dir
}

/** A port nobody listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Holds a port on 127.0.0.1 until `close`. */
export const occupyPort = (): Promise<{ readonly port: number; readonly close: () => Promise<void> }> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolve({ port, close: () => new Promise((done) => server.close(() => done())) })
    })
  })

/**
 * Where the mock sends the browser for the authorize URL once the user clicks `decision` on
 * its consent page (or at once, with the `autoConsent` quirk): the redirect, not followed.
 */
export const consentRedirect = (
  authorizeUrl: string,
  decision: "authorize" | "cancel" = "authorize"
): Promise<string> =>
  Effect.runPromise(MockTwitchServer.consent(authorizeUrl, decision).pipe(Effect.provide(FetchHttpClient.layer)))

/**
 * What a person in a browser does with the authorize URL: opens the mock's consent page,
 * clicks `decision`, and the browser follows the redirect to the callback.
 */
export const consentInBrowser = async (
  authorizeUrl: string,
  decision: "authorize" | "cancel" = "authorize"
): Promise<{ readonly status: number; readonly body: string; readonly location: string }> => {
  const location = await consentRedirect(authorizeUrl, decision)
  const callback = await fetch(location)
  return { status: callback.status, body: await callback.text(), location }
}

/** {@link consentInBrowser}, without the redirect's address. */
export const followLikeABrowser = async (
  authorizeUrl: string,
  decision: "authorize" | "cancel" = "authorize"
): Promise<{ readonly status: number; readonly body: string }> => {
  const { body, status } = await consentInBrowser(authorizeUrl, decision)
  return { status, body }
}

/** The one line of a failure, without the `twitch-auth: ` prefix. */
export const errorLine = (result: Result): string => {
  const lines = result.stderr.trim().split("\n")
  return (lines.at(-1) ?? "").replace(/^twitch-auth: /, "")
}

export const fileMode = (path: string): number => Fs.statSync(path).mode & 0o777

/**
 * A GET over a real socket with a chosen `Host` header (fetch cannot set one): what a local
 * process, or a web page whose DNS name was rebound to 127.0.0.1, can send to the callback;
 * `null` sends none.
 */
export const rawGet = (
  url: string,
  host: string | null = new URL(url).host
): Promise<{ readonly status: number; readonly body: string }> =>
  new Promise((resolve, reject) => {
    const target = new URL(url)
    const request = Http.request(
      {
        host: target.hostname.replace(/^\[|\]$/g, ""),
        port: target.port,
        path: target.pathname + target.search,
        method: "GET",
        // null: no Host header at all (Node would otherwise add one)
        ...(host === null ? { setHost: false } : { headers: { host } })
      },
      (response) => {
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => {
          body += chunk
        })
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
      }
    )
    request.on("error", reject)
    request.end()
  })

/** The environment pointing `twitch-auth` at the mock server of the test, with its own config dir. */
export const mockEnv = Effect.gen(function*() {
  const server = yield* MockTwitchServer.MockTwitchServer
  const home = tempDir()
  const configDir = Path.join(home, "tokens")
  const env = {
    ...baseEnv(home),
    TWITCH_AUTH_URL: server.authUrl,
    TWITCH_CLIENT_ID: confidential.clientId,
    TWITCH_CLIENT_SECRET: confidential.clientSecret,
    TWITCH_AUTH_CONFIG_DIR: configDir
  }
  return { env, configDir, tokenFile: Path.join(configDir, "default.json") }
})
