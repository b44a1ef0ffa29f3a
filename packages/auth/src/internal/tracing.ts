/**
 * Spans for the SDK's operations, made only when someone can see them.
 */
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"

/** Spans name the operation; no stack trace is captured on the hot path. */
const spanOptions = { captureStackTrace: false } as const

/** Effect's own tracer, the one a program has until it installs another (OpenTelemetry, say). */
const defaultTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * The operation in a span named `name` (no stack trace captured) when a tracer that exports
 * spans is installed. Under Effect's default tracer a span goes nowhere (nothing exports it,
 * and nothing runs inside the operation that could read it), and making one and ending it is
 * about a tenth of a call's CPU on a fast transport (bench table 1b): it is then not made.
 */
export const traced = (name: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.tracerWith((tracer) => tracer === defaultTracer ? self : Effect.withSpan(self, name, spanOptions))
