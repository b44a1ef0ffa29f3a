/**
 * Builds the publishable packages (`packages` below) into `packages/<name>/dist/`, laid out as the Effect
 * monorepo's v3 packages are (what `@effect/build-utils pack-v2` assembles), so that
 * `pnpm pack` / `pnpm publish` (through `publishConfig.directory`) ship that folder only:
 *
 * ```text
 * packages/<name>/dist/
 *   package.json    generated: an exports map with one subpath per public module, internal/* blocked
 *   README.md  LICENSE  CHANGELOG.md
 *   src/            the TypeScript sources, which the source and declaration maps point at
 *   dist/esm/       ES modules and their source maps (tsc), with a package.json {"type": "module"}
 *   dist/cjs/       CommonJS and its source maps (esbuild, from the same sources)
 *   dist/dts/       .d.ts and .d.ts.map (tsc)
 *   bin/            @effect-twitch/cli only: the whole output of packages/cli/scripts/build.ts
 * ```
 *
 * The public modules are the ones `src/index.ts` re-exports (`export * as X from "./X.js"`):
 * a module added there gets its subpath (`@effect-twitch/auth/X`) at the next build. In the
 * workspace nothing is built: the packages' own `exports` keep pointing at `src/*.ts`.
 *
 * Usage: `pnpm build` (`tsx scripts/build-packages.ts`); `tsx scripts/build-packages.ts --manifest
 * auth` prints the package.json `@effect-twitch/auth` would publish, without building.
 */
import * as esbuild from "esbuild"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")

/** The packages, in dependency order. */
export const packages = ["auth", "testing", "sql", "cli"] as const

interface Manifest {
  readonly name: string
  readonly version: string
  readonly description?: string
  readonly license?: string
  readonly repository?: unknown
  readonly homepage?: string
  readonly bugs?: unknown
  readonly keywords?: ReadonlyArray<string>
  readonly engines?: Record<string, string>
  readonly bin?: Record<string, string>
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>
  readonly optionalDependencies?: Record<string, string>
  readonly publishConfig?: { readonly access?: string }
}

const readJson = (path: string): unknown => JSON.parse(Fs.readFileSync(path, "utf8"))

const isManifest = (value: unknown): value is Manifest =>
  typeof value === "object" && value !== null && "name" in value && typeof value.name === "string" &&
  "version" in value && typeof value.version === "string"

export const manifestOf = (pkg: string): Manifest => {
  const value = readJson(Path.join(root, "packages", pkg, "package.json"))
  if (!isManifest(value)) return process.exit(fail(`packages/${pkg}/package.json has no name or version`))
  return value
}

const fail = (message: string): number => {
  console.error(`build-packages: ${message}`)
  return 1
}

/** The modules `src/index.ts` re-exports as namespaces: the package's public modules. */
export const publicModules = (pkg: string): ReadonlyArray<string> => {
  const index = Fs.readFileSync(Path.join(root, "packages", pkg, "src", "index.ts"), "utf8")
  return Array.from(index.matchAll(/^export \* as (\w+) from "\.\/(\w+)\.js"/gm), (match) => match[2] ?? "")
    .filter((name) => name !== "")
}

/** `workspace:*` (and `workspace:^`, `workspace:~`) become a caret range on the sibling's version. */
const published = (dependencies: Record<string, string> | undefined): Record<string, string> | undefined => {
  if (dependencies === undefined) return undefined
  return Object.fromEntries(
    Object.entries(dependencies).map(([name, range]) => {
      if (!range.startsWith("workspace:")) return [name, range]
      const sibling = packages.map(manifestOf).find((manifest) => manifest.name === name)
      if (sibling === undefined) return process.exit(fail(`${name}: a workspace dependency outside packages/`))
      return [name, `^${sibling.version}`]
    })
  )
}

const entry = (module: string) => ({
  types: `./dist/dts/${module}.d.ts`,
  import: `./dist/esm/${module}.js`,
  default: `./dist/cjs/${module}.js`
})

/**
 * The published package.json. `@effect-twitch/cli`'s dependencies become optional peer
 * dependencies: its `bin` bundles everything it runs (`npm i -g` installs nothing else),
 * and only a program importing its modules needs them, from its own dependencies.
 */
export const publishedManifest = (pkg: string): Record<string, unknown> => {
  const manifest = manifestOf(pkg)
  const modules = publicModules(pkg)
  const bundlesItsDependencies = manifest.bin !== undefined
  const dependencies = published(manifest.dependencies)
  const peerDependencies = bundlesItsDependencies
    ? { ...published(manifest.peerDependencies), ...dependencies }
    : published(manifest.peerDependencies)
  const peerDependenciesMeta = bundlesItsDependencies && peerDependencies !== undefined
    ? Object.fromEntries(Object.keys(peerDependencies).map((name) => [name, { optional: true }]))
    : manifest.peerDependenciesMeta
  return {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    license: manifest.license,
    repository: manifest.repository,
    homepage: manifest.homepage,
    bugs: manifest.bugs,
    keywords: manifest.keywords,
    sideEffects: [],
    engines: manifest.engines,
    bin: manifest.bin,
    // package.json, README.md and LICENSE are always packed
    files: ["CHANGELOG.md", "dist", "src", ...(manifest.bin === undefined ? [] : ["bin"])],
    dependencies: bundlesItsDependencies ? undefined : dependencies,
    peerDependencies,
    peerDependenciesMeta,
    optionalDependencies: manifest.optionalDependencies,
    publishConfig: { access: manifest.publishConfig?.access ?? "public" },
    main: "./dist/cjs/index.js",
    module: "./dist/esm/index.js",
    types: "./dist/dts/index.d.ts",
    exports: {
      "./package.json": "./package.json",
      ".": entry("index"),
      ...Object.fromEntries(modules.map((module) => [`./${module}`, entry(module)])),
      "./internal/*": null
    }
  }
}

