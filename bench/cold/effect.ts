/**
 * Cold start reference: Effect's runtime alone — one `Effect.runPromise` of a trivial effect,
 * printing `done`: what any Effect program pays before its first call.
 */
import * as Effect from "effect/Effect"

Effect.runPromise(Effect.succeed("done")).then((text) => {
  process.stdout.write(`${text}\n`)
  process.exit(0)
})
