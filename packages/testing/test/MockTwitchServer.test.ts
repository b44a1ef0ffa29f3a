import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { FakeTwitch, MockTwitchServer } from "../src/index.js"

const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
const callback = "http://localhost:3000/callback"

// Do not follow redirects: the authorize tests look at the 302 itself.
const TestLayer = Layer.mergeAll(
  MockTwitchServer.layerTest,
  FetchHttpClient.layer,
  Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" })
)

const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, text }
  })

const urlOf = (path: string) => Effect.map(MockTwitchServer.MockTwitchServer, ({ url }) => url + path)
const json = (text: string): Record<string, unknown> => Object(JSON.parse(text))

const clientCredentials = {
  client_id: confidential.clientId,
  client_secret: confidential.clientSecret,
  grant_type: "client_credentials"
}

layer(TestLayer)("MockTwitchServer", (it) => {
  it.effect("exposes its URLs on 127.0.0.1", () =>
    Effect.gen(function*() {
      const { authUrl, helixUrl, url } = yield* MockTwitchServer.MockTwitchServer
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.notMatch(url, /:0$/)
      assert.strictEqual(authUrl, `${url}/oauth2`)
      assert.strictEqual(helixUrl, `${url}/helix`)
    }))

  it.effect("params from the query string", () =>
    Effect.gen(function*() {
      const response = yield* send(
        HttpClientRequest.post(yield* urlOf("/oauth2/token")).pipe(HttpClientRequest.setUrlParams(clientCredentials))
      )
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers["content-type"], "application/json")
      assert.strictEqual(json(response.text)["expires_in"], 5011271)
    }))

  it.effect("params from a urlencoded body; the body wins over the query", () =>
    Effect.gen(function*() {
      const url = yield* urlOf("/oauth2/token")
      const ok = yield* send(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.setUrlParams({ client_secret: "wrong" }),
          HttpClientRequest.bodyUrlParams(clientCredentials)
        )
      )
      assert.strictEqual(ok.status, 200)
      const bad = yield* send(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.setUrlParams({ client_secret: confidential.clientSecret }),
          HttpClientRequest.bodyUrlParams({ ...clientCredentials, client_secret: "wrong" })
        )
      )
      assert.strictEqual(bad.status, 403)
      assert.deepStrictEqual(json(bad.text), { status: 403, message: "invalid client secret" })
    }))

  it.effect("params from a multipart body; the body wins over the query", () =>
    Effect.gen(function*() {
      const url = yield* urlOf("/oauth2/token")
      const form = (secret: string) => {
        const data = new FormData()
        data.append("client_id", confidential.clientId)
        data.append("client_secret", secret)
        data.append("grant_type", "client_credentials")
        return data
      }
      const ok = yield* send(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.setUrlParams({ client_secret: "wrong" }),
          HttpClientRequest.bodyFormData(form(confidential.clientSecret))
        )
      )
      assert.strictEqual(ok.status, 200)
      const bad = yield* send(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.setUrlParams({ client_secret: confidential.clientSecret }),
          HttpClientRequest.bodyFormData(form("wrong"))
        )
      )
      assert.strictEqual(bad.status, 403)
      const twitch = yield* FakeTwitch.FakeTwitch
      const recorded = yield* twitch.requests("token")
      const last = recorded[recorded.length - 1]
      assert.strictEqual(last?.params["client_secret"], "wrong")
      assert.include(last?.headers["content-type"], "multipart/form-data")
    }))

  it.effect("GET /oauth2/token, wrong methods and unknown paths are JSON 404s", () =>
    Effect.gen(function*() {
      const getToken = yield* send(
        HttpClientRequest.get(yield* urlOf("/oauth2/token")).pipe(HttpClientRequest.setUrlParams(clientCredentials))
      )
      assert.strictEqual(getToken.status, 404)
      assert.strictEqual(getToken.headers["content-type"], "application/json")
      assert.deepStrictEqual(json(getToken.text), { status: 404, message: "Not Found" })
      assert.strictEqual((yield* send(HttpClientRequest.post(yield* urlOf("/oauth2/validate")))).status, 404)
      const unknown = yield* send(HttpClientRequest.get(yield* urlOf("/oauth2/nope")))
      assert.strictEqual(unknown.status, 404)
      assert.deepStrictEqual(json(unknown.text), { status: 404, message: "Not Found" })
    }))

  it.effect("/auth/* aliases (Twitch CLI mock convention)", () =>
    Effect.gen(function*() {
      const token = yield* send(
        HttpClientRequest.post(yield* urlOf("/auth/token")).pipe(HttpClientRequest.bodyUrlParams(clientCredentials))
      )
      assert.strictEqual(token.status, 200)
      const accessToken = String(json(token.text)["access_token"])
      const validated = yield* send(
        HttpClientRequest.get(yield* urlOf("/auth/validate")).pipe(
          HttpClientRequest.setHeader("Authorization", `Bearer ${accessToken}`)
        )
      )
      assert.strictEqual(validated.status, 200)
      assert.deepStrictEqual(json(validated.text), {
        client_id: confidential.clientId,
        scopes: [],
        expires_in: 5011271
      })
    }))

  it.effect("validate and revoke over HTTP", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const { accessToken } = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: "141981764",
        scopes: ["chat:read"]
      })
      const validate = Effect.flatMap(urlOf("/oauth2/validate"), (url) =>
        send(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeader("Authorization", `OAuth ${accessToken}`))))
      const ok = yield* validate
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(json(ok.text)["login"], "twitchdev")
      const missing = yield* send(HttpClientRequest.get(yield* urlOf("/oauth2/validate")))
      assert.strictEqual(missing.status, 401)
      assert.deepStrictEqual(json(missing.text), { status: 401, message: "missing authorization token" })

      const revoked = yield* send(
        HttpClientRequest.post(yield* urlOf("/oauth2/revoke")).pipe(
          HttpClientRequest.bodyUrlParams({ client_id: confidential.clientId, token: accessToken })
        )
      )
      assert.strictEqual(revoked.status, 200)
      assert.strictEqual(revoked.text, "")
      const after = yield* validate
      assert.strictEqual(after.status, 401)
      assert.deepStrictEqual(json(after.text), { status: 401, message: "invalid access token" })
    }))

  it.effect("authorize: the consent page, Authorize → 302 with code, then the code exchanges over HTTP", () =>
    Effect.gen(function*() {
      const url = new URL(yield* urlOf("/oauth2/authorize"))
      for (
        const [name, value] of Object.entries({
          client_id: confidential.clientId,
          redirect_uri: callback,
          response_type: "code",
          scope: "chat:read chat:edit",
          state: "xyz"
        })
      ) url.searchParams.set(name, value)
      const page = yield* send(HttpClientRequest.get(url.toString()))
      assert.strictEqual(page.status, 200)
      assert.include(page.text, "<button type=\"submit\" name=\"decision\" value=\"authorize\">Authorize</button>")
      const location = yield* MockTwitchServer.consent(url.toString(), "authorize")
      assert.match(
        location,
        /^http:\/\/localhost:3000\/callback\?code=[a-z0-9]{30}&scope=chat%3Aread\+chat%3Aedit&state=xyz$/
      )
      const code = new URL(location).searchParams.get("code") ?? ""
      const token = yield* send(
        HttpClientRequest.post(yield* urlOf("/oauth2/token")).pipe(
          HttpClientRequest.bodyUrlParams({
            client_id: confidential.clientId,
            client_secret: confidential.clientSecret,
            code,
            grant_type: "authorization_code",
            redirect_uri: callback
          })
        )
      )
      assert.strictEqual(token.status, 200)
      assert.deepStrictEqual(json(token.text)["scope"], ["chat:read", "chat:edit"])
    }))

  it.effect("authorize: redirect_mismatch to the first URI, access_denied, implicit fragment", () =>
    Effect.gen(function*() {
      const url = yield* urlOf("/oauth2/authorize")
      const authorize = (params: Record<string, string>) =>
        send(
          HttpClientRequest.get(url).pipe(
            HttpClientRequest.setUrlParams({ client_id: confidential.clientId, ...params })
          )
        )

      const mismatch = yield* authorize({
        redirect_uri: "http://localhost:9999/cb",
        response_type: "code",
        state: "s1"
      })
      assert.strictEqual(mismatch.status, 302)
      assert.strictEqual(
        mismatch.headers["location"],
        "http://localhost:3000/callback?error=redirect_mismatch&error_description=Parameter+redirect_uri+does+not+match+registered+URI&state=s1"
      )

      const consented = (params: Record<string, string>, decision: "authorize" | "cancel") => {
        const target = new URL(url)
        for (const [name, value] of Object.entries({ client_id: confidential.clientId, ...params })) {
          target.searchParams.set(name, value)
        }
        return MockTwitchServer.consent(target.toString(), decision)
      }
      const denied = yield* consented({
        redirect_uri: "http://localhost:3000/other",
        response_type: "code",
        state: "s2"
      }, "cancel")
      assert.strictEqual(
        denied,
        "http://localhost:3000/other?error=access_denied&error_description=The+user+denied+you+access&state=s2"
      )

      const implicit = yield* consented({
        redirect_uri: callback,
        response_type: "token",
        scope: "chat:read",
        state: "s3"
      }, "authorize")
      assert.match(
        implicit,
        /^http:\/\/localhost:3000\/callback#access_token=[a-z0-9]{30}&scope=chat%3Aread&state=s3&token_type=bearer$/
      )

      const unknown = yield* send(
        HttpClientRequest.get(url).pipe(
          HttpClientRequest.setUrlParams({ client_id: "nosuchclient", redirect_uri: callback, response_type: "code" })
        )
      )
      assert.strictEqual(unknown.status, 400)
      assert.deepStrictEqual(json(unknown.text), { status: 400, message: "invalid client" })
    }))

  it.effect("refresh tokens with % / = + & round-trip only when URL-encoded", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const url = yield* urlOf("/oauth2/token")
      const confidentialToken = yield* twitch.issueUserToken({
        clientId: confidential.clientId,
        userId: "141981764",
        scopes: []
      })
      const rt = confidentialToken.refreshToken
      for (const c of ["%", "/", "=", "+", "&"]) assert.include(rt, c)

      const raw = `grant_type=refresh_token&client_id=${confidential.clientId}` +
        `&client_secret=${confidential.clientSecret}&refresh_token=${rt}`
      const unencodedBody = yield* send(
        HttpClientRequest.post(url).pipe(HttpClientRequest.bodyText(raw, "application/x-www-form-urlencoded"))
      )
      assert.strictEqual(unencodedBody.status, 400)
      assert.deepStrictEqual(json(unencodedBody.text), { status: 400, message: "Invalid refresh token" })

      const unencodedQuery = yield* send(HttpClientRequest.post(`${url}?${raw}`))
      assert.strictEqual(unencodedQuery.status, 400)
      assert.deepStrictEqual(json(unencodedQuery.text), { status: 400, message: "Invalid refresh token" })

      const params = {
        grant_type: "refresh_token",
        client_id: confidential.clientId,
        client_secret: confidential.clientSecret,
        refresh_token: rt
      }
      const encodedBody = yield* send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams(params)))
      assert.strictEqual(encodedBody.status, 200)
      // the refresh token rotates (a new one, with the same awkward characters)
      const rotatedRt = String(json(encodedBody.text)["refresh_token"])
      assert.notStrictEqual(rotatedRt, rt)
      for (const c of ["%", "/", "=", "+", "&"]) assert.include(rotatedRt, c)
      const encodedQuery = yield* send(
        HttpClientRequest.post(url).pipe(HttpClientRequest.setUrlParams({ ...params, refresh_token: rotatedRt }))
      )
      assert.strictEqual(encodedQuery.status, 200)

      // public client: rotation over HTTP, the spent token is rejected
      const publicToken = yield* twitch.issueUserToken({
        clientId: publicClient.clientId,
        userId: "141981764",
        scopes: []
      })
      const publicParams = {
        grant_type: "refresh_token",
        client_id: publicClient.clientId,
        refresh_token: publicToken.refreshToken
      }
      const rotated = yield* send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams(publicParams)))
      assert.strictEqual(rotated.status, 200)
      const next = String(json(rotated.text)["refresh_token"])
      assert.notStrictEqual(next, publicToken.refreshToken)
      const reused = yield* send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams(publicParams)))
      assert.deepStrictEqual(json(reused.text), { status: 400, message: "Invalid refresh token" })
      const again = yield* send(
        HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams({ ...publicParams, refresh_token: next }))
      )
      assert.strictEqual(again.status, 200)
    }))

  it.effect("faults reach the wire: 429 headers, 503, malformed body", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const url = yield* urlOf("/oauth2/token")
      const request = HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams(clientCredentials))
      const before = yield* twitch.calls("token")
      yield* twitch.failNext("token", { _tag: "RateLimited" })
      yield* twitch.failNext("token", { _tag: "ServerError" })
      yield* twitch.failNext("token", { _tag: "Malformed", body: "<html>" })
      const limited = yield* send(request)
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.headers["ratelimit-remaining"], "0")
      assert.match(limited.headers["ratelimit-reset"] ?? "", /^\d+$/)
      const unavailable = yield* send(request)
      assert.deepStrictEqual([unavailable.status, json(unavailable.text)], [503, {
        status: 503,
        message: "Service Unavailable"
      }])
      const malformed = yield* send(request)
      assert.deepStrictEqual([malformed.status, malformed.text], [200, "<html>"])
      assert.strictEqual((yield* send(request)).status, 200)
      assert.strictEqual((yield* twitch.calls("token")) - before, 4)
    }))
})

