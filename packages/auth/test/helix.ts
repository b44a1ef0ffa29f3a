/**
 * Helix through a session, as the session tests and the refresh storms call it.
 */
import { TwitchHttpClient, TwitchSession } from "@effect-twitch/auth"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { issueToken } from "./lifecycle.js"
import { user } from "./utils.js"

export const Users = Schema.Struct({ data: Schema.Array(Schema.Struct({ id: Schema.String, login: Schema.String })) })

/** `GET /helix/users` through the authenticated client, decoded. */
export const getMe = Effect.gen(function*() {
  const helix = yield* TwitchHttpClient.TwitchHttpClient
  const response = yield* helix.get("/users")
  return yield* HttpClientResponse.schemaBodyJson(Users)(response)
})

/** A session for the seeded user, plus the Helix client over it. */
export const sessionLayer = (options: Partial<TwitchSession.TwitchSession.Options> = {}) =>
  Layer.unwrapEffect(
    Effect.map(issueToken(), (token) =>
      TwitchHttpClient.layer().pipe(
        Layer.provideMerge(TwitchSession.layer({ key: user.userId, token, ...options }))
      ))
  )
