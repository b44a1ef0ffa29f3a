/**
 * The mock's consent page in a real browser (Debian's chromium, driven by playwright-core):
 * `twitch-auth login` end to end with a user clicking Authorize or Cancel, and the implicit
 * flow, whose token only the browser sees (in the URL fragment).
 *
 * These tests are never skipped: without chromium they fail and say how to install it.
 */
import { ImplicitFlow, TwitchAuth, TwitchAuthConfig } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { afterAll, assert, beforeAll, layer } from "@effect/vitest"
import { Effect, Either, Layer, Option, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import { type Browser, chromium, type Page } from "playwright-core"
import { confidential, freePort, mockEnv, start, user } from "./support.js"

/** Where Debian's `chromium` package installs the browser; `CHROMIUM_PATH` overrides it. */
const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium"

const missingChromium = `chromium is not installed at ${chromiumPath}: the browser tests need it. ` +
  "Install it with `sudo apt-get update && sudo apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this), " +
  "or point CHROMIUM_PATH at a Chromium binary."

let browser: Browser | undefined

// Without chromium every test fails (in `newPage`, before it starts anything) with
// `missingChromium`; none is skipped.
beforeAll(async () => {
  if (!Fs.existsSync(chromiumPath)) return
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
  })
}, 120_000)

afterAll(async () => {
  await browser?.close()
})

/** A fresh page in its own context (no cookies shared between tests), closed with the scope. */
const newPage = Effect.acquireRelease(
  Effect.promise(async () => {
    if (browser === undefined) throw new Error(missingChromium)
    const context = await browser.newContext()
    return { context, page: await context.newPage() }
  }),
  ({ context }) => Effect.promise(() => context.close())
).pipe(Effect.map(({ page }) => page))

/** A user on the consent page clicks a button; resolves once the browser has left the page. */
const click = (page: Page, button: "Authorize" | "Cancel", leavingTo: string) =>
  Effect.promise(() =>
    Promise.all([
      page.waitForURL((url) => url.toString().startsWith(leavingTo), { waitUntil: "commit" }),
      page.getByRole("button", { name: button, exact: true }).click()
    ])
  )

/** Registers a redirect URI on 127.0.0.1 (a free port) for the confidential client. */
const registerRedirect = (path: string) =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    const uri = `http://127.0.0.1:${yield* Effect.promise(freePort)}${path}`
    yield* twitch.registerClient({ ...confidential, redirectUris: [...confidential.redirectUris, uri] })
    return uri
  })

/** `twitch-auth login` waiting for the browser; the authorize URL it printed. */
const startLogin = Effect.gen(function*() {
  const { env, tokenFile } = yield* mockEnv
  const redirectUri = yield* registerRedirect("/callback")
  const cli = start(["login", "--no-open", "--redirect-uri", redirectUri, "--scope", "chat:read"], env)
  const [url] = yield* Effect.promise(() => cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/))
  yield* Effect.promise(() => cli.waitForStderr(/Waiting for Twitch to redirect/))
  return { cli, url, redirectUri, tokenFile }
})

/** A page on 127.0.0.1 serving `html` at every path, for the scope of the test. */
const staticSite = (html: string) =>
  Effect.acquireRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer((_, response) => {
        response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        // the browser keeps its connections alive: end them, or close waits for them
        server.closeAllConnections()
      })
  ).pipe(Effect.map((server) => {
    const address = server.address()
    return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
  }))

const MockLive = MockTwitchServer.layer().pipe(Layer.provideMerge(FakeTwitch.layer()))

