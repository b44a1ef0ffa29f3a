/**
 * The token commands: `login` (authorization code), `app-token`, `validate`, `refresh`,
 * `revoke`, `whoami`. Each runs in {@link Env}: the resolved configuration, `TwitchAuth`,
 * the profile's token store and the output.
 */
import * as DeviceFlow from "@effect-twitch/auth/DeviceFlow"
import * as Token from "@effect-twitch/auth/Token"
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as TwitchAuth from "@effect-twitch/auth/TwitchAuth"
import * as TwitchCredentials from "@effect-twitch/auth/TwitchCredentials"
import * as TwitchHttpClient from "@effect-twitch/auth/TwitchHttpClient"
import * as TwitchScope from "@effect-twitch/auth/TwitchScope"
import * as TwitchSession from "@effect-twitch/auth/TwitchSession"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as CliError from "../CliError.js"
import * as Profiles from "../Profiles.js"
import * as Browser from "./browser.js"
import * as Callback from "./callback.js"
import { Cli } from "./environment.js"
import * as Output from "./output.js"

/** The redirect URI `login` listens on when none is configured (register it for your app). */
export const defaultRedirectUri = "http://localhost:3000/callback"

/** The token stored in the profile, or a `NotAuthenticated` failure saying how to get one. */
export const requireStored = Effect.gen(function*() {
  const { profile } = yield* Cli
  const store = yield* TokenStore.TokenStore
  const entry = yield* Profiles.stored(store)
  if (Option.isNone(entry)) {
    return yield* Effect.fail(
      CliError.notAuthenticated(
        "NoStoredToken",
        `no token in profile ${JSON.stringify(profile.name)} (${profile.path}): run \`twitch-auth login\` first`
      )
    )
  }
  return entry.value
})

/**
 * Checks, before the user is sent to Twitch, that the profile's token can be stored: its
 * file is read (a corrupted file, one in a newer format, a symbolic link fail here) and its
 * write lock is taken in its directory (created if missing: an unwritable directory, or a
 * lock that cannot be taken, fail here). Nothing is written: the probe is a compare-and-remove
 * of a token nobody holds. Without it, a user would approve the app and then see the new
 * token discarded (exit 6 after consent).
 */
export const checkProfileWritable: Effect.Effect<void, TokenStore.TokenStoreError, TokenStore.TokenStore> = Effect.gen(
  function*() {
    const store = yield* TokenStore.TokenStore
    const obtainedAt = yield* DateTime.now
    const nobody = Redacted.make(`probe-${crypto.randomUUID()}`)
    const probe = new Token.UserToken({
      accessToken: nobody,
      refreshToken: nobody,
      scopes: [],
      obtainedAt,
      expiresAt: Option.none()
    })
    // never matches a stored token (a fresh random one): removes nothing, writes nothing
    yield* store.compareAndRemove("twitch-auth-write-check", probe)
  }
)

/**
 * Validates a new user token, stores it in the profile under the user id (replacing any
 * other user's), and prints what was stored.
 */
export const saveUserToken = (token: Token.UserToken, flow: "authorization_code" | "device_code") =>
  Effect.gen(function*() {
    const { config, out, profile } = yield* Cli
    const auth = yield* TwitchAuth.TwitchAuth
    const store = yield* TokenStore.TokenStore
    const info = yield* auth.validateToken(token.accessToken)
    const key = Option.getOrElse(info.userId, () => "user")
    yield* store.set(key, token)
    const others = (yield* store.keys).filter((k) => k !== key)
    yield* Effect.forEach(others, (k) => store.remove(k), { discard: true })
    const now = yield* DateTime.now
    const login = Option.getOrElse(info.login, () => "(unknown)")
    yield* out.result(
      [
        `Logged in as ${login} (user id ${key}).`,
        Output.field("profile", `${profile.name} (${profile.path}, mode 0600)`),
        Output.field("client id", config.clientId),
        Output.field("scopes", Output.scopesText(token.scopes)),
        Output.field("expires", Output.expiryText(token.expiresAt, now)),
        Output.field("access token", out.secretText(token.accessToken)),
        Output.field("refresh token", out.secretText(token.refreshToken))
      ],
      {
        profile: profile.name,
        path: profile.path,
        flow,
        login: Option.getOrNull(info.login),
        userId: key,
        clientId: config.clientId,
        scopes: token.scopes,
        expiresAt: Output.expiryJson(token.expiresAt),
        accessToken: out.secret(token.accessToken),
        refreshToken: out.secret(token.refreshToken)
      }
    )
  })

