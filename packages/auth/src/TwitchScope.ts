/**
 * Twitch's OAuth scopes: every scope Twitch documents as a `Schema` literal with a short
 * description, the space-separated form the authorize URL and the device endpoint take, and
 * checks that a token's scopes cover what a call needs.
 *
 * Every input that asks for scopes takes {@link Requested}: the documented scopes as literal
 * types (autocompletion; a typo such as `"chat:reed"` fails to compile), or a scope this list
 * does not have yet, passed on purpose through {@link unlisted}. Twitch adds scopes over time,
 * so nothing rejects a scope at run time: a token's scopes stay plain strings, and
 * {@link partition} tells the known from the new.
 *
 * The list follows Twitch's scope reference (https://dev.twitch.tv/docs/authentication/scopes/:
 * the "Twitch API and EventSub" and the chat tables) plus `openid` from the OpenID Connect page.
 * Removed scopes (`channel_subscriptions`, `user:edit:follows`, `whispers:edit`) are left out.
 *
 * @since 0.1.0
 */
import * as Brand from "effect/Brand"
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"

/**
 * Every scope Twitch documents, in the order of its reference page (alphabetical).
 *
 * @since 0.1.0
 * @category constants
 */
export const all = [
  "analytics:read:extensions",
  "analytics:read:games",
  "bits:read",
  "channel:bot",
  "channel:edit:commercial",
  "channel:manage:ads",
  "channel:manage:broadcast",
  "channel:manage:clips",
  "channel:manage:extensions",
  "channel:manage:guest_star",
  "channel:manage:moderators",
  "channel:manage:polls",
  "channel:manage:predictions",
  "channel:manage:raids",
  "channel:manage:redemptions",
  "channel:manage:schedule",
  "channel:manage:videos",
  "channel:manage:vips",
  "channel:moderate",
  "channel:read:ads",
  "channel:read:charity",
  "channel:read:editors",
  "channel:read:goals",
  "channel:read:guest_star",
  "channel:read:hype_train",
  "channel:read:polls",
  "channel:read:predictions",
  "channel:read:redemptions",
  "channel:read:stream_key",
  "channel:read:subscriptions",
  "channel:read:vips",
  "chat:edit",
  "chat:read",
  "clips:edit",
  "editor:manage:clips",
  "moderation:read",
  "moderator:manage:announcements",
  "moderator:manage:automod",
  "moderator:manage:automod_settings",
  "moderator:manage:banned_users",
  "moderator:manage:blocked_terms",
  "moderator:manage:chat_messages",
  "moderator:manage:chat_settings",
  "moderator:manage:guest_star",
  "moderator:manage:shield_mode",
  "moderator:manage:shoutouts",
  "moderator:manage:suspicious_users",
  "moderator:manage:unban_requests",
  "moderator:manage:warnings",
  "moderator:read:automod_settings",
  "moderator:read:banned_users",
  "moderator:read:blocked_terms",
  "moderator:read:chat_messages",
  "moderator:read:chat_settings",
  "moderator:read:chatters",
  "moderator:read:followers",
  "moderator:read:guest_star",
  "moderator:read:moderators",
  "moderator:read:shield_mode",
  "moderator:read:shoutouts",
  "moderator:read:suspicious_users",
  "moderator:read:unban_requests",
  "moderator:read:vips",
  "moderator:read:warnings",
  "openid",
  "user:bot",
  "user:edit",
  "user:edit:broadcast",
  "user:manage:blocked_users",
  "user:manage:chat_color",
  "user:manage:whispers",
  "user:read:blocked_users",
  "user:read:broadcast",
  "user:read:chat",
  "user:read:email",
  "user:read:emotes",
  "user:read:follows",
  "user:read:moderated_channels",
  "user:read:subscriptions",
  "user:read:whispers",
  "user:write:chat",
  "whispers:read"
] as const

/**
 * A scope Twitch documents, e.g. `"channel:manage:polls"`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Scope = Schema.Literal(...all).annotations({
  identifier: "Scope",
  description: "A Twitch OAuth scope"
})

/**
 * @since 0.1.0
 * @category models
 */
export type Scope = typeof Scope.Type

