import { layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { storeContract } from "../../auth/test/storeContract.js"
import * as TestDatabase from "./testDatabase.js"

// Each test has a table of its own; each `open` has a pool of its own (another process).
layer(TestDatabase.layer, { timeout: "60 seconds" })((it) =>
  storeContract("PostgreSQL store", it, {
    boundedLockWaits: true,
    fresh: Effect.sync(() => {
      const table = TestDatabase.freshTable()
      return (options = {}) => TestDatabase.open(table, options)
    })
  })
)
