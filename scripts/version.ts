/**
 * Writes `packages/cli/src/internal/version.ts` from `packages/cli/package.json`'s version, so
 * that `twitch-auth --version` prints the version of the package it was installed from (as the
 * Effect monorepo writes `effect`'s `internal/version.ts`). Run by `pnpm version-packages`
 * after `changeset version` bumps the package; `--check` (run by `pnpm build`) fails when the
 * file is out of date instead of writing it.
 *
 * Usage: `tsx scripts/version.ts [--check]`
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const manifest: unknown = JSON.parse(Fs.readFileSync(Path.join(root, "packages/cli/package.json"), "utf8"))
const version = typeof manifest === "object" && manifest !== null && "version" in manifest &&
    typeof manifest.version === "string"
  ? manifest.version
  : ""
const target = Path.join(root, "packages/cli/src/internal/version.ts")
const expected = `/** The version of @effect-twitch/cli: written from its package.json by scripts/version.ts. */
export const version = ${JSON.stringify(version)}
`
const current = Fs.existsSync(target) ? Fs.readFileSync(target, "utf8") : ""
if (version === "") {
  console.error("version: packages/cli/package.json has no version")
  process.exit(1)
} else if (current === expected) {
  // up to date
} else if (process.argv.includes("--check")) {
  console.error(
    `version: packages/cli/src/internal/version.ts does not say ${version}: run \`pnpm version-packages\` or \`tsx scripts/version.ts\``
  )
  process.exit(1)
} else {
  Fs.writeFileSync(target, expected)
  console.log(`packages/cli/src/internal/version.ts: ${version}`)
}
