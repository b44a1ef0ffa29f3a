import * as Os from "node:os"
import { defineConfig } from "vitest/config"

// Projects come from vitest.workspace.ts; this file adds the plain summary line and the workers.
export default defineConfig({
  test: {
    reporters: ["default", "./scripts/summary-reporter.ts"],
    // Vitest runs one test file at a time on a 2-core machine (its default is a core less than
    // the machine has), but most of the suites' time is spent waiting on child processes,
    // sockets and servers: two at a time took the whole run from 708 s to 432 s there, every
    // test passing. Elsewhere, Vitest's default.
    maxWorkers: Math.max(2, Os.availableParallelism() - 1)
  }
})
