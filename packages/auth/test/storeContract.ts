/**
 * The contract every `TokenStore` keeps, as one suite run against each store: the memory and
 * file stores here (TokenStoreContract.test.ts), the SQL store in packages/sql. A store under
 * test is opened from fresh storage; each `open` is a store as another process would have it
 * (for the file and SQL stores: a separate instance on the same file or table, with its own
 * in-process locks), so the lock tests exercise the cross-process lock.
 */
import { UserToken } from "@effect-twitch/auth/Token"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import type { Vitest } from "@effect/vitest"
import { assert, describe } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"

/** Opens a store on the storage of one test: call it again for "another process". */
export type Open<R> = (options?: {
  readonly lockTimeout?: Duration.DurationInput | undefined
}) => Effect.Effect<TokenStore.TokenStore.Service, unknown, R | Scope.Scope>

/** A store kind under the contract. */
export interface StoreUnderTest<R> {
  /** Fresh, empty storage for one test (cleaned up with the scope), and how to open stores on it. */
  readonly fresh: Effect.Effect<Open<R>, unknown, R | Scope.Scope>
  /**
   * Whether a lock wait ends with `LockTimeout` after `lockTimeout` (the memory store's
   * waits are not bounded: it serves one process, where a holder cannot die).
   */
  readonly boundedLockWaits: boolean
}

/** A short lock timeout for the tests that expect one to pass: the wait it bounds is for a holder that does not let go. */
const short = Duration.millis(300)

export const tokenFor = (i: number, scopes: ReadonlyArray<string> = [`scope:${i}`]) =>
  new UserToken({
    accessToken: Redacted.make(`contract-at-${i}-5b1f9e`),
    refreshToken: Redacted.make(`contract-rt-${i}-c07d2a`),
    scopes,
    obtainedAt: DateTime.unsafeMake(1_700_000_000_123 + i),
    expiresAt: i % 2 === 0 ? Option.some(DateTime.unsafeMake(1_700_014_400_123 + i)) : Option.none()
  })

/** The same grant as `tokenFor(i)` (same access and refresh tokens), with other scopes and times. */
const sameGrantAs = (i: number) =>
  new UserToken({
    ...tokenFor(i),
    scopes: ["something:else"],
    obtainedAt: DateTime.unsafeMake(1_600_000_000_000),
    expiresAt: Option.none()
  })

export const assertToken = (actual: Option.Option<UserToken>, expected: UserToken) => {
  assert.isTrue(Option.isSome(actual), "expected a token")
  if (Option.isNone(actual)) return
  const token = actual.value
  assert.instanceOf(token, UserToken)
  assert.strictEqual(Redacted.value(token.accessToken), Redacted.value(expected.accessToken))
  assert.strictEqual(Redacted.value(token.refreshToken), Redacted.value(expected.refreshToken))
  assert.deepStrictEqual(token.scopes, expected.scopes)
  assert.strictEqual(DateTime.toEpochMillis(token.obtainedAt), DateTime.toEpochMillis(expected.obtainedAt))
  assert.deepStrictEqual(
    Option.map(token.expiresAt, DateTime.toEpochMillis),
    Option.map(expected.expiresAt, DateTime.toEpochMillis)
  )
}

const failureOf = <A, E>(exit: Exit.Exit<A, E>): Option.Option<E> =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

const assertStoreError = <A, E>(exit: Exit.Exit<A, E>, reason: TokenStore.TokenStoreError["reason"]) => {
  const error = failureOf(exit)
  assert.isTrue(
    Option.isSome(error) && error.value instanceof TokenStore.TokenStoreError && error.value.reason === reason,
    `expected a TokenStoreError ${reason}, got ${Exit.isSuccess(exit) ? "a success" : Cause.pretty(exit.cause)}`
  )
}

/**
 * Runs the contract against `subject`. `it` is the Vitest API whose effects may use `R`
 * (e.g. from `layer(...)`).
 */
