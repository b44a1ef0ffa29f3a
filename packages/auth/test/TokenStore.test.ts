import { UserToken } from "@effect-twitch/auth/Token"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { assertToken } from "./storeContract.js"

// ---------------------------------------------------------------------------------------
// fixtures
// ---------------------------------------------------------------------------------------

const secrets = {
  alphaAccess: "at-alpha-3f9c1e5d7a",
  alphaRefresh: "rt-alpha-77b2d04c19",
  betaAccess: "at-beta-0e4a9b6f21",
  betaRefresh: "rt-beta-c3d8e1f572"
}

const alpha = new UserToken({
  accessToken: Redacted.make(secrets.alphaAccess),
  refreshToken: Redacted.make(secrets.alphaRefresh),
  scopes: ["chat:read", "chat:edit"],
  obtainedAt: DateTime.unsafeMake("2026-01-01T00:00:00.123Z"),
  expiresAt: Option.some(DateTime.unsafeMake("2026-01-01T04:00:00.123Z"))
})

const beta = new UserToken({
  accessToken: Redacted.make(secrets.betaAccess),
  refreshToken: Redacted.make(secrets.betaRefresh),
  scopes: [],
  obtainedAt: DateTime.unsafeMake("2025-06-30T12:34:56Z"),
  expiresAt: Option.none()
})

const tokenFor = (i: number) =>
  new UserToken({
    accessToken: Redacted.make(`at-${i}`),
    refreshToken: Redacted.make(`rt-${i}`),
    scopes: [`scope:${i}`],
    obtainedAt: DateTime.unsafeMake(1_700_000_000_000 + i),
    expiresAt: Option.some(DateTime.unsafeMake(1_700_000_000_000 + i + 3_600_000))
  })

/** Every way an error gets shown or serialised: none may contain any of `forbidden`. */
const assertLeaksNothing = (error: TokenStore.TokenStoreError, forbidden: ReadonlyArray<string>) => {
  const renderings = [
    error.message,
    String(error),
    JSON.stringify(error),
    error.stack ?? "",
    Cause.pretty(Cause.fail(error))
  ]
  for (const rendering of renderings) {
    for (const secret of forbidden) {
      if (secret.length > 0) assert.notInclude(rendering, secret)
    }
  }
}

const allSecrets = Object.values(secrets)

// ---------------------------------------------------------------------------------------
// memory
// ---------------------------------------------------------------------------------------

describe("memory store", () => {
  it.effect("set, get, remove and keys", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      assert.deepStrictEqual(yield* store.get("1001"), Option.none())
      assert.deepStrictEqual(yield* store.keys, [])

      yield* store.set("1002", beta)
      yield* store.set("1001", alpha)
      assertToken(yield* store.get("1001"), alpha)
      assertToken(yield* store.get("1002"), beta)
      assert.deepStrictEqual(yield* store.keys, ["1001", "1002"])

      yield* store.set("1001", beta)
      assertToken(yield* store.get("1001"), beta)

      yield* store.remove("1001")
      yield* store.remove("never-stored")
      assert.deepStrictEqual(yield* store.get("1001"), Option.none())
      assert.deepStrictEqual(yield* store.keys, ["1002"])
    }))

  it.effect("each store is separate, and the layer provides one", () =>
    Effect.gen(function*() {
      const one = yield* TokenStore.makeMemory
      const two = yield* TokenStore.makeMemory
      yield* one.set("1001", alpha)
      assert.deepStrictEqual(yield* two.keys, [])

      const provided = yield* Effect.provide(
        Effect.flatMap(TokenStore.TokenStore, (store) => Effect.zipRight(store.set("7", alpha), store.keys)),
        TokenStore.layerMemory
      )
      assert.deepStrictEqual(provided, ["7"])
    }))

  it.effect("empty and reserved keys fail with InvalidKey", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      for (const key of ["", "   ", "__proto__"]) {
        for (const op of [store.get(key), store.set(key, alpha), store.remove(key)]) {
          const error = yield* Effect.flip(op)
          assert.instanceOf(error, TokenStore.TokenStoreError)
          assert.strictEqual(error.reason, "InvalidKey")
          assert.include(error.message, "in-memory token store")
          assertLeaksNothing(error, allSecrets)
        }
      }
      assert.deepStrictEqual(yield* store.keys, [])
    }))
})

