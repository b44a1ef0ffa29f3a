/**
 * Fault injection: what an injected fault answers in place of the endpoint, on id.twitch.tv
 * and on Helix.
 */
import * as Option from "effect/Option"
import { chargeHelix, helixError, rateLimitHeaders, withHeaders } from "./helix.js"
import type * as Model from "./model.js"
import type { State, Transition } from "./state.js"
import * as Wire from "./wire.js"

export type AnswerFault = Exclude<Model.Fault, { readonly _tag: "Delay" | "Hang" }>

/** What a `Reset` fault answers: nothing; the transport drops the connection. */
const resetAnswer: Model.WireResponse = { status: 0, headers: {}, body: "", reset: true }

/** The answer of a `Raw` fault: exactly what the test gave. */
const rawAnswer = (fault: Extract<AnswerFault, { readonly _tag: "Raw" }>): Model.WireResponse => ({
  status: fault.status ?? 200,
  headers: { ...fault.headers },
  body: fault.body
})

/** A 5xx with the given body (a proxy's page) instead of the envelope. */
const serverErrorBody = (status: number, body: string, contentType: string | undefined): Model.WireResponse => ({
  status,
  headers: { "content-type": contentType ?? "text/html; charset=utf-8" },
  body
})

/** A fault on Helix: Helix envelopes, and the rate-limit headers like every Helix answer. */
export const helixFault: (request: Model.WireRequest) => (fault: AnswerFault) => Transition =
  (request) => (fault) => (state, ctx) => {
    if (fault._tag === "Reset") return [resetAnswer, state]
    if (fault._tag === "Raw") return [rawAnswer(fault), state]
    const [rate, charged] = chargeHelix(state, ctx, request)
    switch (fault._tag) {
      case "RateLimited": {
        const reset = Math.floor(ctx.now / 1000) + (fault.resetAfterSeconds ?? 1)
        const all = rateLimitHeaders({ limit: rate.limit, remaining: 0, reset })
        const { "ratelimit-reset": _, ...withoutReset } = all
        const headers = fault.resetHeader === false ? withoutReset : all
        return [helixError(429, "Too Many Requests", headers), charged]
      }
      case "ServerError": {
        const status = fault.status ?? 503
        return [
          fault.body === undefined
            ? helixError(status, Wire.reasonPhrase(status), rateLimitHeaders(rate))
            : withHeaders(serverErrorBody(status, fault.body, fault.contentType), rateLimitHeaders(rate)),
          charged
        ]
      }
      case "Malformed":
        return [
          {
            status: 200,
            headers: { "content-type": "application/json", ...rateLimitHeaders(rate) },
            body: fault.body ?? "{\"data\":[{\"id"
          },
          charged
        ]
    }
  }

export const oauthFault = (fault: AnswerFault): Transition => (state, ctx) => [
  faultResponse(fault, state.quirks.includeErrorField, ctx.now),
  state
]

const faultResponse = (
  fault: AnswerFault,
  includeErrorField: boolean,
  now: number
): Model.WireResponse => {
  switch (fault._tag) {
    case "ServerError": {
      const status = fault.status ?? 503
      return fault.body === undefined
        ? Wire.error(status, Wire.reasonPhrase(status), includeErrorField)
        : serverErrorBody(status, fault.body, fault.contentType)
    }
    case "RateLimited": {
      const reset = Math.floor(now / 1000) + (fault.resetAfterSeconds ?? 1)
      return Wire.error(429, "Too Many Requests", includeErrorField, {
        "ratelimit-limit": "800",
        "ratelimit-remaining": "0",
        ...(fault.resetHeader === false ? {} : { "ratelimit-reset": String(reset) })
      })
    }
    case "Malformed":
      return { status: 200, headers: { "content-type": "application/json" }, body: fault.body ?? "{\"access_tok" }
    case "Raw":
      return rawAnswer(fault)
    case "Reset":
      return resetAnswer
  }
}

/**
 * Uses up one pending fault for `endpoint` (the first registered for it or for `"any"`), if
 * there is one.
 */
export const takeFault = (
  state: State,
  endpoint: Model.Endpoint
): readonly [Option.Option<Model.Fault>, State] => {
  const index = state.faults.findIndex((f) => f.endpoint === endpoint || f.endpoint === "any")
  const pending = state.faults[index]
  if (pending === undefined) return [Option.none(), state]
  const faults = pending.remaining <= 1
    ? state.faults.filter((_, i) => i !== index)
    : state.faults.map((f, i) => (i === index ? { ...f, remaining: f.remaining - 1 } : f))
  return [Option.some(pending.fault), { ...state, faults }]
}

/** Registers `fault` for the next `times` requests to `endpoint` (none when `times` ≤ 0). */
export const addFault = (
  state: State,
  endpoint: Model.Endpoint | "any",
  fault: Model.Fault,
  times: number
): State => (times <= 0 ? state : { ...state, faults: [...state.faults, { endpoint, fault, remaining: times }] })
