/**
 * Opening a URL in the user's browser: `open` on macOS, `start` on Windows, `xdg-open`
 * elsewhere. Best effort: when it fails, the URL is printed anyway.
 */
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"

const command = (url: string): readonly [string, ReadonlyArray<string>] => {
  switch (process.platform) {
    case "darwin":
      return ["open", [url]]
    case "win32":
      return ["cmd", ["/c", "start", "", url.replace(/&/g, "^&")]]
    default:
      return ["xdg-open", [url]]
  }
}

/** Whether both ends are a terminal: a person is there to see a browser open. */
export const interactive: Effect.Effect<boolean> = Effect.sync(() =>
  process.stdin.isTTY === true && process.stderr.isTTY === true
)

export const open = (url: string): Effect.Effect<boolean> =>
  Effect.sync(() => {
    const [program, args] = command(url)
    try {
      const child = ChildProcess.spawn(program, args, { detached: true, stdio: "ignore" })
      child.on("error", () => {})
      child.unref()
      return true
    } catch {
      return false
    }
  })
