import { defineProject } from "vitest/config"

/**
 * The stress suites of the SDK, a project of their own (`auth-stress`): a thousand concurrent
 * calls over real sockets, the fault matrix, processes killed mid-refresh and the file lock
 * across processes. `pnpm test` runs them with everything else; `pnpm test:unit` leaves them out.
 */
export default defineProject({
  test: {
    name: "auth-stress",
    include: ["test/**/*.stress.test.ts"],
    // a guard against hangs, sized for a loaded 2-core machine: these suites start processes
    // and open thousands of sockets, and no test waits for time
    testTimeout: 120_000
  }
})
