import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "sql",
    include: ["test/**/*.test.ts"],
    // Starts a throwaway PostgreSQL server unless EFFECT_TWITCH_PG_URL names one, and sets
    // EFFECT_TWITCH_PG_URL for the tests; fails (never skips) when it cannot.
    globalSetup: ["../../scripts/postgres-global-setup.ts"],
    // a guard against hangs, sized for a loaded 2-core machine: no test waits for time
    testTimeout: 60_000
  }
})
