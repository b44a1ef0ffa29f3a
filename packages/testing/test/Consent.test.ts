/**
 * The mock's consent page at /oauth2/authorize, over real sockets: what it shows, what its
 * form answers, what it refuses (forged forms, unknown scopes), and the `autoConsent` switch.
 */
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Http from "node:http"
import { FakeTwitch, MockTwitchServer } from "../src/index.js"

const [confidential] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users
const callback = "http://localhost:3000/callback"

const TestLayer = Layer.mergeAll(
  MockTwitchServer.layerTest,
  FetchHttpClient.layer,
  // Do not follow redirects: the tests look at the 302 itself.
  Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" })
)

const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const response = yield* (yield* HttpClient.HttpClient).execute(request)
    return { status: response.status, headers: response.headers, text: yield* response.text }
  })

/** The authorize URL of the mock with these parameters (client_id first). */
const authorizeUrl = (params: Record<string, string>, prefix = "/oauth2") =>
  Effect.map(MockTwitchServer.MockTwitchServer, ({ url }) => {
    const target = new URL(`${url}${prefix}/authorize`)
    for (const [name, value] of Object.entries({ client_id: confidential.clientId, ...params })) {
      target.searchParams.set(name, value)
    }
    return target.toString()
  })

/** The hidden fields of the page's form, decoded as a browser decodes them. */
const hiddenFields = (html: string): Array<readonly [string, string]> =>
  Array.from(html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g), (m) => [
    decode(m[1] ?? ""),
    decode(m[2] ?? "")
  ])

const decode = (text: string) =>
  text.replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(
    /&amp;/g,
    "&"
  )

const postForm = (url: string, fields: ReadonlyArray<readonly [string, string]>) =>
  send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams(fields)))

const json = (text: string): unknown => JSON.parse(text)

/** A GET with a chosen `Host` header (fetch cannot set one): what a DNS-rebinding page sends. */
const getWithHost = (url: string, host: string) =>
  Effect.async<{ readonly status: number; readonly body: string }>((resume) => {
    const request = Http.get(url, { headers: { host } }, (response) => {
      let body = ""
      response.on("data", (chunk: Buffer) => {
        body += chunk.toString()
      })
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body })))
    })
    request.on("error", (error) => resume(Effect.die(error)))
  })

const codeRequest = {
  redirect_uri: callback,
  response_type: "code",
  scope: "chat:read moderator:read:chatters",
  state: "s-1"
}

