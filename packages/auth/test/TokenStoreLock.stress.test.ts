/**
 * The file store's locks across real processes, and the store's atomic operations: issue 11
 * #1 (a live lock is never taken over; compare-and-set), #3 (lockTimeout is enforced and a
 * wait never leaves its lock), #15 (per-key locks) and #16 (symlinks and modes).
 */
import { UserToken } from "@effect-twitch/auth/Token"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it, layer } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Path from "node:path"
import { fixture, kill, printed, spawn } from "./children.js"
import { shiftedClock } from "./clocks.js"

const locker = fixture("locker.ts")
const key = "141981764"

const tokenFor = (i: number) =>
  new UserToken({
    accessToken: Redacted.make(`at-${i}`),
    refreshToken: Redacted.make(`rt-${i}`),
    scopes: [],
    obtainedAt: DateTime.unsafeMake(1_700_000_000_000 + i),
    expiresAt: Option.none()
  })

const tempStore = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "token-lock-" })
  return { fs, dir, file: Path.join(dir, "tokens.json"), lockFile: Path.join(dir, `.tokens.json.key-${key}.lock`) }
})

/** Files the locks leave behind: lock files, guards, files moved aside, candidates. */
const lockDebris = (fs: FileSystem.FileSystem, dir: string) =>
  Effect.map(fs.readDirectory(dir), (names) => names.filter((name) => name !== "tokens.json").sort())

/** Counts how many run `effect` at once. */
const concurrency = () => {
  let now = 0
  let max = 0
  return {
    max: () => max,
    around: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          now++
          max = Math.max(max, now)
        }),
        () => effect,
        () => Effect.sync(() => now--)
      )
  }
}

// ---------------------------------------------------------------------------------------
// compare-and-set, compare-and-remove
// ---------------------------------------------------------------------------------------

const casContract = (name: string, makeStore: Effect.Effect<TokenStore.TokenStore.Service, never, Scope.Scope>) =>
  it.scoped(`${name}: compareAndSet and compareAndRemove change the token only if it is the expected one`, () =>
    Effect.gen(function*() {
      const store = yield* makeStore
      const [t0, t1, t2] = [tokenFor(0), tokenFor(1), tokenFor(2)]
      assert.isFalse(yield* store.compareAndSet(key, Option.some(t0), t1), "nothing stored, Some expected")
      assert.deepStrictEqual(yield* store.keys, [])
      assert.isTrue(yield* store.compareAndSet(key, Option.none(), t0), "nothing stored, None expected")
      assert.isFalse(yield* store.compareAndSet(key, Option.none(), t1), "a token stored, None expected")
      assert.isFalse(yield* store.compareAndSet(key, Option.some(t2), t1), "another token expected")
      // same access token, another refresh token: not the same grant
      const sameAccess = new UserToken({ ...t0, refreshToken: Redacted.make("rt-other") })
      assert.isFalse(yield* store.compareAndSet(key, Option.some(sameAccess), t1))
      assert.isFalse(yield* store.compareAndRemove(key, sameAccess))
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* store.get(key)).refreshToken), "rt-0")
      assert.isTrue(yield* store.compareAndSet(key, Option.some(t0), t1))
      assert.isFalse(yield* store.compareAndRemove(key, t0))
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* store.get(key)).refreshToken), "rt-1")
      assert.isTrue(yield* store.compareAndRemove(key, t1))
      assert.deepStrictEqual(yield* store.get(key), Option.none())
      assert.strictEqual((yield* Effect.flip(store.compareAndRemove("", t1))).reason, "InvalidKey")
    }))

describe("compare-and-set", () => {
  casContract("memory", TokenStore.makeMemory)
  casContract(
    "file",
    Effect.flatMap(tempStore, ({ file }) => TokenStore.makeFile(file)).pipe(
      Effect.provide(NodeContext.layer),
      Effect.orDie
    )
  )
  casContract(
    "make() defaults over get/set/remove",
    Effect.map(
      TokenStore.makeMemory,
      (memory) => TokenStore.make({ get: memory.get, set: memory.set, remove: memory.remove, keys: memory.keys })
    )
  )
})

// ---------------------------------------------------------------------------------------
// per-key locks
// ---------------------------------------------------------------------------------------

