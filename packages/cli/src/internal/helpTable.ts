/**
 * What `twitch-auth` prints on stdout when asked for help or its version (`--help`, `-h`, no
 * argument, `--version`, `<command> --help`), less the final newline, keyed by the command
 * line's arguments as JSON (`JSON.stringify(process.argv.slice(2))`).
 *
 * Empty in the sources: `scripts/build.ts` replaces this module in the bundled launcher with
 * the texts `@effect/cli` printed for each of those command lines when it ran the real command
 * definition at build time (`internal/helpTexts.ts`). Unbundled (`tsx src/launcher.ts`), the
 * table is empty and every command line goes to the full CLI.
 */
export const texts: Readonly<Record<string, string>> = {}
