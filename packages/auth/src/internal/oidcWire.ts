/**
 * Twitch's OpenID Connect bodies as they travel (snake_case), and their readings as the
 * fields of the domain values `OpenIdConnect` gives (it builds the classes: no import runs
 * back up). Users never see these.
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** The claims Twitch adds on request (`claims`), in the ID token and the userinfo alike. */
const optionalClaims = {
  preferred_username: Schema.optional(Schema.String),
  email: Schema.optional(Schema.String),
  email_verified: Schema.optional(Schema.Boolean),
  picture: Schema.optional(Schema.String),
  updated_at: Schema.optional(Schema.String)
}

/**
 * An ID token's payload as Twitch signs it. `aud` may be a string or an array (OIDC).
 */
export const IdTokenPayload = Schema.Struct({
  iss: Schema.String,
  sub: Schema.String,
  aud: Schema.Union(Schema.String, Schema.Array(Schema.String)),
  exp: Schema.Finite,
  iat: Schema.Finite,
  nonce: Schema.optional(Schema.String),
  azp: Schema.optional(Schema.String),
  ...optionalClaims
})

/**
 * The 200 body of `GET /oauth2/userinfo`.
 */
export const UserInfoResponse = Schema.Struct({
  sub: Schema.String,
  aud: Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.String))),
  iss: Schema.optional(Schema.String),
  ...optionalClaims
})

/**
 * The discovery document (`GET /oauth2/.well-known/openid-configuration`), the fields this
 * SDK reads.
 */
export const DiscoveryResponse = Schema.Struct({
  issuer: Schema.String,
  authorization_endpoint: Schema.String,
  token_endpoint: Schema.String,
  userinfo_endpoint: Schema.String,
  jwks_uri: Schema.String,
  claims_supported: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  scopes_supported: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  response_types_supported: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  id_token_signing_alg_values_supported: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
})

/**
 * A JSON Web Key Set as `GET /oauth2/keys` serves it.
 */
export const KeysResponse = Schema.Struct({
  keys: Schema.Array(
    Schema.Struct({
      kty: Schema.String,
      kid: Schema.optionalWith(Schema.String, { exact: true }),
      alg: Schema.optionalWith(Schema.String, { exact: true }),
      use: Schema.optionalWith(Schema.String, { exact: true }),
      n: Schema.optionalWith(Schema.String, { exact: true }),
      e: Schema.optionalWith(Schema.String, { exact: true })
    })
  )
})

/** The optional claims of an ID token's payload or a userinfo body, as the domain's fields. */
export const optionalClaimsFromWire = (wire: Schema.Struct.Type<typeof optionalClaims>) => ({
  preferredUsername: Option.fromNullable(wire.preferred_username),
  email: Option.fromNullable(wire.email),
  emailVerified: Option.fromNullable(wire.email_verified),
  picture: Option.fromNullable(wire.picture),
  updatedAt: Option.fromNullable(wire.updated_at)
})

/** The userinfo body as the fields of `OpenIdConnect.UserInfo`. */
export const userInfoFromWire = (wire: typeof UserInfoResponse.Type) => ({
  userId: wire.sub,
  ...optionalClaimsFromWire(wire)
})

/** The discovery document as the fields of `OpenIdConnect.Discovery`. */
export const discoveryFromWire = (wire: typeof DiscoveryResponse.Type) => ({
  issuer: wire.issuer,
  authorizationEndpoint: wire.authorization_endpoint,
  tokenEndpoint: wire.token_endpoint,
  userinfoEndpoint: wire.userinfo_endpoint,
  jwksUri: wire.jwks_uri,
  claimsSupported: wire.claims_supported,
  scopesSupported: wire.scopes_supported,
  responseTypesSupported: wire.response_types_supported,
  signingAlgorithms: wire.id_token_signing_alg_values_supported
})
