/**
 * What the PostgreSQL store guarantees beyond the common contract (storeContract.ts), over
 * a real server: the lock of a holder that dies is released with its session, a holder
 * never needs a second connection, writes commit when they return, corrupted rows and a
 * server that is gone are reported (without a token or a parameter in the error).
 */
import * as TokenStore from "@effect-twitch/auth/TokenStore"
import * as SqlTokenStore from "@effect-twitch/sql/SqlTokenStore"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Statement from "@effect/sql/Statement"
import { assert, describe, layer } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Net from "node:net"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { kill, printed, spawn } from "../../auth/test/children.js"
import { assertToken, tokenFor } from "../../auth/test/storeContract.js"
import * as Postgres from "./postgres.js"
import * as TestDatabase from "./testDatabase.js"

const fixture = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "fixtures", "holdLock.ts")

/** A client of the file's database, for looking at pg_locks and writing rows by hand. */
const inspect = <A, E>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const database = yield* TestDatabase.TestDatabase
    const context = yield* Layer.build(Postgres.client(database.url, { maxConnections: 2 }))
    return yield* Effect.provide(Effect.flatMap(SqlClient.SqlClient, f), context)
  })

/** The server sessions holding an advisory lock in the file's database. */
const advisoryHolders = inspect((sql) =>
  Effect.map(
    sql<{ readonly pid: number }>`SELECT pid FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    (rows) => rows.map((row) => row.pid)
  )
)

/** Holds `key`'s lock until `release`; resolves once held. */
const hold = (store: TokenStore.TokenStore.Service, key: string) =>
  Effect.gen(function*() {
    const held = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const fiber = yield* Effect.fork(
      store.withLock(
        key,
        Effect.zipRight(Deferred.succeed(held, undefined), Effect.as(Deferred.await(release), "done"))
      )
    )
    yield* Effect.raceFirst(Deferred.await(held), Effect.zipRight(Fiber.join(fiber), Effect.dieMessage("no lock")))
    return { release: Effect.zipRight(Deferred.succeed(release, undefined), Fiber.join(fiber)) }
  })

const renderings = (error: unknown): ReadonlyArray<string> => [
  String(error),
  JSON.stringify(error),
  error instanceof Error ? error.message + (error.stack ?? "") : "",
  Cause.pretty(Cause.fail(error))
]

const assertNoSecret = (error: unknown, secrets: ReadonlyArray<string>) => {
  for (const text of renderings(error)) {
    for (const secret of secrets) assert.notInclude(text, secret)
  }
}

const storeErrorOf = <A, E>(exit: Exit.Exit<A, E>): TokenStore.TokenStoreError => {
  const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
  if (Option.isSome(error) && error.value instanceof TokenStore.TokenStoreError) return error.value
  assert.fail(`expected a TokenStoreError, got ${Exit.isSuccess(exit) ? "a success" : Cause.pretty(exit.cause)}`)
}

/**
 * A TCP proxy to the server, which the test can take down (closing every connection through
 * it) or stall (connections stay open, nothing goes through: a partition, a stalled server).
 */
const proxy = Effect.acquireRelease(
  Effect.gen(function*() {
    const server = yield* Postgres.serverUrl
    const sockets = new Set<Net.Socket>()
    let stalled = false
    const listener = Net.createServer((downstream) => {
      const upstream = Net.connect(Number(server.port === "" ? "5432" : server.port), server.hostname)
      for (const socket of [downstream, upstream]) {
        sockets.add(socket)
        socket.on("error", () => socket.destroy())
        socket.on("close", () => {
          sockets.delete(socket)
          downstream.destroy()
          upstream.destroy()
        })
      }
      // stalled: whatever arrives is dropped, both ways (the connections stay open)
      downstream.on("data", (chunk) => stalled || upstream.write(chunk))
      upstream.on("data", (chunk) => stalled || downstream.write(chunk))
    })
    yield* Effect.async<void>((resume) => {
      listener.listen(0, "127.0.0.1", () => resume(Effect.void))
    })
    const address = listener.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    const down = Effect.async<void>((resume) => {
      listener.close(() => resume(Effect.void))
      for (const socket of sockets) socket.destroy()
    })
    const stall = Effect.sync(() => {
      stalled = true
    })
    return { port, down, stall }
  }),
  ({ down }) => down
)

/** A store on the test's database reached through {@link proxy}, which the test can take down or stall. */
const storeThroughProxy = (options: SqlTokenStore.Options = {}) =>
  Effect.gen(function*() {
    const database = yield* TestDatabase.TestDatabase
    const { down, port, stall } = yield* proxy
    const url = new URL(database.url)
    url.port = String(port)
    url.hostname = "127.0.0.1"
    const context = yield* Layer.build(PgClient.layer({ url: Redacted.make(url.href), connectTimeout: "5 seconds" }))
    const store = yield* Effect.provide(SqlTokenStore.make({ table: TestDatabase.freshTable(), ...options }), context)
    return { store, down, stall }
  })

layer(TestDatabase.layer, { timeout: "60 seconds" })("PostgreSQL store", (it) => {
  describe("locks of holders that die", () => {
    it.scoped("issue 16: a holder whose connection is killed (pg_terminate_backend) releases the lock; its withLock still returns", () =>
      Effect.gen(function*() {
        const table = TestDatabase.freshTable()
        const a = yield* TestDatabase.open(table)
        const b = yield* TestDatabase.open(table, { lockTimeout: "30 seconds" })
        yield* a.set("1", tokenFor(1))
        const holder = yield* hold(a, "1")
        const pids = yield* advisoryHolders
        assert.strictEqual(pids.length, 1)
        yield* inspect((sql) => sql`SELECT pg_terminate_backend(${pids[0]})`)
        // another process gets the lock: the server released it with the session
        assert.isTrue(yield* b.withLock("1", b.compareAndSet("1", Option.some(tokenFor(1)), tokenFor(2))))
        // the holder's effect ends normally: a lock lost on release is not an error of its effect
        assert.strictEqual(yield* holder.release, "done")
        // and its store goes on, on fresh connections
        assertToken(yield* a.withLock("1", a.get("1")), tokenFor(2))
        assert.deepStrictEqual(yield* advisoryHolders, [])
      }))

    it.scoped("issue 16: a process SIGKILLed while holding a lock releases it (with its connection)", () =>
      Effect.gen(function*() {
        const database = yield* TestDatabase.TestDatabase
        const table = TestDatabase.freshTable()
        const b = yield* TestDatabase.open(table, { lockTimeout: "30 seconds" })
        const child = spawn(fixture, [database.url, table, "77"])
        yield* Effect.addFinalizer(() => kill(child))
        yield* printed(child, /^held$/)
        assert.include(child.output(), "held", child.output())
        const impatient = yield* TestDatabase.open(table, { lockTimeout: "300 millis" })
        assert.strictEqual(
          storeErrorOf(yield* Effect.exit(impatient.withLock("77", Effect.void))).reason,
          "LockTimeout"
        )
        yield* kill(child)
        yield* b.withLock("77", b.set("77", tokenFor(7)))
        assertToken(yield* b.get("77"), tokenFor(7))
        assert.deepStrictEqual(yield* advisoryHolders, [])
      }))
  })

  describe("locks of holders that hang", () => {
    it.scoped("issue 16: a process that hangs (SIGSTOP) while holding a lock loses it after staleLockAfter", () =>
      Effect.gen(function*() {
        const database = yield* TestDatabase.TestDatabase
        const table = TestDatabase.freshTable()
        const b = yield* TestDatabase.open(table, { lockTimeout: "50 seconds" })
        const child = spawn(fixture, [database.url, table, "88", "1000"])
        yield* Effect.addFinalizer(() => kill(child))
        yield* printed(child, /^held$/)
        assert.include(child.output(), "held", child.output())
        child.process.kill("SIGSTOP")
        // the server ends the stopped holder's idle session: the lock is free
        yield* b.withLock("88", b.set("88", tokenFor(8)))
        assertToken(yield* b.get("88"), tokenFor(8))
      }))

    it.scoped("issue 16: a live holder keeps its lock past staleLockAfter (it renews the lease)", () =>
      Effect.gen(function*() {
        const table = TestDatabase.freshTable()
        const a = yield* TestDatabase.open(table, { staleLockAfter: "400 millis" })
        const impatient = yield* TestDatabase.open(table, { lockTimeout: "200 millis" })
        const held = yield* a.withLock(
          "4",
          Effect.gen(function*() {
            // three leases long, on real time: the property is about time passing
            yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1200)))
            assert.strictEqual(
              storeErrorOf(yield* Effect.exit(impatient.withLock("4", Effect.void))).reason,
              "LockTimeout"
            )
            return yield* a.compareAndSet("4", Option.none(), tokenFor(4))
          })
        )
        assert.isTrue(held, "the holder's write on its lock's connection went through")
        assertToken(yield* impatient.get("4"), tokenFor(4))
      }))
  })

  it.scoped("issue 16: waits that time out or are interrupted leave no lock in the server", () =>
    Effect.gen(function*() {
      const table = TestDatabase.freshTable()
      const a = yield* TestDatabase.open(table)
      const b = yield* TestDatabase.open(table, { lockTimeout: "200 millis" })
      const holder = yield* hold(a, "5")
      for (let i = 0; i < 3; i++) {
        const error = storeErrorOf(yield* Effect.exit(b.withLock("5", Effect.void)))
        assert.strictEqual(error.reason, "LockTimeout")
        const waiter = yield* Effect.fork(b.withLock("5", Effect.void))
        yield* Effect.repeatN(Effect.yieldNow(), 20)
        yield* Fiber.interrupt(waiter)
      }
      assert.strictEqual((yield* advisoryHolders).length, 1, "only the holder's lock")
      yield* holder.release
      assert.deepStrictEqual(yield* advisoryHolders, [])
    }))

  it.scoped("issue 16: a wait for the pool that times out loses no connection (the pool's late answer is given back)", () =>
    Effect.gen(function*() {
      const table = TestDatabase.freshTable()
      const store = yield* TestDatabase.open(table, { maxConnections: 1, lockTimeout: "300 millis" })
      for (let round = 0; round < 3; round++) {
        // the only connection holds key "a"; "b" waits for the pool, and times out
        const holder = yield* hold(store, "a")
        assert.strictEqual(storeErrorOf(yield* Effect.exit(store.withLock("b", Effect.void))).reason, "LockTimeout")
        yield* holder.release
        // the connection the pool handed to the timed-out wait came back: "b" gets it
        yield* store.withLock("b", store.set("b", tokenFor(round)))
      }
      assertToken(yield* store.get("b"), tokenFor(2))
    }))

  it.scoped("issue 16: holders never wait for a second connection: a pool of 2 serves 40 concurrent withLock on different keys", () =>
    Effect.gen(function*() {
      const table = TestDatabase.freshTable()
      const store = yield* TestDatabase.open(table, { maxConnections: 2, lockTimeout: "50 seconds" })
      const keys = Array.from({ length: 40 }, (_, i) => `u${i}`)
      yield* Effect.forEach(keys, (key, i) =>
        store.withLock(
          key,
          Effect.gen(function*() {
            assert.isTrue(Option.isNone(yield* store.get(key)))
            assert.isTrue(yield* store.compareAndSet(key, Option.none(), tokenFor(i)))
            assert.isTrue(yield* store.compareAndSet(key, Option.some(tokenFor(i)), tokenFor(i + 100)))
          })
        ), { concurrency: "unbounded", discard: true })
      assert.strictEqual((yield* store.keys).length, 40)
      assertToken(yield* store.get("u3"), tokenFor(103))
    }))

  it.scoped("issue 16: a write is committed when it returns, even inside a caller's transaction that rolls back", () =>
    Effect.gen(function*() {
      const database = yield* TestDatabase.TestDatabase
      const context = yield* Layer.build(Postgres.client(database.url))
      const table = TestDatabase.freshTable()
      const sql = Context.get(context, SqlClient.SqlClient)
      const store = yield* Effect.provide(SqlTokenStore.make({ table }), context)
      const rolledBack = yield* Effect.exit(sql.withTransaction(Effect.zipRight(
        store.withLock("9", store.compareAndSet("9", Option.none(), tokenFor(9))),
        Effect.fail("the caller's transaction fails" as const)
      )))
      assert.isTrue(Exit.isFailure(rolledBack))
      assertToken(yield* (yield* TestDatabase.open(table)).get("9"), tokenFor(9))
    }))

  it.scoped("issue 16: corrupted rows (written by hand) are Corrupted, naming columns, never values", () =>
    Effect.gen(function*() {
      const table = TestDatabase.freshTable()
      const store = yield* TestDatabase.open(table)
      const secrets = ["hand-at-9d2e77", "hand-rt-51c0ab", "{not json 4e1f"]
      yield* inspect((sql) =>
        sql`INSERT INTO ${
          sql(table)
        } (key, access_token, refresh_token, scopes, obtained_at, expires_at, version, updated_at)
          VALUES ('bad-scopes', ${secrets[0]}, ${secrets[1]}, ${secrets[2]}, 1, NULL, 1, 1),
                 ('empty-token', '', ${secrets[1]}, '[]', 1, NULL, 1, 1),
                 ('bad-time', ${secrets[0]}, ${secrets[1]}, '["a"]', 9000000000000000000, NULL, 1, 1)`
      )
      for (
        const [key, column] of [["bad-scopes", "scopes"], ["empty-token", "access_token"], ["bad-time", "obtained_at"]]
      ) {
        const error = storeErrorOf(yield* Effect.exit(store.get(key!)))
        assert.strictEqual(error.reason, "Corrupted", key)
        assert.include(error.detail, column!)
        assertNoSecret(error, secrets)
      }
      assert.deepStrictEqual(yield* store.keys, ["bad-scopes", "bad-time", "empty-token"])
    }))

  it.scoped("issue 16: with the server gone, operations fail with Io at once (no hang), naming no token", () =>
    Effect.gen(function*() {
      const { down, store } = yield* storeThroughProxy()
      const token = tokenFor(3)
      yield* store.set("3", token)
      yield* down
      const secrets = [Redacted.value(token.accessToken), Redacted.value(token.refreshToken)]
      for (
        const operation of [
          store.get("3"),
          store.set("3", token),
          store.compareAndSet("3", Option.some(token), tokenFor(4)),
          store.compareAndRemove("3", token),
          store.remove("3"),
          store.keys,
          store.withLock("3", Effect.void)
        ]
      ) {
        const error = storeErrorOf(yield* Effect.exit(operation))
        assert.strictEqual(error.reason, "Io")
        assertNoSecret(error, secrets)
      }
    }))

  it.scoped(
    "issue 16: a server that stops answering (connections open, nothing comes back) fails each operation with Io after statementTimeout, and withLock with LockTimeout: no hang, no token named",
    () =>
      Effect.gen(function*() {
        const { down, stall, store } = yield* storeThroughProxy({
          statementTimeout: "1 second",
          lockTimeout: "1 second"
        })
        const token = tokenFor(5)
        yield* store.set("5", token)
        assert.isTrue(Option.isSome(yield* store.get("5")))
        yield* stall
        const secrets = [Redacted.value(token.accessToken), Redacted.value(token.refreshToken)]
        for (
          const operation of [
            store.get("5"),
            store.set("5", token),
            store.compareAndSet("5", Option.some(token), tokenFor(6)),
            store.compareAndRemove("5", token),
            store.remove("5"),
            store.keys
          ]
        ) {
          const error = storeErrorOf(yield* Effect.exit(operation))
          assert.strictEqual(error.reason, "Io")
          assert.include(error.detail, "did not answer within 1s")
          assertNoSecret(error, secrets)
        }
        // bounded by lockTimeout, plus the release of the connection it polled on (at most
        // twice the release's own 10 s bound on a server that does not answer)
        const locked = storeErrorOf(yield* Effect.exit(store.withLock("5", Effect.void)))
        assert.strictEqual(locked.reason, "LockTimeout")
        // the stalled connections are closed before the pool is, so that closing it does not wait on them
        yield* down
      }),
    120_000
  )

  it.scoped("issue 16: an invalid table name is refused before any SQL is written", () =>
    Effect.gen(function*() {
      const error = storeErrorOf(
        yield* Effect.exit(TestDatabase.open("tokens; DROP TABLE x"))
      )
      assert.strictEqual(error.reason, "Io")
      assert.include(error.detail, "table name")
    }))

  it.scoped("issue 16: a SqlClient of another dialect (SQLite) is refused: no store without a cross-process lock", () =>
    Effect.gen(function*() {
      const sqlite = yield* SqlClient.make({
        acquirer: Effect.dieMessage("the store must not touch a SQLite database"),
        compiler: Statement.makeCompilerSqlite(),
        spanAttributes: []
      }).pipe(Effect.provide(Reactivity.layer))
      const error = storeErrorOf(
        yield* Effect.exit(Effect.provideService(SqlTokenStore.make(), SqlClient.SqlClient, sqlite))
      )
      assert.strictEqual(error.reason, "Io")
      assert.include(error.detail, "PostgreSQL")
    }))

  it.scoped("issue 16: the migration is idempotent and safe when processes start together", () =>
    Effect.gen(function*() {
      const table = TestDatabase.freshTable()
      const stores = yield* Effect.all(Array.from({ length: 6 }, () => TestDatabase.open(table)), {
        concurrency: "unbounded"
      })
      yield* stores[0]!.set("1", tokenFor(1))
      yield* TestDatabase.open(table)
      assertToken(yield* stores[5]!.get("1"), tokenFor(1))
    }))
})