/** Options of the authorization code login. */
export interface CodeLoginOptions {
  readonly scopes: ReadonlyArray<string>
  readonly open: boolean
  readonly forceVerify: boolean
  readonly timeout: Duration.Duration
  /** Replaces the real browser (the demo follows the URL itself). */
  readonly browser?: ((url: string) => Effect.Effect<void, CliError.CliError, HttpClient.HttpClient>) | undefined
}

/** `login`: authorization code flow through a one-shot callback server on 127.0.0.1. */
export const loginWithCode = (options: CodeLoginOptions) =>
  Effect.gen(function*() {
    const { config, mock, out } = yield* Cli
    const auth = yield* TwitchAuth.TwitchAuth
    if (Option.isNone(config.clientSecret)) {
      return yield* Effect.fail(
        CliError.usage(
          "MissingClientSecret",
          "login needs the client secret (--client-secret or TWITCH_CLIENT_SECRET) to exchange the code; without one, use login --device"
        )
      )
    }
    yield* checkProfileWritable
    const wanted = Option.getOrElse(
      config.redirectUri,
      () => (Option.isSome(mock) ? "http://127.0.0.1:0/callback" : defaultRedirectUri)
    )
    const callback = yield* Callback.start(wanted)
    if (Option.isSome(mock)) yield* mock.value.registerRedirectUris([callback.redirectUri])
    const request = yield* auth.authorizationUrl({
      scopes: options.scopes.map(TwitchScope.requested),
      redirectUri: callback.redirectUri,
      forceVerify: options.forceVerify
    })
    yield* callback.expectState(request.state)
    yield* out.info(`Open this URL in a browser and authorize the application:\n\n  ${request.url}\n`)
    if (options.browser !== undefined) {
      yield* Effect.forkScoped(Effect.ignore(options.browser(request.url)))
    } else if (options.open && (yield* Browser.interactive)) {
      const opened = yield* Browser.open(request.url)
      if (opened) yield* out.info("(opening it in your browser; pass --no-open not to)")
    }
    yield* out.info(`Waiting for Twitch to redirect to ${callback.redirectUri} …`)
    const authorized = yield* callback.authorized.pipe(
      Effect.timeoutFail({
        duration: options.timeout,
        onTimeout: () =>
          CliError.authorizationFailed(
            "LoginTimedOut",
            `no redirect reached ${callback.redirectUri} within ${
              Output.humanDuration(Duration.toMillis(options.timeout))
            }; run login again`
          )
      })
    )
    const token = yield* auth.exchangeCode(authorized.code, { redirectUri: callback.redirectUri })
    yield* saveUserToken(token, "authorization_code")
  })

/** `app-token`: an app access token (client credentials); printed, not stored. */
export const appToken = (scopes: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { config, out } = yield* Cli
    const auth = yield* TwitchAuth.TwitchAuth
    const token = yield* auth.appToken({ scopes: scopes.map(TwitchScope.requested) })
    const now = yield* DateTime.now
    yield* out.result(
      [
        `Got an app access token for client ${config.clientId} (not stored: app tokens are fetched again when needed).`,
        Output.field("scopes", Output.scopesText(token.scopes)),
        Output.field("expires", Output.expiryText(token.expiresAt, now)),
        Output.field("access token", out.secretText(token.accessToken))
      ],
      {
        type: "app",
        clientId: config.clientId,
        scopes: token.scopes,
        expiresAt: Output.expiryJson(token.expiresAt),
        accessToken: out.secret(token.accessToken)
      }
    )
  })

