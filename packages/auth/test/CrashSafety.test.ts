/**
 * Crash-safe token storage, with real processes: a child refreshing through the file store
 * is killed with SIGKILL at random points, again and again; and two processes share one
 * token file of a public client, whose refresh tokens are single-use.
 */
import { TokenStore } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { afterAll, assert, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { recordFigures } from "./figures.js"
import { issueToken, refreshCount } from "./lifecycle.js"
import { confidential, publicClient, user } from "./utils.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../..")
const refresher = Path.join(root, "packages/auth/test/fixtures/refresher.ts")

interface Child {
  readonly process: ChildProcess.ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
}

const spawn = (args: ReadonlyArray<string>): Child => {
  const child = ChildProcess.spawn(process.execPath, ["--import", "tsx", refresher, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { process: child, output: () => output, exited }
}

/** Resolves when the child has printed `lines` refresh lines (or exited). */
const refreshedAtLeast = (child: Child, lines: number) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const check = () => {
        if ((child.output().match(/^refreshed /gm) ?? []).length >= lines || child.process.exitCode !== null) {
          resolve()
        } else {
          setTimeout(check, 2)
        }
      }
      check()
    })
  )

const Env = Layer.mergeAll(
  MockTwitchServer.layer().pipe(Layer.provideMerge(FakeTwitch.layer())),
  NodeContext.layer
)

/** What the runs survived: SIGKILLs, and refreshes by two processes on one file. */
const survived = { kills: 0, sharedFileRefreshes: 0 }
afterAll(() => recordFigures("crash-safety", survived))

layer(Env, { excludeTestServices: true })("crash-safe token storage", (it) => {
  it.scoped("SIGKILL at random points: the file always decodes and holds a token Twitch accepts", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const twitch = yield* FakeTwitch.FakeTwitch
      const server = yield* MockTwitchServer.MockTwitchServer
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = Path.join(dir, "tokens.json")
      const store = yield* TokenStore.makeFile(file)
      yield* store.set(user.userId, yield* issueToken("confidential"))
      yield* twitch.resetCounters()

      // each child starts a Node process (about 1 s, more on a loaded machine)
      const kills = 8
      for (let i = 0; i < kills; i++) {
        const child = spawn([server.authUrl, file, confidential.clientId, confidential.clientSecret, user.userId, "forever"])
        yield* refreshedAtLeast(child, 1 + Math.floor(Math.random() * 4))
        // then a random moment more, so the kill lands anywhere in the refresh cycle
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, Math.random() * 15)))
        child.process.kill("SIGKILL")
        yield* Effect.promise(() => child.exited)
        assert.notMatch(child.output(), /failed|defect/, child.output())

        const stored = Option.getOrThrow(yield* store.get(user.userId))
        assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(stored.accessToken)), `after kill ${i + 1}`)
        assert.isTrue(yield* twitch.isRefreshTokenValid(Redacted.value(stored.refreshToken)), `after kill ${i + 1}`)
        survived.kills++
      }
      assert.isAtLeast(yield* refreshCount, kills, "the children really refreshed")
      // no temporary file is left behind for long: at most the one a kill interrupted
      const leftovers = (yield* fs.readDirectory(dir)).filter((name) => name.endsWith(".tmp"))
      assert.isAtMost(leftovers.length, kills)
    }), 180_000)

  it.scoped("two processes sharing one public client's token file never spend a refresh token twice", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const twitch = yield* FakeTwitch.FakeTwitch
      const server = yield* MockTwitchServer.MockTwitchServer
      const dir = yield* fs.makeTempDirectoryScoped()
      const file = Path.join(dir, "tokens.json")
      const store = yield* TokenStore.makeFile(file)
      yield* store.set(user.userId, yield* issueToken("public"))
      yield* twitch.resetCounters()

      const args = [server.authUrl, file, publicClient.clientId, "-", user.userId, "300"]
      const children = [spawn(args), spawn(args)]
      const codes = yield* Effect.promise(() => Promise.all(children.map((c) => c.exited)))
      for (const [i, child] of children.entries()) {
        assert.strictEqual(codes[i], 0, child.output())
        assert.strictEqual((child.output().match(/^refreshed /gm) ?? []).length, 300)
      }
      const stored = Option.getOrThrow(yield* store.get(user.userId))
      assert.isTrue(yield* twitch.isRefreshTokenValid(Redacted.value(stored.refreshToken)))
      assert.isTrue(yield* twitch.isAccessTokenValid(Redacted.value(stored.accessToken)))
      assert.isAtLeast(yield* refreshCount, 300)
      survived.sharedFileRefreshes += 600
    }), 180_000)
})
