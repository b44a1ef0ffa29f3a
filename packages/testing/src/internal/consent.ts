/**
 * The mock's consent page: what id.twitch.tv shows at `/oauth2/authorize` before it redirects
 * (the application, the account it signs in as, the scopes with what each allows, Authorize
 * and Cancel), and the reading of that page a script does when it "clicks" a button.
 * Not part of the public API.
 */
import type * as Wire from "./wire.js"

/** The form field carrying the anti-forgery token bound to one page. */
export const tokenField = "consent_token"

/** The form field carrying the button the user clicked. */
export const decisionField = "decision"

/** The two buttons of the page. */
export type Decision = "authorize" | "cancel"

/** Whether a submitted `decision` is one of the page's buttons. */
export const isDecision = (value: string | undefined): value is Decision => value === "authorize" || value === "cancel"

/**
 * What each scope lets the application do, in the words of the page (paraphrasing
 * https://dev.twitch.tv/docs/authentication/scopes/). A scope without an entry is shown by
 * name alone.
 */
const scopeDescriptions: ReadonlyMap<string, string> = new Map([
  ["analytics:read:extensions", "View analytics data for your Twitch Extensions"],
  ["analytics:read:games", "View analytics data for your games"],
  ["bits:read", "View Bits information for your channel"],
  ["channel:bot", "Let the application's bot act in your channel's chat"],
  ["channel:edit:commercial", "Run commercials on your channel"],
  ["channel:manage:ads", "Manage ads schedule on your channel"],
  ["channel:manage:broadcast", "Manage your channel's broadcast configuration, stream markers and tags"],
  ["channel:manage:clips", "Manage clips of your channel"],
  ["channel:manage:extensions", "Manage your channel's Extension configuration"],
  ["channel:manage:guest_star", "Manage Guest Star for your channel"],
  ["channel:manage:moderators", "Add or remove moderators on your channel"],
  ["channel:manage:polls", "Manage polls on your channel"],
  ["channel:manage:predictions", "Manage Channel Points Predictions on your channel"],
  ["channel:manage:raids", "Start and cancel raids from your channel"],
  ["channel:manage:redemptions", "Manage Channel Points custom rewards and their redemptions"],
  ["channel:manage:schedule", "Manage your channel's stream schedule"],
  ["channel:manage:videos", "Manage your channel's videos"],
  ["channel:manage:vips", "Add or remove VIPs on your channel"],
  ["channel:moderate", "Perform moderation actions in a channel"],
  ["channel:read:ads", "View ads schedule and details on your channel"],
  ["channel:read:charity", "View charity campaign details for your channel"],
  ["channel:read:editors", "View the list of your channel's editors"],
  ["channel:read:goals", "View Creator Goals for your channel"],
  ["channel:read:guest_star", "View Guest Star details for your channel"],
  ["channel:read:hype_train", "View Hype Train information for your channel"],
  ["channel:read:polls", "View polls on your channel"],
  ["channel:read:predictions", "View Channel Points Predictions on your channel"],
  ["channel:read:redemptions", "View Channel Points custom rewards and their redemptions"],
  ["channel:read:stream_key", "View your stream key"],
  ["channel:read:subscriptions", "View the list of subscribers to your channel"],
  ["channel:read:vips", "View the list of VIPs on your channel"],
  ["chat:edit", "Send chat messages"],
  ["chat:read", "View chat messages"],
  ["clips:edit", "Create clips from a broadcast or video"],
  ["editor:manage:clips", "Manage clips of the channels you are an editor of"],
  ["moderation:read", "View your channel's moderation data: moderators, bans, timeouts, AutoMod"],
  ["moderator:manage:announcements", "Send announcements in channels you moderate"],
  ["moderator:manage:automod", "Approve or deny messages AutoMod held in channels you moderate"],
  ["moderator:manage:automod_settings", "Manage AutoMod settings in channels you moderate"],
  ["moderator:manage:banned_users", "Ban and unban users in channels you moderate"],
  ["moderator:manage:blocked_terms", "Manage blocked terms in channels you moderate"],
  ["moderator:manage:chat_messages", "Delete chat messages in channels you moderate"],
  ["moderator:manage:chat_settings", "Manage chat settings in channels you moderate"],
  ["moderator:manage:guest_star", "Manage Guest Star for channels you moderate"],
  ["moderator:manage:shield_mode", "Manage Shield Mode in channels you moderate"],
  ["moderator:manage:shoutouts", "Send shoutouts in channels you moderate"],
  ["moderator:manage:suspicious_users", "Manage suspicious users in channels you moderate"],
  ["moderator:manage:unban_requests", "Resolve unban requests in channels you moderate"],
  ["moderator:manage:warnings", "Warn users in channels you moderate"],
  ["moderator:read:automod_settings", "View AutoMod settings in channels you moderate"],
  ["moderator:read:banned_users", "View banned users in channels you moderate"],
  ["moderator:read:blocked_terms", "View blocked terms in channels you moderate"],
  ["moderator:read:chat_messages", "View deleted chat messages in channels you moderate"],
  ["moderator:read:chat_settings", "View chat settings in channels you moderate"],
  ["moderator:read:chatters", "View the chatters in channels you moderate"],
  ["moderator:read:followers", "View the followers of channels you moderate"],
  ["moderator:read:guest_star", "View Guest Star details for channels you moderate"],
  ["moderator:read:moderators", "View the moderators of channels you moderate"],
  ["moderator:read:shield_mode", "View Shield Mode status in channels you moderate"],
  ["moderator:read:shoutouts", "View shoutouts in channels you moderate"],
  ["moderator:read:suspicious_users", "View suspicious users' messages in channels you moderate"],
  ["moderator:read:unban_requests", "View unban requests in channels you moderate"],
  ["moderator:read:vips", "View the VIPs of channels you moderate"],
  ["moderator:read:warnings", "View warnings in channels you moderate"],
  ["openid", "Sign you in with your Twitch account (OpenID Connect)"],
  ["user:bot", "Let the application's bot appear in chat as you"],
  ["user:edit", "Manage your user object"],
  ["user:edit:broadcast", "Manage your broadcasting configuration"],
  ["user:manage:blocked_users", "Block and unblock users for you"],
  ["user:manage:chat_color", "Change the color of your name in chat"],
  ["user:manage:whispers", "Send whispers as you"],
  ["user:read:blocked_users", "View the list of users you blocked"],
  ["user:read:broadcast", "View your broadcasting configuration, including Extension configurations"],
  ["user:read:chat", "Receive chatroom messages and informational notifications as you"],
  ["user:read:email", "View your email address"],
  ["user:read:emotes", "View the emotes available to you"],
  ["user:read:follows", "View the list of channels you follow"],
  ["user:read:moderated_channels", "View the list of channels you moderate"],
  ["user:read:subscriptions", "View whether you are subscribed to a channel"],
  ["user:read:whispers", "Receive whispers sent to you"],
  ["user:write:chat", "Send chat messages as you"],
  ["whispers:read", "View your whisper messages"]
])

