/**
 * `POST /oauth2/token` (every grant), `GET /oauth2/validate` and `POST /oauth2/revoke` as
 * transitions of the state.
 */
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import type * as Model from "./model.js"
import { idTokenClaims, withIdToken } from "./oidc.js"
import { isKnownScope } from "./scopes.js"
import {
  accessTokenAlive,
  type AccessTokenRecord,
  type Ctx,
  type DeviceCodeRecord,
  fail,
  noOidc,
  notFound,
  param,
  refreshTokenAlive,
  type Reply,
  secondsLeft,
  type State,
  type Transition
} from "./state.js"
import * as Wire from "./wire.js"

/**
 * Checks the client secret for grants that need one. A public client has no secret, so it
 * fails these grants the way a confidential client without (or with a wrong) secret would.
 */
const checkSecret = (state: State, client: Model.Client, request: Model.WireRequest) => {
  const secret = param(request, "client_secret")
  if (secret === undefined) return Option.some(fail(state, 400, "missing client secret"))
  if (client.clientSecret === undefined || secret !== client.clientSecret) {
    return Option.some(fail(state, 403, "invalid client secret"))
  }
  return Option.none()
}

/**
 * Stores `ctx.fresh.accessToken` as minted by the authorization `chain`; when the chain then
 * has more live access tokens than allowed, the oldest ones are revoked (Twitch: the 51st
 * kills the 1st, see `maxAccessTokensPerRefreshToken`).
 */
const addChainedAccessToken = (state: State, ctx: Ctx, chain: string, record: AccessTokenRecord): State => {
  const alive = (token: string) =>
    Option.match(HashMap.get(state.accessTokens, token), {
      onNone: () => false,
      onSome: (r) => accessTokenAlive(r, ctx.now)
    })
  const live = [...Option.getOrElse(HashMap.get(state.chains, chain), () => []).filter(alive), ctx.fresh.accessToken]
  const excess = Math.max(0, live.length - Math.max(1, ctx.lifetimes.maxAccessTokensPerChain))
  let accessTokens = HashMap.set(state.accessTokens, ctx.fresh.accessToken, record)
  for (const evicted of live.slice(0, excess)) {
    accessTokens = HashMap.modify(accessTokens, evicted, (r) => ({ ...r, revoked: true }))
  }
  return { ...state, accessTokens, chains: HashMap.set(state.chains, chain, live.slice(excess)) }
}

/**
 * Mints a user access token + refresh token into the state: for a new authorization (a new
 * chain) or, with `chain`, for a refresh that rotates the refresh token.
 */
export const mintUserToken = (
  state: State,
  ctx: Ctx,
  client: Model.Client,
  userId: string,
  scopes: ReadonlyArray<string>,
  userinfoClaims: ReadonlyArray<string> = [],
  chain: string = ctx.fresh.refreshToken
): State => {
  const withAccess = addChainedAccessToken(state, ctx, chain, {
    clientId: client.clientId,
    userId,
    scopes,
    expiresAt: ctx.now + ctx.lifetimes.userTokenMs,
    revoked: false,
    userinfoClaims
  })
  return {
    ...withAccess,
    refreshTokens: HashMap.set(withAccess.refreshTokens, ctx.fresh.refreshToken, {
      clientId: client.clientId,
      userId,
      scopes,
      expiresAt: client.type === "public" ? ctx.now + ctx.lifetimes.publicRefreshMs : undefined,
      dead: false,
      chain
    })
  }
}

const userTokenBody = (
  accessToken: string,
  expiresIn: number,
  refreshToken: string,
  scopes: ReadonlyArray<string>
) =>
  scopes.length === 0
    ? { access_token: accessToken, expires_in: expiresIn, refresh_token: refreshToken, token_type: "bearer" }
    : {
      access_token: accessToken,
      expires_in: expiresIn,
      refresh_token: refreshToken,
      scope: scopes,
      token_type: "bearer"
    }

