/**
 * Bundles `src/bin.ts` into `bin/twitch-auth.js`: one tree-shaken, minified ESM file for
 * Node, with a `#!/usr/bin/env node` line, so that `twitch-auth --help` loads one file
 * instead of hundreds of Effect modules. Run by `pnpm demo`, `pnpm --filter @effect-twitch/cli build`,
 * and as the CLI tests' global setup (they spawn the bundle).
 */
import * as esbuild from "esbuild"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Url from "node:url"

const root = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..")

export const outfile = Path.join(root, "bin", "twitch-auth.js")

export const build = async (): Promise<esbuild.Metafile> => {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["src/bin.ts"],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    treeShaking: true,
    minify: true,
    legalComments: "none",
    metafile: true,
    // written below, atomically: a twitch-auth starting meanwhile (a test, another terminal)
    // runs the previous bundle or the new one, never half of one
    write: false,
    logLevel: "warning",
    banner: {
      // The shebang; generated code is not linted; a `require` for the CommonJS dependencies.
      js:
        "#!/usr/bin/env node\n/* eslint-disable */\nimport { createRequire as __createRequire } from \"node:module\";const require = __createRequire(import.meta.url);"
    }
  })
  const contents = result.outputFiles.find((file) => file.path === outfile)?.contents ?? new Uint8Array()
  const temporary = `${outfile}.${process.pid}.${Date.now()}.tmp`
  await Fs.mkdir(Path.dirname(outfile), { recursive: true })
  await Fs.writeFile(temporary, contents, { mode: 0o755 })
  await Fs.chmod(temporary, 0o755)
  await Fs.rename(temporary, outfile)
  return result.metafile
}

/** Vitest's global setup of the CLI tests: they run the bundle as a separate process. */
export default async function setup(): Promise<void> {
  await build()
}

if (process.argv[1] !== undefined && Url.pathToFileURL(process.argv[1]).href === import.meta.url) {
  const started = performance.now()
  const metafile = await build()
  const bytes = Object.values(metafile.outputs).reduce((n, output) => n + output.bytes, 0)
  // on stderr: `pnpm twitch-auth … --json` keeps a clean stdout
  console.error(
    `built ${Path.relative(process.cwd(), outfile)} (${(bytes / 1024).toFixed(0)} KiB) in ${
      Math.round(performance.now() - started)
    } ms`
  )
}
