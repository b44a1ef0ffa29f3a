/**
 * The fast path of the request pipeline. A transport that can run one whole attempt itself —
 * the request, the answer's headers and its body under one deadline, the body read up to a
 * cap — registers that ability here for the `HttpClient` it made (`UndiciHttpClient.make`
 * does). The pipeline (`./pipeline.js`) and `TwitchHttpClient` look the client they were given
 * up here: found, each attempt is one call into the transport (no forked timeout fibers, no
 * per-attempt scope, no stream over the body); not found (any other `HttpClient`, or the lean
 * one after a user's `mapRequest`), they run the generic path (`./exchange.js`'s `timed`),
 * which gives the same answers and the same errors.
 *
 * The table is keyed by the client object itself and holds no state of its own: it says
 * which clients can do this, nothing more (a `WeakMap`, so a client that is dropped is not
 * kept).
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Effect from "effect/Effect"

/** What one attempt must do: its deadline, the cap on its body, which answers' bodies to read. */
export interface Attempt {
  /** The deadline of the attempt in milliseconds, over the headers and the whole body. */
  readonly timeoutMillis: number
  /** The same, as the errors show it (`Duration.format`). */
  readonly timeout: string
  readonly maxBytes: number
  readonly readBodyOf: (status: number) => boolean
}

/**
 * Runs one attempt of `request` and gives a buffered response over `redacted` (the same
 * request without its credential), failing exactly as `Exchange.timed` does: a
 * `RequestError` (`Transport`; cause `RequestTimeout` when the deadline passed before the
 * headers) or a `ResponseError` (`Decode`; cause `BodyTimeout`, `BodyTooLarge`, or the
 * connection's failure mid-body), every error over `redacted`. Interruption aborts the
 * request.
 */
export type Exchange = (
  request: HttpClientRequest.HttpClientRequest,
  redacted: HttpClientRequest.HttpClientRequest,
  attempt: Attempt
) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>

const exchanges = new WeakMap<HttpClient.HttpClient, Exchange>()

/** Records that `client` runs whole attempts with `exchange`; gives `client` back. */
export const register = <C extends HttpClient.HttpClient>(client: C, exchange: Exchange): C => {
  exchanges.set(client, exchange)
  return client
}

/** The whole-attempt exchange of `client`, when its transport has one. */
export const exchangeOf = (client: HttpClient.HttpClient): Exchange | undefined => exchanges.get(client)
