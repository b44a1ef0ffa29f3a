/**
 * The fleet (issue 16, item 6): 4 OS processes share one PostgreSQL database and 1,000 users
 * (500 authorized through a confidential client, 500 through a public one: both rotate refresh
 * tokens, a public client's are single-use), served by one mock Twitch on 127.0.0.1. Each user's
 * token is stored once; each process opens a session per user; then Twitch expires every access
 * token and each process fires concurrent Helix calls for every user. Counted at the mock:
 * refreshes per user (exactly 1), failed calls (0, as the processes report them), refresh tokens
 * lost (0: each user's stored token is the last one Twitch issued, and Twitch accepts it). Then
 * the same with one process SIGKILLed in the middle of its refreshes.
 */
import { Token } from "@effect-twitch/auth"
import { FakeTwitch, MockTwitchServer } from "@effect-twitch/testing"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { afterAll, assert, layer } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Path from "node:path"
import { alive, doneOf, kill, printed, spawnWorker, type Worker } from "./fleet/children.js"
import { recordFigures } from "./fleet/figures.js"
import { FleetTwitch, recorder } from "./fleet/mock.js"
import { type FleetDatabase, fleetDatabase } from "./fleet/store.js"

const processes = 4
const usersPerClient = 500
/** Helix calls per user and process, sent at once. */
const callsPerUser = 2
/** In the second run, worker 0's first refreshes are answered; the ones after this many are held until it dies. */
const killAfterRefreshes = 25
/** …and it is killed once Twitch has answered the others this many refreshes. */
const killAfterOthersRefreshes = 50

const Env = Layer.mergeAll(FleetTwitch, NodeContext.layer)

/** What one run measured. */
interface RunFigures {
  processes: number
  /** Processes that served every user's calls and said so. */
  processesDone: number
  /** Helix calls per user and process. */
  callsPerUser: number
  users: number
  calls: number
  callsOk: number
  callsFailed: number
  refreshes: number
  refreshesPerUserMin: number
  refreshesPerUserMax: number
  rejectedRefreshes: number
  refreshTokensLost: number
  sessionsEnded: number
  /** The whole run: seeding, the processes' start, the calls, the counts. */
  seconds: number
  /** From spawning the processes to each having a session open (and validated) for every user. */
  startSeconds: number
  /** From "go" (every token expired) to the last process done. */
  callsSeconds: number
}

interface KillFigures extends RunFigures {
  /** Refreshes Twitch answered for the killed process before it died. */
  killedAfterRefreshes: number
  /** Its refresh requests in flight (held at Twitch's door, each under its user's lock) when it died. */
  inFlightAtKill: number
  /** Locks its backends held when it died, by lock type. */
  locksHeldAtKill: Record<string, number>
  /** Refreshes Twitch had answered the other processes when it died. */
  othersRefreshesAtKill: number
  /** Of the users it held locked as it died, those the others then refreshed. */
  lockedAtKillThenRefreshedByOthers: number
  /** Locks of its backends left once PostgreSQL ended them. */
  locksLeft: number
  /** Advisory locks left in the database once every process is done. */
  advisoryLocksAtEnd: number
}

const figures: { plain?: RunFigures; kill?: KillFigures } = {}
afterAll(() => {
  recordFigures("fleet", figures)
  process.stdout.write(`fleet figures: ${JSON.stringify(figures, null, 2)}\n`)
})

const sleep = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

/** Polls `check` (an event's witness) until it holds. The test's timeout is the guard. */
const until = <E, R>(check: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function*() {
    while (!(yield* check)) yield* sleep(20)
  })

/** Registers the fleet's users at Twitch, stores each one's token once, and writes the users file. */
const seed = (db: FleetDatabase, dir: string) =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    const fs = yield* FileSystem.FileSystem
    const users: Array<{ userId: string; kind: "confidential" | "public" }> = []
    for (
      const [kind, client] of [
        ["confidential", FakeTwitch.defaultSeed.clients[0]],
        ["public", FakeTwitch.defaultSeed.clients[1]]
      ] as const
    ) {
      for (let i = 0; i < usersPerClient; i++) {
        const user = yield* twitch.registerUser({ login: `fleet_${kind}_${i}` })
        const scopes = ["chat:read"]
        const issued = yield* Effect.orDie(
          twitch.issueUserToken({ clientId: client.clientId, userId: user.userId, scopes })
        )
        const now = yield* DateTime.now
        yield* db.store.set(
          user.userId,
          new Token.UserToken({
            accessToken: Redacted.make(issued.accessToken),
            refreshToken: Redacted.make(issued.refreshToken),
            scopes,
            obtainedAt: now,
            expiresAt: Option.some(DateTime.addDuration(now, Duration.seconds(issued.expiresIn)))
          })
        )
        recorder.issued(user.userId, issued.refreshToken)
        users.push({ userId: user.userId, kind })
      }
    }
    const file = Path.join(dir, "users.json")
    yield* fs.writeFileString(file, JSON.stringify(users))
    return { users, file }
  })