const infoLines = (info: Token.TokenInfo) => [
  Output.field("login", Option.getOrElse(info.login, () => "(app token)")),
  Output.field("user id", Option.getOrElse(info.userId, () => "-")),
  Output.field("client id", info.clientId),
  Output.field("scopes", Output.scopesText(info.scopes)),
  Output.field("expires", Output.expiryText(info.expiresAt, info.validatedAt))
]

const infoJson = (info: Token.TokenInfo) => ({
  login: Option.getOrNull(info.login),
  userId: Option.getOrNull(info.userId),
  clientId: info.clientId,
  scopes: info.scopes,
  expiresAt: Output.expiryJson(info.expiresAt)
})

/** `validate`: what Twitch says about the stored token (no refresh). */
export const validate = Effect.gen(function*() {
  const { out, profile } = yield* Cli
  const auth = yield* TwitchAuth.TwitchAuth
  const entry = yield* requireStored
  const info = yield* auth.validateToken(entry.token.accessToken)
  yield* out.result(
    [`The token of profile ${profile.name} is valid.`, ...infoLines(info)],
    { valid: true, profile: profile.name, ...infoJson(info) }
  )
})

/**
 * `refresh`: a new access token from the stored refresh token, stored in its place. It runs
 * under the store's lock on the user's key, so concurrent runs (and sessions of other
 * processes on the same profile) never spend one refresh token twice; the new token is
 * written with a compare-and-set against the one it replaces. A refresh token Twitch rejects
 * removes the profile's token only if it is still the one that failed.
 */
export const refresh = Effect.gen(function*() {
  const { out, profile } = yield* Cli
  const store = yield* TokenStore.TokenStore
  const first = yield* requireStored
  const { adopted, key, token } = yield* store.withLock(first.key, refreshLocked(first.key))
  const now = yield* DateTime.now
  yield* out.result(
    [
      adopted
        ? `The token of profile ${profile.name} (user id ${key}) was just refreshed by another process; this is the stored one.`
        : `Refreshed the token of profile ${profile.name} (user id ${key}).`,
      Output.field("scopes", Output.scopesText(token.scopes)),
      Output.field("expires", Output.expiryText(token.expiresAt, now)),
      Output.field("access token", out.secretText(token.accessToken)),
      Output.field("refresh token", out.secretText(token.refreshToken))
    ],
    {
      profile: profile.name,
      userId: key,
      scopes: token.scopes,
      expiresAt: Output.expiryJson(token.expiresAt),
      accessToken: out.secret(token.accessToken),
      refreshToken: out.secret(token.refreshToken)
    }
  )
})

/** The refresh itself, under the key's lock: re-reads the stored token first. */
const refreshLocked = (key: string) =>
  Effect.gen(function*() {
    const auth = yield* TwitchAuth.TwitchAuth
    const store = yield* TokenStore.TokenStore
    const current = yield* store.get(key)
    if (Option.isNone(current)) {
      // removed by another process between our read and the lock
      const entry = yield* requireStored
      return yield* Effect.fail(
        CliError.failure(
          "ProfileChanged",
          `the token of user ${key} was removed meanwhile; the profile now holds user ${entry.key}: run refresh again`
        )
      )
    }
    const spent = current.value
    const refreshed = yield* auth.refreshToken(spent.refreshToken).pipe(
      Effect.map(Option.some),
      Effect.catchTag("InvalidRefreshToken", (error) =>
        Effect.gen(function*() {
          if (yield* removeFromProfile(key, spent)) return yield* Effect.fail(error)
          const now = yield* store.get(key)
          // another process stored a new token meanwhile: that one stands
          if (Option.isSome(now) && !TokenStore.sameToken(now.value, spent)) return Option.none<Token.UserToken>()
          return yield* Effect.fail(error)
        }))
    )
    if (Option.isNone(refreshed)) {
      const now = yield* store.get(key)
      if (Option.isSome(now)) return { adopted: true, key, token: now.value }
      return yield* Effect.fail(
        CliError.failure("ProfileChanged", "the profile changed while refreshing; run refresh again")
      )
    }
    const token = refreshed.value
    if (yield* store.compareAndSet(key, Option.some(spent), token)) return { adopted: false, key, token }
    // the stored token changed although we held the lock: never overwrite another token
    const now = yield* store.get(key)
    if (Option.isNone(now)) {
      if (yield* store.compareAndSet(key, Option.none(), token)) return { adopted: false, key, token }
      return yield* Effect.fail(
        CliError.failure("ProfileChanged", "the profile changed while refreshing; run refresh again")
      )
    }
    return { adopted: !TokenStore.sameToken(now.value, token), key, token: now.value }
  })

