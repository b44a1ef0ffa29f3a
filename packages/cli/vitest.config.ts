import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    // The tests run the bundled `twitch-auth` as a separate process: build it once first.
    globalSetup: ["./scripts/build.ts"],
    // a guard against hangs, sized for a loaded 2-core machine: each test starts processes
    testTimeout: 60_000
  }
})
