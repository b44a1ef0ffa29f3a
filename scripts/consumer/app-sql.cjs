// The consumer test's CommonJS check of @effect-twitch/sql (scripts/consumer-test.sh): the
// index and the module subpath through `require`; `internal/*` must stay out of reach.
"use strict"
const { SqlTokenStore } = require("@effect-twitch/sql")
const SqlTokenStoreModule = require("@effect-twitch/sql/SqlTokenStore")

for (const blocked of ["@effect-twitch/sql/internal/rows", "@effect-twitch/sql/internal/rows.js"]) {
  try {
    require(blocked)
    console.error(`cjs-sql: ${blocked} should not be importable`)
    process.exit(1)
  } catch (error) {
    if (error.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw error
  }
}
if (SqlTokenStore.make !== SqlTokenStoreModule.make || typeof SqlTokenStore.migrate !== "function") {
  console.error("cjs-sql: the index and the SqlTokenStore subpath disagree")
  process.exit(1)
}
console.log("cjs-sql: SqlTokenStore required (make, layer, migrate)")