/**
 * Removes a user's token from the profile if it is still `expected`, and the profile's file
 * once it holds none. `false` when the profile holds another token (left alone).
 */
// The profile's store removes its file when the last token goes (`removeWhenEmpty`), under its
// write lock: a token a concurrent login writes meanwhile is never removed with it.
const removeFromProfile = (key: string, expected: Token.UserToken) =>
  Effect.flatMap(TokenStore.TokenStore, (store) => store.compareAndRemove(key, expected))

/**
 * `revoke`: revokes the stored access token at Twitch and removes it from the profile, under
 * the store's lock on the user's key (a concurrent refresh cannot slip a new token in between).
 */
export const revoke = Effect.gen(function*() {
  const { out, profile } = yield* Cli
  const auth = yield* TwitchAuth.TwitchAuth
  const store = yield* TokenStore.TokenStore
  const first = yield* requireStored
  const alreadyInvalid = yield* store.withLock(
    first.key,
    Effect.gen(function*() {
      const current = yield* store.get(first.key)
      if (Option.isNone(current)) return true
      const invalid = yield* auth.revokeToken(current.value.accessToken).pipe(
        Effect.as(false),
        Effect.catchTag("InvalidAccessToken", () => Effect.succeed(true))
      )
      yield* removeFromProfile(first.key, current.value)
      return invalid
    })
  )
  const entry = first
  yield* out.result(
    [
      alreadyInvalid
        ? `The token of profile ${profile.name} was already invalid at Twitch; removed it from ${profile.path}.`
        : `Revoked the token of profile ${profile.name} (user id ${entry.key}) and removed it from ${profile.path}.`
    ],
    { revoked: true, alreadyInvalid, profile: profile.name, userId: entry.key }
  )
})

const HelixUsers = Schema.Struct({
  data: Schema.Array(Schema.Struct({
    id: Schema.String,
    login: Schema.String,
    display_name: Schema.String,
    broadcaster_type: Schema.optional(Schema.String),
    created_at: Schema.optional(Schema.String),
    email: Schema.optional(Schema.String)
  }))
})

/**
 * `whoami`: `GET /helix/users` with the stored token, through a `TwitchSession` (validated
 * at start, refreshed once on a 401, persisted).
 */
export const whoami = Effect.gen(function*() {
  const { out, profile } = yield* Cli
  const entry = yield* requireStored
  const session = yield* TwitchSession.make({ key: entry.key })
  const helix = yield* TwitchHttpClient.make().pipe(
    Effect.provideService(TwitchCredentials.TwitchCredentials, session)
  )
  const users = yield* helix.get("/users").pipe(
    Effect.flatMap(HttpClientResponse.schemaBodyJson(HelixUsers)),
    Effect.mapError((error) =>
      error._tag === "ParseError"
        ? CliError.failure("MalformedResponse", "Helix's answer to GET /users could not be decoded")
        : error
    )
  )
  const user = users.data[0]
  if (user === undefined) {
    return yield* Effect.fail(CliError.failure("NoSuchUser", "Helix returned no user for the stored token"))
  }
  const refreshed = Redacted.value((yield* session.token).accessToken) !== Redacted.value(entry.token.accessToken)
  yield* out.result(
    [
      `${user.display_name} (login ${user.login}, user id ${user.id})`,
      ...(user.created_at === undefined ? [] : [Output.field("created", user.created_at)]),
      ...(user.email === undefined ? [] : [Output.field("email", user.email)]),
      ...(user.broadcaster_type === undefined || user.broadcaster_type === ""
        ? []
        : [Output.field("broadcaster", user.broadcaster_type)]),
      Output.field("profile", profile.name),
      ...(refreshed ? [Output.field("token", "refreshed and stored")] : [])
    ],
    {
      profile: profile.name,
      userId: user.id,
      login: user.login,
      displayName: user.display_name,
      createdAt: user.created_at ?? null,
      email: user.email ?? null,
      broadcasterType: user.broadcaster_type ?? null,
      refreshed
    }
  )
})

