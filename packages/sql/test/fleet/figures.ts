/**
 * What the fleet test measured, for `pnpm reliability` (scripts/reliability.ts): when
 * `RELIABILITY_FIGURES` names a directory, `<name>.json` is written there. Otherwise nothing is.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

export const recordFigures = (name: string, data: unknown): void => {
  const dir = process.env["RELIABILITY_FIGURES"]
  if (dir === undefined || dir === "") return
  Fs.mkdirSync(dir, { recursive: true })
  Fs.writeFileSync(Path.join(dir, `${name}.json`), JSON.stringify(data, null, 2) + "\n")
}
