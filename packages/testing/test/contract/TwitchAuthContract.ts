/**
 * The contract of `TwitchAuth` over the FakeTwitch model, written once and run against every
 * adapter (`contract.test.ts`): the real client over undici and the mock server on
 * 127.0.0.1, and `TwitchAuthTest.layer()` (the real client over the in-memory transport).
 * Every case asserts what a user relies on — the decoded value, the error tag and its fields,
 * what Twitch saw — with the same expectations for every adapter, so a behaviour difference
 * between two adapters fails one of them.
 *
 * An adapter is a Layer that provides, fresh for each test:
 * - `FakeTwitch`: a new fake with the default seed and default lifetimes;
 * - `TwitchAuthConfig`: the seed's confidential client, its first redirect URI, and a retry
 *   schedule of 3 retries without waits;
 * - `TwitchAuth`: built from that configuration over the adapter's transport;
 * - `HttpClient`: that transport (the cases build other clients with it, e.g. a public one,
 *   and follow the consent redirect with it).
 *
 * Time: each test builds its adapter inside the test, on `TestClock`. The in-memory
 * transport runs the fake in the calling fiber; the mock server's request fibers are forked
 * from the Layer's scope and inherit the test's services, `TestClock` included. So on both
 * adapters the model's clock is the test's clock: expiry is driven by `TestClock.adjust`,
 * and lifetimes can be compared exactly. Only the bytes differ: over a socket they are real
 * HTTP, so a case that forks a request waits for the fake to see it (`untilCalls`) before it
 * moves the clock.
 */
import { describe } from "@effect/vitest"
import { appAndDeviceCases } from "./appAndDevice.js"
import { authorizationCodeCases } from "./authorizationCode.js"
import { sessionCases } from "./session.js"
import { type Adapter, testWith } from "./support.js"
import { tokenCases } from "./tokens.js"
import { transientCases } from "./transient.js"

export type { Adapter } from "./support.js"

/**
 * Runs the contract against `adapter`. Every test gets a fresh adapter (a fresh fake).
 */
export const contract = (name: string, adapter: Adapter) =>
  describe(`TwitchAuth contract — ${name}`, () => {
    const test = testWith(adapter)
    authorizationCodeCases(test)
    tokenCases(test)
    appAndDeviceCases(test)
    transientCases(test)
    sessionCases(test)
  })
