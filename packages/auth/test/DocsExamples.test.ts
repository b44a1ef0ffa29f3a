/**
 * Issue 13 #4: JSDoc `@example` blocks are type-checked by `pnpm check`
 * (`scripts/docs-examples.ts`). The script runs here as `pnpm check` runs it, in a process of
 * its own, on a source directory with one example that compiles and one that does not.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../..")

const source = (body: string) =>
  [
    "/**",
    " * A helper.",
    " *",
    " * @example",
    " * ```ts",
    ...body.split("\n").map((line) => ` * ${line}`),
    " * ```",
    " *",
    " * @since 0.1.0",
    " */",
    "export const helper = 1",
    ""
  ].join("\n")

const check = (files: Record<string, string>) => {
  const dir = Fs.mkdtempSync(Path.join(root, "build", "docs-examples-test-"))
  try {
    for (const [name, text] of Object.entries(files)) Fs.writeFileSync(Path.join(dir, name), text)
    const run = spawnSync(process.execPath, ["--import", "tsx", Path.join(root, "scripts/docs-examples.ts"), dir], {
      cwd: root,
      encoding: "utf8"
    })
    return { status: run.status, output: `${run.stdout}${run.stderr}`, dir: Path.relative(root, dir) }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe("issue 13 #4: @example blocks are type-checked", () => {
  it(
    "an example that uses an undeclared name fails the check, at its line in the source; one that compiles passes",
    () => {
      Fs.mkdirSync(Path.join(root, "build"), { recursive: true })
      const good = source([
        "import { TwitchScope, TwitchSession } from \"@effect-twitch/auth\"",
        "import { Effect } from \"effect\"",
        "",
        "const canManagePolls = Effect.map(",
        "  Effect.flatMap(TwitchSession.TwitchSession, (session) => session.token),",
        "  (token) => TwitchScope.covers(token.scopes, [\"channel:manage:polls\"])",
        ")"
      ].join("\n"))
      const bad = source([
        "import { TwitchScope } from \"@effect-twitch/auth\"",
        "",
        "TwitchScope.covers(token.scopes, [\"channel:manage:polls\"])"
      ].join("\n"))
      const passing = check({ "Good.ts": good })
      assert.strictEqual(passing.status, 0, passing.output)
      assert.include(passing.output, "1 @example blocks checked, 0 errors")
      const failing = check({ "Good.ts": good, "Bad.ts": bad })
      assert.strictEqual(failing.status, 1, failing.output)
      // line 8 of Bad.ts: the third line of the example, which starts on line 6
      assert.match(failing.output, /Bad\.ts:8:\d+: @example does not compile: Cannot find name 'token'/)
      assert.notInclude(failing.output, "Good.ts:")
    },
    300_000
  )
})
