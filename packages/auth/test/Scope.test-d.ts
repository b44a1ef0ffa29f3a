/**
 * Type tests (Vitest typecheck, and `tsc -b` through tsconfig.test.json): every input that
 * asks for scopes takes the documented literals or an explicit `Scope.unlisted`, never any
 * string; tokens' scopes stay strings.
 */
import {
  AppTokenSession,
  DeviceFlow,
  ImplicitFlow,
  type OpenIdConnect,
  Scope,
  type Token,
  type TwitchAuth
} from "@effect-twitch/auth"
import { TwitchAuthTest } from "@effect-twitch/testing"
import { describe, expectTypeOf, it } from "vitest"

declare const auth: TwitchAuth.TwitchAuth.Service
declare const oidc: OpenIdConnect.OpenIdConnect.Service
declare const token: Token.UserToken
declare const fromAFlag: string

describe("issue 12 #14: scopes are typed as the known literals, with Scope.unlisted for new ones", () => {
  it("issue 12 #14: a typo of a documented scope fails to compile, everywhere scopes are asked for", () => {
    // @ts-expect-error "chat:reed" is not a scope Twitch documents
    auth.appToken({ scopes: ["chat:reed"] })
    // @ts-expect-error the same typo
    auth.authorizationUrl({ scopes: ["chat:reed"] })
    // @ts-expect-error the same typo
    auth.startDeviceAuthorization({ scopes: ["chat:reed"] })
    // @ts-expect-error the same typo
    DeviceFlow.start({ scopes: ["chat:reed"] })
    // @ts-expect-error the same typo
    DeviceFlow.stream({ scopes: ["chat:reed"] })
    // @ts-expect-error the same typo
    ImplicitFlow.authorizationUrl({ scopes: ["chat:reed"] })
    // @ts-expect-error the same typo
    oidc.authorizationUrl({ scopes: ["chat:reed"] })
    // @ts-expect-error the same typo
    AppTokenSession.make({ scopes: ["chat:reed"] })
    // @ts-expect-error the same typo
    TwitchAuthTest.layerSession({ scopes: ["chat:reed"] })
    // @ts-expect-error the same typo
    Scope.covers(token.scopes, ["chat:reed"])
    // @ts-expect-error the same typo
    Scope.missing(["chat:reed"])(token.scopes)
    // @ts-expect-error a plain string is not a scope either: say which it is
    auth.appToken({ scopes: [fromAFlag] })
  })

  it("issue 12 #14: documented scopes, Scope.unlisted and Scope.requested compile", () => {
    auth.appToken({ scopes: ["chat:read", Scope.unlisted("channel:read:new_thing")] })
    auth.authorizationUrl({ scopes: new Set(["chat:read", "user:write:chat"] as const) })
    DeviceFlow.start({ scopes: fromAFlag.split(" ").map(Scope.requested) })
    expectTypeOf(Scope.unlisted("x:y")).toEqualTypeOf<Scope.Unlisted>()
    expectTypeOf(Scope.requested("chat:read")).toEqualTypeOf<Scope.Requested>()
    expectTypeOf<"chat:read">().toMatchTypeOf<Scope.Requested>()
    expectTypeOf<string>().not.toMatchTypeOf<Scope.Requested>()
  })

  it("issue 12 #14: tokens' scopes, written by Twitch, stay strings", () => {
    expectTypeOf(token.scopes).toEqualTypeOf<ReadonlyArray<string>>()
    expectTypeOf(Scope.covers(token.scopes, ["chat:read"])).toEqualTypeOf<boolean>()
    expectTypeOf(Scope.missing(token.scopes, ["chat:read"])).toEqualTypeOf<ReadonlyArray<Scope.Requested>>()
  })
})
