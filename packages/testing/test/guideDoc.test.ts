/**
 * docs/testing.md shows guide.test.ts's example verbatim, so the example users copy is the
 * one `pnpm test` runs.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"

const read = (relative: string) => Fs.readFileSync(new URL(relative, import.meta.url), "utf8")

describe("docs/testing.md", () => {
  it("its complete example is test/guide.test.ts without the header comment", () => {
    const guide = read("../../../docs/testing.md")
    const example = /```ts\n([\s\S]*?)```/.exec(guide)?.[1]
    const source = read("./guide.test.ts").replace(/^\/\*\*[\s\S]*?\*\/\n/, "")
    assert.isDefined(example)
    assert.strictEqual(example, source)
  })
})