/**
 * A scope that is not in {@link all} (one Twitch added after this release), marked as
 * intended: a plain string is not one, so a typo of a documented scope cannot pass for it.
 * Make one with {@link unlisted}.
 *
 * @since 0.1.0
 * @category models
 */
export type Unlisted = string & Brand.Brand<"@effect-twitch/auth/TwitchScope/Unlisted">

/**
 * Marks a scope this SDK does not list as intended, for every input that asks for scopes.
 * Nothing is checked: Twitch decides (an unknown scope is refused there, as `InvalidScope`).
 *
 * @example
 * ```ts
 * import { TwitchScope } from "@effect-twitch/auth"
 *
 * const scopes: ReadonlyArray<TwitchScope.Requested> = ["chat:read", TwitchScope.unlisted("channel:read:new_thing")]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const unlisted: Brand.Brand.Constructor<Unlisted> = Brand.nominal<Unlisted>()

/**
 * A scope to ask for: a documented {@link Scope} (checked by the compiler) or an
 * {@link Unlisted} one. Every input of this SDK that asks for scopes takes these
 * (`authorizationUrl`, `appToken`, `startDeviceAuthorization`, `DeviceFlow`, `ImplicitFlow`,
 * `OpenIdConnect`, `AppTokenSession`, the `required` side of {@link covers} and
 * {@link missing}); tokens' scopes, which Twitch writes, stay strings.
 *
 * @since 0.1.0
 * @category models
 */
export type Requested = Scope | Unlisted

/**
 * A scope from text the program does not control (a flag, a file, a prompt): a documented
 * scope as itself, anything else as {@link unlisted}. For scopes written in code, write the
 * literal, so that the compiler checks it.
 *
 * @example
 * ```ts
 * import { TwitchScope } from "@effect-twitch/auth"
 *
 * const fromFlag = "chat:read user:read:email".split(" ").map(TwitchScope.requested)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const requested = (scope: string): Requested => (isScope(scope) ? scope : unlisted(scope))

/**
 * What each scope lets an application do, in a line.
 *
 * @since 0.1.0
 * @category constants
 */
