/**
 * What an editor's hover shows for the operations of `TwitchAuth.Service`, asked of the
 * TypeScript language service (the same quick info VS Code displays), and what the hover of
 * each error union's name shows. Run: `npx tsx scripts/hover.ts`.
 *
 * Each operation's error channel must show its own union (`RefreshTokenError`, …), never the
 * whole `TwitchAuthError`, `unknown` or `never`; the script exits 1 when one does not, or when
 * the probe does not compile.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import ts from "typescript"

const root = Path.resolve(import.meta.dirname, "..")
const dir = Path.join(root, "packages/auth/test")
const probe = Path.join(dir, "__hover_probe__.ts")

/**
 * Each operation, called, and the union its error channel should be named by (a union of one
 * class shows as the class).
 */
const operations: ReadonlyArray<readonly [string, string, string]> = [
  ["authorizationUrl", "auth.authorizationUrl()", "MissingRedirectUri"],
  ["exchangeCode", "auth.exchangeCode(\"code\")", "ExchangeCodeError"],
  ["exchangeCodeWithIdToken", "auth.exchangeCodeWithIdToken(\"code\")", "ExchangeCodeError"],
  ["refreshToken", "auth.refreshToken(secret)", "RefreshTokenError"],
  ["validateToken", "auth.validateToken(secret)", "ValidateTokenError"],
  ["revokeToken", "auth.revokeToken(secret)", "RevokeTokenError"],
  ["appToken", "auth.appToken()", "AppTokenError"],
  ["startDeviceAuthorization", "auth.startDeviceAuthorization()", "DeviceAuthorizationError"],
  ["pollDeviceToken", "auth.pollDeviceToken(secret)", "DevicePollError"]
]

/** The unions `TwitchAuthError` names. */
const unions: ReadonlyArray<string> = [
  "TransientError",
  "CommonError",
  "AuthorizationUrlError",
  "ExchangeCodeError",
  "RefreshTokenError",
  "ValidateTokenError",
  "RevokeTokenError",
  "AppTokenError",
  "DeviceAuthorizationError",
  "DevicePollError",
  "CallbackError",
  "DeviceFlowError",
  "VerifyIdTokenError",
  "SignInError",
  "UserInfoError"
]

const text = [
  `import type { TwitchAuth, TwitchAuthError } from "@effect-twitch/auth"`,
  `import * as Redacted from "effect/Redacted"`,
  `declare const auth: TwitchAuth.TwitchAuth.Service`,
  `const secret = Redacted.make("r")`,
  ...operations.map(([name, call]) => `export const ${name} = ${call}`),
  ...unions.map((union) => `export type Hover${union} = TwitchAuthError.${union}`),
  ""
].join("\n")

// The test project's options, checked from source (no project references, no build needed).
const config = ts.getParsedCommandLineOfConfigFile(Path.join(root, "packages/auth/tsconfig.test.json"), {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: () => {}
})
const options: ts.CompilerOptions = {
  ...config?.options,
  composite: false,
  incremental: false,
  noEmit: true,
  rootDir: root
}

const service = ts.createLanguageService({
  getScriptFileNames: () => [probe],
  getScriptVersion: () => "1",
  getScriptSnapshot: (file) =>
    file === probe
      ? ts.ScriptSnapshot.fromString(text)
      : Fs.existsSync(file)
      ? ts.ScriptSnapshot.fromString(Fs.readFileSync(file, "utf8"))
      : undefined,
  getCurrentDirectory: () => dir,
  getCompilationSettings: () => options,
  getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
  fileExists: (file) => file === probe || ts.sys.fileExists(file),
  readFile: (file) => file === probe ? text : ts.sys.readFile(file),
  readDirectory: ts.sys.readDirectory,
  directoryExists: ts.sys.directoryExists,
  getDirectories: ts.sys.getDirectories
})

const hover = (needle: string, offset: number): string => {
  const info = service.getQuickInfoAtPosition(probe, text.indexOf(needle) + offset)
  return ts.displayPartsToString(info?.displayParts)
}

const problems: Array<string> = service.getSemanticDiagnostics(probe).map((d) =>
  `the probe does not compile: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`
)

console.log("hover on each operation (the property, then the value it returns):")
for (const [name, call, alias] of operations) {
  const property = hover(call, "auth.".length + 1)
  const value = hover(`export const ${name} =`, "export const ".length + 1)
  console.log(`  ${property}\n  ${value}`)
  if (!value.endsWith(`, TwitchAuthError.${alias}, never>`)) {
    problems.push(`${name}: the error channel is not shown as TwitchAuthError.${alias}`)
  }
}
console.log("\nhover on each union's name:")
for (const union of unions) console.log(`  ${hover(`TwitchAuthError.${union}\n`, "TwitchAuthError.".length + 1)}`)

for (const problem of problems) console.error(`hover: ${problem}`)
process.exitCode = problems.length === 0 ? 0 : 1
