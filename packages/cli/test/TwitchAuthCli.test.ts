/**
 * `twitch-auth` end to end: the bundled bin runs as a separate process against the mock
 * Twitch served by this test process on 127.0.0.1, exactly as a user would run it.
 */
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import {
  baseEnv,
  confidential,
  consentRedirect,
  errorLine,
  fileMode,
  followLikeABrowser,
  freePort,
  mockEnv,
  occupyPort,
  publicClient,
  rawGet,
  run,
  start,
  tempDir,
  user
} from "./support.js"

// Device codes polled every second (Twitch says 5), so that the device tests take seconds.
const MockLive = MockTwitchServer.layer().pipe(Layer.provideMerge(FakeTwitch.layer({ deviceIntervalSeconds: 1 })))
// ...and device codes that expire after 2 seconds.
const ShortDeviceCodes = MockTwitchServer.layer().pipe(
  Layer.provideMerge(FakeTwitch.layer({ deviceIntervalSeconds: 1, deviceCodeTtlSeconds: 2 }))
)

/** Approves (or denies) a device code through the mock's activation endpoint, as the user would. */
const activate = (authUrl: string, userCode: string, decision: "approve" | "deny" = "approve") =>
  Effect.promise(() =>
    fetch(`${authUrl}/activate`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ user_code: userCode, decision })
    }).then(async (response) => ({ status: response.status, body: await response.text() }))
  )

const userCodeLine = /enter the code:\s+(\S+)/

/** Registers `http://127.0.0.1:<free port>/callback` for the confidential client. */
const callbackUri = Effect.gen(function*() {
  const twitch = yield* FakeTwitch.FakeTwitch
  const port = yield* Effect.promise(freePort)
  const uri = `http://127.0.0.1:${port}/callback`
  yield* twitch.registerClient({ ...confidential, redirectUris: [...confidential.redirectUris, uri] })
  return uri
})

/** `twitch-auth login` by authorization code, with the test as the browser. */
const codeLogin = (
  env: Record<string, string>,
  extra: ReadonlyArray<string> = [],
  decision: "authorize" | "cancel" = "authorize"
) =>
  Effect.gen(function*() {
    const redirectUri = yield* callbackUri
    const cli = start(["login", "--no-open", "--redirect-uri", redirectUri, ...extra], env)
    const [url] = yield* Effect.promise(() => cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/))
    const page = yield* Effect.promise(() => followLikeABrowser(url, decision))
    const result = yield* Effect.promise(() => cli.done)
    return { url, page, result, redirectUri }
  })

/** `twitch-auth login` through a given (registered) redirect URI, with the test as the browser. */
const codeLoginTo = (env: Record<string, string>, redirectUri: string) =>
  Effect.gen(function*() {
    const cli = start(["login", "--no-open", "--redirect-uri", redirectUri], env)
    const [url] = yield* Effect.promise(() => cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/))
    const page = yield* Effect.promise(() => followLikeABrowser(url))
    const result = yield* Effect.promise(() => cli.done)
    return { page, result }
  })

const readTokens = (
  file: string
): Record<string, { accessToken: string; refreshToken: string; scopes: Array<string> }> =>
  JSON.parse(Fs.readFileSync(file, "utf8")).tokens