/** Options of the device code login. */
export interface DeviceLoginOptions {
  readonly scopes: ReadonlyArray<string>
  /** Called with the user code once it is shown (the demo approves it on the mock). */
  readonly onCode?: ((device: Token.DeviceAuthorization) => Effect.Effect<void, CliError.CliError>) | undefined
}

/**
 * `login --device`: the SDK's `DeviceFlow` (interval honoured, slower after `slow_down`),
 * with the code, the URL and a live countdown while it waits.
 */
export const loginWithDevice = (options: DeviceLoginOptions) =>
  Effect.gen(function*() {
    const { mock, out } = yield* Cli
    yield* checkProfileWritable
    const authorization = yield* DeviceFlow.start({ scopes: options.scopes.map(TwitchScope.requested) })
    yield* out.info(
      `To authorize, open ${authorization.verificationUri}\nand enter the code:  ${authorization.userCode}\n`
    )
    if (Option.isSome(mock) && options.onCode === undefined) {
      yield* out.info(
        `(on the mock, approve it with: curl -X POST '${mock.value.authUrl}/activate?user_code=${authorization.userCode}')\n`
      )
    }
    if (options.onCode !== undefined) yield* Effect.forkScoped(Effect.ignore(options.onCode(authorization)))
    const polls = yield* Ref.make(0)
    const progress = yield* Effect.forkScoped(countdown(authorization.expiresAt, polls))
    const now = yield* DateTime.now
    const left = DateTime.toEpochMillis(authorization.expiresAt) - DateTime.toEpochMillis(now)
    const last = yield* DeviceFlow.states(authorization).pipe(
      Stream.tap(DeviceFlow.DeviceFlowState.$match({
        Pending: (state) => Ref.set(polls, state.polls),
        SlowDown: ({ interval }) =>
          Effect.zipRight(
            clearLine,
            out.info(
              `Twitch asked to poll less often: every ${Output.humanDuration(Duration.toMillis(interval))} from now on`
            )
          ),
        Authorized: () => Effect.void
      })),
      Stream.runLast,
      // DeviceFlow fails with DeviceCodeExpired at expiresAt; this is only a backstop.
      Effect.timeoutFail({
        duration: Duration.millis(Math.max(0, left) + 10_000),
        onTimeout: () =>
          CliError.authorizationFailed(
            "DeviceCodeExpired",
            "the device code expired before it was approved; run login --device again"
          )
      }),
      Effect.ensuring(Effect.zipRight(Fiber.interrupt(progress), clearLine))
    )
    if (Option.isNone(last) || last.value._tag !== "Authorized") {
      return yield* Effect.fail(CliError.failure("DeviceFlowEnded", "the device flow ended without a token"))
    }
    yield* saveUserToken(last.value.token, "device_code")
  })

const clearLine = Effect.sync(() => {
  if (process.stderr.isTTY === true) process.stderr.write("\r\x1b[2K")
})

/** A live countdown on a terminal (every second); elsewhere a line every minute. */
const countdown = (expiresAt: DateTime.Utc, polls: Ref.Ref<number>) =>
  Effect.gen(function*() {
    const tty = process.stderr.isTTY === true
    const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
    let tick = 0
    while (true) {
      const now = yield* DateTime.now
      const left = Output.humanDuration(DateTime.toEpochMillis(expiresAt) - DateTime.toEpochMillis(now))
      const asked = yield* Ref.get(polls)
      const status = `waiting for approval (${asked} ${asked === 1 ? "poll" : "polls"})… code expires in ${left}`
      if (tty) {
        yield* Effect.sync(() => process.stderr.write(`\r\x1b[2K${frames[tick % frames.length] ?? ""} ${status}`))
        yield* Effect.sleep("1 second")
      } else {
        yield* Effect.sync(() => process.stderr.write(`${status}\n`))
        yield* Effect.sleep("1 minute")
      }
      tick++
    }
  })
