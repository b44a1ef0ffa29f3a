/**
 * Builds the bundled `twitch-auth`, two tree-shaken, minified ESM files for Node:
 *
 * - `bin/twitch-auth-cli.js`: the whole CLI (`src/bin.ts`: `@effect/cli`, Effect, the SDK),
 *   one file instead of hundreds of Effect modules;
 * - `bin/twitch-auth.js` (the package's `bin`, with a `#!/usr/bin/env node` line): the
 *   launcher (`src/launcher.ts`), a few hundred bytes plus the help texts. A command line
 *   that only asks for help or the version is answered from those texts, generated here by
 *   running the real command definition through `@effect/cli` (`src/internal/helpTexts.ts`);
 *   any other command line imports `twitch-auth-cli.js`.
 *
 * Run by `pnpm demo`, `pnpm -s twitch-auth`, `pnpm --filter @effect-twitch/cli build`, and as
 * the CLI tests' global setup (they spawn the bundle).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as esbuild from "esbuild"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Url from "node:url"
import * as HelpTexts from "../src/internal/helpTexts.js"

const root = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..")

/** The launcher, `twitch-auth` (the package's `bin`). */
export const outfile = Path.join(root, "bin", "twitch-auth.js")

/** The full CLI, which the launcher imports for any command line that is not a request for help. */
export const cliOutfile = Path.join(root, "bin", "twitch-auth-cli.js")

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  treeShaking: true,
  minify: true,
  legalComments: "none",
  metafile: true,
  // written below, atomically: a twitch-auth starting meanwhile (a test, another terminal)
  // runs the previous file or the new one, never half of one
  write: false,
  logLevel: "warning"
} as const

/** `helpTable.ts` with its texts: each distinct text once (`-h` prints what `--help` prints). */
const tableModule = (texts: Record<string, string>): string => {
  const distinct = Array.from(new Set(Object.values(texts)))
  const entries = Object.entries(texts).map(([key, text]) => `${JSON.stringify(key)}: t[${distinct.indexOf(text)}]`)
  return `const t = ${JSON.stringify(distinct)}\nexport const texts = { ${entries.join(", ")} }\n`
}

/** In the launcher: `import("./bin.js")` is the full CLI's file, and the help table is filled in. */
const launcherPlugin = (texts: Record<string, string>): esbuild.Plugin => ({
  name: "twitch-auth-launcher",
  setup(build) {
    build.onResolve(
      { filter: /^\.\/bin\.js$/ },
      () => ({ path: `./${Path.basename(cliOutfile)}`, external: true })
    )
    build.onLoad(
      { filter: /[\\/]internal[\\/]helpTable\.ts$/ },
      () => ({ contents: tableModule(texts), loader: "js" })
    )
  }
})

const contentsOf = (result: esbuild.BuildResult<{ write: false; metafile: true }>, file: string): Uint8Array =>
  result.outputFiles.find((output) => output.path === file)?.contents ?? new Uint8Array()

const writeAtomically = async (file: string, contents: Uint8Array): Promise<void> => {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`
  await Fs.mkdir(Path.dirname(file), { recursive: true })
  await Fs.writeFile(temporary, contents, { mode: 0o755 })
  await Fs.chmod(temporary, 0o755)
  await Fs.rename(temporary, file)
}

/** Builds both files; returns their esbuild metafiles (`bin/twitch-auth-cli.js` first). */
export const build = async (): Promise<ReadonlyArray<esbuild.Metafile>> => {
  const texts = await Effect.runPromise(Effect.provide(HelpTexts.generate, NodeContext.layer))
  const cli = await esbuild.build({
    ...common,
    entryPoints: ["src/bin.ts"],
    outfile: cliOutfile,
    banner: {
      // Generated code is not linted; a `require` for the CommonJS dependencies.
      js:
        "/* eslint-disable */\nimport { createRequire as __createRequire } from \"node:module\";const require = __createRequire(import.meta.url);"
    }
  })
  const launcher = await esbuild.build({
    ...common,
    entryPoints: ["src/launcher.ts"],
    outfile,
    plugins: [launcherPlugin(texts)],
    banner: { js: "#!/usr/bin/env node\n/* eslint-disable */" }
  })
  // the full CLI first: a new launcher never imports an old full CLI
  await writeAtomically(cliOutfile, contentsOf(cli, cliOutfile))
  await writeAtomically(outfile, contentsOf(launcher, outfile))
  return [cli.metafile, launcher.metafile]
}

/** Vitest's global setup of the CLI tests: they run the bundle as a separate process. */
export default async function setup(): Promise<void> {
  await build()
}

if (process.argv[1] !== undefined && Url.pathToFileURL(process.argv[1]).href === import.meta.url) {
  const started = performance.now()
  const metafiles = await build()
  const size = (metafile: esbuild.Metafile | undefined) =>
    `${(Object.values(metafile?.outputs ?? {}).reduce((n, output) => n + output.bytes, 0) / 1024).toFixed(0)} KiB`
  // on stderr: `pnpm twitch-auth … --json` keeps a clean stdout
  console.error(
    `built ${Path.relative(process.cwd(), outfile)} (${size(metafiles[1])}) and ${
      Path.relative(process.cwd(), cliOutfile)
    } (${size(metafiles[0])}) in ${Math.round(performance.now() - started)} ms`
  )
}
