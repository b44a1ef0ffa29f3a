/**
 * Type-checks every JSDoc `@example` of the packages' sources, as `@effect/docgen` does for
 * Effect's packages: each ```ts block after an `@example` tag becomes a module of its own
 * (under `build/docs-examples/`, importing the packages by name as a user would) and the
 * TypeScript compiler checks them all with the workspace's strict options. A failure is
 * reported at the example's line in the source file. Part of `pnpm check`.
 *
 * Usage: `tsx scripts/docs-examples.ts [dir …]` (default: the packages' `src`; exits 1
 * when an example does not compile).
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { packages } from "./build-packages.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const given = process.argv.slice(2)
const sources = given.length > 0 ? given : packages.map((pkg) => `packages/${pkg}/src`)
// other directories (the script's own test) check in a directory of their own
const outDir = Path.join(root, "build", given.length > 0 ? `docs-examples-${process.pid}` : "docs-examples")

interface Example {
  /** Where the example's first line of code is: the source file (relative) and its line (1-based). */
  readonly file: string
  readonly line: number
  readonly code: string
}

const filesUnder = (dir: string): ReadonlyArray<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = Path.join(dir, entry.name)
    if (entry.isDirectory()) return filesUnder(path)
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : []
  })

/** The ```ts blocks that follow an `@example` tag in the file's doc comments. */
export const examplesOf = (file: string, text: string): ReadonlyArray<Example> => {
  const lines = text.split("\n")
  const found: Array<Example> = []
  let inExample = false
  let code: Array<string> | undefined
  let start = 0
  lines.forEach((raw, index) => {
    const line = raw.replace(/^\s*\*( |$)/, "")
    if (code !== undefined) {
      if (line.trimStart().startsWith("```")) {
        found.push({ file, line: start, code: code.join("\n") })
        code = undefined
        inExample = false
      } else {
        code.push(line)
      }
      return
    }
    if (/^\s*\/?\*+\s*@example\b/.test(raw) || /^\s*\*\s*@example\b/.test(raw)) inExample = true
    else if (/^\s*\*\s*@\w+/.test(raw) || /\*\/\s*$/.test(raw)) inExample = false
    else if (inExample && /^```(ts|typescript)\s*$/.test(line.trim())) {
      code = []
      start = index + 2
    }
  })
  return found
}

const examples = sources.flatMap((dir) =>
  filesUnder(Path.resolve(root, dir)).flatMap((path) =>
    examplesOf(Path.relative(root, path), Fs.readFileSync(path, "utf8"))
  )
)

Fs.rmSync(outDir, { recursive: true, force: true })
Fs.mkdirSync(outDir, { recursive: true })
const written = new Map<string, Example>()
examples.forEach((example, i) => {
  const name = `${String(i).padStart(3, "0")}-${example.file.replace(/[^A-Za-z0-9]+/g, "_")}.ts`
  const path = Path.join(outDir, name)
  // `export {}`: each example is a module of its own, even one without imports
  Fs.writeFileSync(path, `${example.code}\nexport {}\n`)
  written.set(path, example)
})

const base = ts.getParsedCommandLineOfConfigFile(Path.join(root, "tsconfig.base.json"), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: () => undefined
})
if (base === undefined) {
  console.error("docs-examples: cannot read tsconfig.base.json")
  process.exit(1)
}
const options: ts.CompilerOptions = {
  ...base.options,
  // examples show a piece of a program: values they define need not be used
  noUnusedLocals: false,
  noUnusedParameters: false,
  noEmit: true,
  composite: false,
  incremental: false,
  declaration: false,
  declarationMap: false,
  sourceMap: false,
  emitDeclarationOnly: false
}
const program = ts.createProgram([...written.keys()], options)
const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) =>
  d.file === undefined || written.has(Path.resolve(d.file.fileName))
)

for (const diagnostic of diagnostics) {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")
  const example = diagnostic.file === undefined ? undefined : written.get(Path.resolve(diagnostic.file.fileName))
  if (diagnostic.file === undefined || example === undefined || diagnostic.start === undefined) {
    console.error(`docs-examples: ${message}`)
    continue
  }
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
  console.error(`${example.file}:${example.line + line}:${character + 1}: @example does not compile: ${message}`)
}
console.log(`docs-examples: ${examples.length} @example blocks checked, ${diagnostics.length} errors`)
if (given.length > 0) Fs.rmSync(outDir, { recursive: true, force: true })
process.exit(diagnostics.length === 0 ? 0 : 1)