export const storeContract = <R>(name: string, it: Vitest.MethodsNonLive<R>, subject: StoreUnderTest<R>) =>
  describe(`${name}: the TokenStore contract`, () => {
    /**
     * Checks that `waiter` (a withLock whose effect sets `entered`) is kept waiting while the
     * lock is held: with bounded waits, it fails with `LockTimeout` having never entered;
     * otherwise it has not entered after many turns of the scheduler, and is interrupted.
     */
    const assertBlocked = <E>(waiter: Effect.Effect<void, E>, entered: Ref.Ref<boolean>) =>
      Effect.gen(function*() {
        if (subject.boundedLockWaits) {
          assertStoreError(yield* Effect.exit(waiter), "LockTimeout")
        } else {
          const fiber = yield* Effect.fork(waiter)
          yield* Effect.repeatN(Effect.yieldNow(), 200)
          assert.isNull(fiber.unsafePoll(), "the waiter got the lock while it was held")
          yield* Fiber.interrupt(fiber)
        }
        assert.isFalse(yield* Ref.get(entered), "the waiter ran its effect while the lock was held")
      })

    /** Holds `key`'s lock on `store` until `release` completes; resolves once it is held. */
    const hold = (store: TokenStore.TokenStore.Service, key: string) =>
      Effect.gen(function*() {
        const held = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          store.withLock(key, Effect.zipRight(Deferred.succeed(held, undefined), Deferred.await(release)))
        )
        // a holder that fails to take the lock fails the test at once, not at its timeout
        yield* Effect.raceFirst(
          Deferred.await(held),
          Effect.zipRight(Fiber.join(fiber), Effect.dieMessage("the holder ended without holding the lock"))
        )
        return { release: Effect.zipRight(Deferred.succeed(release, undefined), Fiber.join(fiber)), fiber }
      })

    const tryLock = (store: TokenStore.TokenStore.Service, key: string, entered: Ref.Ref<boolean>) =>
      store.withLock(key, Ref.set(entered, true))

    it.scoped("get, set, remove and keys", () =>
      Effect.gen(function*() {
        const store = yield* (yield* subject.fresh)()
        assert.isTrue(Option.isNone(yield* store.get("1001")))
        assert.deepStrictEqual(yield* store.keys, [])
        yield* store.set("1001", tokenFor(1))
        yield* store.set("0999", tokenFor(2))
        yield* store.set("1001", tokenFor(3))
        assertToken(yield* store.get("1001"), tokenFor(3))
        assertToken(yield* store.get("0999"), tokenFor(2))
        assert.deepStrictEqual(yield* store.keys, ["0999", "1001"])
        yield* store.remove("1001")
        yield* store.remove("1001") // nothing to remove: no error
        assert.isTrue(Option.isNone(yield* store.get("1001")))
        assert.deepStrictEqual(yield* store.keys, ["0999"])
      }))

    it.scoped("a token written by one store is read by another on the same storage", () =>
      Effect.gen(function*() {
        const open = yield* subject.fresh
        const [a, b] = [yield* open(), yield* open()]
        yield* a.set("42", tokenFor(4))
        assertToken(yield* b.get("42"), tokenFor(4))
        yield* b.remove("42")
        assert.isTrue(Option.isNone(yield* a.get("42")))
      }))

    it.scoped("an empty key is refused (InvalidKey) by every operation", () =>
      Effect.gen(function*() {
        const store = yield* (yield* subject.fresh)()
        const entered = yield* Ref.make(false)
        for (
          const operation of [
            store.get(""),
            store.set(" ", tokenFor(1)),
            store.remove(""),
            store.compareAndSet("", Option.none(), tokenFor(1)),
            store.compareAndRemove("", tokenFor(1)),
            tryLock(store, "", entered)
          ]
        ) {
          assertStoreError(yield* Effect.exit(operation), "InvalidKey")
        }
        assert.isFalse(yield* Ref.get(entered))
        assert.deepStrictEqual(yield* store.keys, [])
      }))

    it.scoped("compareAndSet writes only over the expected token (sameToken: access and refresh tokens)", () =>
      Effect.gen(function*() {
        const store = yield* (yield* subject.fresh)()
        // expecting no token
        assert.isTrue(yield* store.compareAndSet("7", Option.none(), tokenFor(1)))
        assertToken(yield* store.get("7"), tokenFor(1))
        assert.isFalse(yield* store.compareAndSet("7", Option.none(), tokenFor(2)))
        assertToken(yield* store.get("7"), tokenFor(1))
        // expecting another token
        assert.isFalse(yield* store.compareAndSet("7", Option.some(tokenFor(9)), tokenFor(2)))
        assertToken(yield* store.get("7"), tokenFor(1))
        // expecting the stored grant, with other scopes and times: the same token
        assert.isTrue(yield* store.compareAndSet("7", Option.some(sameGrantAs(1)), tokenFor(2)))
        assertToken(yield* store.get("7"), tokenFor(2))
        // expecting a token where there is none
        assert.isFalse(yield* store.compareAndSet("8", Option.some(tokenFor(2)), tokenFor(3)))
        assert.isTrue(Option.isNone(yield* store.get("8")))
        // a token sharing only its access token (or only its refresh token) is another token
        const halfSame = new UserToken({ ...tokenFor(2), refreshToken: Redacted.make("contract-other-rt") })
        assert.isFalse(yield* store.compareAndSet("7", Option.some(halfSame), tokenFor(3)))
        assertToken(yield* store.get("7"), tokenFor(2))
      }))

    it.scoped("compareAndSet is atomic: of many writers expecting the same token, exactly one wins", () =>
      Effect.gen(function*() {
        const open = yield* subject.fresh
        const stores = [yield* open(), yield* open()]
        const first = stores[0]!
        yield* first.set("5", tokenFor(0))
        const results = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, i) => i + 1),
          (i) => stores[i % 2]!.compareAndSet("5", Option.some(tokenFor(0)), tokenFor(i)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(results.filter((won) => won).length, 1)
        const winner = results.findIndex((won) => won) + 1
        assertToken(yield* first.get("5"), tokenFor(winner))
      }))

    it.scoped("compareAndRemove removes only the expected token", () =>
      Effect.gen(function*() {
        const store = yield* (yield* subject.fresh)()
        assert.isFalse(yield* store.compareAndRemove("3", tokenFor(1)))
        yield* store.set("3", tokenFor(1))
        assert.isFalse(yield* store.compareAndRemove("3", tokenFor(2)))
        assertToken(yield* store.get("3"), tokenFor(1))
        assert.isTrue(yield* store.compareAndRemove("3", sameGrantAs(1)))
        assert.isTrue(Option.isNone(yield* store.get("3")))
        assert.deepStrictEqual(yield* store.keys, [])
      }))

    it.scoped("withLock runs its effect and returns its value or its error, and releases the lock either way", () =>
      Effect.gen(function*() {
        const open = yield* subject.fresh
        const [a, b] = [yield* open({ lockTimeout: short }), yield* open({ lockTimeout: short })]
        assert.strictEqual(yield* a.withLock("1", Effect.succeed(41 + 1)), 42)
        const failed = yield* Effect.either(a.withLock("1", Effect.fail("boom" as const)))
        assert.deepStrictEqual(failed, Either.left("boom" as const))
        // a store operation on the key inside the lock, then another store takes it
        assert.isTrue(yield* a.withLock("1", a.compareAndSet("1", Option.none(), tokenFor(1))))
        assertToken(yield* b.withLock("1", b.get("1")), tokenFor(1))
      }))

    it.scoped("withLock is exclusive per key: a waiter (here or in another process) waits for the holder", () =>
      Effect.gen(function*() {
        const open = yield* subject.fresh
        const [a, b] = [yield* open({ lockTimeout: short }), yield* open({ lockTimeout: short })]
        const holder = yield* hold(a, "9")
        const entered = yield* Ref.make(false)
        yield* assertBlocked(tryLock(b, "9", entered), entered) // another process
        yield* assertBlocked(tryLock(a, "9", entered), entered) // another fiber of the holder's process
        yield* holder.release
        yield* tryLock(b, "9", entered)
        assert.isTrue(yield* Ref.get(entered))
      }))

    it.scoped("withLock on one key does not hold up another key", () =>
      Effect.gen(function*() {
        const open = yield* subject.fresh
        const [a, b] = [yield* open({ lockTimeout: short }), yield* open({ lockTimeout: short })]
        const holder = yield* hold(a, "1")
        const entered = yield* Ref.make(false)
        yield* tryLock(b, "2", entered)
        yield* tryLock(a, "3", entered)
        assert.isTrue(yield* Ref.get(entered))
        yield* holder.release
      }))

    it.scoped("only the holder releases: a waiter that timed out or was interrupted leaves the holder's lock held", () =>
      Effect.gen(function*() {
        const open = yield* subject.fresh
        const [a, b, c] = [
          yield* open({ lockTimeout: short }),
          yield* open({ lockTimeout: short }),
          yield* open({ lockTimeout: short })
        ]
        const holder = yield* hold(a, "6")
        const entered = yield* Ref.make(false)
        // a waiter interrupted mid-wait
        const interrupted = yield* Effect.fork(tryLock(b, "6", entered))
        yield* Effect.repeatN(Effect.yieldNow(), 20)
        yield* Fiber.interrupt(interrupted)
        // a waiter whose wait ends (timeout) or is interrupted
        yield* assertBlocked(tryLock(b, "6", entered), entered)
        // the holder still holds it
        yield* assertBlocked(tryLock(c, "6", entered), entered)
        yield* holder.release
        // and once released, it is free: no waiter left a lock behind
        yield* tryLock(c, "6", entered)
        yield* tryLock(b, "6", entered)
        assert.isTrue(yield* Ref.get(entered))
      }))

    it.scoped("a holder interrupted while holding the lock releases it", () =>
      Effect.gen(function*() {
        const open = yield* subject.fresh
        const [a, b] = [yield* open({ lockTimeout: short }), yield* open({ lockTimeout: short })]
        const holder = yield* hold(a, "4")
        yield* Fiber.interrupt(holder.fiber)
        const entered = yield* Ref.make(false)
        yield* tryLock(b, "4", entered)
        assert.isTrue(yield* Ref.get(entered))
      }))

    it.scoped("withLock serialises read-modify-write cycles across stores: no update is lost", () =>
      Effect.gen(function*() {
        const open = yield* subject.fresh
        const stores = [yield* open(), yield* open()]
        const inside = yield* Ref.make(0)
        const most = yield* Ref.make(0)
        yield* stores[0]!.set("c", tokenFor(0, []))
        const increment = (store: TokenStore.TokenStore.Service) =>
          store.withLock(
            "c",
            Effect.gen(function*() {
              const now = yield* Ref.updateAndGet(inside, (n) => n + 1)
              yield* Ref.update(most, (m) => Math.max(m, now))
              const current = yield* store.get("c")
              const n = Option.match(current, { onNone: () => -1, onSome: (t) => t.scopes.length })
              yield* Effect.yieldNow()
              yield* store.set("c", tokenFor(n + 1, Array.from({ length: n + 1 }, (_, i) => `s${i}`)))
              yield* Ref.update(inside, (k) => k - 1)
            })
          )
        yield* Effect.forEach(Array.from({ length: 16 }, (_, i) => stores[i % 2]!), increment, {
          concurrency: "unbounded"
        })
        assert.strictEqual(yield* Ref.get(most), 1)
        const final = yield* stores[1]!.get("c")
        assert.isTrue(Option.isSome(final))
        if (Option.isSome(final)) assert.strictEqual(final.value.scopes.length, 16)
      }))
  })
