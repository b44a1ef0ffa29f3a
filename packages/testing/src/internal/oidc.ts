/**
 * OpenID Connect: the signing keys, ID tokens and their claims, `/oauth2/keys`,
 * `/oauth2/userinfo` and the discovery document.
 */
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type * as Model from "./model.js"
import {
  accessTokenAlive,
  type Ctx,
  displayName,
  fail,
  header,
  helixBearerPattern,
  type NeedsIdToken,
  noOidc,
  notFound,
  type OidcRequest,
  type Reply,
  type State,
  type Transition
} from "./state.js"
import * as Wire from "./wire.js"

/** The public half of the signing key, as `/oauth2/keys` serves it. */
export interface PublicJwk {
  readonly alg: "RS256"
  readonly e: string
  readonly kid: string
  readonly kty: "RSA"
  readonly n: string
  readonly use: "sig"
}

export interface SigningKey {
  readonly privateKey: CryptoKey
  readonly jwk: PublicJwk
}

/** Twitch's JWKS uses `kid` "1"; the foreign key reuses it, so only the signature differs. */
const signingKid = "1"

const rsaAlgorithm = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256"
} as const

const generateSigningKey = async (kid: string = signingKid): Promise<SigningKey> => {
  const pair = await globalThis.crypto.subtle.generateKey(rsaAlgorithm, true, ["sign", "verify"])
  const exported = await globalThis.crypto.subtle.exportKey("jwk", pair.publicKey)
  return {
    privateKey: pair.privateKey,
    jwk: { alg: "RS256", e: exported.e ?? "", kid, kty: "RSA", n: exported.n ?? "", use: "sig" }
  }
}

const encoder = new TextEncoder()
const base64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")

/**
 * A compact RS256 JWS. Written here on WebCrypto, not with the SDK's JOSE library, so that
 * the fake shares no code with the verifier it tests.
 */
const signJwt = async (
  key: SigningKey,
  claims: Readonly<Record<string, unknown>>,
  kid: string = key.jwk.kid
): Promise<string> => {
  const header = base64Url(encoder.encode(JSON.stringify({ alg: "RS256", typ: "JWT", kid })))
  const payload = base64Url(encoder.encode(JSON.stringify(claims)))
  const input = `${header}.${payload}`
  const signature = await globalThis.crypto.subtle.sign(rsaAlgorithm.name, key.privateKey, encoder.encode(input))
  return `${input}.${base64Url(new Uint8Array(signature))}`
}

export const isNeedsIdToken = (reply: Reply): reply is NeedsIdToken => "_tag" in reply && reply._tag === "NeedsIdToken"

/** The `claims` names Twitch serves (besides the defaults), per its discovery document. */
const claimsSupported = [
  "email",
  "email_verified",
  "picture",
  "preferred_username",
  "exp",
  "iss",
  "sub",
  "azp",
  "aud",
  "iat",
  "updated_at"
] as const

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** `nonce` and the names asked for in the `claims` JSON; `None` when `claims` is not a JSON object. */
export const parseOidcRequest = (nonce: string | undefined, claims: string | undefined): Option.Option<OidcRequest> => {
  if (claims === undefined) return Option.some({ ...noOidc, nonce })
  let parsed: unknown
  try {
    parsed = JSON.parse(claims)
  } catch {
    return Option.none()
  }
  if (!isRecord(parsed)) return Option.none()
  const names = (section: unknown) => (isRecord(section) ? Object.keys(section) : [])
  return Option.some({ nonce, idTokenClaims: names(parsed["id_token"]), userinfoClaims: names(parsed["userinfo"]) })
}

/** What `updated_at` says for every fake user. */
const userUpdatedAt = "2022-02-03T16:16:16.968509Z"

/** The claims asked for with `claims`; `email` and `email_verified` only with `user:read:email`. */
const requestedClaims = (
  user: Model.User,
  requested: ReadonlyArray<string>,
  scopes: ReadonlyArray<string>
): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  const canEmail = scopes.includes("user:read:email")
  for (const name of requested) {
    if (name === "email" && canEmail) out["email"] = `${user.login}@example.com`
    if (name === "email_verified" && canEmail) out["email_verified"] = true
    if (name === "picture") {
      out["picture"] = `https://static-cdn.jtvnw.net/jtv_user_pictures/${user.userId}-profile_image-300x300.png`
    }
    if (name === "updated_at") out["updated_at"] = userUpdatedAt
  }
  return out
}

export const seconds = (millis: number): number => Math.floor(millis / 1000)

const userOf = (state: State, userId: string): Model.User =>
  Option.getOrElse(HashMap.get(state.users, userId), () => ({ userId, login: userId }))

/** An ID token's claims: `iss, sub, aud, exp, iat, nonce` (when given), `azp`, `preferred_username`, then the requested ones. */
export const idTokenClaims = (
  state: State,
  ctx: Ctx,
  clientId: string,
  userId: string,
  scopes: ReadonlyArray<string>,
  oidc: OidcRequest
): Record<string, unknown> => {
  const user = userOf(state, userId)
  const now = seconds(ctx.now)
  return {
    iss: ctx.issuer,
    sub: userId,
    aud: clientId,
    exp: now + ctx.lifetimes.idTokenSeconds,
    iat: now,
    ...(oidc.nonce === undefined ? {} : { nonce: oidc.nonce }),
    azp: clientId,
    preferred_username: displayName(user.login),
    ...requestedClaims(user, oidc.idTokenClaims, scopes)
  }
}

