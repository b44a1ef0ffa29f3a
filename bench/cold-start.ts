/**
 * Cold start: the time from spawning `node` to the first completed call (the program prints
 * `done`), ours vs. twurple, each built two ways with esbuild:
 *
 * - unbundled: only the program's own file is compiled; every package (effect,
 *   @effect/platform-node, @twurple/auth…) is loaded by Node from node_modules, module by
 *   module, as a user's program imports them. Our workspace sources are compiled in, as the
 *   published package's JS would be.
 * - bundled: one minified, tree-shaken ESM file.
 *
 * Plus `twitch-auth --help` (packages/cli/bin/twitch-auth.js, already bundled) when it exists,
 * and `node` printing `done` (the floor). Rounds interleave the programs; medians reported.
 */
import { FakeTwitch } from "@effect-twitch/testing"
import * as esbuild from "esbuild"
import { spawn } from "node:child_process"
import { existsSync, mkdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { Mock } from "./internal/mock.js"
import { median, num, ratio, rotate, table } from "./internal/stats.js"

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
// Inside bench/node_modules: ignored by git and eslint, and the unbundled programs resolve
// their packages from bench/node_modules as a user's program would.
const outDir = here("./node_modules/.cold-start")
const cliBin = here("../packages/cli/bin/twitch-auth.js")
const [client] = FakeTwitch.defaultSeed.clients

/** Keeps bare imports external, except our workspace packages (TypeScript sources). */
const externalPackages: esbuild.Plugin = {
  name: "external-packages",
  setup(build) {
    build.onResolve(
      { filter: /^[^./]/ },
      (args) => args.path.startsWith("@effect-twitch/") ? undefined : { path: args.path, external: true }
    )
  }
}

// ESM bundles of CommonJS packages (undici) need `require`.
const requireShim =
  `import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);`

const build = async (name: string, bundled: boolean): Promise<string> => {
  const outfile = `${outDir}/${name}.${bundled ? "bundled" : "unbundled"}.mjs`
  await esbuild.build({
    entryPoints: [here(`./cold/${name}.ts`)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "error",
    ...(bundled
      ? { minify: true, treeShaking: true, banner: { js: requireShim } }
      : { plugins: [externalPackages] })
  })
  return outfile
}

/** Spawns `node args`, resolves with the ms until it printed `done` (or `Usage`/help text). */
const timeToDone = (args: ReadonlyArray<string>, env: Record<string, string>): Promise<number> =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(process.execPath, [...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let seen = false
    let stderr = ""
    child.stdout.on("data", () => {
      if (!seen) {
        seen = true
        resolve(performance.now() - start)
      }
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on("exit", (code) => {
      if (!seen) reject(new Error(`${args.join(" ")} exited with ${String(code)} before printing: ${stderr}`))
    })
  })

/** Options of one cold-start run. */
export interface Options {
  readonly rounds: number
}

/** Runs the cold-start bench; returns the Markdown table. */
export const run = async (mock: Mock, options: Options): Promise<string> => {
  mkdirSync(outDir, { recursive: true })
  const issued = await mock.issue()
  const env = {
    MOCK_URL: mock.url,
    TOKEN: issued.accessToken,
    CLIENT_ID: client.clientId,
    TWURPLE_MOCK_API_PORT: mock.port
  }
  const programs: Array<{ readonly name: string; readonly args: ReadonlyArray<string> }> = [
    { name: "node (floor)", args: [await build("empty", true)] },
    { name: "twurple, unbundled", args: [await build("twurple", false)] },
    { name: "twurple, bundled", args: [await build("twurple", true)] },
    { name: "ours, unbundled", args: [await build("ours", false)] },
    { name: "ours, bundled", args: [await build("ours", true)] },
    { name: "ours on `FetchHttpClient`, unbundled", args: [await build("ours-fetch", false)] },
    { name: "ours on `FetchHttpClient`, bundled", args: [await build("ours-fetch", true)] }
  ]
  const cli = existsSync(cliBin)
  if (cli) programs.push({ name: "`twitch-auth --help` (bundled CLI)", args: [cliBin, "--help"] })
  const times = programs.map(() => new Array<number>())
  // one warm-up round: the file system cache
  for (const program of programs) await timeToDone(program.args, env)
  for (let round = 0; round < options.rounds; round++) {
    for (const index of rotate(programs.map((_, i) => i), round)) {
      const program = programs[index]
      if (program !== undefined) times[index]?.push(await timeToDone(program.args, env))
    }
  }
  const ms = (name: string) => median(times[programs.findIndex((p) => p.name === name)] ?? [])
  const floor = ms("node (floor)")
  const twurpleFor = (name: string) => (name.includes("unbundled") ? ms("twurple, unbundled") : ms("twurple, bundled"))
  const rows = programs.map((program, i) => {
    const t = median(times[i] ?? [])
    const vsTwurple = program.name.startsWith("node") || program.name.startsWith("twurple")
      ? "—"
      : ratio(t, twurpleFor(program.name))
    const vsTwurpleBeyondNode = program.name.startsWith("node") || program.name.startsWith("twurple")
      ? "—"
      : ratio(t - floor, twurpleFor(program.name) - floor)
    return [program.name, num(t, 1), num(t - floor, 1), vsTwurple, vsTwurpleBeyondNode]
  })
  return [
    `${options.rounds} rounds, programs interleaved; ms from spawn to the first line on stdout (the first call completed, or the help text). "beyond node" subtracts the floor. The CLI is compared with twurple's bundled program (a first call).${
      cli ? "" : " `twitch-auth --help`: pending (packages/cli/bin/twitch-auth.js not built yet)."
    }`,
    "",
    table(["program", "ms", "ms beyond node", "× twurple (same build)", "× twurple beyond node"], rows)
  ].join("\n")
}
