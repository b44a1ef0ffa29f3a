/**
 * Where user tokens live between runs: a small key → {@link UserToken} store, with an
 * in-memory implementation (tests, short-lived processes) and a file implementation (one
 * JSON file, written atomically with mode `0600`). Keys are usually Twitch user ids.
 *
 * None of the errors ever holds a token or the contents of a file.
 *
 * @since 0.1.0
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
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
 *
 * `path` is the store's file (absolute), or `""` for the in-memory store.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@effect-twitch/auth/TokenStoreError")(
  "TokenStoreError",
  {
    reason: Schema.Literal("Io", "Corrupted", "UnsupportedVersion", "InvalidKey"),
    path: Schema.String,
    detail: Schema.String
  }
) {
  override get message(): string {
    const store = this.path.length === 0 ? "the in-memory token store" : `the token store at ${JSON.stringify(this.path)}`
    switch (this.reason) {
      case "Io":
        return `Could not read or write ${store}: ${this.detail}; check that the directory exists (or can be created), that it is writable, and that the disk has space`
      case "Corrupted":
        return `${capitalize(store)} is corrupted: ${this.detail}; it was left untouched — repair or delete the file (its users will have to authorize again)`
      case "UnsupportedVersion":
        return `${capitalize(store)} uses an unsupported format: ${this.detail}; upgrade @effect-twitch/auth, or delete the file (its users will have to authorize again)`
      case "InvalidKey":
        return `Invalid key for ${store}: ${this.detail}`
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
    /** Stores `token` under `key`, replacing any previous one. */
    readonly set: (key: string, token: UserToken) => Effect.Effect<void, TokenStoreError>
    /** Removes the token stored under `key`; nothing happens if there is none. */
    readonly remove: (key: string) => Effect.Effect<void, TokenStoreError>
    /** Every key with a token, sorted. */
    readonly keys: Effect.Effect<ReadonlyArray<string>, TokenStoreError>
    /**
     * Runs `effect` holding an exclusive lock on `key`, shared by every store using the same
     * storage — for the file store, every process using the same file. `TwitchSession` reads,
     * refreshes and writes a token under it, so two processes sharing one token never both
     * spend the same (single-use) refresh token.
     */
    readonly withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | TokenStoreError, R>
  }

  /**
   * What {@link make} needs: the operations, and optionally a lock (without one, `withLock`
   * only runs the effect — fine for a store used by a single process).
   *
   * @since 0.1.0
   * @category models
   */
  export interface Implementation extends Omit<Service, "withLock"> {
    readonly withLock?: Service["withLock"] | undefined
  }
}

