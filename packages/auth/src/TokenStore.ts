/**
 * Where user tokens live between runs: a small key → {@link UserToken} store, with an
 * in-memory implementation (tests, short-lived processes) and a file implementation (one
 * JSON file, written atomically with mode `0600`). Keys are usually Twitch user ids.
 *
 * None of the errors ever holds a token or the contents of a file.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as AtomicFile from "./internal/atomicFile.js"
import * as FileLock from "./internal/fileLock.js"
import * as KeyedMutex from "./internal/keyedMutex.js"
import * as internal from "./internal/tokenStoreFile.js"
import type { UserToken } from "./Token.js"

// ---------------------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------------------

/**
 * A token store operation failed.
 *
 * - `Io`: the file could not be read or written (permission denied, disk full, the parent
 *   path is not a directory, the rename failed…). Nothing was changed.
 * - `Corrupted`: the file is not JSON, or not the shape of a token store. `detail` names the
 *   fields at fault, never their values. The store refuses to overwrite it.
 * - `UnsupportedVersion`: the file was written in a format version this library does not
 *   read (by a newer version of it). The store refuses to overwrite it.
 * - `InvalidKey`: the key is empty (or reserved); nothing was read or written.
 * - `LockTimeout`: waiting for the store's lock (another process holds it) took longer than
 *   `lockTimeout`. Nothing was changed, and the wait left no lock behind.
 * - `Insecure`: the token file is a symbolic link; it is neither read nor written.
 *
 * `path` is the store's file (absolute), `""` for the in-memory store, or `sql:<table>` for
 * a store in a SQL table (`@effect-twitch/sql`'s `SqlTokenStore`).
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@effect-twitch/auth/TokenStoreError")(
  "TokenStoreError",
  {
    reason: Schema.Literal("Io", "Corrupted", "UnsupportedVersion", "InvalidKey", "LockTimeout", "Insecure"),
    path: Schema.String,
    detail: Schema.String
  }
) {
  override get message(): string {
    const table = this.path.startsWith("sql:") ? this.path.slice(4) : undefined
    const store = this.path.length === 0
      ? "the in-memory token store"
      : table !== undefined
      ? `the token store in the SQL table ${JSON.stringify(table)}`
      : `the token store at ${JSON.stringify(this.path)}`
    switch (this.reason) {
      case "Io":
        return table !== undefined
          ? `Could not read or write ${store}: ${this.detail}; check that the database is reachable and the table exists (SqlTokenStore.migrate creates it)`
          : `Could not read or write ${store}: ${this.detail}; check that the directory exists (or can be created), that it is writable, and that the disk has space`
      case "Corrupted":
        return table !== undefined
          ? `${
            capitalize(store)
          } holds a row it cannot read: ${this.detail}; it was left untouched — repair or delete that row (its user will have to authorize again)`
          : `${
            capitalize(store)
          } is corrupted: ${this.detail}; it was left untouched — repair or delete the file (its users will have to authorize again)`
      case "UnsupportedVersion":
        return `${capitalize(store)} uses an unsupported format: ${this.detail}; upgrade @effect-twitch/auth${
          table !== undefined ? "" : ", or delete the file (its users will have to authorize again)"
        }`
      case "InvalidKey":
        return `Invalid key for ${store}: ${this.detail}`
      case "LockTimeout":
        return table !== undefined
          ? `Could not lock ${store}: ${this.detail}; another process holds the lock (a lock is released when its holder's connection closes, or when it stops renewing it for staleLockAfter)`
          : `Could not lock ${store}: ${this.detail}; another process holds the lock (a lock left by a process that died is broken after staleLockAfter)`
      case "Insecure":
        return `Refusing to use ${store}: ${this.detail}`
    }
  }
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)

// ---------------------------------------------------------------------------------------
// service
// ---------------------------------------------------------------------------------------

/**
 * Stores user tokens by key (usually the Twitch user id). Provide it with
 * {@link layerMemory}, {@link layerFile}, or your own implementation (see {@link make}).
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@effect-twitch/auth/TokenStore")<TokenStore, TokenStore.Service>() {}

/**
 * @since 0.1.0
 */
