/**
 * The file token store's disk work: reading its one file (never through a symbolic link,
 * narrowing a mode others can read), replacing it atomically and durably (a temporary file
 * next to it, mode `0600`, flushed, renamed over it, the directory flushed), and removing it.
 * Failures are {@link FileFailure}s; the store names its file in the error it makes of them.
 */
import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import { temporaryName } from "./tokenStoreFile.js"

/** Why the file could not be read, written or removed (`detail` never quotes its contents). */
export class FileFailure extends Data.TaggedError("FileFailure")<{
  readonly reason: "Io" | "Insecure"
  readonly detail: string
}> {}

/** The platform's failure of `action`, as an `Io` failure that says what was attempted. */
export const ioFailure = (action: string) => (error: PlatformError.PlatformError) =>
  new FileFailure({ reason: "Io", detail: `${action} (${error.message})` })

const isNotFound = (error: PlatformError.PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "NotFound"

const randomSuffix: Effect.Effect<string> = Effect.map(
  Effect.all([Random.nextIntBetween(0, 0x7fffffff), Random.nextIntBetween(0, 0x7fffffff)]),
  ([a, b]) => `${a.toString(36)}${b.toString(36)}`
)

/** The operations on one file, `file` (absolute). */
export interface AtomicFile {
  /** The file's text, `None` when there is no file. */
  readonly read: Effect.Effect<Option.Option<string>, FileFailure>
  /** Replaces the file with `text`, atomically and durably; a failure changes nothing. */
  readonly write: (text: string) => Effect.Effect<void, FileFailure>
  /** Removes the file (none is fine), durably. */
  readonly remove: Effect.Effect<void, FileFailure>
}

/** Makes the {@link AtomicFile} of `file`; the mode check runs once per value made. */
export const make = (
  fs: FileSystem.FileSystem,
  paths: Path.Path,
  file: string
): Effect.Effect<AtomicFile> =>
  Effect.map(Ref.make(false), (checkedModes) => {
    const directory = paths.dirname(file)
    const basename = paths.basename(file)

    const refuseSymlink = fs.readLink(file).pipe(
      Effect.matchEffect({
        onFailure: () => Effect.void,
        onSuccess: () =>
          Effect.fail(
            new FileFailure({
              reason: "Insecure",
              detail:
                "the token file is a symbolic link; replace it with a regular file (it is neither read nor written through a link)"
            })
          )
      })
    )

    /** Once: narrows a file others can read to 0600, and reports a directory others can write. */
    const checkModes = Effect.gen(function*() {
      if (yield* Ref.getAndSet(checkedModes, true)) return
      const info = yield* Effect.option(fs.stat(file))
      if (Option.isSome(info) && (info.value.mode & 0o077) !== 0) {
        const was = (info.value.mode & 0o777).toString(8)
        const fixed = yield* Effect.isSuccess(fs.chmod(file, 0o600))
        yield* Effect.logWarning(
          fixed
            ? `token store ${
              JSON.stringify(file)
            }: the file had mode 0${was} (others could read it); narrowed it to 0600`
            : `token store ${
              JSON.stringify(file)
            }: the file has mode 0${was} (others can read it) and could not be narrowed to 0600`
        )
      }
      const dir = yield* Effect.option(fs.stat(directory))
      if (Option.isSome(dir) && (dir.value.mode & 0o022) !== 0 && (dir.value.mode & 0o1000) === 0) {
        yield* Effect.logWarning(
          `token store ${JSON.stringify(file)}: its directory has mode 0${
            (dir.value.mode & 0o777).toString(8)
          } (others can replace files in it); use a directory only you can write to`
        )
      }
    })

    const read: Effect.Effect<Option.Option<string>, FileFailure> = Effect.zipRight(
      refuseSymlink,
      fs.readFileString(file)
    ).pipe(
      Effect.map(Option.some),
      Effect.catchIf(
        (error): error is PlatformError.PlatformError => !(error instanceof FileFailure) && isNotFound(error),
        () => Effect.succeed(Option.none<string>())
      ),
      Effect.mapError((error) => error instanceof FileFailure ? error : ioFailure("could not read the file")(error)),
      Effect.tap((text) => Option.isSome(text) ? checkModes : Effect.void)
    )

    /** Flushes the directory, so that the rename survives a power loss (where the platform can). */
    const syncDirectory = Effect.scoped(Effect.flatMap(fs.open(directory, { flag: "r" }), (handle) => handle.sync))
      .pipe(
        Effect.ignore,
        Effect.catchAllDefect(() => Effect.void)
      )

    const remove: Effect.Effect<void, FileFailure> = fs.remove(file).pipe(
      Effect.catchIf(isNotFound, () => Effect.void),
      Effect.mapError(ioFailure("could not remove the file, which holds no token any more")),
      Effect.zipRight(syncDirectory)
    )

    const write = (text: string): Effect.Effect<void, FileFailure> =>
      Effect.gen(function*() {
        const bytes = new TextEncoder().encode(`${text}\n`)
        const temporary = paths.join(directory, temporaryName(basename, yield* randomSuffix))
        const created = yield* Ref.make(false)
        const replace = Effect.gen(function*() {
          yield* Effect.scoped(Effect.gen(function*() {
            const handle = yield* fs.open(temporary, { flag: "wx", mode: 0o600 }).pipe(
              Effect.mapError(ioFailure("could not create a temporary file"))
            )
            yield* Ref.set(created, true)
            yield* handle.writeAll(bytes).pipe(Effect.mapError(ioFailure("could not write the temporary file")))
            yield* handle.sync.pipe(Effect.mapError(ioFailure("could not flush the temporary file to disk")))
          })).pipe(
            // closing the handle is the only thing in there that can die
            Effect.catchAllDefect(() =>
              Effect.fail(new FileFailure({ reason: "Io", detail: "could not close the temporary file" }))
            )
          )
          yield* fs.chmod(temporary, 0o600).pipe(
            Effect.mapError(ioFailure("could not restrict the temporary file to mode 0600"))
          )
          // rename replaces a symbolic link at `file` rather than writing through it; read refuses one first
          yield* fs.rename(temporary, file).pipe(
            Effect.mapError(ioFailure("could not replace the file with the temporary file"))
          )
        })
        yield* replace.pipe(
          Effect.onError(() => Effect.whenEffect(Effect.ignore(fs.remove(temporary)), Ref.get(created)))
        )
        yield* syncDirectory
      })

    return { read, write, remove }
  })
