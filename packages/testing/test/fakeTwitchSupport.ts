/** What the FakeTwitch unit tests share: the seed's clients and user, request builders, checks. */
import { assert } from "@effect/vitest"
import { FakeTwitch } from "../src/index.js"

export const [confidential, publicClient] = FakeTwitch.defaultSeed.clients
export const [user] = FakeTwitch.defaultSeed.users
export const callback = "http://localhost:3000/callback"

export const post = (params: Record<string, string>): FakeTwitch.FakeTwitch.WireRequest => ({
  method: "POST",
  headers: {},
  params
})
export const get = (
  params: Record<string, string>,
  headers: Record<string, string> = {}
): FakeTwitch.FakeTwitch.WireRequest => ({
  method: "GET",
  headers,
  params
})
export const bearer = (token: string) => get({}, { authorization: `OAuth ${token}` })
export const body = (response: FakeTwitch.FakeTwitch.WireResponse): unknown => JSON.parse(response.body)
export const clientCredentials = {
  client_id: confidential.clientId,
  client_secret: confidential.clientSecret,
  grant_type: "client_credentials"
}

export const expectError = (response: FakeTwitch.FakeTwitch.WireResponse, status: number, message: string) => {
  assert.strictEqual(response.status, status)
  assert.strictEqual(response.headers["content-type"], "application/json")
  assert.deepStrictEqual(body(response), { status, message })
}

export const refreshParams = (client: FakeTwitch.FakeTwitch.Client, refreshToken: string): Record<string, string> =>
  client.clientSecret === undefined
    ? { client_id: client.clientId, grant_type: "refresh_token", refresh_token: refreshToken }
    : {
      client_id: client.clientId,
      client_secret: client.clientSecret,
      grant_type: "refresh_token",
      refresh_token: refreshToken
    }
