/**
 * `pnpm run docs` (`pnpm docs` is pnpm's own command that opens npm's page): the API reference of every public module, generated from the JSDoc by
 * `@effect/docgen` (as Effect's packages generate theirs) into `docs/api/<package>/`, with an
 * index at `docs/api/README.md`.
 *
 * The `@example` blocks are type-checked first, by `scripts/docs-examples.ts` (the check
 * `pnpm check` runs): docgen 0.5's own check would also execute every example, and ours show
 * programs that reach Twitch or serve forever. So docgen runs with `DOCGEN_RUN_EXAMPLES=false`
 * and a failing example fails `pnpm docs` before any page is written.
 *
 * Each package's `docgen.json` says what is documented: its modules, not `src/internal`
 * (except `@effect-twitch/auth`'s error classes, which `TwitchAuthError` re-exports).
 *
 * Usage: `tsx scripts/docs.ts`
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { packages } from "./build-packages.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const api = Path.join(root, "docs", "api")

const run = (args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = process.env): void => {
  const result = ChildProcess.spawnSync(process.execPath, args, { cwd, stdio: "inherit", env })
  if (result.status !== 0) {
    console.error(`docs: ${args.join(" ")} failed in ${Path.relative(root, cwd) || "."}`)
    process.exit(1)
  }
}

const filesUnder = (dir: string): ReadonlyArray<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((dirent) => {
    const path = Path.join(dir, dirent.name)
    return dirent.isDirectory() ? filesUnder(path) : [path]
  })

const nameOf = (pkg: string): string => {
  const manifest: unknown = JSON.parse(Fs.readFileSync(Path.join(root, "packages", pkg, "package.json"), "utf8"))
  return typeof manifest === "object" && manifest !== null && "name" in manifest && typeof manifest.name === "string"
    ? manifest.name
    : pkg
}

run(["--import", "tsx", Path.join(root, "scripts", "docs-examples.ts")], root)

const docgen = Path.join(root, "node_modules", "@effect", "docgen", "bin.cjs")
const index: Array<string> = [
  "# API reference",
  "",
  "Generated from the sources' JSDoc by `pnpm run docs` (`@effect/docgen`); do not edit by hand.",
  "Every module below is a subpath of its package (`@effect-twitch/auth/TwitchSession`, …) and",
  "is also re-exported by the package's index (`import { TwitchSession } from \"@effect-twitch/auth\"`).",
  ""
]
for (const pkg of packages) {
  const out = Path.join(api, pkg)
  Fs.rmSync(out, { recursive: true, force: true })
  run([docgen], Path.join(root, "packages", pkg), { ...process.env, DOCGEN_RUN_EXAMPLES: "false" })
  const pages = filesUnder(Path.join(out, "modules")).filter((path) => path.endsWith(".ts.md")).sort()
  for (const page of pages) {
    // docgen's Jekyll front matter: its markdown formatter turns the opening `---` into `***`
    const text = Fs.readFileSync(page, "utf8")
    if (text.startsWith("***\n\n")) Fs.writeFileSync(page, `---\n${text.slice("***\n\n".length)}`)
  }
  index.push(`## ${nameOf(pkg)}`, "")
  for (const page of pages) {
    const module = Path.relative(Path.join(out, "modules"), page).replace(/\.ts\.md$/, "")
    if (module === "index") continue
    const label = module.startsWith("internal/errors/")
      ? `${module} (error classes, public through TwitchAuthError)`
      : module
    index.push(`- [${label}](${Path.relative(api, page).split(Path.sep).join("/")})`)
  }
  index.push("")
}
Fs.writeFileSync(Path.join(api, "README.md"), index.join("\n"))
console.log(`docs: ${Path.relative(root, api)}/README.md and ${packages.map((pkg) => `${pkg}/`).join(", ")}`)
