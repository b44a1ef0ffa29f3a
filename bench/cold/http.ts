/**
 * Cold start reference: one call with `node:http` (already part of Node, nothing to load
 * but the module), printing `done`.
 */
import * as Http from "node:http"

Http.get(
  `${process.env["MOCK_URL"] ?? ""}/oauth2/validate`,
  { headers: { authorization: `OAuth ${process.env["TOKEN"] ?? ""}` } },
  (response) => {
    const chunks: Array<Buffer> = []
    response.on("data", (chunk: Buffer) => chunks.push(chunk))
    response.on("end", () => {
      JSON.parse(Buffer.concat(chunks).toString("utf8"))
      process.stdout.write("done\n")
      process.exit(0)
    })
  }
).on("error", (error) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