const run = (command: string, args: ReadonlyArray<string>, cwd = root): void => {
  const result = ChildProcess.spawnSync(command, args, { cwd, stdio: "inherit" })
  if (result.status !== 0) process.exit(fail(`${command} ${args.join(" ")} failed`))
}

const filesUnder = (dir: string): ReadonlyArray<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((dirent) => {
    const path = Path.join(dir, dirent.name)
    return dirent.isDirectory() ? filesUnder(path) : [path]
  })

const writeJson = (path: string, value: unknown): void => {
  Fs.mkdirSync(Path.dirname(path), { recursive: true })
  Fs.writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)
}

/** Source files that are programs, not modules (see `assemble`). */
const programs = new Set(["packages/cli/src/bin.ts", "packages/cli/src/launcher.ts"])

const assemble = async (pkg: string): Promise<void> => {
  const dir = Path.join(root, "packages", pkg)
  const out = Path.join(dir, "dist")
  Fs.rmSync(out, { recursive: true, force: true })
  // ES modules and declarations: tsc, already run for all packages (tsconfig.build.json)
  Fs.cpSync(Path.join(dir, "build", "esm"), Path.join(out, "dist", "esm"), { recursive: true })
  Fs.cpSync(Path.join(dir, "build", "dts"), Path.join(out, "dist", "dts"), { recursive: true })
  writeJson(Path.join(out, "dist", "esm", "package.json"), { type: "module", sideEffects: [] })
  // CommonJS: the same sources, one file per module, imports become `require` calls; written
  // in build/cjs, beside build/esm, so that its maps too point at `../../src/X.ts`
  // Programs run by `node` (the CLI's entry and its launcher, an ES module with a top-level
  // `await`) are not modules anyone requires: they get no CommonJS copy.
  const sources = filesUnder(Path.join(dir, "src")).filter((path) =>
    path.endsWith(".ts") && !programs.has(Path.relative(root, path))
  )
  Fs.rmSync(Path.join(dir, "build", "cjs"), { recursive: true, force: true })
  await esbuild.build({
    absWorkingDir: dir,
    entryPoints: sources,
    outbase: "src",
    outdir: Path.join(dir, "build", "cjs"),
    bundle: false,
    format: "cjs",
    platform: "node",
    target: "node20",
    sourcemap: true,
    // as tsc's maps: the sources are shipped beside them
    sourcesContent: false,
    logLevel: "warning"
  })
  Fs.cpSync(Path.join(dir, "build", "cjs"), Path.join(out, "dist", "cjs"), { recursive: true })
  // what the maps point at (`../../src/X.ts` from dist/esm, dist/cjs and dist/dts)
  Fs.cpSync(Path.join(dir, "src"), Path.join(out, "src"), { recursive: true })
  const manifest = manifestOf(pkg)
  if (manifest.bin !== undefined) {
    // the bundled executable(s), whatever files packages/cli/scripts/build.ts writes there
    Fs.cpSync(Path.join(dir, "bin"), Path.join(out, "bin"), { recursive: true })
    // the bundle is ESM, and the published package.json has no "type" (CommonJS by default)
    writeJson(Path.join(out, "bin", "package.json"), { type: "module" })
  }
  writeJson(Path.join(out, "package.json"), publishedManifest(pkg))
  Fs.copyFileSync(Path.join(root, "LICENSE"), Path.join(out, "LICENSE"))
  for (const doc of ["README.md", "CHANGELOG.md"]) {
    if (Fs.existsSync(Path.join(dir, doc))) Fs.copyFileSync(Path.join(dir, doc), Path.join(out, doc))
  }
}

const main = async (): Promise<void> => {
  const started = performance.now()
  const cliVersion = ChildProcess.spawnSync(process.execPath, [
    "--import",
    "tsx",
    Path.join(root, "scripts", "version.ts"),
    "--check"
  ], { cwd: root, stdio: "inherit" })
  if (cliVersion.status !== 0) process.exit(1)
  // a clean tsc output: a module deleted from src leaves nothing behind in dist
  for (const pkg of packages) {
    for (const built of ["esm", "dts", "tsconfig.build.tsbuildinfo"]) {
      Fs.rmSync(Path.join(root, "packages", pkg, "build", built), { recursive: true, force: true })
    }
  }
  run(process.execPath, [
    Path.join(root, "node_modules", "typescript", "bin", "tsc"),
    "-b",
    ...packages.map((pkg) => `packages/${pkg}/tsconfig.build.json`)
  ])
  run(process.execPath, ["--import", "tsx", Path.join(root, "packages", "cli", "scripts", "build.ts")])
  for (const pkg of packages) await assemble(pkg)
  console.log(
    `built ${packages.map((pkg) => `packages/${pkg}/dist`).join(", ")} in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`
  )
}

if (process.argv[1] !== undefined && Path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const asked = process.argv.indexOf("--manifest")
  if (asked === -1) await main()
  // `--manifest <auth|testing|sql|cli>`: print the package.json it would publish, building nothing
  else console.log(JSON.stringify(publishedManifest(process.argv[asked + 1] ?? ""), null, 2))
}