layer(MockLive, { excludeTestServices: true })("twitch-auth against the mock", (it) => {
  it.effect("login: the authorization code flow through the callback server, token stored 0600 without the secret", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { env, tokenFile } = yield* mockEnv
      const { page, result, url } = yield* codeLogin(env, ["--scope", "chat:read", "--scope", "user:read:email"])
      assert.strictEqual(result.code, 0, result.stderr)
      const authorize = new URL(url)
      assert.strictEqual(authorize.searchParams.get("client_id"), confidential.clientId)
      assert.strictEqual(authorize.searchParams.get("scope"), "chat:read user:read:email")
      assert.match(authorize.searchParams.get("state") ?? "", /^[0-9a-f]{32}$/)
      assert.strictEqual(page.status, 200)
      assert.include(page.body, "Logged in")
      assert.include(result.stdout, `Logged in as ${user.login} (user id ${user.userId})`)

      assert.strictEqual(fileMode(tokenFile), 0o600)
      const text = Fs.readFileSync(tokenFile, "utf8")
      assert.notInclude(text, confidential.clientSecret)
      const stored = readTokens(tokenFile)[user.userId]
      assert.isDefined(stored)
      assert.deepStrictEqual(stored?.scopes, ["chat:read", "user:read:email"])
      assert.isTrue(yield* twitch.isAccessTokenValid(stored?.accessToken ?? ""))
      // tokens are not printed without --show-token
      assert.notInclude(result.stdout + result.stderr, stored?.accessToken ?? "?")
      assert.notInclude(result.stdout + result.stderr, confidential.clientSecret)
    }))

  it.effect("login --device: the code and URL are shown; approved on the mock's activation endpoint, the token is stored", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const server = yield* MockTwitchServer.MockTwitchServer
      const { env, tokenFile } = yield* mockEnv
      const cli = start(["login", "--device", "--scope", "chat:read", "--json"], env)
      const [, userCode] = yield* Effect.promise(() => cli.waitForStderr(userCodeLine))
      assert.include(cli.stderr(), "To authorize, open https://www.twitch.tv/activate")
      yield* Effect.promise(() => cli.waitForStderr(/waiting for approval \(0 polls\)… code expires in 30m/))
      const activation = yield* activate(server.authUrl, userCode ?? "")
      assert.strictEqual(activation.status, 200, activation.body)
      const result = yield* Effect.promise(() => cli.done)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.deepInclude(JSON.parse(result.stdout), { flow: "device_code", login: user.login, scopes: ["chat:read"] })
      assert.strictEqual(fileMode(tokenFile), 0o600)
      const stored = readTokens(tokenFile)[user.userId]
      assert.isTrue(yield* twitch.isAccessTokenValid(stored?.accessToken ?? ""))
      assert.notInclude(Fs.readFileSync(tokenFile, "utf8"), confidential.clientSecret)
    }))

  it.effect("login --device denied on the activation page: exit 3", () =>
    Effect.gen(function*() {
      const server = yield* MockTwitchServer.MockTwitchServer
      const { env, tokenFile } = yield* mockEnv
      const cli = start(["login", "--device"], env)
      const [, userCode] = yield* Effect.promise(() => cli.waitForStderr(userCodeLine))
      yield* activate(server.authUrl, userCode ?? "", "deny")
      const result = yield* Effect.promise(() => cli.done)
      assert.strictEqual(result.code, 3)
      assert.match(errorLine(result), /^authorization was denied on Twitch's activation page/)
      assert.isFalse(Fs.existsSync(tokenFile))
    }))

  it.effect("validate, refresh, whoami and revoke the stored token, with --json", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { env, tokenFile } = yield* mockEnv
      assert.strictEqual((yield* codeLogin(env, ["--scope", "chat:read"])).result.code, 0)
      const first = readTokens(tokenFile)[user.userId]?.accessToken ?? ""

      const validated = yield* Effect.promise(() => run(["validate", "--json"], env))
      assert.strictEqual(validated.code, 0, validated.stderr)
      const info = JSON.parse(validated.stdout)
      assert.deepStrictEqual(
        { valid: info.valid, login: info.login, userId: info.userId, clientId: info.clientId, scopes: info.scopes },
        { valid: true, login: user.login, userId: user.userId, clientId: confidential.clientId, scopes: ["chat:read"] }
      )
      assert.isString(info.expiresAt)

      const refreshes = yield* twitch.calls("token")
      const refreshed = yield* Effect.promise(() => run(["refresh", "--json"], env))
      assert.strictEqual(refreshed.code, 0, refreshed.stderr)
      assert.strictEqual(yield* twitch.calls("token"), refreshes + 1)
      const second = readTokens(tokenFile)[user.userId]?.accessToken ?? ""
      assert.notStrictEqual(second, first)
      assert.strictEqual(fileMode(tokenFile), 0o600)
      assert.isUndefined(JSON.parse(refreshed.stdout).accessToken)

      const whoami = yield* Effect.promise(() => run(["whoami", "--json"], env))
      assert.strictEqual(whoami.code, 0, whoami.stderr)
      assert.deepInclude(JSON.parse(whoami.stdout), { login: user.login, userId: user.userId, refreshed: false })

      const revoked = yield* Effect.promise(() => run(["revoke"], env))
      assert.strictEqual(revoked.code, 0, revoked.stderr)
      assert.include(revoked.stdout, "Revoked the token of profile default")
      assert.isFalse(yield* twitch.isAccessTokenValid(second))
      assert.isFalse(Fs.existsSync(tokenFile))

      const after = yield* Effect.promise(() => run(["validate"], env))
      assert.strictEqual(after.code, 4)
      assert.match(errorLine(after), /^no token in profile "default" .*: run `twitch-auth login` first$/)
    }))

  it.effect("whoami refreshes once when Helix rejects the stored token, and stores the new one", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { env, tokenFile } = yield* mockEnv
      assert.strictEqual((yield* codeLogin(env)).result.code, 0)
      const first = readTokens(tokenFile)[user.userId]?.accessToken ?? ""
      yield* twitch.expireAccessToken(first)
      const whoami = yield* Effect.promise(() => run(["whoami"], env))
      assert.strictEqual(whoami.code, 0, whoami.stderr)
      assert.include(whoami.stdout, "refreshed and stored")
      const second = readTokens(tokenFile)[user.userId]?.accessToken ?? ""
      assert.notStrictEqual(second, first)
      assert.isTrue(yield* twitch.isAccessTokenValid(second))
    }))

  it.effect("--show-token prints the tokens; the client secret never", () =>
    Effect.gen(function*() {
      const { env, tokenFile } = yield* mockEnv
      const { result } = yield* codeLogin(env, ["--show-token", "--json"])
      assert.strictEqual(result.code, 0, result.stderr)
      const stored = readTokens(tokenFile)[user.userId]
      const printed = JSON.parse(result.stdout)
      assert.strictEqual(printed.accessToken, stored?.accessToken)
      assert.strictEqual(printed.refreshToken, stored?.refreshToken)
      assert.notInclude(result.stdout + result.stderr, confidential.clientSecret)

      const app = yield* Effect.promise(() => run(["app-token", "--show-token", "--json"], env))
      assert.strictEqual(app.code, 0, app.stderr)
      assert.match(JSON.parse(app.stdout).accessToken, /^\w+$/)
      const hidden = yield* Effect.promise(() => run(["app-token", "--json"], env))
      assert.isUndefined(JSON.parse(hidden.stdout).accessToken)
    }))

  it.effect("validate of a token Twitch no longer accepts: exit 4 with Twitch's reason", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { env, tokenFile } = yield* mockEnv
      assert.strictEqual((yield* codeLogin(env)).result.code, 0)
      yield* twitch.revokeAccessToken(readTokens(tokenFile)[user.userId]?.accessToken ?? "")
      const result = yield* Effect.promise(() => run(["validate"], env))
      assert.strictEqual(result.code, 4)
      assert.strictEqual(result.stderr.trim().split("\n").length, 1)
      assert.match(errorLine(result), /rejected the access token.*invalid access token.*twitch-auth refresh/)
    }))

  it.effect("profiles lists the stored profiles without asking Twitch", () =>
    Effect.gen(function*() {
      const { configDir, env } = yield* mockEnv
      assert.strictEqual((yield* codeLogin(env, ["--profile", "bot"])).result.code, 0)
      const result = yield* Effect.promise(() => run(["profiles", "--json"], env))
      assert.strictEqual(result.code, 0, result.stderr)
      const listed = JSON.parse(result.stdout)
      assert.strictEqual(listed.configDir, configDir)
      assert.deepStrictEqual(listed.profiles.map((p: { name: string; userId: string }) => [p.name, p.userId]), [[
        "bot",
        user.userId
      ]])
      assert.strictEqual(fileMode(Path.join(configDir, "bot.json")), 0o600)
    }))

  it.effect("the config dir defaults to $XDG_CONFIG_HOME/effect-twitch", () =>
    Effect.gen(function*() {
      const { env } = yield* mockEnv
      const { TWITCH_AUTH_CONFIG_DIR: _, ...rest } = env
      assert.strictEqual((yield* codeLogin(rest)).result.code, 0)
      const file = Path.join(rest.XDG_CONFIG_HOME, "effect-twitch", "default.json")
      assert.strictEqual(fileMode(file), 0o600)
      assert.strictEqual(fileMode(Path.dirname(file)), 0o700)
    }))

  // --- bad input: one line, a non-zero exit code ----------------------------------------

  it.effect("denied consent (Cancel on the consent page): exit 3", () =>
    Effect.gen(function*() {
      const { env, tokenFile } = yield* mockEnv
      const { page, result } = yield* codeLogin(env, [], "cancel")
      assert.strictEqual(result.code, 3)
      assert.strictEqual(page.status, 400)
      assert.strictEqual(
        errorLine(result),
        "authorization was denied on Twitch's consent page (The user denied you access)"
      )
      assert.isFalse(Fs.existsSync(tokenFile))
    }))

  it.effect("issue 11 #13: a GET with the wrong or no state gets 400 and is ignored; the login completes with the right one", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { env, tokenFile } = yield* mockEnv
      const redirectUri = yield* callbackUri
      const cli = start(["login", "--no-open", "--redirect-uri", redirectUri], env)
      const [url] = yield* Effect.promise(() => cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/))
      yield* Effect.promise(() => cli.waitForStderr(/Waiting for Twitch to redirect/))
      const exchanges = yield* twitch.calls("token")
      // what any local process or web page can send: a forged state, an error, no state at all
      const forged = new URL(url)
      forged.searchParams.set("state", "0".repeat(32))
      const forgedPage = yield* Effect.promise(() => followLikeABrowser(forged.toString()))
      assert.strictEqual(forgedPage.status, 400)
      assert.include(forgedPage.body, "still waiting")
      for (
        const query of ["?error=access_denied&error_description=nope&state=x", "?code=abc", "?error=access_denied", ""]
      ) {
        const page = yield* Effect.promise(() => rawGet(redirectUri + query))
        assert.strictEqual(page.status, 400, query)
      }
      assert.strictEqual(yield* twitch.calls("token"), exchanges) // nothing was exchanged
      assert.isNull(cli.child.exitCode) // still waiting
      // the real redirect, afterwards: the login completes
      const page = yield* Effect.promise(() => followLikeABrowser(url))
      assert.strictEqual(page.status, 200)
      const result = yield* Effect.promise(() => cli.done)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, `Logged in as ${user.login}`)
      assert.isTrue(Fs.existsSync(tokenFile))
      // and the callback is gone with the process
      const after = yield* Effect.promise(() => rawGet(redirectUri).then(() => "answered", () => "refused"))
      assert.strictEqual(after, "refused")
    }))

  it.effect("issue 11 #13: forged redirects alone never end the login: it waits for the right one until --timeout", () =>
    Effect.gen(function*() {
      const { env, tokenFile } = yield* mockEnv
      const redirectUri = yield* callbackUri
      const cli = start(["login", "--no-open", "--timeout", "1", "--redirect-uri", redirectUri], env)
      yield* Effect.promise(() => cli.waitForStderr(/Waiting for Twitch to redirect/))
      const page = yield* Effect.promise(() => rawGet(`${redirectUri}?error=access_denied&state=${"0".repeat(32)}`))
      assert.strictEqual(page.status, 400)
      const result = yield* Effect.promise(() => cli.done)
      assert.strictEqual(result.code, 3)
      assert.match(errorLine(result), /^no redirect reached .* within 1s; run login again$/)
      assert.isFalse(Fs.existsSync(tokenFile))
    }))

  it.effect("issue 11 #13: a request with another Host header (DNS rebinding) gets 421 and is ignored", () =>
    Effect.gen(function*() {
      const { env } = yield* mockEnv
      const redirectUri = yield* callbackUri
      const cli = start(["login", "--no-open", "--redirect-uri", redirectUri], env)
      const [url] = yield* Effect.promise(() => cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/))
      yield* Effect.promise(() => cli.waitForStderr(/Waiting for Twitch to redirect/))
      // the real redirect's URL with its real state, but addressed to another name
      const location = yield* Effect.promise(() => consentRedirect(url))
      assert.match(location, /state=[0-9a-f]{32}/)
      const port = new URL(redirectUri).port
      for (
        const host of [`rebind.example:${port}`, "127.0.0.1", `127.0.0.1:${Number(port) + 1}`, `localhost:${port}`]
      ) {
        const page = yield* Effect.promise(() => rawGet(location, host))
        assert.strictEqual(page.status, 421, host)
      }
      // no Host at all: Node's server answers 400 itself (HTTP/1.1 requires one)
      assert.strictEqual((yield* Effect.promise(() => rawGet(location, null))).status, 400)
      assert.isNull(cli.child.exitCode)
      // the same request with the right Host completes the login (the code was not spent)
      const page = yield* Effect.promise(() => rawGet(location))
      assert.strictEqual(page.status, 200)
      const result = yield* Effect.promise(() => cli.done)
      assert.strictEqual(result.code, 0, result.stderr)
    }))

  it.effect("issue 11 #13: a [::1] redirect URI is listened on ::1 and the login completes through it", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { env } = yield* mockEnv
      const port = yield* Effect.promise(freePort)
      const redirectUri = `http://[::1]:${port}/callback`
      yield* twitch.registerClient({ ...confidential, redirectUris: [...confidential.redirectUris, redirectUri] })
      const { page, result } = yield* codeLoginTo(env, redirectUri)
      assert.strictEqual(page.status, 200)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, `Logged in as ${user.login}`)
    }))

  it.effect("issue 11 #13: a localhost redirect URI answers on both 127.0.0.1 and ::1", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { env } = yield* mockEnv
      const port = yield* Effect.promise(freePort)
      const redirectUri = `http://localhost:${port}/callback`
      yield* twitch.registerClient({ ...confidential, redirectUris: [...confidential.redirectUris, redirectUri] })
      const cli = start(["login", "--no-open", "--redirect-uri", redirectUri], env)
      const [url] = yield* Effect.promise(() => cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/))
      yield* Effect.promise(() => cli.waitForStderr(/Waiting for Twitch to redirect/))
      const host = `localhost:${port}`
      const v4 = yield* Effect.promise(() => rawGet(`http://127.0.0.1:${port}/callback?state=x`, host))
      const v6 = yield* Effect.promise(() => rawGet(`http://[::1]:${port}/callback?state=x`, host))
      assert.deepStrictEqual([v4.status, v6.status], [400, 400]) // both ours: a wrong state, ignored
      const page = yield* Effect.promise(() => followLikeABrowser(url))
      assert.strictEqual(page.status, 200)
      assert.strictEqual((yield* Effect.promise(() => cli.done)).code, 0)
    }))

  it.effect("unknown scope: exit 2, before anything is sent", () =>
    Effect.gen(function*() {
      const { env } = yield* mockEnv
      const result = yield* Effect.promise(() => run(["login", "--no-open", "--scope", "chat:read,chat:reed"], env))
      assert.strictEqual(result.code, 2)
      assert.strictEqual(result.stderr.trim().split("\n").length, 1)
      assert.strictEqual(
        errorLine(result),
        "unknown scope \"chat:reed\" (did you mean chat:read?): see https://dev.twitch.tv/docs/authentication/scopes/"
      )
      const device = yield* Effect.promise(() => run(["login", "--device", "--scope", "not-a-scope"], env))
      assert.strictEqual(device.code, 2)
      assert.match(errorLine(device), /^unknown scope "not-a-scope"/)
    }))

  it.effect("missing client id: exit 2", () =>
    Effect.gen(function*() {
      const { env } = yield* mockEnv
      const { TWITCH_CLIENT_ID: _, ...rest } = env
      const result = yield* Effect.promise(() => run(["validate"], rest))
      assert.strictEqual(result.code, 2)
      assert.strictEqual(
        errorLine(result),
        "no client id: pass --client-id or set TWITCH_CLIENT_ID (register an application at https://dev.twitch.tv/console), or try --mock"
      )
    }))

  it.effect("wrong client secret: exit 2, naming the variable, not the secret", () =>
    Effect.gen(function*() {
      const { env } = yield* mockEnv
      const result = yield* Effect.promise(() =>
        run(["app-token"], { ...env, TWITCH_CLIENT_SECRET: "wrongwrongwrongwrongwrongwrong" })
      )
      assert.strictEqual(result.code, 2)
      assert.match(errorLine(result), /rejected the client secret.*TWITCH_CLIENT_SECRET/)
      assert.notInclude(result.stderr, "wrongwrong")
    }))

  it.effect("callback port in use: exit 6", () =>
    Effect.gen(function*() {
      const { env } = yield* mockEnv
      const held = yield* Effect.promise(occupyPort)
      const result = yield* Effect.promise(() =>
        run(["login", "--no-open", "--redirect-uri", `http://127.0.0.1:${held.port}/callback`], env)
      )
      yield* Effect.promise(held.close)
      assert.strictEqual(result.code, 6)
      assert.strictEqual(result.stderr.trim().split("\n").length, 1)
      assert.strictEqual(
        errorLine(result),
        `port ${held.port} on 127.0.0.1 is in use: cannot start the callback server for http://127.0.0.1:${held.port}/callback`
      )
    }))

  it.effect("Twitch out of reach: exit 5", () =>
    Effect.gen(function*() {
      const { env } = yield* mockEnv
      const port = yield* Effect.promise(freePort)
      const result = yield* Effect.promise(() =>
        run(["app-token"], {
          ...env,
          TWITCH_AUTH_URL: `http://127.0.0.1:${port}/oauth2`,
          TWITCH_REQUEST_TIMEOUT: "1 second"
        })
      )
      assert.strictEqual(result.code, 5)
      assert.match(errorLine(result), /^POST \/oauth2\/token failed to reach Twitch/)
    }))

  it.effect("an unknown flag: exit 2", () =>
    Effect.gen(function*() {
      const { env } = yield* mockEnv
      const result = yield* Effect.promise(() => run(["validate", "--frobnicate"], env))
      assert.strictEqual(result.code, 2)
    }))

  it.effect("a public client cannot use the code flow: exit 2, pointing at --device", () =>
    Effect.gen(function*() {
      const { env } = yield* mockEnv
      const { TWITCH_CLIENT_SECRET: _, ...rest } = env
      const result = yield* Effect.promise(() =>
        run(["login", "--no-open"], { ...rest, TWITCH_CLIENT_ID: publicClient.clientId })
      )
      assert.strictEqual(result.code, 2)
      assert.match(errorLine(result), /login needs the client secret.*login --device/)
    }))
})

