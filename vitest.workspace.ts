// Vitest 3.2 prints a deprecation notice for workspace files; the layout in DESIGN.md asks
// for one, and it keeps each package's config next to its tests.
export default ["packages/*"]
