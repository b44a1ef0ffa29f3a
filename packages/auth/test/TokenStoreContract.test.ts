import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { storeContract } from "./storeContract.js"

// One store instance serves every `open`: the memory store is one process's store.
storeContract("memory store", it, {
  boundedLockWaits: false,
  fresh: Effect.map(TokenStore.makeMemory, (store) => () => Effect.succeed(store))
})

// Each `open` is a store of its own on the same file: another process, as far as locks go.
layer(NodeContext.layer)((it) =>
  storeContract("file store", it, {
    boundedLockWaits: true,
    fresh: Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const file = path.join(yield* fs.makeTempDirectoryScoped(), "tokens.json")
      return (options = {}) => TokenStore.makeFile(file, { lockTimeout: options.lockTimeout })
    })
  })
)
