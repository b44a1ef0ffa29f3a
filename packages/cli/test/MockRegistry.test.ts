/**
 * issue 12 #11: `--mock` carries over between commands. The commands run as separate
 * processes, as a user types them: the first `--mock` command starts a mock Twitch in the
 * background (registered in the config dir), the next ones use it, `mock --stop` ends it.
 * Every test ends with no mock process left running.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { baseEnv, consentInBrowser, errorLine, fileMode, run, start, tempDir, user } from "./support.js"

const registrationFile = (configDir: string) => Path.join(configDir, ".twitch-auth-mock.json")

const readRegistration = (configDir: string): { pid: number; url: string; id: string } =>
  JSON.parse(Fs.readFileSync(registrationFile(configDir), "utf8"))

/** The pids of the `twitch-auth mock` processes serving `configDir` (Linux: from /proc). */
const mockProcesses = (configDir: string): Array<number> =>
  Fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    try {
      const args = Fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")
      const state = /\) (\S)/.exec(Fs.readFileSync(`/proc/${entry}/stat`, "utf8"))?.[1]
      return args.includes("mock") && args.includes(configDir) && state !== "Z" ? [Number(entry)] : []
    } catch {
      return []
    }
  })

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const state = /\) (\S)/.exec(Fs.readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1]
  return state !== "Z" && state !== "X"
}

const dirs: Array<string> = []

/** A fresh home whose config dir the test's mocks register in. */
const home = () => {
  const dir = tempDir()
  const configDir = Path.join(dir, "tokens")
  dirs.push(configDir)
  return { env: { ...baseEnv(dir), TWITCH_AUTH_CONFIG_DIR: configDir }, configDir }
}

const foreground: Array<ReturnType<typeof start>> = []

/** A `twitch-auth mock` run as in a terminal (ended by the test, or after it if it failed). */
const terminalMock = (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const mock = start(args, env)
  foreground.push(mock)
  return mock
}

// Whatever a test did, no mock it started is left running.
afterEach(() => {
  for (const configDir of dirs.splice(0)) {
    for (const pid of mockProcesses(configDir)) process.kill(pid, "SIGKILL")
  }
  for (const mock of foreground.splice(0)) if (mock.child.exitCode === null) mock.child.kill("SIGKILL")
})

const authorizeUrl = /http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/
const startedLine = /Started a mock Twitch for --mock commands at (http:\/\/127\.0\.0\.1:\d+) \(pid (\d+)\)/g
/** The same, without the `g` flag's state (for `assert.match`). */
const startedOnce = new RegExp(startedLine.source)