export const descriptions: { readonly [K in Scope]: string } = {
  "analytics:read:extensions": "View analytics data for the Extensions the account owns.",
  "analytics:read:games": "View analytics data for the games the account owns.",
  "bits:read": "View Bits information (leaderboard, cheers) for a channel.",
  "channel:bot": "Let a bot user join the channel's chat and act there as that bot.",
  "channel:edit:commercial": "Run commercials on a channel.",
  "channel:manage:ads": "Manage a channel's ad schedule (snooze ads).",
  "channel:manage:broadcast": "Update channel information, stream markers and stream tags.",
  "channel:manage:clips": "Manage the clips of a channel.",
  "channel:manage:extensions": "Manage and activate a channel's Extensions.",
  "channel:manage:guest_star": "Manage Guest Star sessions on the channel.",
  "channel:manage:moderators": "Add or remove the moderator role in the channel.",
  "channel:manage:polls": "Create and end a channel's polls.",
  "channel:manage:predictions": "Create, lock and resolve a channel's Channel Points predictions.",
  "channel:manage:raids": "Start and cancel raids from the channel.",
  "channel:manage:redemptions": "Manage Channel Points custom rewards and their redemptions.",
  "channel:manage:schedule": "Manage a channel's stream schedule.",
  "channel:manage:videos": "Manage (and delete) a channel's videos.",
  "channel:manage:vips": "Add or remove the VIP role in the channel.",
  "channel:moderate": "Perform moderation actions in a channel (chat and EventSub).",
  "channel:read:ads": "Read a channel's ad schedule and ad details.",
  "channel:read:charity": "Read the channel's charity campaign and its donations.",
  "channel:read:editors": "List the users with the editor role in a channel.",
  "channel:read:goals": "Read a channel's Creator Goals.",
  "channel:read:guest_star": "Read Guest Star details of the channel.",
  "channel:read:hype_train": "Read a channel's Hype Train events.",
  "channel:read:polls": "Read a channel's polls.",
  "channel:read:predictions": "Read a channel's Channel Points predictions.",
  "channel:read:redemptions": "Read Channel Points custom rewards and their redemptions.",
  "channel:read:stream_key": "Read the user's stream key.",
  "channel:read:subscriptions": "List a channel's subscribers and check whether a user is one.",
  "channel:read:vips": "List the VIPs of the channel.",
  "chat:edit": "Send chat messages over an IRC connection.",
  "chat:read": "Read chat messages over an IRC connection.",
  "clips:edit": "Create clips for a channel.",
  "editor:manage:clips": "Manage clips in channels where the user is an editor.",
  "moderation:read": "Read a channel's moderation data: moderators, bans, timeouts, AutoMod.",
  "moderator:manage:announcements": "Send announcements where the user is a moderator.",
  "moderator:manage:automod": "Approve or deny messages AutoMod held for review.",
  "moderator:manage:automod_settings": "Change a broadcaster's AutoMod settings.",
  "moderator:manage:banned_users": "Ban and unban users.",
  "moderator:manage:blocked_terms": "Manage a broadcaster's blocked terms.",
  "moderator:manage:chat_messages": "Delete chat messages where the user is a moderator.",
  "moderator:manage:chat_settings": "Change a broadcaster's chat settings.",
  "moderator:manage:guest_star": "Manage Guest Star where the user is a Guest Star moderator.",
  "moderator:manage:shield_mode": "Turn a broadcaster's Shield Mode on or off.",
  "moderator:manage:shoutouts": "Send shoutouts on a broadcaster's behalf.",
  "moderator:manage:suspicious_users": "Flag or unflag suspicious users where the user is a moderator.",
  "moderator:manage:unban_requests": "Resolve a broadcaster's unban requests.",
  "moderator:manage:warnings": "Warn users where the user is a moderator.",
  "moderator:read:automod_settings": "Read a broadcaster's AutoMod settings.",
  "moderator:read:banned_users": "Read bans and unbans where the user is a moderator.",
  "moderator:read:blocked_terms": "Read a broadcaster's blocked terms.",
  "moderator:read:chat_messages": "Read deleted chat messages where the user is a moderator.",
  "moderator:read:chat_settings": "Read a broadcaster's chat settings.",
  "moderator:read:chatters": "List the chatters in a broadcaster's chat room.",
  "moderator:read:followers": "List a broadcaster's followers.",
  "moderator:read:guest_star": "Read Guest Star details where the user is a Guest Star moderator.",
  "moderator:read:moderators": "List the moderators where the user is a moderator.",
  "moderator:read:shield_mode": "Read a broadcaster's Shield Mode status.",
  "moderator:read:shoutouts": "Read a broadcaster's shoutouts.",
  "moderator:read:suspicious_users": "See suspicious users and their messages where the user is a moderator.",
  "moderator:read:unban_requests": "Read a broadcaster's unban requests.",
  "moderator:read:vips": "List the VIPs where the user is a moderator.",
  "moderator:read:warnings": "Read warnings where the user is a moderator.",
  "openid": "Sign in with OpenID Connect: an ID token and the userinfo endpoint.",
  "user:bot": "Join chat channels as the user and appear there as a bot.",
  "user:edit": "Update the user's description.",
  "user:edit:broadcast": "View and edit the user's broadcast and Extension configuration.",
  "user:manage:blocked_users": "Block and unblock users for the user.",
  "user:manage:chat_color": "Change the colour of the user's name in chat.",
  "user:manage:whispers": "Read whispers sent to the user and send whispers as the user.",
  "user:read:blocked_users": "Read the user's block list.",
  "user:read:broadcast": "Read the user's broadcast and Extension configuration.",
  "user:read:chat": "Receive chat messages and notifications of a channel's chat room.",
  "user:read:email": "Read the user's email address.",
  "user:read:emotes": "List the emotes the user can use.",
  "user:read:follows": "List the channels the user follows.",
  "user:read:moderated_channels": "List the channels where the user is a moderator.",
  "user:read:subscriptions": "Check whether the user subscribes to given channels.",
  "user:read:whispers": "Read whispers sent to the user.",
  "user:write:chat": "Send chat messages as the user.",
  "whispers:read": "Read the user's whispers over PubSub."
}