layer(MockLive, { excludeTestServices: true, timeout: 120_000 })("the consent page in chromium", (it) => {
  it.scoped("issue 12 #10: twitch-auth login: the user clicks Authorize in chromium → exit 0, the profile stores the token", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const page = yield* newPage
      const { cli, redirectUri, tokenFile, url } = yield* startLogin
      yield* Effect.promise(() => page.goto(url))
      // the consent page shows the app, the account and what the scope allows
      const text = yield* Effect.promise(() => page.locator("body").innerText())
      assert.include(text, confidential.clientId)
      assert.include(text, `Signed in as ${user.login}`)
      assert.include(text, "View chat messages chat:read")
      yield* click(page, "Authorize", redirectUri)
      const result = yield* Effect.promise(() => cli.done)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, `Logged in as ${user.login}`)
      const stored: Record<string, { readonly accessToken: string; readonly scopes: Array<string> }> =
        JSON.parse(Fs.readFileSync(tokenFile, "utf8")).tokens
      const [token] = Object.values(stored)
      assert.deepStrictEqual(token?.scopes, ["chat:read"])
      assert.isTrue(yield* twitch.isAccessTokenValid(token?.accessToken ?? ""))
      // the browser landed on the CLI's own page
      assert.include(yield* Effect.promise(() => page.locator("body").innerText()), "twitch-auth")
    }))

  it.scoped("issue 12 #10: twitch-auth login: the user clicks Cancel in chromium → exit 3, nothing stored", () =>
    Effect.gen(function*() {
      const page = yield* newPage
      const { cli, redirectUri, tokenFile, url } = yield* startLogin
      yield* Effect.promise(() => page.goto(url))
      yield* click(page, "Cancel", redirectUri)
      const result = yield* Effect.promise(() => cli.done)
      assert.strictEqual(result.code, 3, result.stderr)
      assert.include(result.stderr, "authorization was denied on Twitch's consent page (The user denied you access)")
      assert.isFalse(Fs.existsSync(tokenFile))
    }))

  it.scoped("issue 12 #10: the implicit flow: Authorize in chromium, parseRedirect on the page's location.href, the token validates", () =>
    Effect.gen(function*() {
      const server = yield* MockTwitchServer.MockTwitchServer
      const site = yield* staticSite("<!DOCTYPE html><title>app</title><p>the application's redirect page</p>")
      const redirectUri = `${site}/implicit`
      yield* FakeTwitch.FakeTwitch.pipe(
        Effect.flatMap((twitch) =>
          twitch.registerClient({ ...confidential, redirectUris: [...confidential.redirectUris, redirectUri] })
        )
      )
      const auth = yield* TwitchAuth.TwitchAuth.pipe(Effect.provide(
        TwitchAuth.layer.pipe(
          Layer.provide(
            Layer.orDie(
              TwitchAuthConfig.layer({ clientId: confidential.clientId, redirectUri, authUrl: server.authUrl })
            )
          ),
          Layer.provide(FetchHttpClient.layer)
        )
      ))
      const request = yield* ImplicitFlow.authorizationUrl({ scopes: ["user:read:email"] }).pipe(
        Effect.provideService(TwitchAuth.TwitchAuth, auth)
      )
      const page = yield* newPage
      yield* Effect.promise(() => page.goto(request.url))
      yield* click(page, "Authorize", redirectUri)
      yield* Effect.promise(() => page.waitForLoadState("load"))
      // only the browser sees the fragment: read it from the page itself
      const href = yield* Effect.promise(() => page.evaluate(() => location.href))
      assert.include(href, "#access_token=")
      const token = ImplicitFlow.parseRedirect(href, { state: request.state })
      assert.isTrue(Either.isRight(token), String(token))
      if (Either.isLeft(token)) return
      assert.deepStrictEqual(token.right.scopes, ["user:read:email"])
      const info = yield* auth.validateToken(token.right.accessToken)
      assert.deepStrictEqual(info.login, Option.some(user.login))
      assert.strictEqual(Redacted.value(token.right.accessToken).length, 30)
    }))

  it.scoped("issue 12 #10: chromium refuses to show the consent page in another site's frame", () =>
    Effect.gen(function*() {
      const server = yield* MockTwitchServer.MockTwitchServer
      const redirectUri = confidential.redirectUris[0] ?? ""
      const consentUrl = `${server.authUrl}/authorize?client_id=${confidential.clientId}&redirect_uri=${
        encodeURIComponent(redirectUri)
      }&response_type=code&scope=chat%3Aread`
      const site = yield* staticSite(`<!DOCTYPE html><iframe id="f" src="${consentUrl}"></iframe>`)
      const page = yield* newPage
      // the page itself loads in a tab...
      yield* Effect.promise(() => page.goto(consentUrl))
      assert.strictEqual(yield* Effect.promise(() => page.getByRole("button", { name: "Authorize" }).count()), 1)
      // ...but not inside another origin's frame: the frame holds no Authorize button
      const response = page.waitForResponse((r) => r.url().startsWith(`${server.authUrl}/authorize`))
      yield* Effect.promise(() => page.goto(site))
      const framed = yield* Effect.promise(() => response)
      assert.strictEqual(framed.status(), 200)
      yield* Effect.promise(() => page.waitForLoadState("load"))
      const frame = page.frames().find((f) => f !== page.mainFrame())
      assert.isDefined(frame)
      const buttons = yield* Effect.promise(() => frame?.locator("button").count() ?? Promise.resolve(-1))
      assert.strictEqual(buttons, 0)
    }))
})
