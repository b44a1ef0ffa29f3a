/**
 * Cold start, twurple: the same call — `getTokenInfo` against the mock (TWURPLE_MOCK_API_PORT)
 * — printing `done` after the first completed call.
 */
import { getTokenInfo } from "@twurple/auth"

getTokenInfo(process.env["TOKEN"] ?? "", process.env["CLIENT_ID"] ?? "").then(
  (info) => {
    process.stdout.write(`done ${info.clientId}\n`)
    process.exit(0)
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
