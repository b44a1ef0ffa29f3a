/**
 * Memory: runs `memory-child.ts` in a fresh `node --expose-gc` process and reports heap per
 * held `TwitchSession`, with the parts of a session measured the same way.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { num, table } from "./internal/stats.js"

const childFile = fileURLToPath(new URL("./memory-child.ts", import.meta.url))

interface Result {
  readonly sessions: number
  readonly perSessionBytes: number
  readonly twurpleBytes: number
  readonly parts: Record<string, number>
}

const isResult = (value: unknown): value is Result =>
  typeof value === "object" && value !== null && "sessions" in value && "perSessionBytes" in value &&
  "twurpleBytes" in value && "parts" in value

const runChild = (sessions: number): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", childFile], {
      env: { ...process.env, SESSIONS: String(sessions) },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.on("exit", (code) => {
      const parsed: unknown = code === 0 ? JSON.parse(out.trim().split("\n").pop() ?? "null") : null
      if (isResult(parsed)) resolve(parsed)
      else reject(new Error(`the memory bench exited with ${String(code)}: ${out}`))
    })
  })

const labels: Record<string, string> = {
  subscriptionRef: "a `SubscriptionRef` alone",
  forkedSleepingFiber: "a `forkScoped` fiber sleeping",
  fiberRacingSubscriptionRefChanges:
    "a `forkScoped` fiber sleeping, `raceFirst` a stream of `ref.changes` (what each session daemon is)"
}

/** Runs the memory bench; returns the Markdown table. */
export const run = async (options: { readonly sessions: number }): Promise<string> => {
  const result = await runChild(options.sessions)
  const kb = (bytes: number) => `${num(bytes / 1024, 1)} KB`
  return [
    `${
      num(result.sessions)
    } sessions held at once (in-memory transport, memory \`TokenStore\`), heap after a full GC minus before, per session; the parts on ${
      num(Math.min(result.sessions, 1000))
    } items each; twurple's users measured the same way in the same process. Target ≤ 1 KB per session.`,
    "",
    table(["what is held", "heap each", "× twurple"], [
      [
        "a `TwitchSession` (hourly validation and refresh ahead scheduled on the scheduler every session shares)",
        kb(result.perSessionBytes),
        `${num(result.perSessionBytes / result.twurpleBytes, 2)}×`
      ],
      ["a user in twurple's `RefreshingAuthProvider` (`addUser`)", kb(result.twurpleBytes), "1.00×"],
      ...Object.entries(result.parts).map(([key, bytes]) => [labels[key] ?? key, kb(bytes), "—"])
    ])
  ].join("\n")
}
