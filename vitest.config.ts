import { defineConfig } from "vitest/config"

// Projects come from vitest.workspace.ts; this file only adds the plain summary line.
export default defineConfig({
  test: {
    reporters: ["default", "./scripts/summary-reporter.ts"]
  }
})
