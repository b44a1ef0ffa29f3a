/** The fleet's worker processes: `node --import tsx worker.ts`, told what to do on stdin, heard on stdout. */
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const here = Path.dirname(fileURLToPath(import.meta.url))
const root = Path.resolve(here, "../../../..")
const script = Path.join(here, "worker.ts")

export interface Worker {
  readonly id: string
  readonly process: ChildProcess.ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
  /** Writes a line to the worker's stdin, the last one. */
  readonly tell: (line: string) => Effect.Effect<void>
}

/** Starts worker `id` with `env` added to this process's environment. */
export const spawnWorker = (id: string, args: ReadonlyArray<string>, env: Record<string, string>): Worker => {
  const child = ChildProcess.spawn(process.execPath, ["--import", "tsx", script, id, ...args], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env }
  })
  let output = ""
  const append = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout.on("data", append)
  child.stderr.on("data", append)
  // a worker killed before it read stdin: the write fails with EPIPE, which is expected
  child.stdin.on("error", () => undefined)
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return {
    id,
    process: child,
    output: () => output,
    exited,
    tell: (line) => Effect.sync(() => void child.stdin.end(`${line}\n`))
  }
}

export const alive = (worker: Worker): boolean => worker.process.exitCode === null && worker.process.signalCode === null

/** Resolves once `worker` has printed a line matching `pattern` (or has exited). */
export const printed = (worker: Worker, pattern: RegExp) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const line = new RegExp(pattern.source, "m")
      const check = () => {
        if (line.test(worker.output()) || !alive(worker)) resolve()
        else setTimeout(check, 5)
      }
      check()
    })
  )

/** SIGKILLs `worker` and waits for it to be gone. */
export const kill = (worker: Worker) =>
  Effect.promise(() => {
    worker.process.kill("SIGKILL")
    return worker.exited
  })

/** What a worker reported in its `done` line, if it printed one. */
export const doneOf = (worker: Worker) => {
  const match = /^done ok=(\d+) failed=(\d+) ended=(\d+)$/m.exec(worker.output())
  return match === null
    ? undefined
    : { ok: Number(match[1]), failed: Number(match[2]), ended: Number(match[3]) }
}