/**
 * Whether a string is a scope Twitch documents.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isScope: (u: unknown) => u is Scope = Schema.is(Scope)

/**
 * The description of a documented scope; `undefined` for a scope this SDK does not know.
 *
 * @since 0.1.0
 * @category utils
 */
export const describe = (scope: string): string | undefined => isScope(scope) ? descriptions[scope] : undefined

/**
 * Parses Twitch's space-separated form (`"chat:read chat:edit"`, as in an authorize URL's
 * `scope` parameter once URL-decoded) into a list: any run of whitespace separates, empty
 * entries and repeats are dropped, order is kept. Unknown scopes are kept as they are.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string): ReadonlyArray<string> => unique(text.split(/\s+/))

/**
 * The space-separated form Twitch takes (`scope` on the authorize URL, `scopes` on
 * `POST /oauth2/device`): duplicates and empty entries dropped, order kept.
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (scopes: Iterable<string>): string => unique(scopes).join(" ")

const unique = (scopes: Iterable<string>): ReadonlyArray<string> => {
  const seen = new Set<string>()
  for (const scope of scopes) {
    if (scope.length > 0) seen.add(scope)
  }
  return Array.from(seen)
}

/**
 * A `Schema` between the space-separated string and the list of scopes: decoding parses
 * (unknown scopes survive), encoding formats.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FromSpaceSeparated: Schema.Schema<ReadonlyArray<string>, string> = Schema.transform(
  Schema.String,
  Schema.Array(Schema.String),
  { strict: true, decode: parse, encode: format }
)

/**
 * The scopes of `required` that `granted` (a token's scopes, as Twitch wrote them) lacks, in
 * the order of `required`.
 *
 * @example
 * ```ts
 * import { TwitchScope } from "@effect-twitch/auth"
 *
 * TwitchScope.missing(["chat:read"], ["chat:read", "chat:edit"]) // ["chat:edit"]
 * ```
 *
 * @since 0.1.0
 * @category checks
 */
export const missing: {
  (required: Iterable<Requested>): (granted: Iterable<string>) => ReadonlyArray<Requested>
  (granted: Iterable<string>, required: Iterable<Requested>): ReadonlyArray<Requested>
} = dual(2, (granted: Iterable<string>, required: Iterable<Requested>): ReadonlyArray<Requested> => {
  const have = new Set(granted)
  const seen = new Set<string>()
  const lacking: Array<Requested> = []
  for (const scope of required) {
    if (scope.length > 0 && !have.has(scope) && !seen.has(scope)) lacking.push(scope)
    seen.add(scope)
  }
  return lacking
})

/**
 * Whether `granted` (a token's scopes) includes every scope of `required`.
 *
 * @example
 * ```ts
 * import { TwitchScope, TwitchSession } from "@effect-twitch/auth"
 * import { Effect } from "effect"
 *
 * // may the session's user manage polls?
 * const canManagePolls = Effect.map(
 *   Effect.flatMap(TwitchSession.TwitchSession, (session) => session.token),
 *   (token) => TwitchScope.covers(token.scopes, ["channel:manage:polls"])
 * )
 * ```
 *
 * @since 0.1.0
 * @category checks
 */
export const covers: {
  (required: Iterable<Requested>): (granted: Iterable<string>) => boolean
  (granted: Iterable<string>, required: Iterable<Requested>): boolean
} = dual(
  2,
  (granted: Iterable<string>, required: Iterable<Requested>): boolean => missing(granted, required).length === 0
)

/**
 * Splits a list of scopes (e.g. a token's, as Twitch returned them) into the ones this SDK
 * knows and the ones it does not (scopes Twitch added since).
 *
 * @since 0.1.0
 * @category parsing
 */
export const partition = (
  scopes: Iterable<string>
): { readonly known: ReadonlyArray<Scope>; readonly unknown: ReadonlyArray<string> } => {
  const known: Array<Scope> = []
  const unknown: Array<string> = []
  for (const scope of unique(scopes)) {
    if (isScope(scope)) known.push(scope)
    else unknown.push(scope)
  }
  return { known, unknown }
}
