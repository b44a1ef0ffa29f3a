// One Vitest project per package (packages/*/vitest.config.ts), each config next to its tests.
// Vitest 3.2 prints a deprecation notice for workspace files (it prefers `test.projects`).
export default ["packages/*"]
