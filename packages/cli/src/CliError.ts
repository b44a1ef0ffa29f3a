/**
 * What `twitch-auth` fails with: one line for the person (or script) that ran it, and the
 * process exit code that says what kind of failure it was. Every error of the SDK is turned
 * into one by {@link fromTwitchError}; none carries a token or a client secret.
 *
 * @since 0.1.0
 */
import * as TwitchAuthError from "@effect-twitch/auth/TwitchAuthError"
import type * as ConfigError from "effect/ConfigError"
import * as Schema from "effect/Schema"

/**
 * The process exit codes of `twitch-auth`.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | unexpected failure (Twitch answered something this tool does not know) |
 * | 2 | bad input: unknown command, flag or scope; missing or invalid configuration |
 * | 3 | authorization not granted: consent denied, `state` mismatch, device code expired, timed out |
 * | 4 | no usable token: nothing stored for the profile, token or refresh token rejected |
 * | 5 | Twitch unreachable or unavailable: network error, timeout, 5xx, 429, undecodable answer |
 * | 6 | local resource: callback port in use, token file unreadable or unwritable |
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  AuthorizationFailed: 3,
  NotAuthenticated: 4,
  TwitchUnreachable: 5,
  LocalResource: 6
} as const

/**
 * One of {@link ExitCode}'s values.
 *
 * @since 0.1.0
 * @category models
 */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode]

/**
 * A failure of a command: `kind` says which (it picks the exit code), `reason` names the
 * situation (the SDK error's tag, or the CLI's own), `text` is the one line shown.
 *
 * @since 0.1.0
 * @category errors
 */
export class CliError extends Schema.TaggedError<CliError>("@effect-twitch/cli/CliError")("CliError", {
  kind: Schema.Literal(
    "Failure",
    "Usage",
    "AuthorizationFailed",
    "NotAuthenticated",
    "TwitchUnreachable",
    "LocalResource"
  ),
  reason: Schema.String,
  text: Schema.String
}) {
  override get message(): string {
    return this.text
  }

  /**
   * The process exit code for this failure.
   *
   * @since 0.1.0
   */
  get exitCode(): ExitCode {
    return ExitCode[this.kind]
  }
}

/**
 * Shorthands for the kinds of {@link CliError}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const usage = (reason: string, text: string): CliError => new CliError({ kind: "Usage", reason, text })

/**
 * @since 0.1.0
 * @category constructors
 */
export const authorizationFailed = (reason: string, text: string): CliError =>
  new CliError({ kind: "AuthorizationFailed", reason, text })

/**
 * @since 0.1.0
 * @category constructors
 */
export const notAuthenticated = (reason: string, text: string): CliError =>
  new CliError({ kind: "NotAuthenticated", reason, text })

/**
 * @since 0.1.0
 * @category constructors
 */
export const localResource = (reason: string, text: string): CliError =>
  new CliError({ kind: "LocalResource", reason, text })

/**
 * @since 0.1.0
 * @category constructors
 */
export const failure = (reason: string, text: string): CliError => new CliError({ kind: "Failure", reason, text })

const kinds: Record<string, CliError["kind"]> = {
  // configuration and credentials
  TwitchAuthConfigError: "Usage",
  MissingClientSecret: "Usage",
  MissingRedirectUri: "Usage",
  InvalidClient: "Usage",
  RedirectUriMismatch: "Usage",
  InvalidScope: "Usage",
  UnknownScope: "Usage",
  // the user did not (or not validly) authorize
  AccessDenied: "AuthorizationFailed",
  StateMismatch: "AuthorizationFailed",
  AuthorizationFailed: "AuthorizationFailed",
  MalformedRedirect: "AuthorizationFailed",
  DeviceCodeExpired: "AuthorizationFailed",
  InvalidAuthorizationCode: "AuthorizationFailed",
  AuthorizationPending: "AuthorizationFailed",
  // the stored token is no good
  NoStoredToken: "NotAuthenticated",
  InvalidAccessToken: "NotAuthenticated",
  InvalidRefreshToken: "NotAuthenticated",
  MissingScope: "NotAuthenticated",
  HelixUnauthorized: "NotAuthenticated",
  // Twitch is out of reach
  RateLimited: "TwitchUnreachable",
  TwitchUnavailable: "TwitchUnreachable",
  TransportError: "TwitchUnreachable",
  MalformedResponse: "TwitchUnreachable",
  // local files
  TokenStoreError: "LocalResource"
}

const quote = (s: string): string => JSON.stringify(s)

/** The SDK's messages, told for a person at a terminal where they name what to run next. */
const text = (error: { readonly _tag: string; readonly message: string }): string => {
  if (error instanceof TwitchAuthError.InvalidAccessToken) {
    return `Twitch rejected the access token at ${error.endpoint} (HTTP ${error.status}: ${
      quote(error.twitchMessage)
    }); run \`twitch-auth refresh\`, or \`twitch-auth login\` again`
  }
  if (error instanceof TwitchAuthError.InvalidRefreshToken) {
    return `Twitch rejected the refresh token (HTTP ${error.status}: ${
      quote(error.twitchMessage)
    }); it was removed from the profile: run \`twitch-auth login\` again`
  }
  if (error instanceof TwitchAuthError.AccessDenied) {
    const where = error.flow === "DeviceCode" ? "on Twitch's activation page" : "on Twitch's consent page"
    return `authorization was denied ${where}${error.description === "" ? "" : ` (${error.description})`}`
  }
  if (error instanceof TwitchAuthError.StateMismatch) {
    return `the redirect's state ${
      error.reason === "Missing" ? "is missing" : "does not match the authorization request"
    } (a stale or forged redirect): nothing was exchanged; run login again`
  }
  if (error instanceof TwitchAuthError.DeviceCodeExpired) {
    return error.twitchMessage === undefined
      ? "the device code expired before it was approved; run login --device again"
      : `the device code expired (or was used) before it was approved (Twitch: ${
        quote(error.twitchMessage)
      }); run login --device again`
  }
  return error.message
}

/**
 * Turns any tagged error of the SDK (or the platform) into a {@link CliError}: its message
 * (which never contains a secret), and the exit code its kind implies.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromTwitchError = (error: { readonly _tag: string; readonly message: string }): CliError =>
  error instanceof CliError ? error : new CliError({
    // a Helix refusal that is not about the token (a broadcaster_id mismatch): no login fixes it
    kind: error instanceof TwitchAuthError.HelixUnauthorized && error.reason === "Refused"
      ? "Failure"
      : kinds[error._tag] ?? "Failure",
    reason: error._tag,
    text: text(error)
  })

/**
 * A `ConfigError` from reading the environment, as a usage error naming the variable.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfigError = (error: ConfigError.ConfigError): CliError =>
  usage("ConfigError", `invalid configuration: ${configErrorText(error)}`)

const configErrorText = (error: ConfigError.ConfigError): string => {
  switch (error._op) {
    case "And":
    case "Or":
      return configErrorText(error.left)
    case "InvalidData":
    case "MissingData":
    case "SourceUnavailable":
    case "Unsupported":
      return error.message
  }
}
