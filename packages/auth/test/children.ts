/** Child Node processes for the multi-process tests: fixtures run with tsx, output captured. */
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../..")
export const fixture = (name: string) => Path.join(root, "packages/auth/test/fixtures", name)

export interface Child {
  readonly process: ChildProcess.ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
}

/** Starts `node --import tsx <script> ...args`, with `env` added to this process's environment. */
export const spawn = (script: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Child => {
  const child = ChildProcess.spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env }
  })
  let output = ""
  const append = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout.on("data", append)
  child.stderr.on("data", append)
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { process: child, output: () => output, exited }
}

/** Resolves once `child` has printed a line matching `pattern` `times` times (or has exited). */
export const printed = (child: Child, pattern: RegExp, times = 1) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const global = new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}gm`)
      const check = () => {
        if (
          (child.output().match(global) ?? []).length >= times || child.process.exitCode !== null ||
          child.process.signalCode !== null
        ) {
          resolve()
        } else {
          setTimeout(check, 2)
        }
      }
      check()
    })
  )

/** SIGKILLs `child` and waits for it to be gone. */
export const kill = (child: Child) =>
  Effect.promise(() => {
    child.process.kill("SIGKILL")
    return child.exited
  })
