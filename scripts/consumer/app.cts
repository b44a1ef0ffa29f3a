// The consumer test's CommonJS TypeScript file: under NodeNext it compiles to `require` calls,
// so the packages' types must resolve through the `require` side of their exports too.
import { TwitchAuth } from "@effect-twitch/auth"
import { SqlTokenStore } from "@effect-twitch/sql"
import { MockTwitchServer } from "@effect-twitch/testing"

export const tags: ReadonlyArray<string> = [TwitchAuth.TwitchAuth.key, MockTwitchServer.MockTwitchServer.key]
export const sqlStore = SqlTokenStore.layer({ table: "twitch_tokens" })
