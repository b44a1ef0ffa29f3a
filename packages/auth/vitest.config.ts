import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "auth",
    include: ["test/**/*.test.ts"],
    // a guard against hangs, sized for a loaded 2-core machine: no test waits for time
    testTimeout: 30_000
  }
})
