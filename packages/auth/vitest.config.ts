import { configDefaults, defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "auth",
    include: ["test/**/*.test.ts"],
    // the stress suites (socket storms, the fault matrix, crash safety, cross-process locks)
    // are the `auth-stress` project: vitest.stress.config.ts
    exclude: [...configDefaults.exclude, "test/**/*.stress.test.ts"],
    // type tests (`*.test-d.ts`) fail as tests: Vitest runs tsc over them
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.typecheck.json" },
    // a guard against hangs, sized for a loaded 2-core machine: no test waits for time
    testTimeout: 60_000
  }
})
