/**
 * Every `TwitchAuth` operation that sends a request, by name, for the suites that run each one
 * against the same answers (fuzzed bodies, a hostile server).
 */
import type { TwitchAuth, TwitchAuthError } from "@effect-twitch/auth"
import type * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

export const operations = [
  "exchangeCode",
  "refreshToken",
  "validateToken",
  "revokeToken",
  "appToken",
  "startDeviceAuthorization",
  "pollDeviceToken"
] as const

export type Operation = typeof operations[number]

/** What the operations send. */
export interface Inputs {
  readonly code: string
  readonly accessToken: string
  readonly refreshToken: string
  readonly deviceCode: string
}

/** Runs `operation` with `inputs`. */
export const runOperation = (
  auth: TwitchAuth.TwitchAuth.Service,
  operation: Operation,
  inputs: Inputs
): Effect.Effect<unknown, TwitchAuthError.TwitchAuthError> => {
  switch (operation) {
    case "exchangeCode":
      return auth.exchangeCode(inputs.code)
    case "refreshToken":
      return auth.refreshToken(Redacted.make(inputs.refreshToken))
    case "validateToken":
      return auth.validateToken(Redacted.make(inputs.accessToken))
    case "revokeToken":
      return auth.revokeToken(Redacted.make(inputs.accessToken))
    case "appToken":
      return auth.appToken()
    case "startDeviceAuthorization":
      return auth.startDeviceAuthorization({ scopes: ["chat:read"] })
    case "pollDeviceToken":
      return auth.pollDeviceToken(Redacted.make(inputs.deviceCode))
  }
}
