/**
 * Type tests (Vitest typecheck, and `tsc -b` through tsconfig.test.json): every input that
 * asks for scopes takes the documented literals or an explicit `TwitchScope.unlisted`, never any
 * string; tokens' scopes stay strings.
 */
import {
  AppTokenSession,
  DeviceFlow,
  ImplicitFlow,
  type OpenIdConnect,
  type Token,
  type TwitchAuth,
  TwitchScope
} from "@effect-twitch/auth"
import { TwitchAuthTest } from "@effect-twitch/testing"
import { describe, expectTypeOf, it } from "vitest"

declare const auth: TwitchAuth.TwitchAuth.Service
declare const oidc: OpenIdConnect.OpenIdConnect.Service
declare const token: Token.UserToken
declare const fromAFlag: string

describe("issue 12 #14: scopes are typed as the known literals, with TwitchScope.unlisted for new ones", () => {
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
    TwitchScope.covers(token.scopes, ["chat:reed"])
    // @ts-expect-error the same typo
    TwitchScope.missing(["chat:reed"])(token.scopes)
    // @ts-expect-error a plain string is not a scope either: say which it is
    auth.appToken({ scopes: [fromAFlag] })
  })

  it("issue 12 #14: documented scopes, TwitchScope.unlisted and TwitchScope.requested compile", () => {
    auth.appToken({ scopes: ["chat:read", TwitchScope.unlisted("channel:read:new_thing")] })
    auth.authorizationUrl({ scopes: new Set(["chat:read", "user:write:chat"] as const) })
    DeviceFlow.start({ scopes: fromAFlag.split(" ").map(TwitchScope.requested) })
    expectTypeOf(TwitchScope.unlisted("x:y")).toEqualTypeOf<TwitchScope.Unlisted>()
    expectTypeOf(TwitchScope.requested("chat:read")).toEqualTypeOf<TwitchScope.Requested>()
    expectTypeOf<"chat:read">().toMatchTypeOf<TwitchScope.Requested>()
    expectTypeOf<string>().not.toMatchTypeOf<TwitchScope.Requested>()
  })

  it("issue 12 #14: tokens' scopes, written by Twitch, stay strings", () => {
    expectTypeOf(token.scopes).toEqualTypeOf<ReadonlyArray<string>>()
    expectTypeOf(TwitchScope.covers(token.scopes, ["chat:read"])).toEqualTypeOf<boolean>()
    expectTypeOf(TwitchScope.missing(token.scopes, ["chat:read"])).toEqualTypeOf<ReadonlyArray<TwitchScope.Requested>>()
  })
})
