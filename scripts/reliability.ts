/**
 * `pnpm reliability`: runs the reliability suites (fault matrix, fuzzed decoding, secret
 * leaks, crash safety, the fleet of processes on PostgreSQL) with Vitest's JSON reporter, collects what each suite measured (they
 * write it to `RELIABILITY_FIGURES` when that is set), and rewrites the generated sections of
 * docs/reliability.md: the figures and the matrix. Exits 1 when a test failed (the figures
 * are written anyway: they say so).
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const docPath = Path.join(root, "docs/reliability.md")
const command = "pnpm reliability"

const suites = [
  "packages/auth/test/FaultMatrix.stress.test.ts",
  "packages/auth/test/Fuzz.test.ts",
  "packages/auth/test/SecretLeaks.test.ts",
  "packages/auth/test/CrashSafety.stress.test.ts",
  "packages/auth/test/HostileNetwork.test.ts",
  "packages/auth/test/SessionBackoff.test.ts",
  "packages/auth/test/TokenStoreLock.stress.test.ts",
  "packages/auth/test/SessionStoreRace.test.ts",
  "packages/auth/test/OpenIdConnect.test.ts",
  "packages/auth/test/DeviceFlow.test.ts",
  "packages/sql/test/Fleet.stress.test.ts"
] as const

// ---------------------------------------------------------------------------------------------
// what the suites write
// ---------------------------------------------------------------------------------------------

const Report = Schema.Struct({
  numTotalTests: Schema.Number,
  numPassedTests: Schema.Number,
  numFailedTests: Schema.Number,
  numPendingTests: Schema.Number,
  testResults: Schema.Array(Schema.Struct({
    name: Schema.String,
    assertionResults: Schema.Array(Schema.Struct({ status: Schema.String }))
  }))
})

const MatrixCell = Schema.Struct({
  row: Schema.String,
  column: Schema.String,
  variant: Schema.Literal("recovers", "exhausts", "once"),
  injected: Schema.Number,
  attempts: Schema.Number,
  faultsHit: Schema.Number,
  outcome: Schema.String,
  expected: Schema.String
})

const Matrix = Schema.Struct({
  rows: Schema.Array(Schema.String),
  columns: Schema.Array(Schema.String),
  maxAttempts: Schema.Number,
  requestTimeout: Schema.String,
  cells: Schema.Array(MatrixCell)
})

const Fuzz = Schema.Struct({ answers: Schema.Number, tokenBodies: Schema.Number })
const Leaks = Schema.Struct({
  secrets: Schema.Number,
  formsChecked: Schema.Number,
  textsSearched: Schema.Number,
  leaked: Schema.Number
})
const Crash = Schema.Struct({
  kills: Schema.Number,
  sharedFileRefreshes: Schema.Number,
  windowKills: Schema.optional(Schema.Number),
  publicRandomKills: Schema.optional(Schema.Number),
  publicRandomLosses: Schema.optional(Schema.Number),
  publicRandomRefreshes: Schema.optional(Schema.Number),
  windowLosses: Schema.optional(Schema.Number),
  windowMs: Schema.optional(Schema.Struct({
    samples: Schema.Number,
    median: Schema.Number,
    p99: Schema.Number,
    max: Schema.Number
  })),
  fourProcesses: Schema.optional(Schema.Struct({
    refreshes: Schema.Number,
    kills: Schema.Number,
    holderKills: Schema.Number,
    holds: Schema.Number,
    seconds: Schema.Number,
    presentedTwice: Schema.Number,
    rejected: Schema.Number
  }))
})

const Hostile = Schema.Record({ key: Schema.String, value: Schema.Number })
const Backoff = Schema.Struct({
  window: Schema.String,
  figures: Schema.Record({ key: Schema.String, value: Schema.Number })
})

const FleetRun = Schema.Struct({
  processes: Schema.Number,
  processesDone: Schema.Number,
  callsPerUser: Schema.Number,
  users: Schema.Number,
  calls: Schema.Number,
  callsOk: Schema.Number,
  callsFailed: Schema.Number,
  refreshes: Schema.Number,
  refreshesPerUserMin: Schema.Number,
  refreshesPerUserMax: Schema.Number,
  rejectedRefreshes: Schema.Number,
  refreshTokensLost: Schema.Number,
  sessionsEnded: Schema.Number,
  seconds: Schema.Number,
  startSeconds: Schema.Number,
  callsSeconds: Schema.Number
})
const Fleet = Schema.Struct({
  plain: Schema.optional(FleetRun),
  kill: Schema.optional(Schema.extend(
    FleetRun,
    Schema.Struct({
      killedAfterRefreshes: Schema.Number,
      inFlightAtKill: Schema.Number,
      locksHeldAtKill: Schema.Record({ key: Schema.String, value: Schema.Number }),
      othersRefreshesAtKill: Schema.Number,
      lockedAtKillThenRefreshedByOthers: Schema.Number,
      locksLeft: Schema.Number,
      advisoryLocksAtEnd: Schema.Number
    })
  ))
})

const readJson = <A, I>(file: string, schema: Schema.Schema<A, I>) =>
  Effect.try(() => Fs.readFileSync(file, "utf8")).pipe(
    Effect.flatMap(Schema.decodeUnknown(Schema.parseJson(schema))),
    Effect.option
  )

// ---------------------------------------------------------------------------------------------
// running Vitest
// ---------------------------------------------------------------------------------------------

const runVitest = (figuresDir: string, reportFile: string) =>
  Effect.async<number>((resume) => {
    const vitest = Path.join(root, "node_modules/.bin/vitest")
    const child = ChildProcess.spawn(
      vitest,
      ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${reportFile}`, ...suites],
      { cwd: root, stdio: "inherit", env: { ...process.env, RELIABILITY_FIGURES: figuresDir } }
    )
    child.on("exit", (code) => resume(Effect.succeed(code ?? 1)))
    child.on("error", () => resume(Effect.succeed(1)))
  })

// ---------------------------------------------------------------------------------------------
// rendering
// ---------------------------------------------------------------------------------------------

const replaceBetween = (text: string, name: string, body: string): string => {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  return from === -1 || to === -1 || to < from
    ? `${text.trimEnd()}\n\n${start}\n${body}\n${end}\n`
    : `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`
}

const count = (n: number) => n.toLocaleString("en-US")

const renderMatrix = (matrix: typeof Matrix.Type): string => {
  const header = `| fault (injected) | ${matrix.rows.map((r) => `\`${r}\``).join(" | ")} |`
  const rule = `|---|${matrix.rows.map(() => "---").join("|")}|`
  const lines: Array<string> = [header, rule]
  for (const column of matrix.columns) {
    for (const variant of ["recovers", "exhausts", "once"] as const) {
      const cells = matrix.rows.map((row) =>
        matrix.cells.find((c) => c.row === row && c.column === column && c.variant === variant)
      )
      const first = cells.find((c) => c !== undefined)
      if (first === undefined) continue
      const label = variant === "recovers"
        ? `${column}, ${first.injected}× (recovers)`
        : variant === "exhausts"
        ? `${column}, ${first.injected}× (exhausts)`
        : `${column}`
      const rendered = cells.map((c) =>
        c === undefined
          ? "—"
          : `${c.outcome === c.expected ? "✓" : "✗"} ${c.outcome === "success" ? "ok" : c.outcome} (${c.attempts})`
      )
      lines.push(`| ${label} | ${rendered.join(" | ")} |`)
    }
  }
  return [
    `Each cell: ✓ when the outcome is the expected one, the outcome (\`ok\` or the error's tag; for the`,
    `Helix client, the platform error and its reason after the caller's \`filterStatusOk\` and`,
    `\`schemaBodyJson\`), and in brackets the attempts Twitch saw (at most ${matrix.maxAttempts}: the schedule's`,
    `3 retries). Request timeout ${matrix.requestTimeout}.`,
    "",
    ...lines
  ].join("\n")
}

/** One column per run of the fleet test (packages/sql/test/Fleet.stress.test.ts). */
const renderFleet = (fleet: typeof Fleet.Type): string => {
  const runs = [
    ["4 processes", fleet.plain],
    ["one SIGKILLed mid-refresh", fleet.kill]
  ] as const
  const cell = (f: (run: typeof FleetRun.Type) => string) =>
    runs.map(([, run]) => run === undefined ? "not measured" : f(run)).join(" | ")
  const kill = fleet.kill
  const lines = [
    `| | ${runs.map(([name]) => name).join(" | ")} |`,
    `|---|${runs.map(() => "---").join("|")}|`,
    `| users (half of a public client, half of a confidential one) | ${cell((r) => count(r.users))} |`,
    `| processes that served every user / started | ${cell((r) => `${r.processesDone} / ${r.processes}`)} |`,
    `| refreshes per user, min / max (Twitch's count) | ${
      cell((r) => `${r.refreshesPerUserMin} / ${r.refreshesPerUserMax}`)
    } |`,
    `| refreshes in all / rejected by Twitch | ${
      cell((r) => `${count(r.refreshes)} / ${count(r.rejectedRefreshes)}`)
    } |`,
    `| Helix calls ok / failed | ${
      cell((r) =>
        `${count(r.callsOk)} of ${count(r.calls)} (${r.callsPerUser} per user and process) / ${count(r.callsFailed)}`
      )
    } |`,
    `| refresh tokens lost (stored ≠ the last Twitch issued, or rejected) | ${
      cell((r) => count(r.refreshTokensLost))
    } |`,
    `| sessions ended (user logged out) | ${cell((r) => count(r.sessionsEnded))} |`,
    `| processes started, a session open per user (s) | ${cell((r) => String(r.startSeconds))} |`,
    `| every token expired → every call answered (s) | ${cell((r) => String(r.callsSeconds))} |`,
    `| whole run (s) | ${cell((r) => String(r.seconds))} |`
  ]
  const killed = kill === undefined ? [] : [
    "",
    `The killed process: SIGKILLed after Twitch had answered ${kill.killedAfterRefreshes} of its refreshes (each stored`,
    `before the kill) and the others ${kill.othersRefreshesAtKill}, with ${kill.inFlightAtKill} refresh requests of its own in flight`,
    `(held at Twitch's door, never answered) and ${
      kill.locksHeldAtKill["advisory"] ?? 0
    } advisory locks held; the others then refreshed ${kill.lockedAtKillThenRefreshedByOthers} of`,
    `those ${kill.inFlightAtKill} users. Locks of its backends left once PostgreSQL ended them: ${kill.locksLeft}; advisory`,
    `locks left in the database at the end: ${kill.advisoryLocksAtEnd}.`
  ]
  return [
    "The fleet (`packages/sql/test/Fleet.stress.test.ts`): 4 processes on one PostgreSQL database serve",
    "the same users; Twitch expires every token, then each process calls Helix for every user.",
    "",
    ...lines,
    ...killed
  ].join("\n")
}

