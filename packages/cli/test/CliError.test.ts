/**
 * The exit code each SDK error gives: what a script branches on.
 */
import { TwitchAuthError } from "@effect-twitch/auth"
import { assert, describe, it } from "@effect/vitest"
import * as CliError from "../src/CliError.js"

describe("CliError.fromTwitchError", () => {
  const helix = (reason: TwitchAuthError.HelixUnauthorized["reason"], twitchMessage: string) =>
    CliError.fromTwitchError(new TwitchAuthError.HelixUnauthorized({ reason, endpoint: "helix", twitchMessage }))

  it("issue 12 #1: a Helix 401 that is not about the token is a failure (exit 1), not 'log in again' (exit 4)", () => {
    const refused = helix(
      "Refused",
      "The ID in broadcaster_id must match the user ID found in the request's OAuth token."
    )
    assert.strictEqual(refused.kind, "Failure")
    assert.strictEqual(refused.exitCode, 1)
    assert.include(refused.text, "refreshing the token would not help")
    assert.notInclude(refused.text, "login")
    // the token's own problems still say: no usable token
    assert.strictEqual(helix("MissingToken", "OAuth token is missing").exitCode, 4)
  })
})
