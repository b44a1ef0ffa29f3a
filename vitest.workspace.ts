// Vitest 3.2 prints a deprecation notice for workspace files; this one keeps each package's
// config next to its tests. The SDK has two projects: `auth` and `auth-stress`.
export default [
  "packages/auth/vitest.config.ts",
  "packages/auth/vitest.stress.config.ts",
  "packages/testing",
  "packages/cli",
  "packages/sql"
]
