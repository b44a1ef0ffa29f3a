/**
 * `pnpm bench:startup`: how long `twitch-auth --help` takes, three ways measured in the same
 * run, alternating: the bundled launcher (`node bin/twitch-auth.js`, built first: it answers
 * help from build-time text), the full bundled CLI (`node bin/twitch-auth-cli.js`, which every
 * other command line loads: @effect/cli evaluated), and unbundled (`node --import tsx src/bin.ts`, which loads
 * every Effect module on its own); with the ratios of the medians. `RUNS` sets the number of
 * runs of each (default 10).
 */
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Url from "node:url"
import { build, cliOutfile, outfile } from "./build.js"

const root = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..")
// tsx is the workspace root's dev dependency: Node finds it from here by walking up
const unbundledArgs = ["--import", "tsx", "src/bin.ts", "--help"]
const runs = Math.max(1, Number(process.env["RUNS"] ?? "10"))

const time = (command: string, args: ReadonlyArray<string>): number => {
  const started = performance.now()
  const result = ChildProcess.spawnSync(command, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] })
  const elapsed = performance.now() - started
  if (result.status !== 0) {
    console.error(`${command} ${args.join(" ")} exited ${result.status}: ${String(result.stderr ?? result.error)}`)
    process.exit(1)
  }
  return elapsed
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

await build()
const bare: Array<number> = []
const bundled: Array<number> = []
const full: Array<number> = []
const unbundled: Array<number> = []
// one warm-up of each (tsx fills its transform cache)
time(process.execPath, [outfile, "--help"])
time(process.execPath, [cliOutfile, "--help"])
time(process.execPath, unbundledArgs)
for (let i = 0; i < runs; i++) {
  bare.push(time(process.execPath, ["-e", ""]))
  bundled.push(time(process.execPath, [outfile, "--help"]))
  full.push(time(process.execPath, [cliOutfile, "--help"]))
  unbundled.push(time(process.execPath, unbundledArgs))
}
const ms = (n: number) => `${Math.round(n)} ms`
console.log(`twitch-auth --help, median of ${runs} runs (node ${process.version}):`)
console.log(`  node -e ""                     ${ms(median(bare))}   (Node.js itself)`)
console.log(`  node bin/twitch-auth.js        ${ms(median(bundled))}   (the launcher: help from build-time text)`)
console.log(`  node bin/twitch-auth-cli.js    ${ms(median(full))}   (the full CLI, bundled: @effect/cli evaluated)`)
console.log(`  node --import tsx src/bin.ts   ${ms(median(unbundled))}   (unbundled TypeScript sources)`)
console.log(
  `  ratios                         ${(median(unbundled) / median(bundled)).toFixed(1)}× faster launcher, ${
    (median(unbundled) / median(full)).toFixed(1)
  }× faster full bundle, than unbundled`
)