const perKey = (name: string, makeStore: Effect.Effect<TokenStore.TokenStore.Service, never, Scope.Scope>) =>
  it.scopedLive(
    `issue 11 #15: ${name}: 200 users × a 50 ms refresh under withLock run concurrently; one key is exclusive`,
    () =>
      Effect.gen(function*() {
        const store = yield* makeStore
        const users = concurrency()
        yield* Effect.forEach(
          Array.from({ length: 200 }, (_, i) => `user-${i}`),
          (user) => store.withLock(user, users.around(Effect.sleep("50 millis"))),
          { concurrency: "unbounded", discard: true }
        )
        assert.isAbove(users.max(), 1, "different keys were locked at the same time")
        const one = concurrency()
        yield* Effect.forEach(
          Array.from({ length: 10 }),
          () => store.withLock(key, one.around(Effect.sleep("5 millis"))),
          { concurrency: "unbounded", discard: true }
        )
        assert.strictEqual(one.max(), 1, "one key, one holder at a time")
      }),
    60_000
  )

describe("per-key locks", () => {
  perKey("memory", TokenStore.makeMemory)
  perKey(
    "file",
    Effect.flatMap(tempStore, ({ file }) => TokenStore.makeFile(file)).pipe(
      Effect.provide(NodeContext.layer),
      Effect.orDie
    )
  )
})

// ---------------------------------------------------------------------------------------
// the file lock across processes
// ---------------------------------------------------------------------------------------