describe("error messages name the kind of store", () => {
  it("issue 16: a SQL store's errors (path sql:<table>) name the table and give database advice, not file advice", () => {
    const reasons = ["Io", "Corrupted", "UnsupportedVersion", "InvalidKey", "LockTimeout", "Insecure"] as const
    for (const reason of reasons) {
      const message = new TokenStore.TokenStoreError({ reason, path: "sql:effect_twitch_tokens", detail: "d" }).message
      assert.include(message, "the SQL table \"effect_twitch_tokens\"", reason)
      assert.notInclude(message, "sql:", reason)
    }
    const io = new TokenStore.TokenStoreError({ reason: "Io", path: "sql:t", detail: "ECONNREFUSED" }).message
    assert.include(io, "database is reachable")
    assert.notInclude(io, "directory")
    const corrupted = new TokenStore.TokenStoreError({ reason: "Corrupted", path: "sql:t", detail: "scopes" }).message
    assert.include(corrupted, "row")
    assert.notInclude(corrupted, "file")
    const lock = new TokenStore.TokenStoreError({ reason: "LockTimeout", path: "sql:t", detail: "waited 30s" }).message
    assert.include(lock, "connection closes")
    // the file store's stay as they were
    const fileIo = new TokenStore.TokenStoreError({ reason: "Io", path: "/var/lib/t.json", detail: "EACCES" }).message
    assert.include(fileIo, "the token store at \"/var/lib/t.json\"")
    assert.include(fileIo, "directory")
  })
})

// ---------------------------------------------------------------------------------------
// file
// ---------------------------------------------------------------------------------------

/** A fresh temporary directory (removed at the end of the test) and a store file path in it. */
const tempStore = (name = "tokens.json") =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "token-store-" })
    return { fs, path, dir, file: path.join(dir, name) }
  })

/** The temporary files a write leaves behind, if any. */
const leftovers = (fs: FileSystem.FileSystem, dir: string) =>
  Effect.map(fs.readDirectory(dir), (names) => names.filter((name) => name.endsWith(".tmp")))

const modeOf = (fs: FileSystem.FileSystem, file: string) => Effect.map(fs.stat(file), (info) => info.mode & 0o777)

const withUmask = <A, E, R>(umask: number, effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => process.umask(umask)),
    () => effect,
    (previous) => Effect.sync(() => process.umask(previous))
  )

