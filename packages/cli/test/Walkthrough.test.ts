/**
 * The README's CLI walkthrough, run as written: the commands of its two `sh` blocks, in
 * their order, each as its own process (what `twitch-auth` is aliased to there: `node
 * packages/cli/bin/twitch-auth.js`), with the person's part done the way they would: the
 * exports pasted from the mock's output, the browser's click on Authorize sent over HTTP,
 * the mock's curl run with the code `login --device` showed.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Url from "node:url"
import { baseEnv, consentInBrowser, errorLine, run, start, tempDir, user } from "./support.js"

const readme = Fs.readFileSync(
  Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "..", "..", "README.md"),
  "utf8"
)

/** The `twitch-auth …` command lines of the README's `sh` block that starts with `first`, comments dropped. */
const walkthrough = (first: string): Array<Array<string>> => {
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "").find((b) => b.startsWith(first))
  assert.isDefined(block, `no sh block starting with ${first}`)
  return (block ?? "").split("\n").map((line) => line.replace(/#.*$/, "").trim()).filter((line) => line.length > 0).map(
    (line) => {
      const [command, ...args] = line.split(/\s+/)
      assert.strictEqual(command, "twitch-auth", line)
      return args
    }
  )
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const state = /\) (\S)/.exec(Fs.readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1]
  return state !== "Z" && state !== "X"
}

const cleanup: Array<() => void> = []
afterEach(() => {
  for (const f of cleanup.splice(0)) f()
})

const curl = (args: ReadonlyArray<string>): Promise<{ code: number | null; stdout: string }> =>
  new Promise((resolve) => {
    const child = ChildProcess.spawn("curl", ["-sS", ...args], { stdio: ["ignore", "pipe", "inherit"] })
    let stdout = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.on("close", (code) => resolve({ code, stdout }))
  })

const authorizeUrl = /http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/
const userCode = /enter the code:\s+(\S+)/

describe("the README's CLI walkthrough", () => {
  it("issue 12 #16: the README's CLI walkthrough, run as written: mock in one terminal; login, login --device, whoami, revoke in another", async () => {
    const steps = walkthrough("twitch-auth mock ")
    assert.deepStrictEqual(steps, [
      ["mock"],
      ["login", "--no-open", "--scope", "chat:read"],
      ["login", "--device"],
      ["whoami"],
      ["revoke"]
    ])
    const [mockArgs, loginArgs, deviceArgs, whoamiArgs, revokeArgs] = steps
    const home = tempDir()

    // terminal 1
    const mock = start(mockArgs ?? [], baseEnv(home))
    cleanup.push(() => mock.child.kill("SIGKILL"))
    await new Promise<void>((resolve, reject) => {
      const check = () =>
        mock.stdout().includes("Ctrl-C")
          ? resolve()
          : mock.child.exitCode !== null
          ? reject(new Error(mock.stderr()))
          : setTimeout(check, 20)
      check()
    })
    const printed = mock.stdout()
    const exports = Object.fromEntries([...printed.matchAll(/^\s*export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]))
    assert.includeMembers(Object.keys(exports), [
      "TWITCH_AUTH_URL",
      "TWITCH_HELIX_URL",
      "TWITCH_CLIENT_ID",
      "TWITCH_CLIENT_SECRET"
    ])
    const approve = /curl -X POST '([^']+)'/.exec(printed)?.[1]
    assert.isDefined(approve)

    // terminal 2, after pasting the exports (same user, same HOME)
    const env = { ...baseEnv(home), ...exports }
    const login = start(loginArgs ?? [], env)
    const [url] = await login.waitForStderr(authorizeUrl)
    const page = await consentInBrowser(url) // the browser: open the URL, click Authorize
    assert.strictEqual(page.status, 200)
    const loggedIn = await login.done
    assert.strictEqual(loggedIn.code, 0, loggedIn.stderr)
    assert.include(loggedIn.stdout, `Logged in as ${user.login}`)

    const device = start(deviceArgs ?? [], env)
    const [, code] = await device.waitForStderr(userCode)
    const approved = await curl(["-X", "POST", (approve ?? "").replace("<code>", code ?? "")])
    assert.strictEqual(approved.code, 0)
    const deviceDone = await device.done
    assert.strictEqual(deviceDone.code, 0, deviceDone.stderr)
    assert.include(deviceDone.stdout, `Logged in as ${user.login}`)

    const whoami = await run(whoamiArgs ?? [], env)
    assert.strictEqual(whoami.code, 0, whoami.stderr)
    assert.include(whoami.stdout, `(login ${user.login}, user id ${user.userId})`)

    const revoke = await run(revokeArgs ?? [], env)
    assert.strictEqual(revoke.code, 0, revoke.stderr)
    assert.include(revoke.stdout, "Revoked the token of profile default")

    // terminal 1: Ctrl-C
    mock.child.kill("SIGINT")
    const stopped = await mock.done
    assert.strictEqual(stopped.code, 130)
    assert.isFalse(Fs.existsSync(Path.join(home, ".config", "effect-twitch", ".twitch-auth-mock.json")))
  })

  it("issue 12 #16: the README's CLI walkthrough with --mock, run as written: login, validate, whoami, revoke, then mock --stop", async () => {
    const steps = walkthrough("twitch-auth login --mock")
    assert.deepStrictEqual(steps, [
      ["login", "--mock", "--no-open"],
      ["validate", "--mock"],
      ["whoami", "--mock"],
      ["revoke", "--mock"],
      ["mock", "--stop"]
    ])
    const [loginArgs, validateArgs, whoamiArgs, revokeArgs, stopArgs] = steps
    const env = baseEnv(tempDir())
    const login = start(loginArgs ?? [], env)
    const [url] = await login.waitForStderr(authorizeUrl)
    const [, pid] = await login.waitForStderr(/\(pid (\d+)\)/)
    cleanup.push(() => {
      if (isRunning(Number(pid))) process.kill(Number(pid), "SIGKILL")
    })
    await consentInBrowser(url)
    const loggedIn = await login.done
    assert.strictEqual(loggedIn.code, 0, loggedIn.stderr)

    const validate = await run(validateArgs ?? [], env)
    assert.strictEqual(validate.code, 0, validate.stderr)
    assert.include(validate.stdout, "The token of profile mock is valid.")
    const whoami = await run(whoamiArgs ?? [], env)
    assert.strictEqual(whoami.code, 0, whoami.stderr)
    assert.include(whoami.stdout, `(login ${user.login}, user id ${user.userId})`)
    const revoke = await run(revokeArgs ?? [], env)
    assert.strictEqual(revoke.code, 0, revoke.stderr)
    const stop = await run(stopArgs ?? [], env)
    assert.strictEqual(stop.code, 0, stop.stderr)
    assert.isFalse(isRunning(Number(pid)))
    // and the profile is empty again: validate says so (exit 4)
    const after = await run(validateArgs ?? [], env)
    assert.strictEqual(after.code, 4)
    assert.match(errorLine(after), /^no token in profile "mock"/)
    const stopAgain = await run(stopArgs ?? [], env)
    assert.strictEqual(stopAgain.code, 0)
  })
})
