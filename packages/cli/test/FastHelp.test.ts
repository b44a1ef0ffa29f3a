/**
 * issue 14 (cold start): `twitch-auth --help` is answered by the launcher
 * (`bin/twitch-auth.js`) from texts generated at build time, without loading the full CLI
 * (`bin/twitch-auth-cli.js`: @effect/cli, Effect, the SDK). What it prints must be exactly
 * what @effect/cli prints for the same command line, so the two cannot drift.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as HelpTexts from "../src/internal/helpTexts.js"
import { baseEnv, bin, tempDir } from "./support.js"

const cliBin = Path.join(Path.dirname(bin), "twitch-auth-cli.js")

interface Printed {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

const node = (file: string, args: ReadonlyArray<string>): Promise<Printed> =>
  new Promise((resolve, reject) => {
    ChildProcess.execFile(
      process.execPath,
      [file, ...args],
      { env: baseEnv(tempDir()), encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") reject(error)
        else resolve({ status: error === null ? 0 : Number(error.code), stdout, stderr })
      }
    )
  })

describe("issue 14: twitch-auth --help without loading the full CLI", () => {
  it("issue 14: the help table covers --help, -h, --version, no argument and every command's --help", () => {
    const keys = HelpTexts.commandLines.map(HelpTexts.key)
    for (
      const args of [[], ["--help"], ["-h"], ["--version"], ["login", "--help"], ["mock", "-h"], ["demo", "--help"]]
    ) {
      assert.include(keys, HelpTexts.key(args))
    }
  })

  for (const args of HelpTexts.commandLines) {
    it(`issue 14: \`twitch-auth ${args.join(" ")}\` prints byte for byte what @effect/cli prints`, async () => {
      const [fast, full] = await Promise.all([node(bin, args), node(cliBin, args)])
      assert.strictEqual(full.status, 0, full.stderr)
      assert.strictEqual(full.stderr, "")
      assert.isAbove(full.stdout.length, 0)
      assert.deepStrictEqual(fast, full)
    })
  }

  it("issue 14: the launcher answers --help on its own and loads the full CLI for any other command line", async () => {
    // the launcher alone, without twitch-auth-cli.js beside it
    const dir = tempDir()
    const alone = Path.join(dir, "twitch-auth.js")
    Fs.copyFileSync(bin, alone)
    const [help, full] = await Promise.all([node(alone, ["validate", "--help"]), node(cliBin, ["validate", "--help"])])
    assert.deepStrictEqual(help, full)
    const other = await node(alone, ["validate", "--json"])
    assert.notStrictEqual(other.status, 0)
    assert.include(other.stderr, "twitch-auth-cli.js")
    assert.include(other.stderr, "ERR_MODULE_NOT_FOUND")
  })

  it("issue 14: the launcher's help into a closed pipe ends as the full CLI's does (exit 0, no EPIPE crash)", async () => {
    /** Runs `file --help` with stdout closed on our side before the program writes. */
    const closedPipe = (file: string): Promise<{ readonly status: number | null; readonly stderr: string }> =>
      new Promise((resolve) => {
        const child = ChildProcess.spawn(process.execPath, [file, "--help"], {
          env: baseEnv(tempDir()),
          stdio: ["ignore", "pipe", "pipe"]
        })
        child.stdout.destroy()
        let stderr = ""
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString()
        })
        child.on("close", (status) => resolve({ status, stderr }))
      })
    const [fast, full] = await Promise.all([closedPipe(bin), closedPipe(cliBin)])
    assert.deepStrictEqual(full, { status: 0, stderr: "" })
    assert.deepStrictEqual(fast, full)
  })
})