describe("issue 12 #11: --mock commands share one mock across processes", () => {
  it("issue 12 #11: login --mock, then validate, whoami, refresh, revoke, validate (exit 4) --mock, then mock --stop", async () => {
    const { configDir, env } = home()
    const login = start(["login", "--mock", "--no-open", "--scope", "chat:read"], env)
    const [url] = await login.waitForStderr(authorizeUrl)
    const started = [...login.stderr().matchAll(startedLine)]
    assert.strictEqual(started.length, 1, login.stderr())
    const pid = Number(started[0]?.[2])
    assert.include(login.stderr(), "twitch-auth mock --stop")
    assert.match(
      login.stderr(),
      /stops .* by itself after 30 minutes without requests, or when that file is removed or replaced/s
    )
    const page = await consentInBrowser(url)
    assert.strictEqual(page.status, 200)
    const loggedIn = await login.done
    assert.strictEqual(loggedIn.code, 0, loggedIn.stderr)
    assert.include(loggedIn.stdout, `Logged in as ${user.login}`)

    // the mock outlives the command that started it, registered 0600 in the config dir
    assert.isTrue(isRunning(pid))
    assert.strictEqual(readRegistration(configDir).pid, pid)
    assert.strictEqual(fileMode(registrationFile(configDir)), 0o600)
    assert.deepStrictEqual(mockProcesses(configDir), [pid])

    const validate = await run(["validate", "--mock", "--json"], env)
    assert.strictEqual(validate.code, 0, validate.stderr)
    assert.deepInclude(JSON.parse(validate.stdout), { valid: true, login: user.login, scopes: ["chat:read"] })
    assert.notInclude(validate.stderr, "Started a mock") // said once, by the command that started it

    const whoami = await run(["whoami", "--mock", "--json"], env)
    assert.strictEqual(whoami.code, 0, whoami.stderr)
    assert.deepInclude(JSON.parse(whoami.stdout), { login: user.login, refreshed: false })

    const refresh = await run(["refresh", "--mock"], env)
    assert.strictEqual(refresh.code, 0, refresh.stderr)
    assert.include(refresh.stdout, "Refreshed the token of profile mock")

    const revoke = await run(["revoke", "--mock"], env)
    assert.strictEqual(revoke.code, 0, revoke.stderr)
    assert.include(revoke.stdout, "Revoked the token of profile mock")

    const after = await run(["validate", "--mock"], env)
    assert.strictEqual(after.code, 4)
    assert.match(errorLine(after), /^no token in profile "mock"/)

    // still the one mock throughout
    assert.deepStrictEqual(mockProcesses(configDir), [pid])
    const stop = await run(["mock", "--stop"], env)
    assert.strictEqual(stop.code, 0, stop.stderr)
    assert.include(stop.stdout, `Stopped the mock Twitch at ${started[0]?.[1]} (pid ${pid}).`)
    assert.isFalse(isRunning(pid))
    assert.isFalse(Fs.existsSync(registrationFile(configDir)))
    assert.deepStrictEqual(mockProcesses(configDir), [])

    const again = await run(["mock", "--stop"], env)
    assert.strictEqual(again.code, 0, again.stderr)
    assert.include(again.stdout, "No mock Twitch is registered")
  })

  it("issue 12 #11: three --mock commands racing to start a mock end with one mock", async () => {
    const { configDir, env } = home()
    const results = await Promise.all([1, 2, 3].map(() => run(["app-token", "--mock", "--json"], env)))
    for (const result of results) assert.strictEqual(result.code, 0, result.stderr)
    const starts = results.flatMap((result) => [...result.stderr.matchAll(startedLine)])
    assert.strictEqual(starts.length, 1, results.map((r) => r.stderr).join("\n"))
    const pid = Number(starts[0]?.[2])
    assert.deepStrictEqual(mockProcesses(configDir), [pid])
    assert.isFalse(Fs.existsSync(Path.join(configDir, ".twitch-auth-mock.starting")))
    const stop = await run(["mock", "--stop"], env)
    assert.strictEqual(stop.code, 0, stop.stderr)
    assert.deepStrictEqual(mockProcesses(configDir), [])
  })

  it("issue 12 #11: a `twitch-auth mock` in a terminal is the one --mock commands use; Ctrl-C removes its registration", async () => {
    const { configDir, env } = home()
    const server = terminalMock(["mock", "--port", "0"], env)
    await new Promise<void>((resolve) => {
      const check = () => (server.stdout().includes("Ctrl-C") ? resolve() : setTimeout(check, 20))
      check()
    })
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout())?.[1]
    assert.strictEqual(readRegistration(configDir).url, url)
    const app = await run(["app-token", "--mock"], env)
    assert.strictEqual(app.code, 0, app.stderr)
    assert.notInclude(app.stderr, "Started a mock")
    server.child.kill("SIGINT")
    const stopped = await server.done
    assert.strictEqual(stopped.code, 130)
    assert.isFalse(Fs.existsSync(registrationFile(configDir)))
  })

  it("issue 12 #11: a `twitch-auth mock` started in a terminal replaces a background one, which then stops", async () => {
    const { configDir, env } = home()
    const first = await run(["app-token", "--mock"], env)
    assert.strictEqual(first.code, 0, first.stderr)
    const background = Number([...first.stderr.matchAll(startedLine)][0]?.[2])
    assert.isTrue(isRunning(background))
    const server = terminalMock(["mock", "--port", "0"], env)
    await new Promise<void>((resolve) => {
      const check = () => (!isRunning(background) ? resolve() : setTimeout(check, 20))
      check()
    })
    assert.strictEqual(readRegistration(configDir).pid, server.child.pid)
    // the background mock (the one with the config dir on its command line) is gone
    assert.deepStrictEqual(mockProcesses(configDir), [])
    server.child.kill("SIGINT")
    assert.strictEqual((await server.done).code, 130)
  })

  it("issue 12 #11: mock --stop stops a mock in a terminal too", async () => {
    const { configDir, env } = home()
    const server = terminalMock(["mock", "--port", "0", "--json"], env)
    await new Promise<void>((resolve) => {
      const check = () => (server.stdout().includes("\n") ? resolve() : setTimeout(check, 20))
      check()
    })
    const stop = await run(["mock", "--stop", "--json"], env)
    assert.strictEqual(stop.code, 0, stop.stderr)
    assert.deepInclude(JSON.parse(stop.stdout), { stopped: true, pid: server.child.pid })
    assert.strictEqual((await server.done).code, 0)
    assert.deepStrictEqual(mockProcesses(configDir), [])
  })

  it("issue 12 #11: a background mock stops by itself when idle, and removes its registration", async () => {
    const { configDir, env } = home()
    const mock = terminalMock(["mock", "--background", "--port", "0", "--idle-timeout", "1"], env)
    const ended = await mock.done
    assert.strictEqual(ended.code, 0, ended.stderr)
    assert.strictEqual(ended.stdout, "")
    assert.isFalse(Fs.existsSync(registrationFile(configDir)))
  })

  it("issue 12 #11: a background mock stops when its registration is replaced or removed", async () => {
    for (const change of ["replace", "remove"] as const) {
      const { configDir, env } = home()
      const mock = terminalMock(["mock", "--background", "--port", "0"], env)
      await new Promise<void>((resolve) => {
        const check = () => (Fs.existsSync(registrationFile(configDir)) ? resolve() : setTimeout(check, 20))
        check()
      })
      if (change === "replace") {
        const other = { ...readRegistration(configDir), id: "another" }
        Fs.writeFileSync(registrationFile(configDir), JSON.stringify(other))
      } else {
        Fs.rmSync(registrationFile(configDir))
      }
      const ended = await mock.done
      assert.strictEqual(ended.code, 0, `${change}: ${ended.stderr}`)
      // a replaced registration is the other mock's: left alone
      assert.strictEqual(Fs.existsSync(registrationFile(configDir)), change === "replace")
    }
  })

  it("issue 12 #11: a registered mock that no longer answers is replaced by a new one", async () => {
    const { configDir, env } = home()
    Fs.mkdirSync(configDir, { recursive: true, mode: 0o700 })
    const dead = {
      version: 1,
      id: "dead",
      secret: "x",
      pid: 999_999_999,
      url: "http://127.0.0.1:9",
      authUrl: "http://127.0.0.1:9/oauth2",
      helixUrl: "http://127.0.0.1:9/helix",
      background: true,
      idleTimeoutSeconds: 1800
    }
    Fs.writeFileSync(registrationFile(configDir), JSON.stringify(dead), { mode: 0o600 })
    const app = await run(["app-token", "--mock"], env)
    assert.strictEqual(app.code, 0, app.stderr)
    assert.match(app.stderr, startedOnce)
    assert.notStrictEqual(readRegistration(configDir).id, "dead")
    assert.strictEqual((await run(["mock", "--stop"], env)).code, 0)
  })

  it("issue 12 #11: a start lock left by a starter that died is broken, and a mock started", async () => {
    const { configDir, env } = home()
    Fs.mkdirSync(configDir, { recursive: true, mode: 0o700 })
    const lock = Path.join(configDir, ".twitch-auth-mock.starting")
    Fs.writeFileSync(lock, `${JSON.stringify({ pid: 999_999_999, id: "dead" })}\n`, { mode: 0o600 })
    const app = await run(["app-token", "--mock"], env)
    assert.strictEqual(app.code, 0, app.stderr)
    assert.match(app.stderr, startedOnce)
    assert.isFalse(Fs.existsSync(lock))
    assert.strictEqual((await run(["mock", "--stop"], env)).code, 0)
    assert.deepStrictEqual(mockProcesses(configDir), [])
  })

  it("issue 12 #11: demo keeps its own in-process mock: it registers nothing and leaves nothing running", async () => {
    const { configDir, env } = home()
    const demo = await run(["demo"], env)
    assert.strictEqual(demo.code, 0, demo.stderr)
    assert.isFalse(Fs.existsSync(registrationFile(configDir)))
    assert.deepStrictEqual(mockProcesses(configDir), [])
  })
})

