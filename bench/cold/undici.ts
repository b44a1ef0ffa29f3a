/**
 * Cold start reference: one `request` with the npm `undici` package (what a program that
 * bundles `NodeHttpClient.layerUndici`, or any undici-backed client, carries), printing `done`.
 */
import { request } from "undici"

request(`${process.env["MOCK_URL"] ?? ""}/oauth2/validate`, {
  headers: { authorization: `OAuth ${process.env["TOKEN"] ?? ""}` }
}).then(
  async (response) => {
    await response.body.json()
    process.stdout.write("done\n")
    process.exit(0)
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