/**
 * Builds a store from its operations, for a store of your own (a database, a secret
 * manager…). Implementations should fail with {@link TokenStoreError} (`InvalidKey` for an
 * empty key), keep `set` atomic, and never put a token in an error.
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
  withLock: impl.withLock ?? ((_key, effect) => effect)
})

const checkKey = (key: string, path: string): Effect.Effect<void, TokenStoreError> => {
  const problem = internal.invalidKey(key)
  return problem === undefined ? Effect.void : Effect.fail(new TokenStoreError({ reason: "InvalidKey", path, detail: problem }))
}

const sortedKeys = (keys: Iterable<string>): ReadonlyArray<string> => Array.from(keys).sort()

// ---------------------------------------------------------------------------------------
// memory
// ---------------------------------------------------------------------------------------

/**
 * A store held in memory, lost when the process exits. Each call makes a new, empty store.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<TokenStore.Service> = Effect.map(
  Effect.zip(Ref.make(HashMap.empty<string, UserToken>()), Effect.makeSemaphore(1)),
  ([ref, lock]) =>
    make({
      get: (key) => Effect.zipRight(checkKey(key, ""), Effect.map(Ref.get(ref), HashMap.get(key))),
      set: (key, token) => Effect.zipRight(checkKey(key, ""), Ref.update(ref, HashMap.set(key, token))),
      remove: (key) => Effect.zipRight(checkKey(key, ""), Ref.update(ref, HashMap.remove(key))),
      keys: Effect.map(Ref.get(ref), (map) => sortedKeys(HashMap.keys(map))),
      withLock: (key, effect) => Effect.zipRight(checkKey(key, ""), lock.withPermits(1)(effect))
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

const isNotFound = (error: PlatformError.PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "NotFound"

const randomSuffix: Effect.Effect<string> = Effect.map(
  Effect.all([Random.nextIntBetween(0, 0x7fffffff), Random.nextIntBetween(0, 0x7fffffff)]),
  ([a, b]) => `${a.toString(36)}${b.toString(36)}`
)

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
 * - Writes are atomic: the new content goes to a temporary file next to the target
 *   (`.<name>.<random>.tmp`, mode `0600`, flushed to disk), which is then renamed over it.
 *   The file ends up with mode `0600` whatever the umask; a missing parent directory is
 *   created with mode `0700`. A failed write removes its temporary file and changes nothing.
 * - The store's read-modify-write cycles run one at a time, so concurrent `set`s never lose
 *   each other's keys. (Two processes writing the same file at once can still race.)
 * - `withLock` holds a lock file next to the store (`.<name>.lock`, created exclusively, holding
 *   the owner's pid) for as long as its effect runs, so processes sharing the file take turns.
 *   A lock left behind by a process that died (its pid is gone, or the lock is older than
 *   `staleLockAfter`, default 60 s) is broken; waiting longer than `lockTimeout` (default
 *   30 s) fails with an `Io` error. (Two processes breaking the same dead lock at the same
 *   instant can both get through; that needs a crash and a tie.)
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
    const lock = yield* Effect.makeSemaphore(1)
    const lockHolder = yield* Effect.makeSemaphore(1)
    const lockFile = paths.join(directory, `.${basename}.lock`)
    const staleLockAfter = Duration.decode(options.staleLockAfter ?? "60 seconds")
    const lockTimeout = Duration.decode(options.lockTimeout ?? "30 seconds")

    const ioError = (action: string) => (error: PlatformError.PlatformError) =>
      new TokenStoreError({ reason: "Io", path: file, detail: `${action} (${error.message})` })

    const read: Effect.Effect<ReadonlyMap<string, UserToken>, TokenStoreError> = fs.readFileString(file).pipe(
      Effect.map(Option.some),
      Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<string>())),
      Effect.mapError(ioError("could not read the file")),
      Effect.flatMap(Option.match({
        onNone: () => Effect.succeed(new Map<string, UserToken>()),
        onSome: (text) =>
          Either.match(internal.decode(text), {
            onLeft: ({ detail, reason }) => Effect.fail(new TokenStoreError({ reason, path: file, detail })),
            onRight: Effect.succeed
          })
      }))
    )

    const write = (tokens: ReadonlyMap<string, UserToken>): Effect.Effect<void, TokenStoreError> =>
      Effect.gen(function*() {
        const text = yield* Schema.encode(internal.StoreFileFromJson)({ version: internal.currentVersion, tokens }).pipe(
          Effect.mapError((error) =>
            new TokenStoreError({
              reason: "Io",
              path: file,
              detail: `the tokens could not be encoded (${internal.describeParseError(error)})`
            })
          )
        )
        const bytes = new TextEncoder().encode(`${text}\n`)
        yield* fs.makeDirectory(directory, { recursive: true, mode: 0o700 }).pipe(
          Effect.mapError(ioError(`could not create the directory ${JSON.stringify(directory)}`))
        )
        const temporary = paths.join(directory, internal.temporaryName(basename, yield* randomSuffix))
        const created = yield* Ref.make(false)
        const replace = Effect.gen(function*() {
          yield* Effect.scoped(Effect.gen(function*() {
            const handle = yield* fs.open(temporary, { flag: "wx", mode: 0o600 }).pipe(
              Effect.mapError(ioError("could not create a temporary file"))
            )
            yield* Ref.set(created, true)
            yield* handle.writeAll(bytes).pipe(Effect.mapError(ioError("could not write the temporary file")))
            yield* handle.sync.pipe(Effect.mapError(ioError("could not flush the temporary file to disk")))
          })).pipe(
            // closing the handle is the only thing in there that can die
            Effect.catchAllDefect(() =>
              Effect.fail(new TokenStoreError({ reason: "Io", path: file, detail: "could not close the temporary file" }))
            )
          )
          yield* fs.chmod(temporary, 0o600).pipe(Effect.mapError(ioError("could not restrict the temporary file to mode 0600")))
          yield* fs.rename(temporary, file).pipe(Effect.mapError(ioError("could not replace the file with the temporary file")))
        })
        yield* replace.pipe(
          Effect.onError(() =>
            Effect.whenEffect(Effect.ignore(fs.remove(temporary)), Ref.get(created))
          )
        )
      })

    const modify = (f: (tokens: Map<string, UserToken>) => boolean): Effect.Effect<void, TokenStoreError> =>
      lock.withPermits(1)(
        Effect.flatMap(read, (current) => {
          const next = new Map(current)
          return f(next) ? write(next) : Effect.void
        })
      )

    /** The lock file is stale when its owner is gone (same host) or it is older than allowed. */
    const isStale = Effect.gen(function*() {
      const owner = yield* Effect.orElseSucceed(fs.readFileString(lockFile), () => "")
      const pid = Number(owner.split(" ")[0])
      if (Number.isInteger(pid) && pid > 0 && !internal.processIsAlive(pid)) return true
      const info = yield* Effect.option(fs.stat(lockFile))
      const now = yield* Clock.currentTimeMillis
      return Option.match(Option.flatMap(info, (i) => i.mtime), {
        onNone: () => false,
        onSome: (mtime) => now - mtime.getTime() > Duration.toMillis(staleLockAfter)
      })
    })

    /**
     * Creates the lock file with its owner's pid in one step: the pid goes to a temporary
     * file, which is then hard-linked to the lock's name (a link fails if the name exists).
     * So a lock file is never seen empty, even if its owner is killed while taking it.
     */
    const tryLock: Effect.Effect<boolean, TokenStoreError> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const candidate = paths.join(directory, internal.temporaryName(`${basename}.lock`, yield* randomSuffix))
      yield* fs.writeFileString(candidate, `${internal.currentPid()} ${new Date(now).toISOString()}\n`, {
        flag: "wx",
        mode: 0o600
      })
      return yield* fs.link(candidate, lockFile).pipe(
        Effect.as(true),
        Effect.catchIf(
          (error) => error._tag === "SystemError" && error.reason === "AlreadyExists",
          () =>
            Effect.flatMap(isStale, (stale) =>
              stale ? Effect.as(Effect.ignore(fs.remove(lockFile)), false) : Effect.as(Effect.sleep("20 millis"), false))
        ),
        Effect.ensuring(Effect.ignore(fs.remove(candidate)))
      )
    }).pipe(Effect.mapError(ioError("could not create the lock file")))

    const acquireLock = Effect.gen(function*() {
      yield* fs.makeDirectory(directory, { recursive: true, mode: 0o700 }).pipe(
        Effect.mapError(ioError(`could not create the directory ${JSON.stringify(directory)}`))
      )
      yield* tryLock.pipe(
        Effect.repeat({ until: (locked) => locked }),
        Effect.timeoutFail({
          duration: lockTimeout,
          onTimeout: () =>
            new TokenStoreError({
              reason: "Io",
              path: file,
              detail: `timed out after ${Duration.format(lockTimeout)} waiting for the lock file ${
                JSON.stringify(lockFile)
              }; remove it if no other process is using the store`
            })
        })
      )
    })

    return make({
      withLock: (key, effect) =>
        Effect.zipRight(
          checkKey(key, file),
          lockHolder.withPermits(1)(
            Effect.acquireUseRelease(acquireLock, () => effect, () => Effect.ignore(fs.remove(lockFile)))
          )
        ),
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
            return true
          })
        ),
      remove: (key) => Effect.zipRight(checkKey(key, file), modify((tokens) => tokens.delete(key))),
      keys: Effect.map(read, (tokens) => sortedKeys(tokens.keys()))
    })
  })

/**
 * Options of the file store's cross-process lock.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileOptions {
  /** A lock file older than this is considered left behind by a dead process. Default 60 s. */
  readonly staleLockAfter?: Duration.DurationInput | undefined
  /** How long `withLock` waits for another process before failing. Default 30 s. */
  readonly lockTimeout?: Duration.DurationInput | undefined
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
): Layer.Layer<TokenStore, never, FileSystem.FileSystem | Path.Path> => Layer.effect(TokenStore, makeFile(path, options))
