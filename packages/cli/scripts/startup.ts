/**
 * `pnpm bench:startup`: how long `twitch-auth --help` takes to start, bundled
 * (`node bin/twitch-auth.js`, built first) against unbundled (`tsx src/bin.ts`, which loads
 * every Effect module on its own), measured in the same run, alternating, and the ratio of
 * the medians. `RUNS` sets the number of runs of each (default 10).
 */
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Url from "node:url"
import { build, outfile } from "./build.js"

const root = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..")
const tsx = Path.join(root, "node_modules", ".bin", "tsx")
const runs = Math.max(1, Number(process.env["RUNS"] ?? "10"))

const time = (command: string, args: ReadonlyArray<string>): number => {
  const started = performance.now()
  const result = ChildProcess.spawnSync(command, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] })
  const elapsed = performance.now() - started
  if (result.status !== 0) {
    console.error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr.toString()}`)
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
const unbundled: Array<number> = []
// one warm-up of each (tsx fills its transform cache)
time(process.execPath, [outfile, "--help"])
time(tsx, ["src/bin.ts", "--help"])
for (let i = 0; i < runs; i++) {
  bare.push(time(process.execPath, ["-e", ""]))
  bundled.push(time(process.execPath, [outfile, "--help"]))
  unbundled.push(time(tsx, ["src/bin.ts", "--help"]))
}
const ms = (n: number) => `${Math.round(n)} ms`
console.log(`twitch-auth --help, median of ${runs} runs (node ${process.version}):`)
console.log(`  node -e ""                     ${ms(median(bare))}   (Node.js itself)`)
console.log(`  node bin/twitch-auth.js        ${ms(median(bundled))}   (the bundle)`)
console.log(`  tsx src/bin.ts                 ${ms(median(unbundled))}   (unbundled TypeScript sources)`)
console.log(`  ratio                          ${(median(unbundled) / median(bundled)).toFixed(1)}× faster bundled`)
