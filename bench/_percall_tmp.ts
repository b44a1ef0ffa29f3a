import { startMock } from "./internal/mock.js"
import * as PerCall from "./per-call.js"
const mock = await startMock()
try {
  const only = process.env["ONLY"]?.split(",")
  console.log(await PerCall.run(mock, { rounds: Number(process.env["ROUNDS"] ?? 5), calls: { 1: 400, 64: 2000 }, only }))
} finally { await mock.stop() }
