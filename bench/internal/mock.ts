/**
 * Starts `bench/mock-server.ts` in a child process and talks to its control routes.
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const serverFile = fileURLToPath(new URL("../mock-server.ts", import.meta.url))

/** A running mock in its own process. */
export interface Mock {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  readonly port: string
  /** The OAuth base, a drop-in for `https://id.twitch.tv/oauth2`. */
  readonly authUrl: string
  /** The Helix base, a drop-in for `https://api.twitch.tv/helix`. */
  readonly helixUrl: string
  /** Mints a user token for the seeded user (scopes `chat:read`, `moderation:read`). */
  readonly issue: () => Promise<{ accessToken: string; refreshToken: string; expiresIn: number }>
  /** Makes an access token expire now, on the mock's side only. */
  readonly expire: (accessToken: string) => Promise<void>
  /** Requests the mock saw per endpoint since the last reset. */
  readonly calls: () => Promise<{ token: number; validate: number; helix: number }>
  /** Forgets counters and the request log (the log grows with every request). */
  readonly reset: () => Promise<void>
  readonly stop: () => Promise<void>
}

const getJson = async (url: string): Promise<unknown> => {
  const response = await fetch(url)
  return response.json()
}

const field = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && key in value ? Reflect.get(value, key) : undefined

const str = (value: unknown): string => (typeof value === "string" ? value : String(value))

/** Spawns the mock and waits until it listens. */
export const startMock = async (): Promise<Mock> => {
  const child = spawn(process.execPath, ["--import", "tsx", serverFile], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, NODE_ENV: "production" }
  })
  const lines = createInterface({ input: child.stdout })
  const exited = once(child, "exit").then(([code]) => `the mock server exited early (code ${str(code)})`)
  const first = new Promise<string>((resolve) => lines.once("line", resolve))
  const line = await Promise.race([first, exited.then((message) => Promise.reject(new Error(message)))])
  const url = str(field(JSON.parse(line), "url"))
  const port = new URL(url).port
  return {
    url,
    port,
    authUrl: `${url}/oauth2`,
    helixUrl: `${url}/helix`,
    issue: async () => {
      const body = await getJson(`${url}/bench/issue`)
      return {
        accessToken: str(field(body, "accessToken")),
        refreshToken: str(field(body, "refreshToken")),
        expiresIn: Number(field(body, "expiresIn"))
      }
    },
    expire: async (accessToken) => {
      await getJson(`${url}/bench/expire?token=${encodeURIComponent(accessToken)}`)
    },
    calls: async () => {
      const body = await getJson(`${url}/bench/calls`)
      return {
        token: Number(field(body, "token")),
        validate: Number(field(body, "validate")),
        helix: Number(field(body, "helix"))
      }
    },
    reset: async () => {
      await getJson(`${url}/bench/reset`)
    },
    stop: async () => {
      lines.close()
      if (child.exitCode === null) {
        child.kill("SIGTERM")
        await once(child, "exit")
      }
    }
  }
}
