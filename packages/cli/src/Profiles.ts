/**
 * Where `twitch-auth` keeps tokens: one file per profile, `<config dir>/<profile>.json`,
 * written by the SDK's file `TokenStore` (atomic, mode 0600, no client secret: only the
 * user's access and refresh tokens, scopes and times).
 *
 * The config dir is `--config-dir`, else `$TWITCH_AUTH_CONFIG_DIR`, else
 * `$XDG_CONFIG_HOME/effect-twitch`, else `~/.config/effect-twitch`. The profile is
 * `--profile`, else `$TWITCH_AUTH_PROFILE`, else `default` (`mock` with `--mock`, so that
 * tokens of the embedded mock never replace real ones).
 *
 * @since 0.1.0
 */
import type * as Token from "@effect-twitch/auth/Token"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Os from "node:os"
import * as CliError from "./CliError.js"

/**
 * A resolved profile: its name and its token file (absolute).
 *
 * @since 0.1.0
 * @category models
 */
export interface Profile {
  readonly name: string
  readonly configDir: string
  readonly path: string
}

const profileName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

const envOption = (name: string) =>
  Config.option(Config.string(name)).pipe(
    Effect.map(Option.filter((value) => value.trim().length > 0)),
    Effect.orElseSucceed(() => Option.none<string>())
  )

/**
 * The directory holding the profiles' token files.
 *
 * @since 0.1.0
 * @category constructors
 */
export const configDir = (flag: Option.Option<string>): Effect.Effect<string, never, Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    if (Option.isSome(flag)) return path.resolve(flag.value)
    const explicit = yield* envOption("TWITCH_AUTH_CONFIG_DIR")
    if (Option.isSome(explicit)) return path.resolve(explicit.value)
    const xdg = yield* envOption("XDG_CONFIG_HOME")
    const base = Option.getOrElse(xdg, () => path.join(Os.homedir(), ".config"))
    return path.resolve(base, "effect-twitch")
  })

/**
 * Resolves the profile from the flags and the environment. A name must be letters, digits,
 * `_`, `.` or `-` (it becomes a file name).
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (options: {
  readonly profile: Option.Option<string>
  readonly configDir: Option.Option<string>
  readonly mock: boolean
}): Effect.Effect<Profile, CliError.CliError, Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const fromEnv = yield* envOption("TWITCH_AUTH_PROFILE")
    const name = Option.getOrElse(
      Option.orElse(options.profile, () => fromEnv),
      () => (options.mock ? "mock" : "default")
    )
    if (!profileName.test(name)) {
      return yield* Effect.fail(
        CliError.usage(
          "InvalidProfile",
          `invalid profile name ${JSON.stringify(name)}: use letters, digits, '_', '.' or '-' (at most 64)`
        )
      )
    }
    const dir = yield* configDir(options.configDir)
    return { name, configDir: dir, path: path.join(dir, `${name}.json`) }
  })

/**
 * What a profile's file holds, read without asking Twitch.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly name: string
  readonly path: string
  readonly entry: Option.Option<{ readonly key: string; readonly token: Token.UserToken }>
}

/**
 * Reads the token stored in a profile (a profile holds one user's token, under the user id).
 *
 * @since 0.1.0
 * @category accessors
 */
export const stored = (
  store: TokenStore.TokenStore.Service
): Effect.Effect<
  Option.Option<{ readonly key: string; readonly token: Token.UserToken }>,
  TokenStore.TokenStoreError
> =>
  Effect.gen(function*() {
    const keys = yield* store.keys
    for (const key of keys) {
      const token = yield* store.get(key)
      if (Option.isSome(token)) return Option.some({ key, token: token.value })
    }
    return Option.none()
  })

/**
 * Every profile in the config dir, sorted by name; a file that cannot be read is reported
 * with the store's error.
 *
 * @since 0.1.0
 * @category accessors
 */
export const list = (
  dir: string
): Effect.Effect<
  ReadonlyArray<Summary | { readonly name: string; readonly path: string; readonly error: TokenStore.TokenStoreError }>,
  CliError.CliError,
  FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const exists = yield* Effect.orElseSucceed(fs.exists(dir), () => false)
    if (!exists) return []
    const names = yield* fs.readDirectory(dir).pipe(
      Effect.mapError((error) =>
        CliError.localResource(
          "ConfigDirUnreadable",
          `cannot read the config directory ${JSON.stringify(dir)}: ${error.message}`
        )
      )
    )
    const profiles = names
      .filter((file) => file.endsWith(".json") && !file.startsWith("."))
      .map((file) => file.slice(0, -".json".length))
      .filter((name) => profileName.test(name))
      .sort()
    return yield* Effect.forEach(profiles, (name) => {
      const file = path.join(dir, `${name}.json`)
      return Effect.flatMap(TokenStore.makeFile(file), stored).pipe(
        Effect.match({
          onFailure: (error) => ({ name, path: file, error }),
          onSuccess: (entry): Summary => ({ name, path: file, entry })
        })
      )
    })
  })
