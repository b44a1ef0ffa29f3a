/**
 * Cold start reference: one call with Node's built-in `fetch` (what twurple's first call
 * costs in Node: the first `fetch` loads Node's internal undici), printing `done`.
 */
fetch(`${process.env["MOCK_URL"] ?? ""}/oauth2/validate`, {
  headers: { authorization: `OAuth ${process.env["TOKEN"] ?? ""}` }
}).then(
  async (response) => {
    await response.json()
    process.stdout.write("done\n")
    process.exit(0)
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