/** Asks for an ID token with `claims`, applying (and using up) the test's overrides. */
export const withIdToken = (
  state: State,
  claims: Record<string, unknown>,
  respond: (idToken: string) => Model.WireResponse
): readonly [Reply, State] => {
  const overrides = state.idTokenOverrides
  return [
    {
      _tag: "NeedsIdToken",
      claims: { ...claims, ...overrides?.claims },
      key: overrides?.key ?? "twitch",
      kid: overrides?.kid,
      respond
    },
    { ...state, idTokenOverrides: undefined }
  ]
}

export const keysTransition = (request: Model.WireRequest, jwk: PublicJwk): Transition => (state) =>
  request.method.toUpperCase() !== "GET" ? notFound(state) : [Wire.json(200, { keys: [jwk] }), state]

export const discoveryTransition: (request: Model.WireRequest) => Transition = (request) => (state, ctx) => {
  if (request.method.toUpperCase() !== "GET") return notFound(state)
  const base = ctx.issuer
  return [
    Wire.json(200, {
      authorization_endpoint: `${base}/authorize`,
      claims_parameter_supported: true,
      claims_supported: claimsSupported,
      id_token_signing_alg_values_supported: ["RS256"],
      issuer: base,
      jwks_uri: `${base}/keys`,
      response_types_supported: ["id_token", "code", "token", "code id_token", "token id_token"],
      scopes_supported: ["openid"],
      subject_types_supported: ["public"],
      token_endpoint: `${base}/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post"],
      userinfo_endpoint: `${base}/userinfo`
    }),
    state
  ]
}

/**
 * `/oauth2/userinfo` with `Authorization: Bearer <token>`: the user's claims. Twitch documents
 * the success only; the refusals are guesses in its envelope style: 401 `missing authorization
 * token` / `invalid access token` (as `/validate`), 403 `missing required scope: openid`.
 */
export const userinfoTransition: (request: Model.WireRequest) => Transition = (request) => (state, ctx) => {
  const method = request.method.toUpperCase()
  if (method !== "GET" && method !== "POST") return notFound(state)
  const authorization = header(request, "authorization")
  const match = authorization === undefined ? null : helixBearerPattern.exec(authorization.trim())
  const token = match === null ? undefined : match[1]
  if (token === undefined) return fail(state, 401, "missing authorization token")
  const record = HashMap.get(state.accessTokens, token)
  if (Option.isNone(record) || !accessTokenAlive(record.value, ctx.now)) return fail(state, 401, "invalid access token")
  const { clientId, scopes, userId, userinfoClaims } = record.value
  if (userId === undefined || !scopes.includes("openid")) return fail(state, 403, "missing required scope: openid")
  const user = userOf(state, userId)
  const now = seconds(ctx.now)
  return [
    Wire.json(200, {
      aud: clientId,
      exp: now + ctx.lifetimes.idTokenSeconds,
      iat: now,
      iss: ctx.issuer,
      sub: userId,
      preferred_username: displayName(user.login),
      ...requestedClaims(user, userinfoClaims ?? [], scopes)
    }),
    state
  ]
}

/** The fake's signing keys: Twitch's current one, a foreign one, and how to sign and rotate. */
export interface Signer {
  /** Twitch's current key (made on first use: RSA key generation takes tens of milliseconds). */
  readonly twitchKey: Effect.Effect<SigningKey>
  /** Signs `claims` with Twitch's key or the foreign one; `kid` overrides the header's key id. */
  readonly sign: (
    claims: Readonly<Record<string, unknown>>,
    key: "twitch" | "foreign",
    kid: string | undefined
  ) => Effect.Effect<string>
  /** Replaces Twitch's key with a new one of the next `kid`. */
  readonly rotate: Effect.Effect<void>
}

/** Makes the {@link Signer} of one fake; no key is generated until one is needed. */
export const makeSigner: Effect.Effect<Signer> = Effect.gen(function*() {
  const currentKey = yield* SynchronizedRef.make<Option.Option<SigningKey>>(Option.none())
  const twitchKey = SynchronizedRef.modifyEffect(currentKey, (current) =>
    Option.match(current, {
      onSome: (key) => Effect.succeed([key, current] as const),
      onNone: () => Effect.map(Effect.promise(() => generateSigningKey()), (key) => [key, Option.some(key)] as const)
    }))
  const foreignKey = yield* Effect.cached(Effect.promise(() => generateSigningKey()))
  return {
    twitchKey,
    sign: (claims, key, kid) =>
      Effect.flatMap(
        key === "foreign" ? foreignKey : twitchKey,
        (signing) => Effect.promise(() => signJwt(signing, claims, kid ?? signing.jwk.kid))
      ),
    rotate: SynchronizedRef.updateEffect(currentKey, (current) =>
      Effect.gen(function*() {
        const previous = Option.isSome(current) ? Number(current.value.jwk.kid) : Number(signingKid)
        const next = yield* Effect.promise(() => generateSigningKey(String(previous + 1)))
        return Option.some(next)
      }))
  }
})