layer(TestLayer)("the mock's consent page", (it) => {
  it.effect("issue 12 #10: GET /oauth2/authorize shows the app, the user, the scopes with what they allow, Authorize and Cancel", () =>
    Effect.gen(function*() {
      const url = yield* authorizeUrl(codeRequest)
      const page = yield* send(HttpClientRequest.get(url))
      assert.strictEqual(page.status, 200)
      assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8")
      // not frameable, not readable by another origin, not cached
      assert.strictEqual(page.headers["x-frame-options"], "DENY")
      assert.include(page.headers["content-security-policy"] ?? "", "frame-ancestors 'none'")
      assert.isUndefined(page.headers["access-control-allow-origin"])
      assert.strictEqual(page.headers["cache-control"], "no-store")
      assert.include(page.text, confidential.clientId)
      assert.include(page.text, `Signed in as <strong id="user">${user.login}</strong>`)
      assert.include(page.text, "View chat messages <code>chat:read</code>")
      assert.include(page.text, "View the chatters in channels you moderate <code>moderator:read:chatters</code>")
      assert.include(page.text, "<form method=\"post\" action=\"/oauth2/authorize\">")
      assert.include(page.text, "<button type=\"submit\" name=\"decision\" value=\"authorize\">Authorize</button>")
      assert.include(page.text, "<button type=\"submit\" name=\"decision\" value=\"cancel\">Cancel</button>")
      // every original parameter comes back as a hidden input, plus the page's token
      const fields = hiddenFields(page.text)
      assert.deepStrictEqual(
        fields.filter(([name]) => name !== "consent_token"),
        Object.entries({ client_id: confidential.clientId, ...codeRequest })
      )
      assert.match(fields.find(([name]) => name === "consent_token")?.[1] ?? "", /^[a-z0-9]{30}$/)
      // showing the page redirects nowhere
      assert.isUndefined(page.headers["location"])
    }))

  it.effect("issue 12 #10: Authorize answers the code redirect; Cancel answers error=access_denied with Twitch's description and the state", () =>
    Effect.gen(function*() {
      const url = yield* authorizeUrl(codeRequest)
      const page = yield* send(HttpClientRequest.get(url))
      const authorized = yield* postForm(new URL("/oauth2/authorize", url).toString(), [
        ...hiddenFields(page.text),
        ["decision", "authorize"]
      ])
      assert.strictEqual(authorized.status, 302)
      assert.match(
        authorized.headers["location"] ?? "",
        /^http:\/\/localhost:3000\/callback\?code=[a-z0-9]{30}&scope=chat%3Aread\+moderator%3Aread%3Achatters&state=s-1$/
      )
      const cancelled = yield* MockTwitchServer.consent(url, "cancel")
      assert.strictEqual(
        cancelled,
        "http://localhost:3000/callback?error=access_denied&error_description=The+user+denied+you+access&state=s-1"
      )
      // the implicit flow's Cancel is in the query string too; its Authorize in the fragment
      const implicit = yield* authorizeUrl({
        redirect_uri: callback,
        response_type: "token",
        scope: "chat:read",
        state: "s-2"
      })
      assert.strictEqual(
        yield* MockTwitchServer.consent(implicit, "cancel"),
        "http://localhost:3000/callback?error=access_denied&error_description=The+user+denied+you+access&state=s-2"
      )
      assert.match(
        yield* MockTwitchServer.consent(implicit, "authorize"),
        /^http:\/\/localhost:3000\/callback#access_token=[a-z0-9]{30}&scope=chat%3Aread&state=s-2&token_type=bearer$/
      )
    }))

  it.effect("issue 12 #10: everything the page echoes is HTML-escaped", () =>
    Effect.gen(function*() {
      const hostile = "\"><script>alert(1)</script><img src=x onerror=alert(2)>&amp;'"
      const url = yield* authorizeUrl({ ...codeRequest, state: hostile, nonce: "<b>n</b>" })
      const page = yield* send(HttpClientRequest.get(url))
      assert.strictEqual(page.status, 200)
      assert.notInclude(page.text, "<script")
      assert.notInclude(page.text, "<img")
      assert.notInclude(page.text, "<b>")
      // and the escaped values come back intact through the form
      assert.deepStrictEqual(
        hiddenFields(page.text).find(([name]) => name === "state"),
        ["state", hostile]
      )
      const location = new URL(yield* MockTwitchServer.consent(url, "authorize"))
      assert.strictEqual(location.searchParams.get("state"), hostile)
    }))

  it.effect("issue 12 #10: a form the page did not produce is refused (no token, a used one, another page's, an altered parameter)", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const url = yield* authorizeUrl(codeRequest)
      const action = new URL("/oauth2/authorize", url).toString()
      const forbidden = { status: 403, message: "invalid consent token" }
      const refused = (
        answer: { readonly status: number; readonly text: string; readonly headers: Record<string, string> }
      ) => {
        assert.deepStrictEqual([answer.status, json(answer.text)], [403, forbidden])
        assert.isUndefined(answer.headers["location"])
      }
      // what a third-party page can post without reading the page (it cannot: no CORS on it)
      const original = Object.entries({ client_id: confidential.clientId, ...codeRequest })
      refused(yield* postForm(action, [...original, ["decision", "authorize"]]))
      refused(yield* postForm(action, [...original, ["consent_token", "0".repeat(30)], ["decision", "authorize"]]))
      // a real page's token, with a parameter changed (another redirect URI, more scopes)
      const fields = hiddenFields((yield* send(HttpClientRequest.get(url))).text)
      const altered = fields.map(([name, value]) =>
        [name, name === "scope" ? `${value} channel:manage:moderators` : value] as const
      )
      refused(yield* postForm(action, [...altered, ["decision", "authorize"]]))
      // a token is bound to the page it came with: another page's token does not carry this one's request
      const other = hiddenFields(
        (yield* send(HttpClientRequest.get(yield* authorizeUrl({ ...codeRequest, state: "s-9" })))).text
      )
      const otherToken = other.find(([name]) => name === "consent_token")?.[1] ?? ""
      refused(
        yield* postForm(action, [...fields.filter(([n]) => n !== "consent_token"), ["consent_token", otherToken], [
          "decision",
          "authorize"
        ]])
      )
      // a bad decision is refused without spending the token; the real click then works, once
      const bad = yield* postForm(action, [...fields, ["decision", "maybe"]])
      assert.deepStrictEqual([bad.status, json(bad.text)], [400, { status: 400, message: "invalid decision" }])
      const first = yield* postForm(action, [...fields, ["decision", "authorize"]])
      assert.strictEqual(first.status, 302)
      refused(yield* postForm(action, [...fields, ["decision", "authorize"]]))
      // only the one code of the real click was issued: its exchange works
      const code = new URL(first.headers["location"] ?? "").searchParams.get("code") ?? ""
      const exchanged = yield* twitch.token({
        method: "POST",
        headers: {},
        params: {
          client_id: confidential.clientId,
          client_secret: confidential.clientSecret,
          code,
          grant_type: "authorization_code",
          redirect_uri: callback
        }
      })
      assert.strictEqual(exchanged.status, 200)
    }))

  it.effect("issue 12 #10: the form posts to the path the page was served at (/auth/authorize)", () =>
    Effect.gen(function*() {
      const url = yield* authorizeUrl(codeRequest, "/auth")
      const page = yield* send(HttpClientRequest.get(url))
      assert.include(page.text, "<form method=\"post\" action=\"/auth/authorize\">")
      assert.match(yield* MockTwitchServer.consent(url, "authorize"), /\?code=[a-z0-9]{30}&/)
    }))

  it.effect("issue 12 #10: autoConsent: GET answers the redirect at once, for scripts", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      yield* twitch.setQuirks({ autoConsent: true })
      const url = yield* authorizeUrl(codeRequest)
      const answer = yield* send(HttpClientRequest.get(url)).pipe(
        Effect.ensuring(twitch.setQuirks({ autoConsent: false }))
      )
      assert.strictEqual(answer.status, 302)
      assert.match(answer.headers["location"] ?? "", /^http:\/\/localhost:3000\/callback\?code=[a-z0-9]{30}&/)
    }))

  it.effect("issue 12 #8: /oauth2/authorize with an unknown scope is a 400 error page: no consent page, no redirect", () =>
    Effect.gen(function*() {
      for (const scope of ["chat:reed", "chat:read chat_login"]) {
        const url = yield* authorizeUrl({ ...codeRequest, scope })
        const answer = yield* send(HttpClientRequest.get(url))
        const unknown = scope.split(" ").at(-1)
        assert.deepStrictEqual(
          [answer.status, json(answer.text), answer.headers["location"]],
          [400, { status: 400, message: `invalid scope requested: '${unknown}'` }, undefined]
        )
      }
      // nor can the form be posted with one
      const url = yield* authorizeUrl(codeRequest)
      const fields = hiddenFields((yield* send(HttpClientRequest.get(url))).text)
      const posted = yield* postForm(
        new URL("/oauth2/authorize", url).toString(),
        [...fields.map(([n, v]) => [n, n === "scope" ? "chat:reed" : v] as const), ["decision", "authorize"]]
      )
      assert.strictEqual(posted.status, 400)
      // the same with autoConsent: refused before any consent
      const twitch = yield* FakeTwitch.FakeTwitch
      yield* twitch.setQuirks({ autoConsent: true })
      const auto = yield* send(HttpClientRequest.get(yield* authorizeUrl({ ...codeRequest, scope: "chat:reed" }))).pipe(
        Effect.ensuring(twitch.setQuirks({ autoConsent: false }))
      )
      assert.strictEqual(auto.status, 400)
    }))

  it.effect("issue 12 #10: on loopback, the consent page answers only a loopback Host (a DNS-rebinding page gets 421)", () =>
    Effect.gen(function*() {
      const url = yield* authorizeUrl(codeRequest)
      const port = new URL(url).port
      for (const host of [`rebind.example:${port}`, `evil.127.0.0.1.nip.io:${port}`]) {
        const answer = yield* getWithHost(url, host)
        assert.deepStrictEqual([answer.status, json(answer.body)], [421, {
          status: 421,
          message: "Misdirected Request"
        }], host)
      }
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
        const answer = yield* getWithHost(url, host)
        assert.strictEqual(answer.status, 200, host)
        assert.include(answer.body, "Authorize</button>")
      }
      // the APIs are not pages: they keep answering any Host
      const validate = yield* getWithHost(new URL("/oauth2/validate", url).toString(), `rebind.example:${port}`)
      assert.strictEqual(validate.status, 401)
    }))
})
