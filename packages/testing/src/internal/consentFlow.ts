/**
 * Consent as transitions of the state: `/oauth2/authorize` (its page and the page's form),
 * the device code flow's `/oauth2/device` and the activation page.
 */
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Consent from "./consent.js"
import { invalidScope, invalidScopeMessage } from "./grants.js"
import type * as Model from "./model.js"
import { idTokenClaims, parseOidcRequest, withIdToken } from "./oidc.js"
import { isKnownScope } from "./scopes.js"
import {
  type Ctx,
  type DeviceCodeRecord,
  type DeviceDecision,
  fail,
  notFound,
  type OidcRequest,
  param,
  type Reply,
  type State,
  type Transition
} from "./state.js"
import * as Wire from "./wire.js"

/**
 * The parameters a consent page was shown for, canonically (names sorted; the page's own
 * fields left out): what its form must send back for its token to count.
 */
const consentBinding = (params: Record<string, string>): string =>
  JSON.stringify(
    Object.entries(params)
      .filter(([name]) => name !== Consent.tokenField && name !== Consent.decisionField)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  )

/** A validated authorize request: what the consent, or its refusal, needs. */
interface AuthorizeRequest {
  readonly client: Model.Client
  readonly redirectUri: string
  readonly stateParam: ReadonlyArray<readonly [string, string]>
  readonly kinds: ReadonlySet<string>
  readonly scopes: ReadonlyArray<string>
  readonly oidc: OidcRequest
}

/**
 * Checks an authorize request as id.twitch.tv does before it shows its page: an error that
 * cannot be redirected is a JSON error body, a redirect mismatch goes to the app's first
 * registered URI.
 */
const validateAuthorize = (
  state: State,
  request: Model.WireRequest
): Either.Either<AuthorizeRequest, readonly [Model.WireResponse, State]> => {
  const clientId = param(request, "client_id")
  if (clientId === undefined) return Either.left(fail(state, 400, "missing client_id"))
  const client = HashMap.get(state.clients, clientId)
  if (Option.isNone(client)) return Either.left(fail(state, 400, "invalid client"))
  const redirectUri = param(request, "redirect_uri")
  if (redirectUri === undefined) return Either.left(fail(state, 400, "missing redirect_uri"))
  const state_ = param(request, "state")
  const stateParam: ReadonlyArray<readonly [string, string]> = state_ === undefined ? [] : [["state", state_]]
  if (!client.value.redirectUris.includes(redirectUri)) {
    const first = client.value.redirectUris[0]
    if (first === undefined) {
      return Either.left(fail(state, 400, "Parameter redirect_uri does not match registered URI"))
    }
    return Either.left([
      Wire.redirect(Wire.withQuery(first, [
        ["error", "redirect_mismatch"],
        ["error_description", "Parameter redirect_uri does not match registered URI"],
        ...stateParam
      ])),
      state
    ])
  }
  const responseType = param(request, "response_type")
  if (responseType === undefined) return Either.left(fail(state, 400, "missing response_type"))
  const kinds = new Set(Wire.parseScopes(responseType))
  const wantsIdToken = kinds.has("id_token")
  const supported = kinds.size === 1
    ? kinds.has("code") || kinds.has("token") || wantsIdToken
    : kinds.size === 2 && kinds.has("token") && wantsIdToken
  if (!supported) return Either.left(fail(state, 400, "unsupported response_type"))
  const oidc = parseOidcRequest(param(request, "nonce"), param(request, "claims"))
  if (Option.isNone(oidc)) return Either.left(fail(state, 400, "invalid claims parameter"))
  const scopes = Wire.parseScopes(param(request, "scope"))
  // Twitch refuses a scope it does not know with an error page, not a redirect to the app:
  // users who asked for the retired `chat_login` saw `{"status":400,"message":"Sorry, the
  // scope you are requesting is currently unavailable…"}` in the browser (HiDeoo/YaTA#22,
  // jprjr/docker-multistreamer#22). Guess: not documented by Twitch — the wording for an
  // unknown scope, taken from the token endpoint's `invalid scope requested: '<s>'`.
  const unknown = scopes.find((scope) => !isKnownScope(scope))
  if (unknown !== undefined) return Either.left(fail(state, 400, `invalid scope requested: '${unknown}'`))
  // A guess: Twitch documents that ID tokens need the `openid` scope, not how it refuses.
  if (wantsIdToken && !scopes.includes("openid")) return Either.left(fail(state, 400, "missing openid scope"))
  return Either.right({ client: client.value, redirectUri, stateParam, kinds, scopes, oidc: oidc.value })
}

/**
 * The user refused (Cancel, or `denyNextAuthorization`): Twitch's documented redirect
 * `error=access_denied&error_description=The+user+denied+you+access&state=…`
 * (https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/, "If the user didn't
 * authorize your app"), in the query string even for the implicit flow.
 */