const program = Effect.gen(function*() {
  const work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "reliability-"))
  const figuresDir = Path.join(work, "figures")
  const reportFile = Path.join(work, "report.json")
  const started = Date.now()
  const code = yield* runVitest(figuresDir, reportFile)
  const seconds = Math.round((Date.now() - started) / 1000)

  const report = yield* readJson(reportFile, Report)
  const matrix = yield* readJson(Path.join(figuresDir, "fault-matrix.json"), Matrix)
  const fuzz = yield* readJson(Path.join(figuresDir, "fuzz.json"), Fuzz)
  const leaks = yield* readJson(Path.join(figuresDir, "secret-leaks.json"), Leaks)
  const crash = yield* readJson(Path.join(figuresDir, "crash-safety.json"), Crash)
  const hostile = yield* readJson(Path.join(figuresDir, "hostile-network.json"), Hostile)
  const backoff = yield* readJson(Path.join(figuresDir, "session-backoff.json"), Backoff)
  const fleet = yield* readJson(Path.join(figuresDir, "fleet.json"), Fleet)

  const missing = "not measured (the suite did not run to the end)"
  const rows: Array<readonly [string, string]> = []
  if (report._tag === "Some") {
    const r = report.value
    rows.push(["test cases run", count(r.numTotalTests)])
    rows.push([
      "passed / failed / skipped",
      `${count(r.numPassedTests)} / ${count(r.numFailedTests)} / ${count(r.numPendingTests)}`
    ])
  } else {
    rows.push(["test cases run", missing])
  }
  if (matrix._tag === "Some") {
    const m = matrix.value
    const passed = m.cells.filter((c) => c.outcome === c.expected && c.attempts <= m.maxAttempts)
    const injected = m.cells.reduce((n, c) => n + c.faultsHit, 0)
    const survived = passed.reduce((n, c) => n + c.faultsHit, 0)
    rows.push([
      "fault matrix cells (rows × columns)",
      `${count(m.cells.length)} (${m.rows.length} × ${m.columns.length} faults, recovering and exhausting)`
    ])
    rows.push(["fault matrix cells as expected", count(passed.length)])
    rows.push(["faults injected / survived", `${count(injected)} / ${count(survived)}`])
    rows.push([
      "most attempts in any cell (allowed)",
      `${Math.max(0, ...m.cells.map((c) => c.attempts))} (${m.maxAttempts})`
    ])
  } else {
    rows.push(["fault matrix", missing])
  }
  rows.push([
    "inputs fuzzed",
    fuzz._tag === "Some"
      ? `${count(fuzz.value.answers + fuzz.value.tokenBodies)} (${
        count(fuzz.value.answers)
      } random answers to every operation, ${count(fuzz.value.tokenBodies)} valid token bodies)`
      : missing
  ])
  rows.push([
    "leaks found",
    leaks._tag === "Some"
      ? `${
        count(leaks.value.leaked)
      } (${leaks.value.secrets} secrets in ${leaks.value.formsChecked} forms, raw and URL-encoded, searched in ${
        count(leaks.value.textsSearched)
      } log lines, spans and printed values)`
      : missing
  ])
  rows.push([
    "crash kills survived",
    crash._tag === "Some"
      ? `${crash.value.kills} SIGKILLs mid-refresh; ${
        count(crash.value.sharedFileRefreshes)
      } refreshes by two processes on one file`
      : missing
  ])
  if (crash._tag === "Some") {
    const c = crash.value
    rows.push([
      "public client: token answer → stored (ms, median / p99 / max)",
      c.windowMs === undefined
        ? missing
        : `${c.windowMs.median} / ${c.windowMs.p99} / ${c.windowMs.max} (${c.windowMs.samples} refreshes; compare-and-set returned, fsyncs included)`
    ])
    rows.push([
      "public client: SIGKILLs at random points / spent token left in the file",
      c.publicRandomKills === undefined || c.publicRandomLosses === undefined
        ? missing
        : `${c.publicRandomKills} / ${c.publicRandomLosses} (${
          c.publicRandomRefreshes ?? 0
        } refreshes in all; each loss the last refresh's, rotated by Twitch before the child stored it)`
    ])
    rows.push([
      "public client: SIGKILLs 0–20 ms after Twitch rotated / spent token left in the file",
      c.windowKills === undefined || c.windowLosses === undefined
        ? missing
        : `${c.windowKills} / ${c.windowLosses} (each one the last refresh's, rotated by Twitch before the child stored it)`
    ])
    const f = c.fourProcesses
    rows.push([
      "four processes, one public client's user",
      f === undefined
        ? missing
        : `${f.refreshes} refreshes in ${f.seconds} s, ${f.holds} held 3× past staleLockAfter, ${f.kills} SIGKILLs (${f.holderKills} of the holder mid-hold), clocks ±3 h and jumping: ${f.presentedTwice} refresh tokens presented twice, ${f.rejected} rejected`
    ])
  }
  if (hostile._tag === "Some") {
    const h = hostile.value
    const of = (prefix: string) =>
      Object.entries(h).filter(([name]) => name.startsWith(`${prefix}.`)).map(([, value]) => value)
    const endless = of("endlessBodyFailedAfterMillis")
    const written = of("bytesWrittenBeforeClose")
    const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
    rows.push([
      "an endless body (a byte every 50 ms), request timeout 400 ms",
      endless.length === 0
        ? missing
        : `every operation failed with \`TransportError\` Timeout after ${Math.min(...endless)}–${
          Math.max(...endless)
        } ms (${endless.length} operations)`
    ])
    rows.push([
      "a 1 GB answer: bytes the server wrote before the client closed",
      written.length === 0
        ? missing
        : `at most ${mib(Math.max(...written))} per id.twitch.tv operation (64 KiB cap, plus socket buffers)${
          h["helixBytesWrittenBeforeClose"] === undefined
            ? ""
            : `; ${mib(h["helixBytesWrittenBeforeClose"])} for Helix (8 MiB cap), RSS +${
              mib(h["helixRssGrowthBytes"] ?? 0)
            }`
        }`
    ])
  } else {
    rows.push(["hostile network", missing])
  }
  const fleetRow = (run: typeof FleetRun.Type | undefined) =>
    run === undefined
      ? missing
      : `${
        run.refreshesPerUserMin === run.refreshesPerUserMax
          ? run.refreshesPerUserMin
          : `${run.refreshesPerUserMin}–${run.refreshesPerUserMax}`
      } refresh per user, ${count(run.callsFailed)} failed calls, ${
        count(run.refreshTokensLost)
      } refresh tokens lost (${count(run.users)} users, ${count(run.callsOk)} calls ok)`
  rows.push([
    "fleet: 4 processes on PostgreSQL, every token expired",
    fleet._tag === "Some" ? fleetRow(fleet.value.plain) : missing
  ])
  rows.push([
    "fleet: one of the 4 SIGKILLed mid-refresh",
    fleet._tag === "Some" && fleet.value.kill !== undefined
      ? `${
        fleetRow(fleet.value.kill)
      }; its ${fleet.value.kill.inFlightAtKill} locks released (${fleet.value.kill.locksLeft} left)`
      : missing
  ])
  rows.push(["wall time", `${seconds} s`])

  const date = new Date().toISOString().slice(0, 10)
  const figures = [
    `Last run: ${date}, \`${command}\` (Node ${process.version}, ${Os.cpus().length} CPUs)${
      code === 0 ? "" : " — **some tests failed**"
    }.`,
    "",
    "| figure | value |",
    "|---|---|",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`)
  ].join("\n")

  const before = Fs.existsSync(docPath) ? Fs.readFileSync(docPath, "utf8") : "# Reliability\n"
  let doc = replaceBetween(before, "reliability:figures", figures)
  if (matrix._tag === "Some") doc = replaceBetween(doc, "reliability:matrix", renderMatrix(matrix.value))
  if (backoff._tag === "Some") {
    doc = replaceBetween(
      doc,
      "reliability:backoff",
      [
        `Over ${backoff.value.window} from the moment a refresh falls due (\`SessionBackoff.test.ts\`):`,
        "",
        "| case | count |",
        "|---|---|",
        ...Object.entries(backoff.value.figures).map(([name, value]) => `| ${name} | ${count(value)} |`)
      ].join("\n")
    )
  }
  if (fleet._tag === "Some") doc = replaceBetween(doc, "reliability:fleet", renderFleet(fleet.value))
  Fs.writeFileSync(docPath, doc)
  Fs.rmSync(work, { recursive: true, force: true })
  process.stdout.write(`\n${figures}\n\nwrote ${Path.relative(root, docPath)}\n`)
  process.exitCode = code === 0 ? 0 : 1
})

Effect.runPromise(program)