export declare namespace TokenStore {
  /**
   * The operations of a token store.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** The token stored under `key`, or `None`. */
    readonly get: (key: string) => Effect.Effect<Option.Option<UserToken>, TokenStoreError>
    /** Stores `token` under `key`, replacing any previous one. For a new token (a login). */
    readonly set: (key: string, token: UserToken) => Effect.Effect<void, TokenStoreError>
    /**
     * Removes the token stored under `key`; nothing happens if there is none. To log a user
     * out while other processes may refresh their token, use {@link Service.compareAndRemove}
     * under {@link Service.withLock}.
     */
    readonly remove: (key: string) => Effect.Effect<void, TokenStoreError>
    /** Every key with a token, sorted. */
    readonly keys: Effect.Effect<ReadonlyArray<string>, TokenStoreError>
    /**
     * Stores `next` under `key` only if the store still holds `expected` there (`None`: no
     * token), in one atomic step; `true` when it did. Tokens match when their access and
     * refresh tokens are equal (see {@link sameToken}). A refresh writes its new token with
     * it, expecting the token whose refresh token it spent, so it never replaces a token it
     * did not see.
     */
    readonly compareAndSet: (
      key: string,
      expected: Option.Option<UserToken>,
      next: UserToken
    ) => Effect.Effect<boolean, TokenStoreError>
    /**
     * Removes the token under `key` only if it is still `expected`, in one atomic step;
     * `true` when it did. A refresh token Twitch rejected removes its own token this way,
     * never one another process stored meanwhile.
     */
    readonly compareAndRemove: (key: string, expected: UserToken) => Effect.Effect<boolean, TokenStoreError>
    /**
     * Runs `effect` holding an exclusive lock on `key` (other keys are not locked), shared by
     * every store using the same storage — for the file store, every process using the same
     * file. `TwitchSession` reads, refreshes and writes a token under it, so two processes
     * sharing one token never both spend the same (single-use) refresh token.
     */
    readonly withLock: <A, E, R>(
      key: string,
      effect: Effect.Effect<A, E, R>
    ) => Effect.Effect<A, E | TokenStoreError, R>
  }

  /**
   * What {@link make} needs: the operations, and optionally a lock and atomic
   * compare-and-set / compare-and-remove. Without a lock, `withLock` only runs the effect
   * (fine for a store used by a single process). Without `compareAndSet` /
   * `compareAndRemove`, they are made of `get` then `set` / `remove`: atomic only against
   * callers holding `withLock` on the same key, as `TwitchSession` does.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Implementation extends Omit<Service, "withLock" | "compareAndSet" | "compareAndRemove"> {
    readonly withLock?: Service["withLock"] | undefined
    readonly compareAndSet?: Service["compareAndSet"] | undefined
    readonly compareAndRemove?: Service["compareAndRemove"] | undefined
  }
}

/**
 * Whether two tokens are the same grant: equal access tokens and equal refresh tokens (what
 * `compareAndSet` and `compareAndRemove` compare).
 *
 * @since 0.1.0
 * @category utils
 */
export const sameToken = (a: UserToken, b: UserToken): boolean =>
  Redacted.value(a.accessToken) === Redacted.value(b.accessToken) &&
  Redacted.value(a.refreshToken) === Redacted.value(b.refreshToken)

const matches = (stored: Option.Option<UserToken>, expected: Option.Option<UserToken>): boolean =>
  Option.isNone(stored)
    ? Option.isNone(expected)
    : Option.isSome(expected) && sameToken(stored.value, expected.value)

/**
 * Builds a store from its operations, for a store of your own (a database, a secret
 * manager…). Implementations should fail with {@link TokenStoreError} (`InvalidKey` for an
 * empty key), keep `set` atomic, and never put a token in an error. Give `compareAndSet` and
 * `compareAndRemove` when your storage can do them atomically (a conditional update), and
 * `withLock` when processes share it.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@effect-twitch/auth"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 * import * as Option from "effect/Option"
 *
 * const layerNull = Layer.succeed(
 *   TokenStore.TokenStore,
 *   TokenStore.make({
 *     get: () => Effect.succeed(Option.none()),
 *     set: () => Effect.void,
 *     remove: () => Effect.void,
 *     keys: Effect.succeed([])
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (impl: TokenStore.Implementation): TokenStore.Service => ({
  get: impl.get,
  set: impl.set,
  remove: impl.remove,
  keys: impl.keys,
  compareAndSet: impl.compareAndSet ??
    ((key, expected, next) =>
      Effect.flatMap(
        impl.get(key),
        (stored) => matches(stored, expected) ? Effect.as(impl.set(key, next), true) : Effect.succeed(false)
      )),
  compareAndRemove: impl.compareAndRemove ??
    ((key, expected) =>
      Effect.flatMap(
        impl.get(key),
        (stored) => matches(stored, Option.some(expected)) ? Effect.as(impl.remove(key), true) : Effect.succeed(false)
      )),
  withLock: impl.withLock ?? ((_key, effect) => effect)
})

/**
 * Checks `key` as every store of this package does before it reads, writes or locks
 * anything: an empty (or blank) key and the reserved `"__proto__"` fail with a
 * {@link TokenStoreError} `InvalidKey` naming `path` (the store's, as its other errors do).
 * For a store of your own (see {@link make}).
 *
 * @since 0.1.0
 * @category utils
 */