/** Twitch expires every user's access token (the sessions' copies are now rejected). */
const expireAll = (db: FleetDatabase, users: ReadonlyArray<{ userId: string }>) =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    for (const { userId } of users) {
      const stored = yield* db.store.get(userId)
      if (Option.isSome(stored)) yield* twitch.expireAccessToken(Redacted.value(stored.value.accessToken))
    }
  })

/** Counts at the mock and in the store, once every worker is done. */
const count = (
  db: FleetDatabase,
  users: ReadonlyArray<{ userId: string }>,
  survivors: ReadonlyArray<Worker>,
  started: number,
  /** When the users were seeded, the workers ready, and told to go (performance.now()). */
  at: { readonly seeded: number; readonly ready: number; readonly go: number }
) =>
  Effect.gen(function*() {
    const twitch = yield* FakeTwitch.FakeTwitch
    const perUser = new Map<string, number>(users.map(({ userId }) => [userId, 0]))
    for (const r of recorder.forwarded) perUser.set(r.userId, (perUser.get(r.userId) ?? 0) + 1)
    let lost = 0
    for (const { userId } of users) {
      const stored = yield* db.store.get(userId)
      const rt = Option.map(stored, (t) => Redacted.value(t.refreshToken))
      const works = Option.isSome(stored) &&
        Option.getOrUndefined(rt) === recorder.latest.get(userId) &&
        (yield* twitch.isRefreshTokenValid(Redacted.value(stored.value.refreshToken))) &&
        (yield* twitch.isAccessTokenValid(Redacted.value(stored.value.accessToken)))
      if (!works) lost++
    }
    const reports = survivors.map(doneOf)
    const counts = [...perUser.values()]
    return {
      processes,
      processesDone: reports.filter((r) => r !== undefined).length,
      callsPerUser,
      users: users.length,
      calls: survivors.length * users.length * callsPerUser,
      callsOk: reports.reduce((n, r) => n + (r?.ok ?? 0), 0),
      callsFailed: reports.reduce((n, r) => n + (r?.failed ?? 0), 0),
      refreshes: recorder.forwarded.length,
      refreshesPerUserMin: Math.min(...counts),
      refreshesPerUserMax: Math.max(...counts),
      rejectedRefreshes: recorder.forwarded.filter((r) => r.status !== 200).length,
      refreshTokensLost: lost,
      sessionsEnded: reports.reduce((n, r) => n + (r?.ended ?? 0), 0),
      seconds: Math.round((performance.now() - started) / 1000),
      startSeconds: Math.round((at.ready - at.seeded) / 1000),
      callsSeconds: Math.round((performance.now() - at.go) / 1000)
    } satisfies RunFigures
  })

const assertFleet = (run: RunFigures, survivors: ReadonlyArray<Worker>) => {
  const detail = JSON.stringify(run)
  for (const worker of survivors) {
    assert.isDefined(doneOf(worker), `worker ${worker.id} finished: ${worker.output().slice(-2_000)}`)
    assert.notMatch(worker.output(), /^(failed|error|defect) /m, worker.output().slice(-2_000))
  }
  assert.strictEqual(run.callsOk, run.calls, detail)
  assert.strictEqual(run.callsFailed, 0, detail)
  assert.strictEqual(run.refreshesPerUserMin, 1, `every user refreshed once: ${detail}`)
  assert.strictEqual(run.refreshesPerUserMax, 1, `no user refreshed twice: ${detail}`)
  assert.strictEqual(run.refreshes, run.users, detail)
  assert.strictEqual(run.rejectedRefreshes, 0, detail)
  assert.strictEqual(run.refreshTokensLost, 0, detail)
  assert.strictEqual(run.sessionsEnded, 0, detail)
}

/** Starts the workers and waits until each has a session open for every user. */
const startWorkers = (db: FleetDatabase, usersFile: string, users: number) =>
  Effect.gen(function*() {
    const server = yield* MockTwitchServer.MockTwitchServer
    const workers = Array.from({ length: processes }, (_, i) =>
      spawnWorker(String(i), [usersFile], {
        FLEET_AUTH_URL: server.authUrl,
        FLEET_HELIX_URL: server.helixUrl,
        FLEET_DATABASE: db.url,
        FLEET_CALLS: String(callsPerUser)
      }))
    yield* Effect.addFinalizer(() => Effect.forEach(workers.filter(alive), kill, { discard: true }))
    for (const worker of workers) {
      yield* printed(worker, new RegExp(`^ready ${users}$`))
      assert.match(worker.output(), new RegExp(`^ready ${users}$`, "m"), worker.output().slice(-2_000))
    }
    return workers
  })

/**
 * What both runs start from: a fresh database seeded with the users' tokens, and the workers
 * ready with a session for every user; with when each step ended (performance.now()).
 */
const fleet = Effect.gen(function*() {
  recorder.reset()
  const started = performance.now()
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped()
  const db = yield* fleetDatabase
  const { file, users } = yield* seed(db, dir)
  const seeded = performance.now()
  const workers = yield* startWorkers(db, file, users.length)
  const ready = performance.now()
  return { db, users, workers, started, seeded, ready }
})