const deniedRedirect = (authorize: AuthorizeRequest): Model.WireResponse =>
  Wire.redirect(Wire.withQuery(authorize.redirectUri, [
    ["error", "access_denied"],
    ["error_description", "The user denied you access"],
    ...authorize.stateParam
  ]))

/** The user consented: a code in the query, or the implicit grant's fragment. */
const consentGranted = (
  state: State,
  ctx: Ctx,
  authorize: AuthorizeRequest,
  userId: string
): readonly [Reply, State] => {
  const { kinds, oidc, redirectUri, scopes, stateParam } = authorize
  const clientId = authorize.client.clientId
  if (state.denyNext) return [deniedRedirect(authorize), { ...state, denyNext: false }]
  const wantsIdToken = kinds.has("id_token")
  const wantsToken = kinds.has("token")
  const scopeParam = scopes.join(" ")
  if (kinds.has("code")) {
    return [
      Wire.redirect(Wire.withQuery(redirectUri, [["code", ctx.fresh.code], ["scope", scopeParam], ...stateParam])),
      {
        ...state,
        codes: HashMap.set(state.codes, ctx.fresh.code, {
          clientId,
          userId,
          scopes,
          redirectUri,
          expiresAt: ctx.now + ctx.lifetimes.codeMs,
          oidc
        })
      }
    ]
  }
  // Implicit grant: a user access token in the fragment, no refresh token, no expires_in;
  // OpenID Connect adds (or, for `id_token` alone, only gives) an ID token.
  const next: State = wantsToken
    ? {
      ...state,
      accessTokens: HashMap.set(state.accessTokens, ctx.fresh.accessToken, {
        clientId,
        userId,
        scopes,
        expiresAt: ctx.now + ctx.lifetimes.userTokenMs,
        revoked: false,
        userinfoClaims: oidc.userinfoClaims
      })
    }
    : state
  const fragment = (idToken: string | undefined) =>
    Wire.redirect(Wire.withFragment(redirectUri, [
      ...(wantsToken ? [["access_token", ctx.fresh.accessToken] as const] : []),
      ...(idToken === undefined ? [] : [["id_token", idToken] as const]),
      ["scope", scopeParam],
      ...stateParam,
      ...(wantsToken ? [["token_type", "bearer"] as const] : [])
    ]))
  if (!wantsIdToken) return [fragment(undefined), next]
  return withIdToken(next, idTokenClaims(next, ctx, clientId, userId, scopes, oidc), fragment)
}

/**
 * `/oauth2/authorize`. `GET`: the consent page (or, with `autoConsent`, the consenting user's
 * consent at once). `POST`: the page's form — a click on Authorize or Cancel.
 *
 * The form cannot be forged by another page more than Twitch's can: its `consent_token` is
 * minted with the page (single use, bound to every request parameter and to the user shown),
 * the page cannot be read cross-origin (no CORS header on it, see `internal/http.ts`) nor
 * framed (`frame-ancestors 'none'`, `X-Frame-Options: DENY`).
 */
export const authorizeTransition: (request: Model.WireRequest) => Transition = (request) => (state, ctx) => {
  const method = request.method.toUpperCase()
  if (method !== "GET" && method !== "POST") return notFound(state)
  const valid = validateAuthorize(state, request)
  if (Either.isLeft(valid)) return valid.left
  const authorize = valid.right
  if (method === "GET") {
    const userId = state.consentingUser
    const user = userId === undefined ? Option.none() : HashMap.get(state.users, userId)
    if (Option.isNone(user)) return fail(state, 400, "no user to consent (FakeTwitch has no users)")
    if (state.quirks.autoConsent) return consentGranted(state, ctx, authorize, user.value.userId)
    // The page's token: the fresh code, which a GET never uses for a code.
    const token = ctx.fresh.code
    const live = HashMap.filter(state.consents, (record) => ctx.now < record.expiresAt)
    return [
      Consent.page({
        client: authorize.client,
        user: user.value,
        scopes: authorize.scopes,
        action: `${new URL(ctx.issuer).pathname.replace(/\/$/, "")}/authorize`,
        params: request.params,
        token
      }),
      {
        ...state,
        consents: HashMap.set(live, token, {
          params: consentBinding(request.params),
          userId: user.value.userId,
          expiresAt: ctx.now + ctx.lifetimes.codeMs
        })
      }
    ]
  }
  const decision = param(request, Consent.decisionField)
  // Guess: not documented by Twitch (its page's form is its own); a JSON error like the
  // other requests id.twitch.tv cannot redirect.
  if (!Consent.isDecision(decision)) return fail(state, 400, "invalid decision")
  const token = param(request, Consent.tokenField)
  const record = token === undefined ? Option.none() : HashMap.get(state.consents, token)
  if (
    token === undefined || Option.isNone(record) || ctx.now >= record.value.expiresAt ||
    record.value.params !== consentBinding(request.params)
  ) {
    // Guess: not documented by Twitch. A form that no page of ours produced: a forgery, a
    // replay, an altered parameter, or a page left open past its lifetime.
    return fail(state, 403, "invalid consent token")
  }
  const answered: State = { ...state, consents: HashMap.remove(state.consents, token) }
  if (decision === "cancel") return [deniedRedirect(authorize), answered]
  return consentGranted(answered, ctx, authorize, record.value.userId)
}