const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }

/** Escapes text for an HTML text node or a double-quoted attribute. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => entities[c] ?? c)

/**
 * The headers of the page. `frame-ancestors 'none'` and `X-Frame-Options: DENY` keep it out
 * of frames (no clickjacking of the Authorize button); no script may run on it; it is never
 * cached, and its URL (which carries `state`) is not sent as a referrer. No `form-action`:
 * browsers apply it to the redirect that follows the POST, which goes to the application.
 */
export const pageHeaders: Record<string, string> = {
  "content-type": "text/html; charset=utf-8",
  "x-frame-options": "DENY",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff"
}

/** What the page shows and what its form sends back. */
export interface Page {
  readonly client: { readonly clientId: string; readonly type: "confidential" | "public" }
  readonly user: { readonly userId: string; readonly login: string }
  readonly scopes: ReadonlyArray<string>
  /** The path the form posts to (the page's own path, `/oauth2/authorize`). */
  readonly action: string
  /** Every parameter of the request, sent back as hidden inputs. */
  readonly params: Record<string, string>
  /** The anti-forgery token bound to this page. */
  readonly token: string
}

const hidden = (name: string, value: string) =>
  `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`

const scopeItem = (scope: string) => {
  const description = scopeDescriptions.get(scope)
  return description === undefined
    ? `<li><code>${escapeHtml(scope)}</code></li>`
    : `<li>${escapeHtml(description)} <code>${escapeHtml(scope)}</code></li>`
}