layer(Env, { excludeTestServices: true })("fleet: 4 processes, 1,000 users, one PostgreSQL database", (it) => {
  it.scoped(
    "issue 16: 4 processes, 1,000 users (public and confidential), every token expired: each user refreshed exactly once, 0 failed calls, 0 refresh tokens lost",
    () =>
      Effect.gen(function*() {
        const { db, ready, seeded, started, users, workers } = yield* fleet

        yield* expireAll(db, users)
        const go = performance.now()
        for (const worker of workers) yield* worker.tell("go")
        yield* Effect.promise(() => Promise.all(workers.map((w) => w.exited)))

        const run = yield* count(db, users, workers, started, { seeded, ready, go })
        figures.plain = run
        assertFleet(run, workers)
        assert.strictEqual(yield* db.advisoryLocks, 0, "no advisory lock left in the database")
      }),
    // a guard against a hang: a run is four Node start-ups and some 20,000 requests
    300_000
  )

  it.scoped(
    "issue 16: one of the 4 processes SIGKILLed in the middle of its refreshes: the other 3 serve every user, each refreshed exactly once, no user logged out, its locks released",
    () =>
      Effect.gen(function*() {
        const { db, ready, seeded, started, users, workers } = yield* fleet
        const [victim, ...others] = workers
        if (victim === undefined) return assert.fail("no workers")

        // The victim goes first. Twitch answers its first refreshes, then holds the ones after
        // (they stay in flight, each under its user's lock) until it is dead.
        recorder.policy = (worker) =>
          worker === victim.id && recorder.forwarded.filter((r) => r.worker === victim.id).length >= killAfterRefreshes
            ? "hold"
            : "forward"
        yield* expireAll(db, users)
        const go = performance.now()
        yield* victim.tell("go")
        yield* until(Effect.sync(() => recorder.held.some((h) => h.worker === victim.id)))
        for (const worker of others) yield* worker.tell("go")

        // The kill comes after events: the victim is mid-refresh (requests of its own in flight,
        // each under its user's lock), every refresh Twitch answered for it is stored (so the
        // kill falls outside the protocol's window, where a rotated token is in no store yet),
        // and the others are at work (Twitch has answered them some refreshes; their fibers that
        // want a user the victim holds poll its lock).
        yield* until(db.storedAll(recorder.answeredBy(victim.id)))
        yield* until(
          Effect.sync(() => recorder.forwarded.filter((r) => r.worker !== victim.id).length >= killAfterOthersRefreshes)
        )
        const victimPids = yield* db.backendsOf(victim.id)
        const locksHeldAtKill = yield* db.locksOf(victimPids)
        const lockedAtKill = recorder.held.filter((h) => h.worker === victim.id).map((h) => h.userId)
        const othersRefreshesAtKill = recorder.forwarded.filter((r) => r.worker !== victim.id).length
        yield* kill(victim)
        // what it had sent Twitch dies with it: held requests (and any still on their way) are dropped
        yield* recorder.release(victim.id, "drop")

        // PostgreSQL notices: the dead process's backends end, and their locks go with them
        yield* until(Effect.map(db.running(victimPids), (n) => n === 0))
        const locksLeft = Object.keys(yield* db.locksOf(victimPids)).length
        yield* Effect.promise(() => Promise.all(others.map((w) => w.exited)))

        const run = yield* count(db, users, others, started, { seeded, ready, go })
        const survivorsRefreshed = new Set(
          recorder.forwarded.filter((r) => r.worker !== victim.id).map((r) => r.userId)
        )
        const measured: KillFigures = {
          ...run,
          killedAfterRefreshes: recorder.answeredBy(victim.id).length,
          inFlightAtKill: lockedAtKill.length,
          locksHeldAtKill,
          othersRefreshesAtKill,
          lockedAtKillThenRefreshedByOthers: lockedAtKill.filter((userId) => survivorsRefreshed.has(userId)).length,
          locksLeft,
          advisoryLocksAtEnd: yield* db.advisoryLocks
        }
        figures.kill = measured
        assertFleet(run, others)
        assert.notMatch(victim.output(), /^(failed|error|defect) /m, victim.output().slice(-2_000))
        assert.isUndefined(doneOf(victim), "the victim died before it was done")
        assert.strictEqual(measured.killedAfterRefreshes, killAfterRefreshes)
        assert.isAtLeast(measured.inFlightAtKill, 1, "the victim died mid-refresh")
        assert.isAtLeast(locksHeldAtKill["advisory"] ?? 0, measured.inFlightAtKill, "it held those users' locks")
        // the others got through the users it held: its locks were released
        assert.strictEqual(measured.lockedAtKillThenRefreshedByOthers, measured.inFlightAtKill)
        assert.strictEqual(measured.locksLeft, 0, "no lock left by its backends")
        assert.strictEqual(measured.advisoryLocksAtEnd, 0, "no advisory lock left in the database")
      }),
    300_000
  )
})