const grantAuthorizationCode = (
  state: State,
  ctx: Ctx,
  client: Model.Client,
  request: Model.WireRequest
): readonly [Reply, State] => {
  const secretFailure = checkSecret(state, client, request)
  if (Option.isSome(secretFailure)) return secretFailure.value
  const code = param(request, "code")
  // guess: not documented by Twitch ("missing code", "missing redirect_uri").
  if (code === undefined) return fail(state, 400, "missing code")
  const redirectUri = param(request, "redirect_uri")
  if (redirectUri === undefined) return fail(state, 400, "missing redirect_uri")
  const record = HashMap.get(state.codes, code)
  if (Option.isNone(record) || record.value.clientId !== client.clientId || ctx.now >= record.value.expiresAt) {
    return fail(state, 400, "Invalid authorization code")
  }
  if (redirectUri !== record.value.redirectUri || !client.redirectUris.includes(redirectUri)) {
    return fail(state, 400, "Parameter redirect_uri does not match registered URI")
  }
  const { scopes, userId } = record.value
  const oidc = record.value.oidc ?? noOidc
  const minted = mintUserToken(
    { ...state, codes: HashMap.remove(state.codes, code) },
    ctx,
    client,
    userId,
    scopes,
    oidc.userinfoClaims
  )
  const body = userTokenBody(ctx.fresh.accessToken, ctx.lifetimes.userTokenMs / 1000, ctx.fresh.refreshToken, scopes)
  if (!scopes.includes("openid")) return [Wire.json(200, body), minted]
  // OpenID Connect: the code flow's token answer carries the ID token.
  return withIdToken(
    minted,
    idTokenClaims(minted, ctx, client.clientId, userId, scopes, oidc),
    (idToken) => Wire.json(200, { ...body, id_token: idToken })
  )
}

/**
 * `urn:ietf:params:oauth:grant-type:device_code`. Public clients send no secret; a
 * confidential client may, and a wrong one is refused. Answers, in order: `invalid device
 * code` (unknown, another client's, expired or used), `slow_down` when this poll comes less
 * than `interval` seconds after the previous one on the fake's clock (the interval then grows
 * by 5 s, as RFC 8628 says; guess: not documented by Twitch, which never documents
 * `slow_down`), `authorization_pending`, `access_denied` when the user denied (guess: not
 * documented by Twitch, in its envelope style), or the token. Denial and success use the code
 * up.
 */
const grantDeviceCode = (
  state: State,
  ctx: Ctx,
  client: Model.Client,
  request: Model.WireRequest
): readonly [Reply, State] => {
  const secret = param(request, "client_secret")
  if (secret !== undefined && secret !== client.clientSecret) return fail(state, 403, "invalid client secret")
  const deviceCode = param(request, "device_code")
  // guess: not documented by Twitch.
  if (deviceCode === undefined) return fail(state, 400, "missing device_code")
  const found = HashMap.get(state.deviceCodes, deviceCode)
  if (Option.isNone(found) || found.value.clientId !== client.clientId || ctx.now >= found.value.expiresAt) {
    return fail(state, 400, "invalid device code")
  }
  const record = found.value
  const polled = (next: Partial<DeviceCodeRecord>): State => ({
    ...state,
    deviceCodes: HashMap.set(state.deviceCodes, deviceCode, { ...record, lastPollAt: ctx.now, ...next })
  })
  if (record.decision._tag === "Consumed") return fail(state, 400, "invalid device code")
  if (record.lastPollAt !== undefined && ctx.now - record.lastPollAt < record.interval * 1000) {
    return fail(polled({ interval: record.interval + 5 }), 400, "slow_down")
  }
  switch (record.decision._tag) {
    case "Pending":
      return fail(polled({}), 400, "authorization_pending")
    case "Denied":
      return fail(polled({ decision: { _tag: "Consumed" } }), 400, "access_denied")
    case "Authorized": {
      const next = polled({ decision: { _tag: "Consumed" } })
      return [
        Wire.json(
          200,
          userTokenBody(ctx.fresh.accessToken, ctx.lifetimes.userTokenMs / 1000, ctx.fresh.refreshToken, record.scopes)
        ),
        mintUserToken(next, ctx, client, record.decision.userId, record.scopes)
      ]
    }
  }
}

