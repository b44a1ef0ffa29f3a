/**
 * The TwitchAuth contract (TwitchAuthContract.ts), run against both adapters: the real
 * client over real HTTP to the mock server, and the test Layer users swap in.
 */
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchAuthConfig from "@effect-twitch/auth/TwitchAuthConfig"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { FakeTwitch, MockTwitchServer, TwitchAuthTest } from "../../src/index.js"
import { contract } from "./TwitchAuthContract.js"

const [confidential] = FakeTwitch.defaultSeed.clients

/** `TwitchAuth.layer` over undici, pointed at the mock server on 127.0.0.1 (a fresh fake). */
const overSockets = Layer.unwrapEffect(
  Effect.map(MockTwitchServer.MockTwitchServer, (server) =>
    TwitchAuth.layer.pipe(
      Layer.provideMerge(TwitchAuthConfig.layer({
        clientId: confidential.clientId,
        clientSecret: confidential.clientSecret,
        redirectUri: confidential.redirectUris[0],
        authUrl: server.authUrl,
        helixUrl: server.helixUrl,
        retrySchedule: Schedule.recurs(3)
      }))
    ))
).pipe(Layer.provideMerge(Layer.merge(MockTwitchServer.layerTest, NodeHttpClient.layerUndici)))

contract("TwitchAuth.layer + MockTwitchServer (undici, 127.0.0.1)", overSockets)
contract("TwitchAuthTest.layer()", TwitchAuthTest.layer())
