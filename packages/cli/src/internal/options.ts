/**
 * The options every token command takes: where Twitch is and who the application is (flags
 * win over the environment variables `TwitchAuthConfig.layerConfig` reads), which profile,
 * and how to print.
 */
import * as Options from "@effect/cli/Options"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"

export interface Common {
  readonly json: boolean
  readonly showToken: boolean
  readonly profile: Option.Option<string>
  readonly configDir: Option.Option<string>
  readonly mock: boolean
  readonly clientId: Option.Option<string>
  readonly clientSecret: Option.Option<Redacted.Redacted<string>>
  readonly redirectUri: Option.Option<string>
  readonly authUrl: Option.Option<string>
  readonly helixUrl: Option.Option<string>
}

export const json = Options.boolean("json").pipe(
  Options.withDescription("Print the result as JSON on stdout (progress goes to stderr).")
)

export const common = {
  json,
  showToken: Options.boolean("show-token").pipe(
    Options.withDescription("Print access and refresh tokens (hidden otherwise). The client secret is never printed.")
  ),
  profile: Options.text("profile").pipe(
    Options.withDescription(
      "Profile whose token to use (env TWITCH_AUTH_PROFILE; default: default, or mock with --mock)."
    ),
    Options.optional
  ),
  configDir: Options.text("config-dir").pipe(
    Options.withDescription(
      "Directory of the profiles' token files (env TWITCH_AUTH_CONFIG_DIR; default: $XDG_CONFIG_HOME/effect-twitch or ~/.config/effect-twitch)."
    ),
    Options.optional
  ),
  mock: Options.boolean("mock").pipe(
    Options.withDescription(
      "Talk to the mock Twitch `twitch-auth mock` serves (registered in the config dir; started in the background if none runs), with its seeded client."
    )
  ),
  clientId: Options.text("client-id").pipe(
    Options.withDescription("The application's client id (env TWITCH_CLIENT_ID)."),
    Options.optional
  ),
  clientSecret: Options.redacted("client-secret").pipe(
    Options.withDescription("The application's client secret (env TWITCH_CLIENT_SECRET, preferred: flags show in ps)."),
    Options.optional
  ),
  redirectUri: Options.text("redirect-uri").pipe(
    Options.withDescription(
      "Redirect URI registered for the application, on localhost (env TWITCH_REDIRECT_URI; default http://localhost:3000/callback)."
    ),
    Options.optional
  ),
  authUrl: Options.text("auth-url").pipe(
    Options.withDescription(
      "Base URL of the OAuth endpoints (env TWITCH_AUTH_URL; default https://id.twitch.tv/oauth2)."
    ),
    Options.optional
  ),
  helixUrl: Options.text("helix-url").pipe(
    Options.withDescription(
      "Base URL of Helix (env TWITCH_HELIX_URL; default https://api.twitch.tv/helix, or <auth-url origin>/helix for a mock)."
    ),
    Options.optional
  )
} as const

export const scopes = Options.text("scope").pipe(
  Options.withDescription("A scope to request (repeat it, or separate scopes with spaces or commas), e.g. chat:read."),
  Options.repeated
)