layer(NodeContext.layer)("file store", (it) => {
  // Found by the demo under load: a refresh waiting for the lock while its program moved a
  // TestClock by 56 minutes failed at once with LockTimeout ("timed out after 30s"), and the
  // session backed off on a clock that moved no further. A lock wait is for other fibers and
  // processes: it runs on real time, whatever the caller's clock.
  for (
    const [name, second] of [
      ["another fiber, same store", "same"],
      ["another store on the same file (as another process)", "other"]
    ] as const
  ) {
    it.scoped(`issue 14: a lock wait (${name}) is on real time: moving the TestClock by an hour does not time it out, and it ends when the holder releases`, () =>
      Effect.gen(function*() {
        const { file } = yield* tempStore()
        const first = yield* TokenStore.makeFile(file)
        const waiter = second === "same" ? first : yield* TokenStore.makeFile(file)
        const held = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(
          first.withLock("u1", Effect.zipRight(Deferred.succeed(held, undefined), Deferred.await(release)))
        )
        yield* Deferred.await(held)
        const waiting = yield* Effect.fork(waiter.withLock("u1", Effect.succeed("second")))
        yield* TestClock.adjust("1 hour")
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holder)
        assert.strictEqual(yield* Fiber.join(waiting), "second")
      }))
  }

  it.scoped("round trip: a second store on the same path reads what the first wrote", () =>
    Effect.gen(function*() {
      const { file, fs } = yield* tempStore()
      const first = yield* TokenStore.makeFile(file)
      yield* first.set("1001", alpha)
      yield* first.set("1002", beta)

      const second = yield* TokenStore.makeFile(file)
      assertToken(yield* second.get("1001"), alpha)
      assertToken(yield* second.get("1002"), beta)
      assert.deepStrictEqual(yield* second.keys, ["1001", "1002"])

      // the file is the truth: a removal through one store is seen by the other
      yield* second.remove("1001")
      assert.deepStrictEqual(yield* first.get("1001"), Option.none())
      assertToken(yield* first.get("1002"), beta)

      // the documented format
      const json: unknown = JSON.parse(yield* fs.readFileString(file))
      assert.deepStrictEqual(json, {
        version: 1,
        tokens: {
          "1002": {
            accessToken: secrets.betaAccess,
            refreshToken: secrets.betaRefresh,
            scopes: [],
            obtainedAt: "2025-06-30T12:34:56.000Z",
            expiresAt: null
          }
        }
      })
    }))

  it.scoped("the layer provides a file store", () =>
    Effect.gen(function*() {
      const { file } = yield* tempStore()
      yield* Effect.provide(
        Effect.flatMap(TokenStore.TokenStore, (store) => store.set("1001", alpha)),
        TokenStore.layerFile(file)
      )
      const reopened = yield* TokenStore.makeFile(file)
      assertToken(yield* reopened.get("1001"), alpha)
    }))

  it.scoped("a missing file is an empty store, and reading or removing does not create it", () =>
    Effect.gen(function*() {
      const { file, fs } = yield* tempStore()
      const store = yield* TokenStore.makeFile(file)
      assert.deepStrictEqual(yield* store.get("1001"), Option.none())
      assert.deepStrictEqual(yield* store.keys, [])
      yield* store.remove("1001")
      assert.isFalse(yield* fs.exists(file))
    }))

  it.scoped("removeWhenEmpty: the last token's removal removes the file, under the write lock; a token written meanwhile stays", () =>
    Effect.gen(function*() {
      const { file, fs } = yield* tempStore()
      const store = yield* TokenStore.makeFile(file, { removeWhenEmpty: true })
      const other = yield* TokenStore.makeFile(file, { removeWhenEmpty: true })
      yield* store.set("1001", alpha)
      yield* store.set("1002", beta)
      yield* store.remove("1001")
      assert.isTrue(yield* fs.exists(file), "a token is left: the file stays")
      // another store (another process) wrote 1003 after this one last read the file
      yield* other.set("1003", alpha)
      assert.isTrue(yield* store.compareAndRemove("1002", beta))
      assert.isTrue(yield* fs.exists(file), "1003 is still stored: the file stays")
      assertToken(yield* store.get("1003"), alpha)
      assert.isTrue(yield* other.compareAndRemove("1003", alpha))
      assert.isFalse(yield* fs.exists(file), "no token left: the file is gone")
      // without the option, an empty store is written
      const plain = yield* TokenStore.makeFile(file)
      yield* plain.set("1001", alpha)
      yield* plain.remove("1001")
      assert.deepStrictEqual(JSON.parse(yield* fs.readFileString(file)), { version: 1, tokens: {} })
    }))

  it.scoped("invalid keys fail with InvalidKey and touch nothing", () =>
    Effect.gen(function*() {
      const { file, fs } = yield* tempStore()
      const store = yield* TokenStore.makeFile(file)
      for (const key of ["", " ", "__proto__"]) {
        const error = yield* Effect.flip(store.set(key, alpha))
        assert.strictEqual(error.reason, "InvalidKey")
        assert.strictEqual(error.path, file)
        assertLeaksNothing(error, allSecrets)
      }
      assert.isFalse(yield* fs.exists(file))
    }))

  it.scoped("missing parent directories are created with mode 0700, the file with 0600", () =>
    Effect.gen(function*() {
      const { dir, fs, path } = yield* tempStore()
      const file = path.join(dir, "a", "b", "tokens.json")
      const store = yield* TokenStore.makeFile(file)
      yield* store.set("1001", alpha)
      assert.strictEqual(yield* modeOf(fs, path.join(dir, "a", "b")), 0o700)
      assert.strictEqual(yield* modeOf(fs, file), 0o600)
    }))

  it.scoped("the file is mode 0600 even under umask 0, and a wider mode is narrowed on write", () =>
    Effect.gen(function*() {
      const { file, fs } = yield* tempStore()
      const store = yield* TokenStore.makeFile(file)
      yield* withUmask(0, store.set("1001", alpha))
      assert.strictEqual(yield* modeOf(fs, file), 0o600)

      yield* fs.chmod(file, 0o644)
      yield* withUmask(0, store.set("1002", beta))
      assert.strictEqual(yield* modeOf(fs, file), 0o600)
      assert.deepStrictEqual(yield* store.keys, ["1001", "1002"])
    }))

  it.scoped("writes replace the file atomically and leave no temporary files", () =>
    Effect.gen(function*() {
      const { dir, file, fs } = yield* tempStore()
      const store = yield* TokenStore.makeFile(file)
      for (let i = 0; i < 5; i++) {
        yield* store.set(`user-${i}`, tokenFor(i))
        assert.deepStrictEqual(yield* leftovers(fs, dir), [])
        const text = yield* fs.readFileString(file)
        const parsed: unknown = JSON.parse(text)
        assert.deepStrictEqual(
          Object.keys((parsed !== null && typeof parsed === "object" && "tokens" in parsed && parsed.tokens) || {})
            .length,
          i + 1
        )
      }
      yield* store.remove("user-0")
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["tokens.json"])
    }))

  it.scoped("50 concurrent sets all land, and a concurrent reader only ever sees valid JSON", () =>
    Effect.gen(function*() {
      const { dir, file, fs } = yield* tempStore()
      const store = yield* TokenStore.makeFile(file)
      const keys = Array.from({ length: 50 }, (_, i) => `user-${String(i).padStart(2, "0")}`)

      let reads = 0
      const invalid: Array<string> = []
      let writing = true
      const reader = Effect.gen(function*() {
        while (writing) {
          const text = yield* fs.readFileString(file).pipe(Effect.option)
          if (Option.isSome(text)) {
            reads++
            try {
              const parsed: unknown = JSON.parse(text.value)
              if (typeof parsed !== "object" || parsed === null || !("version" in parsed)) invalid.push("shape")
            } catch {
              invalid.push("not JSON")
            }
          }
          yield* Effect.yieldNow()
        }
      })

      const readerFiber = yield* Effect.fork(reader)
      yield* Effect.forEach(keys, (key, i) => store.set(key, tokenFor(i)), { concurrency: "unbounded", discard: true })
      writing = false
      yield* readerFiber.await

      assert.deepStrictEqual(yield* store.keys, keys)
      const reopened = yield* TokenStore.makeFile(file)
      for (const [i, key] of keys.entries()) assertToken(yield* reopened.get(key), tokenFor(i))
      assert.deepStrictEqual(invalid, [])
      assert.isAbove(reads, 0)
      assert.deepStrictEqual(yield* leftovers(fs, dir), [])
    }))

  const corrupted: ReadonlyArray<{
    readonly name: string
    readonly content: string | Uint8Array
    readonly reason: "Corrupted" | "UnsupportedVersion"
    readonly detail: string
  }> = [
    {
      name: "garbage bytes",
      content: Uint8Array.from([0xff, 0xfe, 0x00, 0x13, ...new TextEncoder().encode(secrets.alphaAccess), 0x80, 0x7b]),
      reason: "Corrupted",
      detail: "not valid JSON"
    },
    {
      name: "truncated JSON",
      content: `{"version":1,"tokens":{"1001":{"accessToken":"${secrets.alphaAccess}","refr`,
      reason: "Corrupted",
      detail: "not valid JSON"
    },
    {
      name: "valid JSON of the wrong shape",
      content: JSON.stringify({ access_token: secrets.alphaAccess, refresh_token: secrets.alphaRefresh }),
      reason: "Corrupted",
      detail: "`version` is missing"
    },
    {
      name: "a token of the wrong shape",
      content: JSON.stringify({
        version: 1,
        tokens: {
          "1001": { accessToken: secrets.alphaAccess, refreshToken: 42, scopes: [secrets.betaAccess], obtainedAt: "x" },
          "1002": {
            accessToken: secrets.betaAccess,
            refreshToken: secrets.betaRefresh,
            scopes: [],
            obtainedAt: "2025-06-30T12:34:56Z",
            expiresAt: null
          }
        }
      }),
      reason: "Corrupted",
      detail: "`tokens.1001.refreshToken` has the wrong type or value"
    },
    {
      name: "an array",
      content: JSON.stringify([secrets.alphaAccess]),
      reason: "Corrupted",
      detail: "the top level has the wrong type or value"
    },
    {
      name: "version 2",
      content: JSON.stringify({
        version: 2,
        tokens: { "1001": { accessToken: secrets.alphaAccess, refreshToken: secrets.alphaRefresh } }
      }),
      reason: "UnsupportedVersion",
      detail: "format version 2"
    },
    {
      name: "a version that is not a number",
      content: JSON.stringify({ version: secrets.alphaRefresh, tokens: {} }),
      reason: "Corrupted",
      detail: "`version` has the wrong type or value"
    }
  ]

  for (const testCase of corrupted) {
    it.scoped(`${testCase.name}: rejected with ${testCase.reason}, naming no value, and never overwritten`, () =>
      Effect.gen(function*() {
        const { dir, file, fs } = yield* tempStore()
        if (typeof testCase.content === "string") yield* fs.writeFileString(file, testCase.content)
        else yield* fs.writeFile(file, testCase.content)
        const before = yield* fs.readFile(file)
        const contentText = typeof testCase.content === "string"
          ? testCase.content
          : new TextDecoder().decode(testCase.content)

        const store = yield* TokenStore.makeFile(file)
        const errors = [
          yield* Effect.flip(store.get("1001")),
          yield* Effect.flip(store.keys),
          yield* Effect.flip(store.set("1003", beta)),
          yield* Effect.flip(store.remove("1001"))
        ]
        for (const error of errors) {
          assert.instanceOf(error, TokenStore.TokenStoreError)
          assert.strictEqual(error.reason, testCase.reason)
          assert.strictEqual(error.path, file)
          assert.include(error.detail, testCase.detail)
          assert.include(error.message, file)
          assertLeaksNothing(error, [...allSecrets, contentText])
        }
        assert.deepStrictEqual(yield* fs.readFile(file), before)
        assert.deepStrictEqual(yield* leftovers(fs, dir), [])
      }))
  }

  it.scoped("a parent path that is a regular file: every operation fails with Io, nothing is lost", () =>
    Effect.gen(function*() {
      const { dir, fs, path } = yield* tempStore()
      const notADirectory = path.join(dir, "afile")
      yield* fs.writeFileString(notADirectory, "not a directory")
      const file = path.join(notADirectory, "tokens.json")
      const store = yield* TokenStore.makeFile(file)

      const setError = yield* Effect.flip(store.set("1001", alpha))
      assert.strictEqual(setError.reason, "Io")
      assert.strictEqual(setError.path, file)
      assert.include(setError.message, file)
      assertLeaksNothing(setError, allSecrets)

      // the failure is reported, not swallowed into an empty store
      assert.strictEqual((yield* Effect.flip(store.get("1001"))).reason, "Io")
      assert.strictEqual((yield* Effect.flip(store.keys)).reason, "Io")

      assert.strictEqual(yield* fs.readFileString(notADirectory), "not a directory")
      assert.deepStrictEqual((yield* fs.readDirectory(dir)).sort(), ["afile"])
    }))

  const failing = (method: "rename" | "chmod") =>
    Effect.map(FileSystem.FileSystem, (fs) =>
      FileSystem.FileSystem.of({
        ...fs,
        [method]: (target: string) =>
          Effect.fail(
            new SystemError({
              reason: "Unknown",
              module: "FileSystem",
              method,
              pathOrDescriptor: target,
              description: `simulated ${method} failure`
            })
          )
      }))

  for (const method of ["rename", "chmod"] as const) {
    it.scoped(`a failed ${method}: Io, the temporary file is removed, the old content stays`, () =>
      Effect.gen(function*() {
        const { dir, file, fs } = yield* tempStore()
        const healthy = yield* TokenStore.makeFile(file)
        yield* healthy.set("1001", alpha)
        const before = yield* fs.readFileString(file)

        const broken = yield* TokenStore.makeFile(file).pipe(
          Effect.provideServiceEffect(FileSystem.FileSystem, failing(method))
        )
        const error = yield* Effect.flip(broken.set("1002", beta))
        assert.strictEqual(error.reason, "Io")
        assert.include(error.detail, `simulated ${method} failure`)
        assertLeaksNothing(error, allSecrets)

        assert.strictEqual(yield* fs.readFileString(file), before)
        assert.deepStrictEqual(yield* leftovers(fs, dir), [])
        assert.deepStrictEqual(yield* healthy.keys, ["1001"])
      }))
  }
})