/**
 * The first requested scope Twitch would refuse, if any: one not in the scopes Twitch
 * documents (the fake's own list, `internal/scopes.ts`, shared with nothing in the SDK).
 * Twitch refuses it with 400 `invalid scope requested: '<scope>'`: the wording comes from a
 * third-party client's notes (nicklaw5/helix; low confidence), Twitch does not document it.
 */
export const invalidScope = (scopes: ReadonlyArray<string>): string | undefined =>
  scopes.find((scope) => !isKnownScope(scope))

export const invalidScopeMessage = (scope: string): string => `invalid scope requested: '${scope}'`

const grantClientCredentials = (
  state: State,
  ctx: Ctx,
  client: Model.Client,
  request: Model.WireRequest
): readonly [Model.WireResponse, State] => {
  const secretFailure = checkSecret(state, client, request)
  if (Option.isSome(secretFailure)) return secretFailure.value
  const badScope = invalidScope(Wire.parseScopes(param(request, "scope")))
  if (badScope !== undefined) return fail(state, 400, invalidScopeMessage(badScope))
  return [
    Wire.json(200, {
      access_token: ctx.fresh.accessToken,
      expires_in: ctx.lifetimes.appTokenMs / 1000,
      token_type: "bearer"
    }),
    {
      ...state,
      accessTokens: HashMap.set(state.accessTokens, ctx.fresh.accessToken, {
        clientId: client.clientId,
        userId: undefined,
        scopes: [],
        expiresAt: ctx.now + ctx.lifetimes.appTokenMs,
        revoked: false
      })
    }
  ]
}

const grantRefreshToken = (
  state: State,
  ctx: Ctx,
  client: Model.Client,
  request: Model.WireRequest
): readonly [Model.WireResponse, State] => {
  const refreshToken = param(request, "refresh_token")
  // guess: not documented by Twitch.
  if (refreshToken === undefined) return fail(state, 400, "missing refresh token")
  if (client.type === "confidential") {
    const secretFailure = checkSecret(state, client, request)
    if (Option.isSome(secretFailure)) return secretFailure.value
  }
  const record = HashMap.get(state.refreshTokens, refreshToken)
  if (
    Option.isNone(record) || record.value.clientId !== client.clientId || !refreshTokenAlive(record.value, ctx.now)
  ) {
    return fail(state, state.quirks.refreshFailureStatus, "Invalid refresh token")
  }
  const { chain, scopes, userId } = record.value
  const expiresIn = ctx.lifetimes.userTokenMs / 1000
  if (client.type === "public" || state.quirks.rotateRefreshTokens) {
    // Public clients: the refresh token is single use and a new one (30 days from now) comes
    // back. Confidential clients (quirk `rotateRefreshTokens`, default on): a new one too,
    // and the one sent stops working ("refresh tokens may change": the app must store it).
    const spent = HashMap.set(state.refreshTokens, refreshToken, { ...record.value, dead: true })
    return [
      Wire.json(200, userTokenBody(ctx.fresh.accessToken, expiresIn, ctx.fresh.refreshToken, scopes)),
      mintUserToken({ ...state, refreshTokens: spent }, ctx, client, userId, scopes, [], chain)
    ]
  }
  // Confidential clients, rotation off: the refresh token does not expire, stays valid and
  // is returned again.
  return [
    Wire.json(200, userTokenBody(ctx.fresh.accessToken, expiresIn, refreshToken, scopes)),
    addChainedAccessToken(state, ctx, chain, {
      clientId: client.clientId,
      userId,
      scopes,
      expiresAt: ctx.now + ctx.lifetimes.userTokenMs,
      revoked: false
    })
  ]
}