// Real time: a hang is ended by a real timeout.
layer(TestLayer, { excludeTestServices: true })("MockTwitchServer socket faults", (it) => {
  it.effect("a reset drops the connection, a hang never answers, raw bodies go out as given", () =>
    Effect.gen(function*() {
      const twitch = yield* FakeTwitch.FakeTwitch
      const url = yield* urlOf("/oauth2/token")
      const request = HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams(clientCredentials))
      const before = yield* twitch.calls("token")

      yield* twitch.failNext("token", { _tag: "Reset" })
      const reset = yield* Effect.flip(send(request))
      assert.strictEqual(reset._tag, "RequestError")
      assert.strictEqual(reset._tag === "RequestError" ? reset.reason : undefined, "Transport")

      yield* twitch.failNext("token", { _tag: "Hang" })
      const hung = yield* Effect.flip(Effect.timeout(send(request), "300 millis"))
      assert.strictEqual(hung._tag, "TimeoutException")

      const big = "x".repeat(5 * 1024 * 1024)
      yield* twitch.failNext("token", { _tag: "Raw", headers: { "content-type": "application/json" }, body: "" })
      yield* twitch.failNext("token", { _tag: "Raw", headers: { "content-type": "application/json" }, body: big })
      yield* twitch.failNext("token", { _tag: "ServerError", status: 502, body: "<html>Bad Gateway</html>" })
      const empty = yield* send(request)
      assert.deepStrictEqual([empty.status, empty.headers["content-type"], empty.text], [200, "application/json", ""])
      const oversized = yield* send(request)
      assert.strictEqual(oversized.text.length, big.length)
      const html = yield* send(request)
      assert.deepStrictEqual([html.status, html.headers["content-type"], html.text], [
        502,
        "text/html; charset=utf-8",
        "<html>Bad Gateway</html>"
      ])
      assert.strictEqual((yield* send(request)).status, 200)
      assert.strictEqual((yield* twitch.calls("token")) - before, 6)
    }))
})