/**
 * `POST /oauth2/device`: `client_id` and `scopes` (plural) from the body; `scopes` in the
 * query string is ignored, like id.twitch.tv does (a scope-less authorization).
 */
export const deviceTransition: (request: Model.WireRequest) => Transition = (request) => (state, ctx) => {
  if (request.method.toUpperCase() !== "POST") return notFound(state)
  const clientId = param(request, "client_id")
  // guess: not documented by Twitch ("missing client id").
  if (clientId === undefined) return fail(state, 400, "missing client id")
  const client = HashMap.get(state.clients, clientId)
  if (Option.isNone(client)) return fail(state, 400, "invalid client")
  const scopes = Wire.parseScopes((request.bodyParams ?? request.params)["scopes"])
  const badScope = invalidScope(scopes)
  if (badScope !== undefined) return fail(state, 400, invalidScopeMessage(badScope))
  const userCode = ctx.fresh.userCode
  const verificationUri = Wire.withQuery(
    ctx.lifetimes.verificationUri,
    client.value.type === "public" ? [["public", "true"], ["device-code", userCode]] : [["device-code", userCode]]
  )
  const record: DeviceCodeRecord = {
    clientId,
    userCode,
    scopes,
    expiresAt: ctx.now + ctx.lifetimes.deviceCodeSeconds * 1000,
    interval: ctx.lifetimes.deviceIntervalSeconds,
    decision: { _tag: "Pending" },
    lastPollAt: undefined
  }
  return [
    Wire.json(200, {
      device_code: ctx.fresh.deviceCode,
      expires_in: ctx.lifetimes.deviceCodeSeconds,
      interval: ctx.lifetimes.deviceIntervalSeconds,
      user_code: userCode,
      verification_uri: verificationUri
    }),
    { ...state, deviceCodes: HashMap.set(state.deviceCodes, ctx.fresh.deviceCode, record) }
  ]
}

/**
 * The user, on the activation page, approves (as `userId`) or denies a pending user code.
 * `Left` is the reason it cannot: the code is unknown, expired or not pending, or the user
 * is unknown.
 */
export const decideDevice = (
  state: State,
  now: number,
  userCode: string,
  decision: "approve" | "deny",
  userId: string | undefined
): Either.Either<State, "invalid user code" | "invalid user"> => {
  const wanted = userCode.trim().toUpperCase()
  for (const [deviceCode, record] of state.deviceCodes) {
    if (record.userCode !== wanted) continue
    if (record.decision._tag !== "Pending" || now >= record.expiresAt) return Either.left("invalid user code")
    let next: DeviceDecision = { _tag: "Denied" }
    if (decision === "approve") {
      const approver = userId ?? state.consentingUser
      if (approver === undefined || !HashMap.has(state.users, approver)) return Either.left("invalid user")
      next = { _tag: "Authorized", userId: approver }
    }
    return Either.right({
      ...state,
      deviceCodes: HashMap.set(state.deviceCodes, deviceCode, { ...record, decision: next })
    })
  }
  return Either.left("invalid user code")
}

export const activateTransition: (request: Model.WireRequest) => Transition = (request) => (state, ctx) => {
  if (request.method.toUpperCase() !== "POST") return notFound(state)
  const userCode = param(request, "user_code") ?? param(request, "device-code")
  if (userCode === undefined) return fail(state, 400, "missing user_code")
  const decision = param(request, "decision") ?? "approve"
  if (decision !== "approve" && decision !== "deny") return fail(state, 400, "invalid decision")
  return Either.match(decideDevice(state, ctx.now, userCode, decision, param(request, "user_id")), {
    onLeft: (message) => fail(state, 400, message),
    onRight: (next) => [
      Wire.json(200, {
        user_code: userCode.trim().toUpperCase(),
        status: decision === "approve" ? "authorized" : "denied"
      }),
      next
    ]
  })
}

export const deviceCodeStatus = (
  state: State,
  now: number,
  userCode: string
): Option.Option<Model.DeviceCodeStatus> => {
  const wanted = userCode.trim().toUpperCase()
  for (const record of HashMap.values(state.deviceCodes)) {
    if (record.userCode !== wanted) continue
    if (record.decision._tag === "Consumed") return Option.some("consumed")
    if (now >= record.expiresAt) return Option.some("expired")
    return Option.some(
      record.decision._tag === "Pending" ? "pending" : record.decision._tag === "Denied" ? "denied" : "authorized"
    )
  }
  return Option.none()
}
