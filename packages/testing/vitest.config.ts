import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "testing",
    include: ["test/**/*.test.ts"],
    // a guard against hangs, sized for a loaded 2-core machine: no test waits for time
    testTimeout: 60_000
  }
})
