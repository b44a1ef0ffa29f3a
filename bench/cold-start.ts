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
 * Plus `twitch-auth --help` and `twitch-auth login --help` (the launcher
 * packages/cli/bin/twitch-auth.js, which answers help from build-time text) and
 * `twitch-auth-cli.js --help` (the full bundled CLI, which @effect/cli evaluates), when built;
 * `node` printing `done` (the floor); and references that explain the rows: one call with
 * Node's built-in `fetch` (what twurple's first call is made of), with `node:http`, with the
 * npm `undici` package bundled, and Effect's runtime alone. Rounds interleave the programs;
 * medians reported.
 */
import { FakeTwitch } from "@effect-twitch/testing"
import * as esbuild from "esbuild"
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { Mock } from "./internal/mock.js"
import { median, num, ratio, rotate, table } from "./internal/stats.js"

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
// Inside bench/node_modules: ignored by git and eslint, and the unbundled programs resolve
// their packages from bench/node_modules as a user's program would.
const outDir = here("./node_modules/.cold-start")
const cliBin = here("../packages/cli/bin/twitch-auth.js")
const fullCliBin = here("../packages/cli/bin/twitch-auth-cli.js")
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

/**
 * Preloaded into every program (`node --require`): on exit, writes the process's CPU time
 * (user + system, all of its threads: the compiler's and the collector's included) on stderr.
 * On a busy machine wall times stretch with the load; CPU time much less.
 */
const cpuReporter = `process.on("exit", () => {
  const usage = process.cpuUsage()
  require("node:fs").writeSync(2, "\\ncold-start-cpu-ms " + ((usage.user + usage.system) / 1000) + "\\n")
})
`

/** One run of a program: ms from spawn to its first output, and its CPU ms (see `cpuReporter`). */
interface Timing {
  readonly ms: number
  readonly cpuMs: number
}

/** Spawns `node args`; resolves once it has exited, with the ms until it printed `done` (or the help text). */
const timeToDone = (args: ReadonlyArray<string>, env: Record<string, string>, preload: string): Promise<Timing> =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(process.execPath, ["--require", preload, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let firstOutput: number | undefined
    let stderr = ""
    child.stdout.on("data", () => {
      firstOutput ??= performance.now() - start
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on("close", (code) => {
      const cpu = /cold-start-cpu-ms ([0-9.]+)/.exec(stderr)
      if (firstOutput === undefined || cpu === null || code !== 0) {
        reject(new Error(`${args.join(" ")} exited with ${String(code)}: ${stderr}`))
      } else {
        resolve({ ms: firstOutput, cpuMs: Number(cpu[1]) })
      }
    })
  })

/** Options of one cold-start run. */
export interface Options {
  readonly rounds: number
}

/** Runs the cold-start bench; returns the Markdown table. */
export const run = async (mock: Mock, options: Options): Promise<string> => {
  mkdirSync(outDir, { recursive: true })
  const preload = `${outDir}/cpu-reporter.cjs`
  writeFileSync(preload, cpuReporter)
  const issued = await mock.issue()
  const env = {
    MOCK_URL: mock.url,
    TOKEN: issued.accessToken,
    CLIENT_ID: client.clientId,
    TWURPLE_MOCK_API_PORT: mock.port
  }
  // `compare`: the row gets ratios against twurple (unbundled against unbundled)
  const programs: Array<
    {
      readonly name: string
      readonly args: ReadonlyArray<string>
      readonly compare: boolean
      readonly unbundled?: true
    }
  > = [
    { name: "node (floor)", args: [await build("empty", true)], compare: false },
    { name: "reference: `node` + one built-in `fetch` call", args: [await build("fetch", true)], compare: false },
    { name: "reference: `node` + one `node:http` call", args: [await build("http", true)], compare: false },
    {
      name: "reference: `node` + npm `undici` bundled, one `request`",
      args: [await build("undici", true)],
      compare: false
    },
    { name: "reference: Effect's runtime alone, bundled", args: [await build("effect", true)], compare: false },
    { name: "twurple, unbundled", args: [await build("twurple", false)], compare: false },
    { name: "twurple, bundled", args: [await build("twurple", true)], compare: false },
    { name: "ours on `layerUndici`, unbundled", args: [await build("ours", false)], compare: true, unbundled: true },
    { name: "ours on `layerUndici`, bundled", args: [await build("ours", true)], compare: true },
    {
      name: "ours on `FetchHttpClient`, unbundled",
      args: [await build("ours-fetch", false)],
      compare: true,
      unbundled: true
    },
    { name: "ours on `FetchHttpClient`, bundled", args: [await build("ours-fetch", true)], compare: true },
    {
      name: "ours on `NodeHttpClient.layer` (`node:http`), unbundled",
      args: [await build("ours-http", false)],
      compare: true,
      unbundled: true
    },
    {
      name: "ours on `NodeHttpClient.layer` (`node:http`), bundled",
      args: [await build("ours-http", true)],
      compare: true
    }
  ]
  const cli = existsSync(cliBin) && existsSync(fullCliBin)
  if (cli) {
    programs.push(
      { name: "`twitch-auth --help` (bundled CLI)", args: [cliBin, "--help"], compare: true },
      { name: "`twitch-auth login --help` (bundled CLI)", args: [cliBin, "login", "--help"], compare: true },
      {
        name: "`twitch-auth-cli.js --help` (the full bundled CLI: @effect/cli evaluated)",
        args: [fullCliBin, "--help"],
        compare: true
      }
    )
  }
  const times = programs.map(() => new Array<Timing>())
  // one warm-up round: the file system cache
  for (const program of programs) await timeToDone(program.args, env, preload)
  for (let round = 0; round < options.rounds; round++) {
    for (const index of rotate(programs.map((_, i) => i), round)) {
      const program = programs[index]
      if (program !== undefined) times[index]?.push(await timeToDone(program.args, env, preload))
    }
  }
  const at = (name: string) => programs.findIndex((p) => p.name === name)
  const ms = (i: number) => median((times[i] ?? []).map((t) => t.ms))
  const cpu = (i: number) => median((times[i] ?? []).map((t) => t.cpuMs))
  const floor = at("node (floor)")
  const rows = programs.map((program, i) => {
    const twurple = at(program.unbundled === true ? "twurple, unbundled" : "twurple, bundled")
    const beyond = ms(i) - ms(floor)
    const cpuBeyond = cpu(i) - cpu(floor)
    return [
      program.name,
      num(ms(i), 1),
      num(beyond, 1),
      program.compare ? ratio(beyond, ms(twurple) - ms(floor)) : "—",
      num(cpuBeyond, 1),
      program.compare ? ratio(cpuBeyond, cpu(twurple) - cpu(floor)) : "—"
    ]
  })
  return [
    `${options.rounds} rounds, programs interleaved; ms from spawn to the first output on stdout (the first call completed, or the help text), and the process's CPU ms (all threads) until it exited. "beyond node" subtracts the floor (\`node\` printing \`done\`); "× twurple" compares with twurple built the same way (bundled or not). The CLI is compared with twurple's bundled program (a first call); \`reference\` rows are parts, not contenders.${
      cli
        ? ""
        : " `twitch-auth --help`: pending (packages/cli/bin/twitch-auth.js and twitch-auth-cli.js not built yet)."
    }`,
    "",
    table(
      ["program", "ms", "ms beyond node", "× twurple beyond node", "CPU ms beyond node", "× twurple CPU beyond node"],
      rows
    )
  ].join("\n")
}
