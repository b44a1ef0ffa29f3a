/**
 * The fleet's Twitch: `FakeTwitch` behind `MockTwitchServer`, wrapped to count every refresh by
 * user and by worker (each worker's requests carry `x-fleet-worker`), to remember the last
 * refresh token it issued for each user, and to hold a worker's refresh requests on demand
 * (they have reached Twitch's door, not Twitch: nothing is rotated until they are let through).
 */
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** What happens to a refresh request: sent on to Twitch, held at the door, or dropped (no answer, nothing rotated). */
export type Decision = "forward" | "hold" | "drop"

/** A refresh request that reached Twitch. */
export interface Refresh {
  readonly worker: string
  readonly userId: string
  readonly refreshToken: string
  status?: number
  /** The refresh token Twitch issued in exchange. */
  issued?: string
}

/** Shared between the test and the wrapped `FakeTwitch` serving the workers. */
export class Recorder {
  /** The user each refresh token Twitch issued belongs to. */
  readonly owner = new Map<string, string>()
  /** The last refresh token Twitch issued for each user. */
  readonly latest = new Map<string, string>()
  /** Refresh requests that reached Twitch, oldest first. */
  forwarded: Array<Refresh> = []
  /** Refresh requests held at the door, waiting for a decision. */
  held: Array<
    { readonly worker: string; readonly userId: string; readonly decide: Deferred.Deferred<"forward" | "drop"> }
  > = []
  /** Refresh requests dropped (never reached Twitch). */
  dropped = 0
  /** Decides what happens to a refresh request from `worker`. */
  policy: (worker: string) => Decision = () => "forward"

  reset(): void {
    this.owner.clear()
    this.latest.clear()
    this.forwarded = []
    this.held = []
    this.dropped = 0
    this.policy = () => "forward"
  }

  /** Notes a token issued outside a refresh (the users' first tokens). */
  issued(userId: string, refreshToken: string): void {
    this.owner.set(refreshToken, userId)
    this.latest.set(userId, refreshToken)
  }

  /** Settles every held request, and every one to come from `worker`, with `decision`. */
  release(worker: string, decision: "forward" | "drop"): Effect.Effect<void> {
    const previous = this.policy
    this.policy = (w) => w === worker ? decision : previous(w)
    const mine = this.held.filter((h) => h.worker === worker)
    this.held = this.held.filter((h) => h.worker !== worker)
    return Effect.forEach(mine, (h) => Deferred.succeed(h.decide, decision), { discard: true })
  }

  /** Answered refreshes of `worker`. */
  answeredBy(worker: string): ReadonlyArray<Refresh> {
    return this.forwarded.filter((r) => r.worker === worker && r.status !== undefined)
  }
}

export const recorder = new Recorder()

const Recording = Layer.effect(
  FakeTwitch.FakeTwitch,
  Effect.map(FakeTwitch.FakeTwitch, (twitch): FakeTwitch.FakeTwitch.Service => ({
    ...twitch,
    token: (request) => {
      const refreshToken = request.params["refresh_token"]
      if (request.params["grant_type"] !== "refresh_token" || refreshToken === undefined) return twitch.token(request)
      const worker = request.headers["x-fleet-worker"] ?? "?"
      const userId = recorder.owner.get(refreshToken) ?? "?"
      return Effect.gen(function*() {
        let decision = recorder.policy(worker)
        if (decision === "hold") {
          const decide = yield* Deferred.make<"forward" | "drop">()
          recorder.held.push({ worker, userId, decide })
          decision = yield* Deferred.await(decide)
        }
        if (decision === "drop") {
          recorder.dropped++
          return { status: 0, headers: {}, body: "", reset: true as const }
        }
        const entry: Refresh = { worker, userId, refreshToken }
        recorder.forwarded.push(entry)
        const response = yield* twitch.token(request)
        entry.status = response.status
        const issued: unknown = response.status === 200 ? JSON.parse(response.body).refresh_token : undefined
        if (typeof issued === "string") {
          entry.issued = issued
          recorder.issued(userId, issued)
        }
        return response
      })
    }
  }))
).pipe(Layer.provide(FakeTwitch.layer()))

/** The mock on 127.0.0.1, serving the recording Twitch. */
export const FleetTwitch = MockTwitchServer.layer().pipe(Layer.provideMerge(Recording))