export const tokenTransition: (request: Model.WireRequest) => Transition = (request) => (state, ctx) => {
  if (request.method.toUpperCase() !== "POST") return notFound(state)
  const clientId = param(request, "client_id")
  // guess: not documented by Twitch ("missing client id", and "unsupported grant type" below).
  if (clientId === undefined) return fail(state, 400, "missing client id")
  const client = HashMap.get(state.clients, clientId)
  if (Option.isNone(client)) return fail(state, 400, "invalid client")
  switch (param(request, "grant_type")) {
    case "authorization_code":
      return grantAuthorizationCode(state, ctx, client.value, request)
    case "client_credentials":
      return grantClientCredentials(state, ctx, client.value, request)
    case "refresh_token":
      return grantRefreshToken(state, ctx, client.value, request)
    case "urn:ietf:params:oauth:grant-type:device_code":
      return grantDeviceCode(state, ctx, client.value, request)
    default:
      return fail(state, 400, "unsupported grant type")
  }
}

/**
 * `/validate` takes `Authorization: OAuth <token>` and, the docs add, "the Bearer prefix in
 * place of OAuth" (https://dev.twitch.tv/docs/authentication/validate-tokens/): those two
 * spellings only. Guess: not documented by Twitch: how it treats other casings (`oauth`,
 * `BEARER`); no capture was found, so the fake holds clients to the documented spellings and
 * answers other ones as a missing token, as Helix treats a scheme it does not take
 * (twitchdev/issues#105, #219).
 */
const validatePattern = /^(?:OAuth|Bearer) +(\S+)\s*$/

export const validateTransition: (request: Model.WireRequest) => Transition = (request) => (state, ctx) => {
  if (request.method.toUpperCase() !== "GET") return notFound(state)
  const header = request.headers["authorization"]
  const match = header === undefined ? null : validatePattern.exec(header.trim())
  const token = match === null ? undefined : match[1]
  if (token === undefined) return fail(state, 401, "missing authorization token")
  const record = HashMap.get(state.accessTokens, token)
  if (Option.isNone(record) || !accessTokenAlive(record.value, ctx.now)) {
    return fail(state, 401, "invalid access token")
  }
  const { clientId, expiresAt, scopes, userId } = record.value
  // A scope-less user token: `null` (twitchdev/issues#1037, #1145); an app token: `[]` (#105).
  const nullScopes = state.quirks.emptyScopes === "twitch" ? userId !== undefined : state.quirks.emptyScopes === "null"
  const scopesValue = scopes.length === 0 && nullScopes ? null : scopes
  const expiresIn = secondsLeft(expiresAt, ctx.now)
  const user = userId === undefined ? Option.none() : HashMap.get(state.users, userId)
  if (Option.isSome(user)) {
    return [
      Wire.json(200, {
        client_id: clientId,
        login: user.value.login,
        scopes: scopesValue,
        user_id: user.value.userId,
        expires_in: expiresIn
      }),
      state
    ]
  }
  const body = state.quirks.appTokenValidateIdentity === "null"
    ? { client_id: clientId, login: null, scopes: scopesValue, user_id: null, expires_in: expiresIn }
    : { client_id: clientId, scopes: scopesValue, expires_in: expiresIn }
  return [Wire.json(200, body), state]
}

export const revokeTransition: (request: Model.WireRequest) => Transition = (request) => (state, ctx) => {
  if (request.method.toUpperCase() !== "POST") return notFound(state)
  const clientId = param(request, "client_id")
  // guess: not documented by Twitch ("missing client id").
  if (clientId === undefined) return fail(state, 400, "missing client id")
  if (!HashMap.has(state.clients, clientId)) return fail(state, 404, "client does not exist")
  const token = param(request, "token")
  if (token === undefined) return fail(state, 400, "missing oauth token")
  const record = HashMap.get(state.accessTokens, token)
  if (Option.isNone(record) || record.value.clientId !== clientId || !accessTokenAlive(record.value, ctx.now)) {
    return fail(state, 400, "Invalid token")
  }
  return [
    { status: 200, headers: {}, body: "" },
    { ...state, accessTokens: HashMap.set(state.accessTokens, token, { ...record.value, revoked: true }) }
  ]
}
