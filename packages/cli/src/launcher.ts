/**
 * The `twitch-auth` executable as bundled (`bin/twitch-auth.js`): a command line that only
 * asks for help or the version (`--help`, `<command> --help`, `--version`, no argument) is
 * answered from text generated at build time from the real command definition
 * (`internal/helpTexts.ts`), without evaluating `@effect/cli`, Effect and the SDK; every
 * other command line loads the full CLI (`bin.ts`, bundled as `bin/twitch-auth-cli.js`).
 *
 * @since 0.1.0
 */
import * as HelpTable from "./internal/helpTable.js"

const text = new Map(Object.entries(HelpTable.texts)).get(JSON.stringify(process.argv.slice(2)))

// printed as the full CLI prints it: one `console.log` (which, unlike `process.stdout.write`,
// ignores a closed pipe, as in `twitch-auth --help | head -1`)
if (text === undefined) await import("./bin.js")
else console.log(text)
