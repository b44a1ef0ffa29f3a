/**
 * The cost of one request to FakeTwitch as its history grows (issue 11 #16): 100,000
 * `GET /oauth2/validate` calls in batches of 10,000, printing µs per request and how many
 * requests the log keeps after each batch. Before the request log became a ring, the cost
 * grew with every request (the whole history was copied each time).
 *
 *   npx tsx packages/testing/scripts/request-log.ts
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as FakeTwitch from "../src/FakeTwitch.js"

const batch = 10_000
const batches = 10

const main = Effect.gen(function*() {
  const twitch = yield* FakeTwitch.make()
  for (let round = 0; round < batches; round++) {
    const started = performance.now()
    for (let i = 0; i < batch; i++) {
      yield* twitch.validate({ method: "GET", headers: { authorization: `OAuth t${i}` }, params: {} })
    }
    const micros = ((performance.now() - started) / batch) * 1000
    const kept = (yield* twitch.requests("validate")).length
    const calls = yield* twitch.calls("validate")
    yield* Console.log(
      `requests ${round * batch}–${(round + 1) * batch}: ${
        micros.toFixed(0)
      } µs/request; log keeps ${kept}, calls ${calls}`
    )
  }
})

Effect.runPromise(main)
