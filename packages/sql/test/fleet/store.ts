/**
 * What the fleet test and its workers share: the users file's schema, and the token store a
 * `FLEET_STORE` spec names.
 */
import { type Refresh } from "./mock.js"
import { TokenStore } from "@effect-twitch/auth"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Path from "node:path"

/** The users of the fleet, and which client authorized each. */
export const FleetUsers = Schema.Array(Schema.Struct({
  userId: Schema.String,
  kind: Schema.Literal("confidential", "public")
}))

/** `file:<path>`: the file store. */
export const storeLayer = (spec: string): Layer.Layer<TokenStore.TokenStore> =>
  TokenStore.layerFile(spec.replace(/^file:/, "")).pipe(Layer.provide(NodeContext.layer))

export interface FleetDatabase {
  readonly store: TokenStore.TokenStore.Service
  readonly workerSpec: (worker: string) => string
  readonly storedAll: (answered: ReadonlyArray<Refresh>) => Effect.Effect<boolean>
  readonly backendsOf: (worker: string) => Effect.Effect<ReadonlyArray<number>>
  readonly waitingFor: (pids: ReadonlyArray<number>) => Effect.Effect<number>
  readonly locksOf: (pids: ReadonlyArray<number>) => Effect.Effect<Record<string, number>>
}

export const fleetDatabase = (dir: string) =>
  Effect.gen(function*() {
    const file = Path.join(dir, "tokens.json")
    const store = yield* TokenStore.makeFile(file)
    const db: FleetDatabase = {
      store,
      workerSpec: () => `file:${file}`,
      storedAll: (answered) =>
        Effect.map(
          Effect.forEach(answered, (r) => Effect.orDie(store.get(r.userId))),
          (stored) =>
            stored.every((t, i) => Option.isSome(t) && Redacted.value(t.value.refreshToken) !== answered[i]?.refreshToken)
        ),
      backendsOf: () => Effect.succeed([]),
      waitingFor: () => Effect.succeed(0),
      locksOf: () => Effect.succeed({})
    }
    return db
  }).pipe(Effect.provide(NodeContext.layer))
