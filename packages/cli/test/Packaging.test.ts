/**
 * issue 15: the packages as they are published. `scripts/build-packages.ts --manifest <name>`
 * prints the package.json `pnpm build` writes into `packages/<name>/dist/` (what `pnpm pack`
 * packs); `scripts/consumer-test.sh` (run by .ci/run) installs and uses the real tarballs.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Url from "node:url"
import { bin } from "./support.js"

const root = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "..", "..")
const readJson = (relative: string): unknown => JSON.parse(Fs.readFileSync(Path.join(root, relative), "utf8"))

const published = (pkg: string): Record<string, unknown> => {
  const run = ChildProcess.spawnSync(
    process.execPath,
    ["--import", "tsx", Path.join(root, "scripts/build-packages.ts"), "--manifest", pkg],
    { cwd: root, encoding: "utf8" }
  )
  assert.strictEqual(run.status, 0, run.stderr)
  const manifest: unknown = JSON.parse(run.stdout)
  assert.isObject(manifest)
  return Object.fromEntries(Object.entries(manifest ?? {}))
}

const versionOf = (pkg: string): unknown => {
  const manifest = readJson(`packages/${pkg}/package.json`)
  return typeof manifest === "object" && manifest !== null && "version" in manifest ? manifest.version : undefined
}

describe("issue 15: installable packages", () => {
  it("issue 15: twitch-auth --version prints the version in @effect-twitch/cli's package.json", () => {
    const run = ChildProcess.spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" })
    assert.strictEqual(run.status, 0, run.stderr)
    assert.strictEqual(run.stdout.trim(), versionOf("cli"))
  })

  it("issue 15: each published package.json exports the index and one subpath per module index.ts re-exports, internal/* blocked", () => {
    for (const pkg of ["auth", "testing", "sql", "cli"]) {
      const manifest = published(pkg)
      const index = Fs.readFileSync(Path.join(root, "packages", pkg, "src/index.ts"), "utf8")
      const modules = Array.from(index.matchAll(/^export \* as \w+ from "\.\/(\w+)\.js"/gm), (m) => m[1])
      assert.isAbove(modules.length, pkg === "sql" ? 0 : 2, pkg)
      const expected = ["./package.json", ".", ...modules.map((module) => `./${module}`), "./internal/*"]
      assert.sameMembers(Object.keys(manifest["exports"] ?? {}), expected, pkg)
      assert.deepInclude(manifest, {
        sideEffects: [],
        main: "./dist/cjs/index.js",
        module: "./dist/esm/index.js",
        types: "./dist/dts/index.d.ts",
        license: "MIT",
        engines: { node: ">=20" },
        version: versionOf(pkg)
      })
      assert.deepInclude(manifest["exports"], {
        ".": { types: "./dist/dts/index.d.ts", import: "./dist/esm/index.js", default: "./dist/cjs/index.js" },
        "./internal/*": null
      })
      assert.includeMembers([manifest["files"]].flat(), ["dist", "src"], pkg)
      assert.notInclude(JSON.stringify(manifest), "workspace:", pkg)
      assert.isObject(manifest["repository"], pkg)
    }
  })

  it("issue 15: effect and @effect/platform are peer dependencies; the cli's bin needs no dependency installed", () => {
    for (const pkg of ["auth", "testing"]) {
      const peers = published(pkg)["peerDependencies"]
      assert.containsAllKeys(peers, ["effect", "@effect/platform"], pkg)
    }
    const cli = published("cli")
    assert.deepInclude(cli, { bin: { "twitch-auth": "./bin/twitch-auth.js" } })
    assert.isUndefined(cli["dependencies"])
    assert.includeMembers([cli["files"]].flat(), ["bin"])
    const meta = Object.values(cli["peerDependenciesMeta"] ?? {})
    assert.isAbove(meta.length, 0)
    for (const peer of meta) assert.deepEqual(peer, { optional: true })
  })

  it("issue 16: @effect-twitch/sql is published: the SDK as a dependency; effect, @effect/platform, @effect/sql and @effect/experimental as peers; no SQL driver", () => {
    const sql = published("sql")
    assert.deepInclude(sql, {
      name: "@effect-twitch/sql",
      dependencies: { "@effect-twitch/auth": `^${versionOf("auth")}` }
    })
    assert.sameMembers(Object.keys(sql["peerDependencies"] ?? {}), [
      "effect",
      "@effect/platform",
      "@effect/sql",
      "@effect/experimental"
    ])
    // the driver (@effect/sql-pg, …) is the user's choice, provided as a SqlClient
    assert.notInclude(JSON.stringify(sql), "sql-pg")
  })
})
