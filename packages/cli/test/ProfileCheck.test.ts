/**
 * issue 12 #12: `login` checks that the profile's token can be stored before it sends the
 * user to Twitch (consent page or device code): a profile it could not write fails first,
 * with exit 6 and the token store's message, and Twitch is never asked.
 */
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { errorLine, mockEnv, run } from "./support.js"

const MockLive = MockTwitchServer.layer().pipe(Layer.provideMerge(FakeTwitch.layer({ deviceIntervalSeconds: 1 })))

/** What each broken profile looks like, and the message the store gives for it. */
const brokenProfiles: ReadonlyArray<{
  readonly name: string
  readonly make: (paths: { readonly configDir: string; readonly tokenFile: string }) => Record<string, string>
  readonly message: RegExp
}> = [
  {
    name: "a corrupted profile file",
    make: ({ configDir, tokenFile }) => {
      Fs.mkdirSync(configDir, { recursive: true, mode: 0o700 })
      Fs.writeFileSync(tokenFile, "{ not json", { mode: 0o600 })
      return {}
    },
    message: /^The token store at ".*default\.json" is corrupted: .*repair or delete the file/
  },
  {
    name: "a profile file in a newer format",
    make: ({ configDir, tokenFile }) => {
      Fs.mkdirSync(configDir, { recursive: true, mode: 0o700 })
      Fs.writeFileSync(tokenFile, JSON.stringify({ version: 99, tokens: {} }), { mode: 0o600 })
      return {}
    },
    message: /uses an unsupported format/
  },
  {
    name: "a symlinked profile file",
    make: ({ configDir, tokenFile }) => {
      Fs.mkdirSync(configDir, { recursive: true, mode: 0o700 })
      const elsewhere = Path.join(Path.dirname(configDir), "elsewhere.json")
      Fs.writeFileSync(elsewhere, JSON.stringify({ version: 1, tokens: {} }), { mode: 0o600 })
      Fs.symlinkSync(elsewhere, tokenFile)
      return {}
    },
    message: /^Refusing to use the token store at .*: the token file is a symbolic link/
  },
  {
    // a config dir that cannot be created (its parent is a file): unwritable even for root
    name: "a config dir that cannot be made",
    make: ({ configDir }) => {
      Fs.writeFileSync(configDir, "a file, not a directory")
      return { TWITCH_AUTH_CONFIG_DIR: Path.join(configDir, "sub") }
    },
    message: /^Could not read or write the token store at .*could not create the directory/
  },
  {
    // the store's write lock cannot be taken (its name is taken by a directory nobody removes)
    name: "a write lock that cannot be taken",
    make: ({ configDir }) => {
      Fs.mkdirSync(Path.join(configDir, ".default.json.lock"), { recursive: true, mode: 0o700 })
      return {}
    },
    message: /^Could not read or write the token store at .*lock file/
  },
  ...(process.getuid?.() === 0 ? [] : [{
    // root writes anywhere: this case runs for other users only (the one above runs for all)
    name: "a read-only config dir",
    make: ({ configDir }: { readonly configDir: string }) => {
      Fs.mkdirSync(configDir, { recursive: true, mode: 0o500 })
      return {}
    },
    message: /^Could not read or write the token store/
  }])
]

layer(MockLive, { excludeTestServices: true })(
  "issue 12 #12: the profile is checked before the user is sent to Twitch",
  (it) => {
    for (const broken of brokenProfiles) {
      it.effect(`issue 12 #12: login (code) with ${broken.name}: exit 6 before the authorize URL is shown`, () =>
        Effect.gen(function*() {
          const twitch = yield* FakeTwitch.FakeTwitch
          const { configDir, env, tokenFile } = yield* mockEnv
          const extra = broken.make({ configDir, tokenFile })
          const authorizes = yield* twitch.calls("authorize")
          // --timeout 1: without the check, the login would wait for a redirect and end in exit 3
          const result = yield* Effect.promise(() =>
            run(["login", "--no-open", "--timeout", "1"], { ...env, ...extra })
          )
          assert.strictEqual(result.code, 6, result.stderr)
          assert.notInclude(result.stderr, "/oauth2/authorize")
          assert.notInclude(result.stderr, "Open this URL")
          assert.match(errorLine(result), broken.message)
          assert.strictEqual(yield* twitch.calls("authorize"), authorizes)
        }))

      it.effect(`issue 12 #12: login --device with ${broken.name}: exit 6 before a device code is asked for`, () =>
        Effect.gen(function*() {
          const twitch = yield* FakeTwitch.FakeTwitch
          const { configDir, env, tokenFile } = yield* mockEnv
          const extra = broken.make({ configDir, tokenFile })
          const devices = yield* twitch.calls("device")
          const result = yield* Effect.promise(() => run(["login", "--device", "--json"], { ...env, ...extra }))
          assert.strictEqual(result.code, 6, result.stderr)
          assert.notInclude(result.stderr, "enter the code")
          assert.match(JSON.parse(result.stderr.trim().split("\n").at(-1) ?? "").error.message, broken.message)
          assert.strictEqual(yield* twitch.calls("device"), devices)
        }))
    }

    it.effect(
      "issue 12 #12: login with the profile's write lock held by a live process: exit 6 (lock timeout) before the authorize URL",
      () =>
        Effect.gen(function*() {
          const twitch = yield* FakeTwitch.FakeTwitch
          const { configDir, env } = yield* mockEnv
          Fs.mkdirSync(configDir, { recursive: true, mode: 0o700 })
          // a holder that renews its lock as the store's own holders do (a new beat every 300 ms)
          const lock = Path.join(configDir, ".default.json.lock")
          const owner = "ab".repeat(16)
          let beat = 0
          const renew = () => {
            const next = `${lock}.renew.tmp`
            Fs.writeFileSync(
              next,
              `${JSON.stringify({ owner, beat: beat++, stale: 2000, pid: process.pid, since: "now" })}\n`
            )
            Fs.renameSync(next, lock)
          }
          renew()
          const renewing = setInterval(renew, 300)
          const authorizes = yield* twitch.calls("authorize")
          const result = yield* Effect.promise(() => run(["login", "--no-open", "--timeout", "1"], env)).pipe(
            Effect.ensuring(Effect.sync(() => clearInterval(renewing)))
          )
          assert.strictEqual(result.code, 6, result.stderr)
          assert.notInclude(result.stderr, "/oauth2/authorize")
          assert.match(errorLine(result), /^Could not lock the token store at .*timed out after 30s/)
          assert.strictEqual(yield* twitch.calls("authorize"), authorizes)
        }),
      { timeout: 90_000 }
    )

    it.effect("issue 12 #12: the check writes nothing: a login into a fresh profile still stores the token, an existing one is untouched until replaced", () =>
      Effect.gen(function*() {
        const { configDir, env, tokenFile } = yield* mockEnv
        Fs.mkdirSync(configDir, { recursive: true, mode: 0o700 })
        const stored = JSON.stringify({ version: 1, tokens: {} })
        Fs.writeFileSync(tokenFile, stored, { mode: 0o600 })
        // a login that fails after the check (no redirect in time) leaves the file as it was
        const result = yield* Effect.promise(() => run(["login", "--no-open", "--timeout", "1"], env))
        assert.strictEqual(result.code, 3, result.stderr)
        assert.strictEqual(Fs.readFileSync(tokenFile, "utf8"), stored)
        assert.deepStrictEqual(Fs.readdirSync(configDir).sort(), ["default.json"])
      }))
  }
)
