// The consumer test's CommonJS TypeScript file: under NodeNext it compiles to `require` calls,
// so the packages' types must resolve through the `require` side of their exports too.
import { TwitchAuth } from "@effect-twitch/auth"
import { MockTwitchServer } from "@effect-twitch/testing"

export const tags: ReadonlyArray<string> = [TwitchAuth.TwitchAuth.key, MockTwitchServer.MockTwitchServer.key]
