/**
 * What each `TwitchAuth` operation sends to id.twitch.tv and how it reads the 2xx answer.
 * Secrets are unwrapped only here, into the form body or header being written. Refusals are
 * read by `./refusals.js`, through `./pipeline.js`.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { type Endpoint, MalformedResponse } from "../TwitchAuthError.js"
import * as Token from "./tokenWire.js"
import * as Wire from "./wire.js"

/** `POST /oauth2/token`: every grant. */
export const tokenEndpoint: Endpoint = "POST /oauth2/token"
/** `GET /oauth2/validate`. */
export const validateEndpoint: Endpoint = "GET /oauth2/validate"
/** `POST /oauth2/revoke`. */
export const revokeEndpoint: Endpoint = "POST /oauth2/revoke"
/** `POST /oauth2/device`. */
export const deviceEndpoint: Endpoint = "POST /oauth2/device"

/** What the authorize URL carries besides the client id. */
export interface AuthorizeParameters {
  readonly redirectUri: string
  readonly responseType: string
  readonly scopes: ReadonlyArray<string>
  readonly state: string
  readonly forceVerify?: boolean | undefined
  readonly nonce?: string | undefined
  readonly claims?: {
    readonly idToken?: ReadonlyArray<string> | undefined
    readonly userinfo?: ReadonlyArray<string> | undefined
  } | undefined
}

/** The OpenID Connect `claims` parameter: `{"id_token":{"email":null},"userinfo":{…}}`. */
const claimsParameter = (claims: NonNullable<AuthorizeParameters["claims"]>): string => {
  const section = (names: ReadonlyArray<string> | undefined) =>
    names === undefined || names.length === 0 ? undefined : Object.fromEntries(names.map((name) => [name, null]))
  return JSON.stringify({ id_token: section(claims.idToken), userinfo: section(claims.userinfo) })
}

/** The consent page's URL (`GET /oauth2/authorize`). */
export const authorizeUrl = (authUrl: string, clientId: string, parameters: AuthorizeParameters): string => {
  const params = new URLSearchParams({
    client_id: clientId,
    redirect_uri: parameters.redirectUri,
    response_type: parameters.responseType,
    scope: parameters.scopes.join(" "),
    state: parameters.state
  })
  if (parameters.forceVerify === true) params.set("force_verify", "true")
  if (parameters.nonce !== undefined) params.set("nonce", parameters.nonce)
  if (parameters.claims !== undefined) params.set("claims", claimsParameter(parameters.claims))
  return `${authUrl}/authorize?${params.toString()}`
}

const postForm = (path: string, params: Record<string, string>) =>
  HttpClientRequest.post(path).pipe(HttpClientRequest.bodyUrlParams(params))

/** The client id, and the secret when there is one: what a grant sends to identify the app. */
export type ClientCredentials = Record<string, string>

/** `grant_type=authorization_code`. */
export const codeGrant = (credentials: ClientCredentials, code: string, redirectUri: string) =>
  postForm("/token", { ...credentials, code, grant_type: "authorization_code", redirect_uri: redirectUri })

/** `grant_type=refresh_token`. */
export const refreshGrant = (credentials: ClientCredentials, refreshToken: Redacted.Redacted<string>) =>
  postForm("/token", { ...credentials, grant_type: "refresh_token", refresh_token: Redacted.value(refreshToken) })

/** `grant_type=client_credentials`, with `scope` only when scopes are asked for. */
export const clientCredentialsGrant = (credentials: ClientCredentials, scopes: ReadonlyArray<string>) =>
  postForm("/token", {
    ...credentials,
    grant_type: "client_credentials",
    ...(scopes.length > 0 ? { scope: scopes.join(" ") } : {})
  })

/** `grant_type=urn:ietf:params:oauth:grant-type:device_code`. */
export const deviceCodeGrant = (credentials: ClientCredentials, deviceCode: Redacted.Redacted<string>) =>
  postForm("/token", {
    ...credentials,
    device_code: Redacted.value(deviceCode),
    grant_type: "urn:ietf:params:oauth:grant-type:device_code"
  })

/** `GET /oauth2/validate` with `Authorization: OAuth <token>`. */
export const validateRequest = (accessToken: Redacted.Redacted<string>) =>
  HttpClientRequest.get("/validate").pipe(
    HttpClientRequest.setHeader("authorization", `OAuth ${Redacted.value(accessToken)}`)
  )

/** `POST /oauth2/revoke`. */
export const revokeRequest = (clientId: string, accessToken: Redacted.Redacted<string>) =>
  postForm("/revoke", { client_id: clientId, token: Redacted.value(accessToken) })

/** `POST /oauth2/device`. */
export const deviceRequest = (clientId: string, scopes: ReadonlyArray<string>) =>
  postForm("/device", { client_id: clientId, scopes: scopes.join(" ") })

/** A token grant's 200 body as a user token, with the (unverified) ID token sent along, if any. */
export const readUserToken = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<
  { readonly token: Token.UserToken; readonly idToken: Option.Option<Redacted.Redacted<string>> },
  MalformedResponse
> =>
  Effect.flatten(
    Wire.decodeBodyWith(
      tokenEndpoint,
      response,
      Token.TokenResponse,
      Token.fastTokenResponse,
      (wire, now) =>
        Either.match(Token.userTokenFromWire(wire, now), {
          onLeft: (detail) =>
            Effect.fail(new MalformedResponse({ endpoint: tokenEndpoint, status: response.status, detail })),
          onRight: (token) =>
            Effect.succeed({
              token,
              idToken: Option.map(Option.filter(Option.fromNullable(wire.id_token), (s) => s.length > 0), Redacted.make)
            })
        })
    )
  )

/** A token grant's 200 body as a user token. */
export const readToken = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(readUserToken(response), (exchange) => exchange.token)

/** The client credentials grant's 200 body as an app token. */
export const readAppToken = (response: HttpClientResponse.HttpClientResponse) =>
  Wire.decodeBodyWith(tokenEndpoint, response, Token.TokenResponse, Token.fastTokenResponse, Token.appTokenFromWire)

/** `/oauth2/validate`'s 200 body. */
export const readTokenInfo = (response: HttpClientResponse.HttpClientResponse) =>
  Wire.decodeBodyWith(
    validateEndpoint,
    response,
    Token.ValidateResponse,
    Token.fastValidateResponse,
    Token.tokenInfoFromWire
  )

/** `/oauth2/revoke`'s 200, which has no body. */
export const readRevoked = (response: HttpClientResponse.HttpClientResponse) => Wire.emptyBody(revokeEndpoint, response)

/** `/oauth2/device`'s 200 body, for the scopes that were asked for. */
export const readDeviceAuthorization =
  (requested: ReadonlyArray<string>) => (response: HttpClientResponse.HttpClientResponse) =>
    Effect.zipWith(
      Wire.decodeBody(deviceEndpoint, response, Token.DeviceCodeResponse),
      DateTime.now,
      (wire, now) => Token.deviceAuthorizationFromWire(wire, requested, now)
    )
