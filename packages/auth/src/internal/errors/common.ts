/**
 * What every error class of `@effect-twitch/auth` shares: the type id that marks it (public
 * as `TwitchAuthError.TypeId`), the endpoint field and the quoting of Twitch's words in
 * messages. A leaf module: the error classes import it, it imports none of them.
 */
import * as Schema from "effect/Schema"

/**
 * Declared by every error class of `@effect-twitch/auth` and set on its prototype by
 * {@link setTypeId} (so it is in no field, no `JSON.stringify` output and no structural
 * comparison). `Symbol.for`, so two copies of the package in one program recognise each
 * other's errors.
 */
export const TypeId: unique symbol = Symbol.for("@effect-twitch/auth/TwitchAuthError")

/** The type of {@link TypeId}. */
export type TypeId = typeof TypeId

/** Sets {@link TypeId} on the prototype of an error class (not enumerable, not writable). */
export const setTypeId = (errorClass: { readonly prototype: object }): void => {
  Object.defineProperty(errorClass.prototype, TypeId, { value: TypeId })
}

/** Errors name the endpoint as text: `POST /oauth2/token`, or a Helix route such as `GET /helix/users`. */
export const endpoint = Schema.String

/** Twitch's words (or a value of the request) in a message, quoted as JSON. */
export const quote = (s: string): string => JSON.stringify(s)
