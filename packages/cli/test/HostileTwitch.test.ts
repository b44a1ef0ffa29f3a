/**
 * Issue 11 through `twitch-auth`, run as a separate process against a hostile server on
 * 127.0.0.1 in place of id.twitch.tv: a proxy's 401 page keeps the profile (#7), an echo of
 * the request shows no secret on stderr (#10), and a body that never ends ends at the
 * request timeout (#4).
 */
import * as Token from "@effect-twitch/auth/Token"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Path from "node:path"
import { baseEnv, errorLine, run, tempDir } from "./support.js"

const secrets = {
  clientSecret: "cli/secret+with space&odd=chars%",
  accessToken: "cli/access+token with&odd=chars%",
  refreshToken: "cli/refresh+token with&odd=chars%"
} as const

const forms = (secret: string): ReadonlyArray<string> => [
  secret,
  encodeURIComponent(secret),
  new URLSearchParams({ s: secret }).toString().slice(2)
]

type Handler = (
  request: { readonly path: string; readonly body: string; readonly authorization: string },
  response: Http.ServerResponse
) => void

/** A server on 127.0.0.1 for the test's duration. */
const hostile = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () =>
          handler({
            path: new URL(request.url ?? "/", "http://127.0.0.1").pathname,
            body: Buffer.concat(chunks).toString(),
            authorization: String(request.headers.authorization ?? "")
          }, response))
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => {
    const address = server.address()
    return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
  }))

/** A profile holding a token, and the environment pointing `twitch-auth` at `url`. */
const profileAt = (url: string, requestTimeout = "10 seconds") =>
  Effect.gen(function*() {
    const home = tempDir()
    const configDir = Path.join(home, "tokens")
    Fs.mkdirSync(configDir, { recursive: true, mode: 0o700 })
    const file = Path.join(configDir, "default.json")
    const now = yield* DateTime.now
    const store = yield* TokenStore.makeFile(file).pipe(Effect.provide(NodeContext.layer))
    yield* store.set(
      "12345",
      new Token.UserToken({
        accessToken: Redacted.make(secrets.accessToken),
        refreshToken: Redacted.make(secrets.refreshToken),
        scopes: ["chat:read"],
        obtainedAt: now,
        expiresAt: Option.some(DateTime.add(now, { hours: 4 }))
      })
    )
    const env = {
      ...baseEnv(home),
      TWITCH_AUTH_URL: `${url}/oauth2`,
      TWITCH_CLIENT_ID: "hostileclient000000000000000000",
      TWITCH_CLIENT_SECRET: secrets.clientSecret,
      TWITCH_AUTH_CONFIG_DIR: configDir,
      TWITCH_REQUEST_TIMEOUT: requestTimeout
    }
    const storedRefreshToken = () =>
      Fs.existsSync(file) ? String(JSON.parse(Fs.readFileSync(file, "utf8")).tokens["12345"]?.refreshToken) : undefined
    return { env, storedRefreshToken }
  })

describe("twitch-auth against a hostile id.twitch.tv", () => {
  it.scoped("issue 11 #7: refresh behind a proxy answering 401 with its HTML page keeps the profile", () =>
    Effect.gen(function*() {
      const url = yield* hostile((_request, response) => {
        response.writeHead(401, { "content-type": "text/html" })
        response.end("<html><body><h1>401 Authorization Required</h1></body></html>")
      })
      const { env, storedRefreshToken } = yield* profileAt(url)
      const result = yield* Effect.promise(() => run(["refresh"], env))
      assert.strictEqual(result.code, 1, result.stderr)
      assert.match(errorLine(result), /HTTP 401 with a body that is not Twitch's error envelope/)
      assert.strictEqual(storedRefreshToken(), secrets.refreshToken, "the profile still holds the token")
    }))

  it.scoped("issue 11 #10: an answer echoing the request shows no secret on stderr, in any encoding", () =>
    Effect.gen(function*() {
      const url = yield* hostile((request, response) => {
        const values = [...new URLSearchParams(request.body).values(), request.authorization.replace(/^OAuth /, "")]
        const message = `you sent ${values.filter((v) => v.length > 0).flatMap(forms).join(" | ")}`
        const body = JSON.stringify({ status: 400, message })
        response.writeHead(400, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
        response.end(body)
      })
      const { env, storedRefreshToken } = yield* profileAt(url)
      for (const command of [["refresh"], ["validate"], ["revoke"], ["app-token"]]) {
        const result = yield* Effect.promise(() => run(command, env))
        assert.notStrictEqual(result.code, 0, command.join(" "))
        assert.include(result.stderr, "you sent", command.join(" "))
        assert.include(result.stderr, "<redacted>", command.join(" "))
        const shown = result.stdout + result.stderr
        const leaked = Object.values(secrets).flatMap(forms).filter((form) => shown.includes(form))
        assert.deepStrictEqual(leaked, [], `${command.join(" ")}: ${result.stderr}`)
      }
      assert.strictEqual(storedRefreshToken(), secrets.refreshToken)
    }))

  it.scoped("issue 11 #4: validate against a body that never ends fails at the request timeout (exit 5)", () =>
    Effect.gen(function*() {
      const url = yield* hostile((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.write("{\"client_id\":\"")
        const timer = setInterval(() => response.write("x"), 50)
        response.on("close", () => clearInterval(timer))
      })
      const { env } = yield* profileAt(url, "500 millis")
      const result = yield* Effect.promise(() => run(["validate"], env))
      assert.strictEqual(result.code, 5, result.stderr)
      assert.match(errorLine(result), /timed out: the answer did not arrive in full within the request timeout/)
    }))
})
