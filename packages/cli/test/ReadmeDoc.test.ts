/**
 * issue 12 #16: what the README shows is true as written. Its TypeScript snippets are the
 * example files `pnpm check` type-checks (without their header comment), and
 * `pnpm -s twitch-auth … --json` prints one JSON document on stdout.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Url from "node:url"
import { baseEnv, tempDir } from "./support.js"

const root = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "..", "..")
const read = (relative: string) => Fs.readFileSync(Path.join(root, relative), "utf8")
const withoutHeader = (source: string) => source.replace(/^\/\*\*[\s\S]*?\*\/\n/, "")
const tsBlocks = (markdown: string) => [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "")

describe("issue 12 #16: the README's snippets and commands", () => {
  it("issue 12 #16: the \"Use it\" snippet is examples/quickstart.ts", () => {
    const section = read("README.md").split("## Use it")[1] ?? ""
    assert.strictEqual(tsBlocks(section)[0], withoutHeader(read("examples/quickstart.ts")))
  })

  it("issue 12 #16: the \"Keeping tokens fresh\" snippet is examples/keepingFresh.ts (Users and userId defined)", () => {
    const section = read("README.md").split("## Keeping tokens fresh")[1] ?? ""
    const snippet = tsBlocks(section)[0] ?? ""
    assert.strictEqual(snippet, withoutHeader(read("examples/keepingFresh.ts")))
    assert.match(snippet, /^const Users = /m)
    assert.match(snippet, /^const userId = /m)
  })

  it("issue 16: the \"A fleet of processes\" snippet is examples/fleet.ts", () => {
    const section = read("README.md").split("### A fleet of processes")[1] ?? ""
    assert.strictEqual(tsBlocks(section)[0], withoutHeader(read("examples/fleet.ts")))
  })

  it("issue 12 #16: the README says how to get the pnpm it writes", () => {
    const readme = read("README.md")
    assert.include(readme, "npm i -g pnpm@10")
    assert.include(readme, "alias pnpm='npx -y pnpm@10'")
    // every `pnpm twitch-auth` it shows is the silent one
    assert.notMatch(readme, /pnpm twitch-auth/)
  })

  it("issue 12 #16: docs/testing.md says how to use @effect-twitch/testing before it is on a registry", () => {
    const guide = read("docs/testing.md")
    assert.notMatch(guide, /^pnpm add -D @effect-twitch\/testing/m)
    assert.include(guide, "workspace:*")
  })

  it("issue 12 #16: vitest.workspace.ts cites no file the repository lacks", () => {
    const cited = [...read("vitest.workspace.ts").matchAll(/\b([\w./-]+\.md)\b/g)].map((m) => m[1] ?? "")
    for (const file of cited) assert.isTrue(Fs.existsSync(Path.join(root, file)), file)
  })

  it(
    "issue 12 #16: `pnpm -s twitch-auth … --json` prints one JSON document on stdout (pnpm's banner stays off it)",
    async () => {
      const pnpm = (args: ReadonlyArray<string>) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const home = tempDir()
          const child = ChildProcess.spawn("npx", ["-y", "pnpm@10", ...args], {
            cwd: root,
            // the real HOME: npx's cache of pnpm lives there; the profiles in a fresh directory
            env: {
              ...baseEnv(home),
              HOME: process.env["HOME"] ?? home,
              TWITCH_AUTH_CONFIG_DIR: Path.join(home, "tokens")
            },
            stdio: ["ignore", "pipe", "pipe"]
          })
          let stdout = ""
          let stderr = ""
          child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
          child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
          child.on("close", (code) => resolve({ code, stdout, stderr }))
        })
      const silent = await pnpm(["-s", "twitch-auth", "profiles", "--json"])
      assert.strictEqual(silent.code, 0, silent.stderr)
      assert.deepInclude(JSON.parse(silent.stdout), { profiles: [] })
      // why the README writes -s: without it, pnpm's banner comes first on stdout
      const loud = await pnpm(["twitch-auth", "profiles", "--json"])
      assert.strictEqual(loud.code, 0, loud.stderr)
      assert.throws(() => JSON.parse(loud.stdout))
    },
    120_000
  )
})