layer(NodeContext.layer, { excludeTestServices: true })("file lock", (it) => {
  it.scoped(
    "issue 11 #1: a lock held 6× staleLockAfter by a live process is not taken over, even by a waiter whose clock is 3 hours ahead",
    () =>
      Effect.gen(function*() {
        const { file } = yield* tempStore
        const holder = spawn(locker, ["hold", file, key, "1500", "250"])
        yield* printed(holder, /^locked$/)
        const store = yield* TokenStore.makeFile(file, { staleLockAfter: "250 millis" })
        const seen = yield* store.withLock(key, Effect.sync(() => holder.output())).pipe(
          Effect.withClock(shiftedClock(() => 3 * 3_600_000))
        )
        assert.include(seen, "releasing", "entered only after the holder released")
        assert.strictEqual(yield* Effect.promise(() => holder.exited), 0, holder.output())
      }),
    60_000
  )

  it.scoped(
    "issue 11 #1: a holder whose pid this process cannot see (another PID namespace) keeps its lock while it renews it",
    () =>
      Effect.gen(function*() {
        const { fs, lockFile, file } = yield* tempStore
        yield* fs.makeDirectory(Path.dirname(lockFile), { recursive: true })
        const owner = "0123456789abcdef0123456789abcdef"
        const recordOf = (beat: number) =>
          `${JSON.stringify({ owner, beat, stale: 200, pid: 999_999_999, since: "x" })}\n`
        yield* fs.writeFileString(lockFile, recordOf(0))
        let renewing = true
        // the foreign holder renews every 50 ms for a second, then dies
        const foreign = yield* Effect.fork(Effect.gen(function*() {
          for (let beat = 1; beat <= 20; beat++) {
            yield* Effect.sleep("50 millis")
            yield* fs.writeFileString(`${lockFile}.next`, recordOf(beat))
            yield* fs.rename(`${lockFile}.next`, lockFile)
          }
          renewing = false
        }))
        const store = yield* TokenStore.makeFile(file, { staleLockAfter: "200 millis" })
        const renewingWhenEntered = yield* store.withLock(key, Effect.sync(() => renewing))
        yield* Fiber.join(foreign)
        assert.isFalse(renewingWhenEntered, "the lock was broken only once its holder stopped renewing")
      }),
    60_000
  )

  it.scoped(
    "issue 11 #1: a lock left by a SIGKILLed holder is broken after staleLockAfter; five waiters get it one at a time; nothing is left behind",
    () =>
      Effect.gen(function*() {
        const { dir, file, fs } = yield* tempStore
        const holder = spawn(locker, ["hold", file, key, "600000", "300"])
        yield* printed(holder, /^locked$/)
        yield* kill(holder)
        assert.isTrue(
          yield* fs.exists(Path.join(dir, `.tokens.json.key-${key}.lock`)),
          "the killed holder left its lock"
        )
        const holders = concurrency()
        // five stores: five independent waiters, as five processes would be
        yield* Effect.forEach(Array.from({ length: 5 }), () =>
          Effect.flatMap(
            TokenStore.makeFile(file, { staleLockAfter: "300 millis" }),
            (store) => store.withLock(key, holders.around(Effect.sleep("20 millis")))
          ), { concurrency: "unbounded", discard: true })
        assert.strictEqual(holders.max(), 1)
        assert.deepStrictEqual(yield* lockDebris(fs, dir), [])
      }),
    60_000
  )

  it.scoped(
    "issue 11 #3: a 2 s lockTimeout returns after about 2 s with LockTimeout, leaves no lock, and later withLock in other processes succeeds",
    () =>
      Effect.gen(function*() {
        const { dir, file, fs, lockFile } = yield* tempStore
        const holder = spawn(locker, ["hold", file, key, "6000", "10000"])
        yield* printed(holder, /^locked$/)
        const held = yield* fs.readFileString(lockFile)
        const store = yield* TokenStore.makeFile(file, { lockTimeout: "2 seconds" })
        const started = Date.now()
        const error = yield* Effect.flip(store.withLock(key, Effect.void))
        const elapsed = Date.now() - started
        assert.strictEqual(error.reason, "LockTimeout")
        assert.include(error.message, "2s")
        assert.isAtLeast(elapsed, 1_900)
        assert.notInclude(holder.output(), "releasing", "it gave up before the holder released")
        assert.strictEqual(
          yield* fs.readFileString(lockFile),
          held.replace(/"beat":\d+/, (yield* fs.readFileString(lockFile)).match(/"beat":\d+/)?.[0] ?? ""),
          "the holder's lock, untouched"
        )
        assert.strictEqual(yield* Effect.promise(() => holder.exited), 0, holder.output())
        const later = spawn(locker, ["lock", file, key, "5000", "10000"])
        assert.strictEqual(yield* Effect.promise(() => later.exited), 0, later.output())
        assert.include(later.output(), "locked")
        assert.deepStrictEqual(yield* lockDebris(fs, dir), [])
      }),
    60_000
  )

  it.scoped(
    "issue 11 #3: a wait that times out while its lock file is being created removes it",
    () =>
      Effect.gen(function*() {
        const { dir, file, fs } = yield* tempStore
        // creating a lock file takes 300 ms (a slow disk); the timeout is 100 ms
        const slowLinks = FileSystem.FileSystem.of({
          ...fs,
          writeFileString: (path, data, options) =>
            path.endsWith(".lock")
              ? Effect.zipRight(Effect.sleep("300 millis"), fs.writeFileString(path, data, options))
              : fs.writeFileString(path, data, options)
        })
        const store = yield* TokenStore.makeFile(file, { lockTimeout: "100 millis" }).pipe(
          Effect.provideService(FileSystem.FileSystem, slowLinks)
        )
        const error = yield* Effect.flip(store.withLock(key, Effect.void))
        assert.strictEqual(error.reason, "LockTimeout")
        assert.deepStrictEqual(yield* lockDebris(fs, dir), [], "the lock the timed-out wait created is gone")
        const healthy = yield* TokenStore.makeFile(file, { lockTimeout: "1 second" })
        assert.strictEqual(yield* healthy.withLock(key, Effect.succeed(42)), 42)
      }),
    60_000
  )

  it.scoped(
    "issue 11 #3: an interrupted wait ends at once and leaves the holder's lock alone",
    () =>
      Effect.gen(function*() {
        const { dir, file, fs, lockFile } = yield* tempStore
        const holder = yield* TokenStore.makeFile(file)
        const taken = yield* Effect.makeLatch(false)
        const release = yield* Effect.makeLatch(false)
        const holding = yield* Effect.fork(holder.withLock(key, Effect.zipRight(taken.open, release.await)))
        yield* taken.await
        const before = yield* fs.readFileString(lockFile)
        const waiter = yield* TokenStore.makeFile(file)
        const waiting = yield* Effect.fork(waiter.withLock(key, Effect.void))
        yield* Effect.sleep("100 millis")
        const exit = yield* Fiber.interrupt(waiting)
        assert.isTrue(Exit.isInterrupted(exit))
        assert.strictEqual(JSON.parse(yield* fs.readFileString(lockFile)).owner, JSON.parse(before).owner)
        yield* release.open
        yield* Fiber.join(holding)
        assert.deepStrictEqual(yield* lockDebris(fs, dir), [])
      }),
    60_000
  )

  it.scoped(
    "issue 11 #3: lockTimeout also bounds waiting for another fiber of the same process",
    () =>
      Effect.gen(function*() {
        const { dir, file, fs } = yield* tempStore
        const store = yield* TokenStore.makeFile(file, { lockTimeout: "300 millis" })
        const taken = yield* Effect.makeLatch(false)
        const release = yield* Effect.makeLatch(false)
        const holding = yield* Effect.fork(store.withLock(key, Effect.zipRight(taken.open, release.await)))
        yield* taken.await
        const error = yield* Effect.flip(store.withLock(key, Effect.void))
        assert.strictEqual(error.reason, "LockTimeout")
        assert.include(error.message, "300ms")
        yield* release.open
        yield* Fiber.join(holding)
        assert.strictEqual(yield* store.withLock(key, Effect.succeed(1)), 1)
        assert.deepStrictEqual(yield* lockDebris(fs, dir), [])
      }),
    60_000
  )

  it.scoped(
    "issue 11 #15: two processes writing different keys of one file at once lose nothing",
    () =>
      Effect.gen(function*() {
        const { dir, file, fs } = yield* tempStore
        const writers = [spawn(locker, ["write", file, "a", "40"]), spawn(locker, ["write", file, "b", "40"])]
        for (const writer of writers) assert.strictEqual(yield* Effect.promise(() => writer.exited), 0, writer.output())
        const store = yield* TokenStore.makeFile(file)
        const keys = yield* store.keys
        assert.strictEqual(keys.length, 80, `missing: ${80 - keys.length}`)
        assert.deepStrictEqual(yield* lockDebris(fs, dir), [])
      }),
    120_000
  )

  it.scoped("issue 11 #16: a token file that is a symbolic link is refused (Insecure), for reading and writing", () =>
    Effect.gen(function*() {
      const { dir, file, fs } = yield* tempStore
      const real = yield* TokenStore.makeFile(Path.join(dir, "real.json"))
      yield* real.set(key, tokenFor(1))
      const before = yield* fs.readFileString(Path.join(dir, "real.json"))
      yield* fs.symlink(Path.join(dir, "real.json"), file)
      const store = yield* TokenStore.makeFile(file)
      for (
        const op of [store.get(key), store.keys, store.set(key, tokenFor(2)), store.compareAndRemove(key, tokenFor(1))]
      ) {
        const error = yield* Effect.flip(op)
        assert.strictEqual(error.reason, "Insecure")
        assert.include(error.message, "symbolic link")
      }
      assert.strictEqual(yield* fs.readFileString(Path.join(dir, "real.json")), before)
      assert.strictEqual(yield* fs.readLink(file), Path.join(dir, "real.json"), "the link is left as it was")
    }))

  it.scoped("issue 11 #16: a 0644 token file is narrowed to 0600 and a 0777 directory reported, with one warning each", () =>
    Effect.gen(function*() {
      const { dir, file, fs } = yield* tempStore
      const writer = yield* TokenStore.makeFile(file)
      yield* writer.set(key, tokenFor(1))
      yield* fs.chmod(file, 0o644)
      yield* fs.chmod(dir, 0o777)
      const logs: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ message }) => logs.push(Array.isArray(message) ? message.join(" ") : String(message)))
      )
      const store = yield* TokenStore.makeFile(file)
      yield* Effect.provide(Effect.all([store.get(key), store.get(key), store.keys]), capture)
      yield* fs.chmod(dir, 0o700)
      assert.strictEqual((yield* fs.stat(file)).mode & 0o777, 0o600)
      assert.strictEqual(
        logs.filter((l) => l.includes("mode 0644") && l.includes("narrowed it to 0600")).length,
        1,
        logs.join("\n")
      )
      assert.strictEqual(logs.filter((l) => l.includes("directory has mode 0777")).length, 1, logs.join("\n"))
      assert.strictEqual(logs.length, 2)
      for (const line of logs) assert.notInclude(line, "at-1")
    }))
})
