/**
 * issue 12 #15: failures a script can rely on. Every bad command line under `--json` is one
 * JSON document on stderr (exit 2); Ctrl-C is exit 130; `examples/quickstart.ts` exits
 * non-zero when Twitch refuses it.
 */
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Url from "node:url"
import { baseEnv, confidential, rawGet, run, start, tempDir } from "./support.js"

const root = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "..", "..")

describe("issue 12 #15: a bad command line under --json", () => {
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>, string]> = [
    ["an unknown command", ["frobnicate", "--json"], "Invalid subcommand for twitch-auth"],
    ["no command", ["--json"], "Invalid subcommand for twitch-auth"],
    ["an unknown flag", ["login", "--frobnicate", "--json"], "Received unknown argument: '--frobnicate'"],
    ["a flag missing its value", ["login", "--json", "--timeout"], "--timeout"],
    ["an option before its command", ["--json", "login"], "Invalid subcommand for twitch-auth"],
    ["an invalid value", ["login", "--timeout", "soon", "--json"], "'soon' is not a integer"],
    ["an unknown flag of mock", ["mock", "--json", "--prot", "1"], "--prot"]
  ]
  for (const [name, args, message] of cases) {
    it(`issue 12 #15: ${name} under --json is one JSON document {"error":…} on stderr, exit 2`, async () => {
      const result = await run(args, baseEnv(tempDir()))
      assert.strictEqual(result.code, 2, result.stderr)
      assert.strictEqual(result.stdout, "")
      const lines = result.stderr.trim().split("\n")
      assert.strictEqual(lines.length, 1, result.stderr)
      const document = JSON.parse(lines[0] ?? "")
      assert.deepStrictEqual(Object.keys(document), ["error"])
      assert.strictEqual(document.error.exitCode, 2)
      assert.isString(document.error.reason)
      assert.include(document.error.message, message)
    })
  }

  it("issue 12 #15: TWITCH_REQUEST_TIMEOUT=banana names the variable (exit 2), and --mock starts no mock for it", async () => {
    const home = tempDir()
    const configDir = Path.join(home, "tokens")
    const env = { ...baseEnv(home), TWITCH_AUTH_CONFIG_DIR: configDir, TWITCH_REQUEST_TIMEOUT: "banana" }
    const result = await run(["app-token", "--mock", "--json"], env)
    assert.strictEqual(result.code, 2, result.stderr)
    const document = JSON.parse(result.stderr.trim())
    assert.match(
      document.error.message,
      /^invalid configuration: TWITCH_REQUEST_TIMEOUT must be a duration such as "10 seconds".*got "banana"/
    )
    assert.notInclude(result.stderr, "Started a mock")
    assert.isFalse(Fs.existsSync(Path.join(configDir, ".twitch-auth-mock.json")))
  })

  it("issue 12 #15: without --json, @effect/cli's own text, exit 2", async () => {
    const result = await run(["frobnicate"], baseEnv(tempDir()))
    assert.strictEqual(result.code, 2)
    assert.include(result.stderr, "Invalid subcommand for twitch-auth")
    assert.throws(() => JSON.parse(result.stderr))
  })
})

layer(MockTwitchServer.layerTest, { excludeTestServices: true })("issue 12 #15: exit codes a script sees", (it) => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it.effect(`issue 12 #15: ${signal === "SIGINT" ? "Ctrl-C (SIGINT)" : signal} while login waits for the browser: exit 130, the callback closed, nothing stored`, () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const server = yield* MockTwitchServer.MockTwitchServer
        const home = tempDir()
        const configDir = Path.join(home, "tokens")
        const port = 20_000 + Math.floor(Math.random() * 20_000)
        const redirectUri = `http://127.0.0.1:${port}/callback`
        yield* twitch.registerClient({ ...confidential, redirectUris: [redirectUri] })
        const env = {
          ...baseEnv(home),
          TWITCH_AUTH_URL: server.authUrl,
          TWITCH_CLIENT_ID: confidential.clientId,
          TWITCH_CLIENT_SECRET: confidential.clientSecret,
          TWITCH_AUTH_CONFIG_DIR: configDir
        }
        const cli = start(["login", "--no-open", "--redirect-uri", redirectUri], env)
        yield* Effect.promise(() => cli.waitForStderr(/Waiting for Twitch to redirect/))
        cli.child.kill(signal)
        const result = yield* Effect.promise(() => cli.done)
        assert.strictEqual(result.code, 130, result.stderr)
        assert.isFalse(Fs.existsSync(Path.join(configDir, "default.json")))
        const after = yield* Effect.promise(() => rawGet(redirectUri).then(() => "answered", () => "refused"))
        assert.strictEqual(after, "refused")
      }))
  }

  it.effect(
    "issue 12 #15: examples/quickstart.ts exits 1 after saying Twitch rejected the credentials, 0 when it succeeds",
    () =>
      Effect.gen(function*() {
        const server = yield* MockTwitchServer.MockTwitchServer
        const quickstart = (secret: string) =>
          Effect.promise(() =>
            new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
              const child = ChildProcess.spawn(process.execPath, ["--import", "tsx", "examples/quickstart.ts"], {
                cwd: root,
                env: {
                  ...baseEnv(tempDir()),
                  TWITCH_AUTH_URL: server.authUrl,
                  TWITCH_CLIENT_ID: confidential.clientId,
                  TWITCH_CLIENT_SECRET: secret
                },
                stdio: ["ignore", "pipe", "pipe"]
              })
              let stdout = ""
              let stderr = ""
              child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
              child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
              child.on("close", (code) => resolve({ code, stdout, stderr }))
            })
          )
        const rejected = yield* quickstart("not-the-secret")
        assert.strictEqual(rejected.code, 1, rejected.stderr)
        assert.strictEqual(rejected.stdout, "")
        assert.strictEqual(rejected.stderr.trim().split("\n").length, 1, rejected.stderr)
        assert.match(rejected.stderr, /client/i)
        assert.notInclude(rejected.stderr, "not-the-secret")
        const accepted = yield* quickstart(confidential.clientSecret)
        assert.strictEqual(accepted.code, 0, accepted.stderr)
        assert.include(accepted.stdout, `app token for ${confidential.clientId}`)
      }),
    { timeout: 60_000 }
  )
})