/** The consent page: 200 text/html, every echoed value escaped. */
export const page = (input: Page): Wire.Response => {
  const inputs = Object.entries(input.params)
    .filter(([name]) => name !== tokenField && name !== decisionField)
    .map(([name, value]) => hidden(name, value))
  const scopes = input.scopes.length === 0
    ? `<p>It asks for no permissions: it will only know who you are.</p>`
    : `<p>It will be able to:</p>\n<ul>\n${input.scopes.map(scopeItem).join("\n")}\n</ul>`
  const body = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Authorize application — mock Twitch</title>
<style>body{font-family:sans-serif;max-width:32em;margin:2em auto}code{color:#555}button{margin-right:1em}</style>
</head>
<body>
<h1>Authorize application</h1>
<p>The application <strong id="client">${escapeHtml(input.client.clientId)}</strong> (${input.client.type} client)
wants to access your account.</p>
<p>Signed in as <strong id="user">${escapeHtml(input.user.login)}</strong> (user id ${
    escapeHtml(input.user.userId)
  }).</p>
${scopes}
<form method="post" action="${escapeHtml(input.action)}">
${inputs.join("\n")}
${hidden(tokenField, input.token)}
<button type="submit" name="${decisionField}" value="authorize">Authorize</button>
<button type="submit" name="${decisionField}" value="cancel">Cancel</button>
</form>
<p><small>This is the mock Twitch of effect-twitch, not twitch.tv.</small></p>
</body>
</html>
`
  return { status: 200, headers: { ...pageHeaders }, body }
}

// ---------------------------------------------------------------------------------------------
// reading a page, as a browser does when a button is clicked
// ---------------------------------------------------------------------------------------------

const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'" }

/** Decodes the character references an attribute value may carry. */
const unescapeHtml = (text: string): string =>
  text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref.startsWith("#x") || ref.startsWith("#X")) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16))
    if (ref.startsWith("#")) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10))
    return named[ref.toLowerCase()] ?? whole
  })

/** The attributes of one tag (`<input a="1" b='2' c=3 d>`), names lowercased, values decoded. */
const attributes = (tag: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const pattern = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g
  for (const match of tag.replace(/^<\s*[a-z]+/i, "").matchAll(pattern)) {
    const name = match[1]
    if (name === undefined) continue
    const key = name.toLowerCase()
    if (key in out) continue
    out[key] = unescapeHtml(match[2] ?? match[3] ?? match[4] ?? "")
  }
  return out
}

/** A form as a browser would submit it: where, and the fields (in document order). */
export interface Form {
  readonly method: string
  readonly action: string
  readonly fields: ReadonlyArray<readonly [string, string]>
  readonly buttons: ReadonlyArray<readonly [string, string]>
}

/** The first `<form>` of a page: its method, action, hidden and text inputs, and submit buttons. */
export const readForm = (html: string): Form | undefined => {
  const open = /<form\b[^>]*>/i.exec(html)
  if (open === null) return undefined
  const end = html.indexOf("</form>", open.index)
  const inner = html.slice(open.index + open[0].length, end === -1 ? html.length : end)
  const form = attributes(open[0])
  const fields: Array<readonly [string, string]> = []
  const buttons: Array<readonly [string, string]> = []
  for (const tag of inner.matchAll(/<(input|button)\b[^>]*>/gi)) {
    const attrs = attributes(tag[0])
    const name = attrs["name"]
    if (name === undefined || "disabled" in attrs) continue
    const type = (attrs["type"] ?? (tag[1]?.toLowerCase() === "button" ? "submit" : "text")).toLowerCase()
    if (type === "submit") buttons.push([name, attrs["value"] ?? ""])
    else if (type !== "button" && type !== "reset" && type !== "image" && type !== "file") {
      if ((type === "checkbox" || type === "radio") && !("checked" in attrs)) continue
      fields.push([name, attrs["value"] ?? ""])
    }
  }
  return { method: (form["method"] ?? "get").toLowerCase(), action: form["action"] ?? "", fields, buttons }
}
