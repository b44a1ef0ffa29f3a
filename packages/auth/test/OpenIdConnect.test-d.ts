/**
 * Type tests of `OpenIdConnect` (Vitest typecheck, and `tsc -b` through tsconfig.test.json):
 * the nonce of `verifyIdToken` is required, or skipped explicitly (issue 11 #12). Moved here
 * from OpenIdConnect.test.ts, where they were checked by `tsc` only (issue 13 #3).
 */
import type { OpenIdConnect } from "@effect-twitch/auth"
import type * as Redacted from "effect/Redacted"
import { describe, expectTypeOf, it } from "vitest"

describe("issue 11 #12: the nonce is required, or skipped explicitly", () => {
  it("verifyIdToken without a nonce option does not compile", () => {
    type Verify = OpenIdConnect.OpenIdConnect.Service["verifyIdToken"]
    type Options = Parameters<Verify>[1]
    expectTypeOf<Options>().toEqualTypeOf<{ readonly nonce: OpenIdConnect.NonceCheck }>()
    expectTypeOf<undefined>().not.toMatchTypeOf<Options>()
    expectTypeOf<{}>().not.toMatchTypeOf<Options>()
    expectTypeOf<{ nonce: undefined }>().not.toMatchTypeOf<Options>()
    expectTypeOf<{ nonce: { skip: false } }>().not.toMatchTypeOf<Options>()
    const check = (oidc: OpenIdConnect.OpenIdConnect.Service, token: Redacted.Redacted<string>) => {
      // @ts-expect-error the nonce option is required
      void oidc.verifyIdToken(token)
      // @ts-expect-error an empty options object is not an explicit skip
      void oidc.verifyIdToken(token, {})
    }
    expectTypeOf(check).toBeFunction()
  })
})