layer(ShortDeviceCodes, { excludeTestServices: true })("twitch-auth and device codes that expire", (it) => {
  it.effect("login --device with a code nobody approves: exit 3 once it expires", () =>
    Effect.gen(function*() {
      const { env, tokenFile } = yield* mockEnv
      const result = yield* Effect.promise(() => run(["login", "--device"], env))
      assert.strictEqual(result.code, 3)
      assert.strictEqual(
        errorLine(result),
        "the device code expired before it was approved; run login --device again"
      )
      assert.isFalse(Fs.existsSync(tokenFile))
    }))
})

layer(Layer.empty)("twitch-auth on its own", (it) => {
  it.effect("--help starts and lists the commands", () =>
    Effect.gen(function*() {
      const result = yield* Effect.promise(() => run(["--help"], baseEnv(tempDir())))
      assert.strictEqual(result.code, 0)
      for (
        const command of ["login", "app-token", "validate", "refresh", "revoke", "whoami", "profiles", "mock", "demo"]
      ) {
        assert.include(result.stdout, `- ${command}`)
      }
    }))

  it.effect("--mock: an app token from the mock it starts in the background (then stopped)", () =>
    Effect.gen(function*() {
      const home = tempDir()
      const result = yield* Effect.promise(() => run(["app-token", "--mock", "--json"], baseEnv(home)))
      const stopped = yield* Effect.promise(() => run(["mock", "--stop"], baseEnv(home)))
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(JSON.parse(result.stdout).clientId, confidential.clientId)
      assert.strictEqual(stopped.code, 0, stopped.stderr)
      assert.include(stopped.stdout, "Stopped the mock Twitch")
    }))

  it.effect("mock: serves the seeded mock on a port and prints the settings", () =>
    Effect.gen(function*() {
      const home = tempDir()
      const server = start(["mock", "--port", "0", "--json"], baseEnv(home))
      const settings = yield* Effect.promise(async () => {
        while (!server.stdout().includes("\n")) await new Promise((resolve) => setTimeout(resolve, 20))
        return JSON.parse(server.stdout())
      })
      assert.strictEqual(settings.clientId, confidential.clientId)
      const env = {
        ...baseEnv(home),
        TWITCH_AUTH_URL: settings.authUrl,
        TWITCH_CLIENT_ID: settings.clientId,
        TWITCH_CLIENT_SECRET: settings.clientSecret
      }
      const app = yield* Effect.promise(() => run(["app-token"], env))
      server.child.kill("SIGINT")
      const stopped = yield* Effect.promise(() => server.done)
      assert.strictEqual(app.code, 0, app.stderr)
      assert.include(app.stdout, "Got an app access token")
      assert.strictEqual(stopped.code, 130)
    }))

  // No timing is asserted (a loaded machine may take long): the simulated clock is what makes
  // the hours of the lifecycle take no time, and the figures below show that it ran.
  it.effect("demo: the whole lifecycle on the embedded mock", () =>
    Effect.gen(function*() {
      const result = yield* Effect.promise(() => run(["demo"], baseEnv(tempDir())))
      assert.strictEqual(result.code, 0, result.stderr)
      for (
        const line of [
          "Logged in as twitchdev (user id 141981764).",
          "and approves",
          "mode 600, client secret inside: no",
          "The token of profile demo is valid.",
          "GET /helix/users → 401 Invalid OAuth token → refresh → retry → 200: twitchdev",
          "Helix saw 2 requests, id.twitch.tv 1 refresh",
          "t+3h     validations so far: 4, refreshes: 0",
          "t+3h56m  validations so far: 4, refreshes: 1",
          "Revoked the token of profile demo",
          "(exit 4)"
        ]
      ) assert.include(result.stdout, line)
      assert.notInclude(result.stdout, confidential.clientSecret)
    }))

  it.effect("mock: a port in use is exit 6", () =>
    Effect.gen(function*() {
      const held = yield* Effect.promise(occupyPort)
      const result = yield* Effect.promise(() => run(["mock", "--port", String(held.port)], baseEnv(tempDir())))
      yield* Effect.promise(held.close)
      assert.strictEqual(result.code, 6)
      assert.strictEqual(errorLine(result), `port ${held.port} on 127.0.0.1 is in use: cannot start the mock Twitch`)
    }))
})