export const checkKey = (key: string, path: string): Effect.Effect<void, TokenStoreError> => {
  const problem = internal.invalidKey(key)
  return problem === undefined
    ? Effect.void
    : Effect.fail(new TokenStoreError({ reason: "InvalidKey", path, detail: problem }))
}

const sortedKeys = (keys: Iterable<string>): ReadonlyArray<string> => Array.from(keys).sort()

// ---------------------------------------------------------------------------------------
// memory
// ---------------------------------------------------------------------------------------

/**
 * A store held in memory, lost when the process exits. Each call makes a new, empty store.
 * `withLock` locks one key at a time (other keys go on), within this process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<TokenStore.Service> = Effect.map(
  Effect.zip(Ref.make(HashMap.empty<string, UserToken>()), KeyedMutex.make),
  ([ref, mutex]) =>
    make({
      get: (key) => Effect.zipRight(checkKey(key, ""), Effect.map(Ref.get(ref), HashMap.get(key))),
      set: (key, token) => Effect.zipRight(checkKey(key, ""), Ref.update(ref, HashMap.set(key, token))),
      remove: (key) => Effect.zipRight(checkKey(key, ""), Ref.update(ref, HashMap.remove(key))),
      keys: Effect.map(Ref.get(ref), (map) => sortedKeys(HashMap.keys(map))),
      compareAndSet: (key, expected, next) =>
        Effect.zipRight(
          checkKey(key, ""),
          Ref.modify(
            ref,
            (map) => matches(HashMap.get(map, key), expected) ? [true, HashMap.set(map, key, next)] : [false, map]
          )
        ),
      compareAndRemove: (key, expected) =>
        Effect.zipRight(
          checkKey(key, ""),
          Ref.modify(
            ref,
            (map) =>
              matches(HashMap.get(map, key), Option.some(expected)) ? [true, HashMap.remove(map, key)] : [false, map]
          )
        ),
      withLock: (key, effect) => Effect.zipRight(checkKey(key, ""), mutex(key, effect))
    })
)

/**
 * Provides an empty in-memory {@link TokenStore}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, makeMemory)

// ---------------------------------------------------------------------------------------
// file
// ---------------------------------------------------------------------------------------

/**
 * A store kept in one JSON file at `path` (resolved against the working directory), shared
 * by every store and process using that path:
 *
 * ```json
 * { "version": 1, "tokens": { "<key>": { "accessToken": "…", "refreshToken": "…",
 *   "scopes": ["…"], "obtainedAt": "<ISO date>", "expiresAt": "<ISO date>" | null } } }
 * ```
 *
 * - A missing file is an empty store. The file is read on every operation: it is the truth,
 *   and another process may have written it.
 * - A token file that is a symbolic link is refused (`Insecure`), for reading and writing.
 *   A file others can read or write (any group/other permission bit) is narrowed to `0600`
 *   when first read, and a directory others can write to is reported: both with
 *   `Effect.logWarning`, once per store.
 * - Writes are atomic and durable: the new content goes to a temporary file next to the
 *   target (`.<name>.<random>.tmp`, mode `0600`, flushed to disk), which is renamed over it,
 *   then the directory is flushed. The file ends up with mode `0600` whatever the umask; a
 *   missing parent directory is created with mode `0700`. A failed write removes its
 *   temporary file and changes nothing.
 * - Every read-modify-write (`set`, `remove`, `compareAndSet`, `compareAndRemove`) holds the
 *   store's write lock (`.<name>.lock`) for its few milliseconds, so writers in any number of
 *   processes never lose each other's keys; `compareAndSet` and `compareAndRemove` are atomic
 *   across processes. A write lock left by a process killed mid-write is broken after the
 *   smaller of `staleLockAfter` and 2 s.
 * - `withLock(key)` holds a lock file for that key only (`.<name>.key-<key>.lock`; a key
 *   that is not 1–64 letters, digits, `_` or `-` is named by a hash, and keys sharing a hash
 *   share a lock) for as long as its effect runs. Both locks work alike:
 *   - a lock is owned by a random id and released only by its owner;
 *   - its holder renews it every `staleLockAfter / 4` while it runs, however long that is;
 *   - a waiter breaks a lock only after seeing it unchanged (same owner, same renewal) for
 *     `staleLockAfter` (default 10 s) on its own monotonic clock: a lock left by a process
 *     that died or was killed, never a live one, whatever the wall clocks say and whatever
 *     PID namespace the processes live in; one waiter breaks it, checking that what it
 *     removes is what it judged stale;
 *   - waiting longer than `lockTimeout` (default 30 s) fails with `LockTimeout`, an
 *     interrupted or timed-out wait leaves no lock behind, and interrupting the wait works.
 *   What no lease can prevent: a holder paused (stopped, swapped out, its event loop blocked)
 *   for longer than `staleLockAfter` loses its lock while it still runs; it logs a warning
 *   when it notices, and because the session writes with `compareAndSet` and removes with
 *   `compareAndRemove`, no token is overwritten or removed by the loser.
 * - A corrupted file, or one in a newer format, is reported and never overwritten.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFile = (
  path: string,
  options: FileOptions = {}
): Effect.Effect<TokenStore.Service, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const file = paths.resolve(path)
    const directory = paths.dirname(file)
    const basename = paths.basename(file)
    const writers = yield* Effect.makeSemaphore(1)
    const keyMutex = yield* KeyedMutex.make
    const lockOptions: FileLock.Options = {
      staleAfter: Duration.decode(options.staleLockAfter ?? "10 seconds"),
      timeout: Duration.decode(options.lockTimeout ?? "30 seconds")
    }
    // Held for a write's few milliseconds: a write lock left by a process killed mid-write
    // stalls every write (and a new token waiting to be stored) until it is broken, so it is
    // judged stale sooner — after at most 2 s unrenewed (its holder renews it all the same).
    const writeLock = FileLock.make(fs, paths.join(directory, `.${basename}.lock`), {
      ...lockOptions,
      staleAfter: Duration.min(lockOptions.staleAfter, Duration.seconds(2))
    })
    const disk = yield* AtomicFile.make(fs, paths, file)

    const fileError = (failure: AtomicFile.FileFailure) =>
      new TokenStoreError({ reason: failure.reason, path: file, detail: failure.detail })

    const lockError = (failure: FileLock.LockFailure) =>
      new TokenStoreError({
        reason: failure.reason === "Timeout" ? "LockTimeout" : "Io",
        path: file,
        detail: failure.detail
      })

    // Made once per store (and again after a failure): not on the path from Twitch's answer to the write.
    const directoryMade = yield* Ref.make(false)
    const ensureDirectory = Effect.unlessEffect(
      Effect.zipRight(
        fs.makeDirectory(directory, { recursive: true, mode: 0o700 }).pipe(
          Effect.mapError((error) =>
            fileError(AtomicFile.ioFailure(`could not create the directory ${JSON.stringify(directory)}`)(error))
          )
        ),
        Ref.set(directoryMade, true)
      ),
      Ref.get(directoryMade)
    )

    /** Runs `effect` under `lock`, creating the directory the lock file lives in if needed. */
    const locked = <A, E, R>(lock: ReturnType<typeof FileLock.make>, effect: Effect.Effect<A, E, R>) =>
      Effect.zipRight(
        ensureDirectory,
        Effect.mapError(lock.withLock(effect), (e) => isLockFailure(e) ? lockError(e) : e)
      ).pipe(
        Effect.tapError(() => Ref.set(directoryMade, false))
      )

    const read: Effect.Effect<ReadonlyMap<string, UserToken>, TokenStoreError> = disk.read.pipe(
      Effect.mapError(fileError),
      Effect.flatMap(Option.match({
        onNone: () => Effect.succeed(new Map<string, UserToken>()),
        onSome: (text) =>
          Either.match(internal.decode(text), {
            onLeft: ({ detail, reason }) => Effect.fail(new TokenStoreError({ reason, path: file, detail })),
            onRight: Effect.succeed
          })
      }))
    )

    /** The file rewritten (or, when `removeWhenEmpty` and no token is left, removed). */
    const write = (tokens: ReadonlyMap<string, UserToken>): Effect.Effect<void, TokenStoreError> =>
      (tokens.size === 0 && options.removeWhenEmpty === true
        ? disk.remove
        : Effect.flatMap(
          Effect.mapError(internal.encode(tokens), (detail) => new AtomicFile.FileFailure({ reason: "Io", detail })),
          disk.write
        )).pipe(Effect.mapError(fileError))

    /**
     * A read-modify-write under the write lock (one fiber of this process at a time, one
     * process at a time): `f` changes the map and says whether to write it, and what to return.
     */
    const modify = <A>(
      f: (tokens: Map<string, UserToken>) => readonly [boolean, A]
    ): Effect.Effect<A, TokenStoreError> =>
      writers.withPermits(1)(
        locked(
          writeLock,
          Effect.flatMap(read, (current) => {
            const next = new Map(current)
            const [changed, result] = f(next)
            return changed ? Effect.as(write(next), result) : Effect.succeed(result)
          })
        )
      )

    return make({
      // One deadline for the whole wait: for another fiber of this process, then for the file.
      // Real time, whatever the caller's `Clock` (see `FileLock.onRealTime`).
      withLock: (key, effect) =>
        Effect.gen(function*() {
          yield* checkKey(key, file)
          const started = yield* FileLock.realMillis
          const timeout = Duration.toMillis(lockOptions.timeout)
          return yield* keyMutex(
            key,
            Effect.flatMap(FileLock.realMillis, (now) =>
              locked(
                FileLock.make(fs, paths.join(directory, internal.keyLockName(basename, key)), {
                  ...lockOptions,
                  timeout: Duration.millis(Math.max(0, timeout - (now - started))),
                  reportedTimeout: lockOptions.timeout
                }),
                effect
              )),
            (wait) =>
              FileLock.onRealTime(Effect.timeoutFail(wait, {
                duration: lockOptions.timeout,
                onTimeout: () =>
                  new TokenStoreError({
                    reason: "LockTimeout",
                    path: file,
                    detail: `timed out after ${
                      Duration.format(lockOptions.timeout)
                    } waiting for another fiber of this process holding the lock on ${JSON.stringify(key)}`
                  })
              }))
          )
        }),
      get: (key) =>
        Effect.zipRight(
          checkKey(key, file),
          Effect.map(read, (tokens) => Option.fromNullable(tokens.get(key)))
        ),
      set: (key, token) =>
        Effect.zipRight(
          checkKey(key, file),
          modify((tokens) => {
            tokens.set(key, token)
            return [true, undefined]
          })
        ),
      remove: (key) => Effect.zipRight(checkKey(key, file), modify((tokens) => [tokens.delete(key), undefined])),
      compareAndSet: (key, expected, next) =>
        Effect.zipRight(
          checkKey(key, file),
          modify((tokens) => {
            if (!matches(Option.fromNullable(tokens.get(key)), expected)) return [false, false]
            tokens.set(key, next)
            return [true, true]
          })
        ),
      compareAndRemove: (key, expected) =>
        Effect.zipRight(
          checkKey(key, file),
          modify((tokens) => {
            if (!matches(Option.fromNullable(tokens.get(key)), Option.some(expected))) return [false, false]
            tokens.delete(key)
            return [true, true]
          })
        ),
      keys: Effect.map(read, (tokens) => sortedKeys(tokens.keys()))
    })
  })

