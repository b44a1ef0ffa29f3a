/**
 * Medians, ratios and Markdown tables for the benchmarks. Every figure the bench reports is
 * a median over rounds, and every comparison a ratio of medians measured in the same run.
 */

/** The median of `xs` (0 for none). */
export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return 0
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 0 ? ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2 : sorted[mid] ?? 0
}

/** `a / b` as `1.23×`, or `—` when `b` is 0. */
export const ratio = (a: number, b: number, digits = 2): string => (b === 0 ? "—" : `${(a / b).toFixed(digits)}×`)

/** A number with a fixed count of decimals and thousands separators. */
export const num = (x: number, digits = 0): string =>
  x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** A Markdown table. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [
    `| ${header.join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`)
  ].join("\n")

/** Rotates `xs` by `by` positions, so that each round starts with a different contender. */
export const rotate = <A>(xs: ReadonlyArray<A>, by: number): ReadonlyArray<A> => {
  if (xs.length === 0) return xs
  const k = ((by % xs.length) + xs.length) % xs.length
  return [...xs.slice(k), ...xs.slice(0, k)]
}

/** Runs `calls` invocations of `call`, at most `concurrency` at a time. */
export const pool = async (calls: number, concurrency: number, call: () => Promise<unknown>): Promise<void> => {
  let started = 0
  const worker = async () => {
    while (started < calls) {
      started++
      await call()
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, worker))
}

/** Wall time (ms) and client CPU time (µs, user + system) of `task`. */
export const measure = async (task: () => Promise<unknown>): Promise<{ wallMs: number; cpuUs: number }> => {
  const cpu = process.cpuUsage()
  const start = performance.now()
  await task()
  const wallMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { wallMs, cpuUs: used.user + used.system }
}