layer(MockLive, { excludeTestServices: true })("twitch-auth refresh on a public client's profile", (it) => {
  /** A profile holding a public client's token (single-use refresh tokens), written as the store does. */
  const publicProfile = Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    const { configDir, env, tokenFile } = yield* mockEnv
    const issued = yield* Effect.orDie(
      twitch.issueUserToken({ clientId: publicClient.clientId, userId: user.userId, scopes: ["chat:read"] })
    )
    const now = Date.now()
    Fs.mkdirSync(configDir, { recursive: true, mode: 0o700 })
    Fs.writeFileSync(
      tokenFile,
      JSON.stringify({
        version: 1,
        tokens: {
          [user.userId]: {
            accessToken: issued.accessToken,
            refreshToken: issued.refreshToken,
            scopes: ["chat:read"],
            obtainedAt: new Date(now).toISOString(),
            expiresAt: new Date(now + issued.expiresIn * 1000).toISOString()
          }
        }
      }),
      { mode: 0o600 }
    )
    const { TWITCH_CLIENT_SECRET: _secret, ...rest } = env
    return { env: { ...rest, TWITCH_CLIENT_ID: publicClient.clientId }, tokenFile }
  })

  it.effect(
    "issue 11 #2: two concurrent `refresh` runs take turns; neither spends a refresh token twice nor deletes the profile",
    () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const { env, tokenFile } = yield* publicProfile
        yield* twitch.resetCounters()
        // The first refresh Twitch receives is held for 3 s: long enough for the second run to
        // start and read the same (single-use) refresh token while the first one is in flight.
        yield* twitch.failNext("token", { _tag: "Delay", duration: "3 seconds" })
        const [a, b] = yield* Effect.promise(() => Promise.all([run(["refresh"], env), run(["refresh"], env)]))
        assert.strictEqual(a.code, 0, a.stderr)
        assert.strictEqual(b.code, 0, b.stderr)
        const presented = (yield* twitch.requests("token")).map((r) => r.params["refresh_token"])
        assert.strictEqual(presented.length, 2)
        assert.strictEqual(new Set(presented).size, 2, "each refresh token was presented once")
        const stored = readTokens(tokenFile)[user.userId]
        assert.isTrue(yield* twitch.isRefreshTokenValid(stored?.refreshToken ?? ""))
        assert.isTrue(yield* twitch.isAccessTokenValid(stored?.accessToken ?? ""))
      }),
    60_000
  )

  it.effect(
    "a refresh token Twitch rejects removes the profile only if it still holds that token",
    () =>
      Effect.gen(function*() {
        const twitch = yield* FakeTwitch.FakeTwitch
        const { env, tokenFile } = yield* publicProfile
        yield* twitch.disconnectUser(user.userId, publicClient.clientId)
        const result = yield* Effect.promise(() => run(["refresh"], env))
        assert.strictEqual(result.code, 4, result.stderr)
        assert.isFalse(Fs.existsSync(tokenFile))
      }),
    60_000
  )
})