const isLockFailure = (error: unknown): error is FileLock.LockFailure => error instanceof FileLock.LockFailure

/**
 * Options of the file store's cross-process lock.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileOptions {
  /**
   * A lock seen unchanged (not renewed by its holder) for this long, on the waiter's
   * monotonic clock, was left by a process that died, and is broken. Holders renew every
   * quarter of it. Default 10 s.
   */
  readonly staleLockAfter?: Duration.DurationInput | undefined
  /** How long `withLock` (and a write waiting for the write lock) waits before failing with `LockTimeout`. Default 30 s. */
  readonly lockTimeout?: Duration.DurationInput | undefined
  /**
   * Remove the file when a `remove` or `compareAndRemove` leaves it without a token (under the
   * write lock, so a token another process writes meanwhile is never removed with it),
   * instead of writing an empty store. Default `false`.
   */
  readonly removeWhenEmpty?: boolean | undefined
}

/**
 * Provides a {@link TokenStore} kept in the JSON file at `path` (see {@link makeFile}). Needs
 * a `FileSystem` and a `Path`, e.g. from `NodeContext.layer`.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@effect-twitch/auth"
 * import * as NodeContext from "@effect/platform-node/NodeContext"
 * import * as Effect from "effect/Effect"
 * import * as Layer from "effect/Layer"
 *
 * const TokenStoreLive = TokenStore.layerFile(".twitch/tokens.json").pipe(
 *   Layer.provide(NodeContext.layer) // or Layer.provide([NodeFileSystem.layer, NodePath.layer])
 * )
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* TokenStore.TokenStore
 *   const users = yield* store.keys
 *   yield* Effect.log(`tokens stored for ${users.length} users`)
 * })
 *
 * Effect.runPromise(Effect.provide(program, TokenStoreLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (
  path: string,
  options: FileOptions = {}
): Layer.Layer<TokenStore, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(TokenStore, makeFile(path, options))