describe("twitch-auth mock quirks", () => {
  /** The first line `mock --json` prints: its settings. */
  const settingsOf = async (server: ReturnType<typeof start>) => {
    await server.waitForStdout(/\n/)
    return JSON.parse(server.stdout().split("\n")[0] ?? "")
  }

  const authorizeAnswer = async (
    settings: { authUrl: string; clientId: string; redirectUris: ReadonlyArray<string> }
  ) => {
    const url = new URL(`${settings.authUrl}/authorize`)
    url.search = new URLSearchParams({
      client_id: settings.clientId,
      redirect_uri: settings.redirectUris[0] ?? "",
      response_type: "code",
      scope: "chat:read",
      state: "s"
    }).toString()
    return (await fetch(url, { redirect: "manual" })).status
  }

  it("issue 12 #9: TWITCH_MOCK_QUIRKS and --quirk set the quirks of twitch-auth mock, the flags winning", async () => {
    const { env } = home()
    const server = terminalMock(
      ["mock", "--port", "0", "--json", "--quirk", "autoConsent=true", "--quirk", "emptyScopes=empty"],
      { ...env, TWITCH_MOCK_QUIRKS: "autoConsent=false,rotateRefreshTokens=false" }
    )
    const settings = await settingsOf(server)
    assert.deepInclude(settings.quirks, { autoConsent: true, emptyScopes: "empty", rotateRefreshTokens: false })
    assert.strictEqual(await authorizeAnswer(settings), 302) // consents at once: the flag won
    const stop = await run(["mock", "--stop"], env)
    assert.strictEqual(stop.code, 0, stop.stderr)

    const plain = terminalMock(["mock", "--port", "0", "--json"], env)
    const defaults = await settingsOf(plain)
    assert.deepInclude(defaults.quirks, { autoConsent: false, rotateRefreshTokens: true })
    assert.strictEqual(await authorizeAnswer(defaults), 200) // the consent page, as Twitch
    assert.strictEqual((await run(["mock", "--stop"], env)).code, 0)
  })

  it("issue 12 #9: a bad quirk stops twitch-auth mock with exit 2, naming it and the valid ones", async () => {
    const { configDir, env } = home()
    const flag = await run(["mock", "--port", "0", "--quirk", "rotate=no"], env)
    assert.strictEqual(flag.code, 2, flag.stderr)
    assert.match(errorLine(flag), /^--quirk: unknown quirk "rotate".*rotateRefreshTokens=/)
    const variable = await run(["mock", "--port", "0"], { ...env, TWITCH_MOCK_QUIRKS: "emptyScopes=none" })
    assert.strictEqual(variable.code, 2, variable.stderr)
    assert.match(errorLine(variable), /^TWITCH_MOCK_QUIRKS: .*emptyScopes/)
    assert.isFalse(Fs.existsSync(registrationFile(configDir)))
  })
})
