import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { FakeTwitch } from "../src/index.js"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../..")
const script = Path.join(root, "packages/testing/scripts/mock.ts")
const [confidential] = FakeTwitch.defaultSeed.clients
const [user] = FakeTwitch.defaultSeed.users

const left = <R>(either: Either.Either<R, string>): string =>
  Either.match(either, { onLeft: (message) => message, onRight: () => assert.fail("expected a Left") })

describe("FakeTwitch.parseQuirks", () => {
  it("issue 12 #9: reads every quirk from name=value; a later setting wins", () => {
    assert.deepStrictEqual(
      FakeTwitch.parseQuirks([
        "includeErrorField=true",
        "appTokenValidateIdentity=null",
        "emptyScopes=empty",
        "refreshFailureStatus=401",
        "rotateRefreshTokens=false",
        " emptyScopes = null "
      ]),
      Either.right({
        includeErrorField: true,
        appTokenValidateIdentity: "null",
        emptyScopes: "null",
        refreshFailureStatus: 401,
        rotateRefreshTokens: false
      })
    )
    assert.deepStrictEqual(FakeTwitch.parseQuirks([]), Either.right({}))
  })

  it("issue 12 #9: every quirk in defaultQuirks can be set to each of its values", () => {
    for (const [name, value] of Object.entries(FakeTwitch.defaultQuirks)) {
      assert.deepStrictEqual(
        FakeTwitch.parseQuirks([`${name}=${String(value)}`]),
        Either.right({ [name]: value }),
        name
      )
      assert.include(FakeTwitch.describeQuirks(), `${name}=`)
    }
  })

  it("issue 12 #9: a bad setting is a Left naming it and listing the valid quirks", () => {
    const valid = "valid quirks: includeErrorField=false|true, appTokenValidateIdentity=absent|null, " +
      "emptyScopes=twitch|empty|null, refreshFailureStatus=400|401, rotateRefreshTokens=false|true"
    const unknown = left(FakeTwitch.parseQuirks(["rotate=false"]))
    assert.include(unknown, "unknown quirk \"rotate\"")
    assert.include(unknown, valid)
    const badValue = left(FakeTwitch.parseQuirks(["emptyScopes=empty", "refreshFailureStatus=402"]))
    assert.include(badValue, "quirk \"refreshFailureStatus\" cannot be \"402\": expected 400 or 401")
    assert.include(badValue, valid)
    assert.include(left(FakeTwitch.parseQuirks(["includeErrorField=yes"])), "expected false or true")
    assert.include(left(FakeTwitch.parseQuirks(["includeErrorField"])), "\"includeErrorField\" is not name=value")
    // names are exact, and inherited properties are not quirks
    assert.include(left(FakeTwitch.parseQuirks(["EmptyScopes=empty"])), "unknown quirk")
    assert.include(left(FakeTwitch.parseQuirks(["toString=true"])), "unknown quirk \"toString\"")
  })

  it("issue 12 #9: parseQuirksList reads the comma-separated environment form", () => {
    assert.deepStrictEqual(
      FakeTwitch.parseQuirksList("emptyScopes=empty, rotateRefreshTokens=false,,"),
      Either.right({ emptyScopes: "empty", rotateRefreshTokens: false })
    )
    assert.deepStrictEqual(FakeTwitch.parseQuirksList(undefined), Either.right({}))
    assert.deepStrictEqual(FakeTwitch.parseQuirksList("  "), Either.right({}))
    assert.include(left(FakeTwitch.parseQuirksList("emptyScopes=nil")), "quirk \"emptyScopes\" cannot be \"nil\"")
    assert.deepStrictEqual(
      FakeTwitch.parseQuirksEnv({ TWITCH_MOCK_QUIRKS: "includeErrorField=true" }),
      Either.right({ includeErrorField: true })
    )
    assert.deepStrictEqual(FakeTwitch.parseQuirksEnv({}), Either.right({}))
    assert.match(
      left(FakeTwitch.parseQuirksEnv({ TWITCH_MOCK_QUIRKS: "x=1" })),
      /^TWITCH_MOCK_QUIRKS: unknown quirk "x"/
    )
  })
})

interface Mock {
  readonly child: ChildProcess.ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
}

/** `pnpm mock`'s script as a real process (`node --import tsx`), on a free port. */
const startMock = (args: ReadonlyArray<string>, env: Record<string, string>): Mock => {
  const child = ChildProcess.spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PORT: "0", ...env }
  })
  let output = ""
  const append = (chunk: Buffer) => {
    output += chunk.toString()
  }
  child.stdout.on("data", append)
  child.stderr.on("data", append)
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, output: () => output, exited }
}

/** The base URL once the mock says it listens (`None`-like `undefined` if it exited first). */
const listening = (mock: Mock) =>
  Effect.promise(() =>
    new Promise<string | undefined>((resolve) => {
      const check = () => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(mock.output())
        if (match?.[1] !== undefined) return resolve(match[1])
        if (mock.child.exitCode !== null) return resolve(undefined)
        setTimeout(check, 5)
      }
      check()
    })
  )

const stop = (mock: Mock) =>
  Effect.promise(() => {
    mock.child.kill("SIGKILL")
    return mock.exited
  })

const postForm = (url: string, params: Record<string, string>) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method: "POST", body: new URLSearchParams(params) })
    return { status: response.status, json: Object(await response.json()) }
  })

describe("pnpm mock quirks", () => {
  it.live(
    "issue 12 #9: --quirk flags and TWITCH_MOCK_QUIRKS set the quirks of the running mock",
    () =>
      Effect.gen(function*() {
        const mock = startMock(["--quirk", "rotateRefreshTokens=false", "--quirk=refreshFailureStatus=401"], {
          TWITCH_MOCK_QUIRKS: "includeErrorField=true,refreshFailureStatus=400"
        })
        const base = yield* listening(mock)
        assert.isDefined(base, mock.output())
        yield* Effect.ensuring(
          Effect.gen(function*() {
            assert.include(mock.output(), "includeErrorField=true")
            assert.include(mock.output(), "rotateRefreshTokens=false")
            const grant = yield* postForm(`${base}/oauth2/device`, {
              client_id: confidential.clientId,
              scopes: "chat:read"
            })
            assert.strictEqual(grant.status, 200)
            yield* postForm(`${base}/oauth2/activate`, { user_code: grant.json.user_code, user_id: user.userId })
            const token = yield* postForm(`${base}/oauth2/token`, {
              client_id: confidential.clientId,
              client_secret: confidential.clientSecret,
              device_code: grant.json.device_code,
              grant_type: "urn:ietf:params:oauth:grant-type:device_code"
            })
            assert.strictEqual(token.status, 200)
            const refresh = {
              client_id: confidential.clientId,
              client_secret: confidential.clientSecret,
              grant_type: "refresh_token",
              refresh_token: token.json.refresh_token
            }
            // rotateRefreshTokens=false (flag): the same refresh token comes back and still works
            const first = yield* postForm(`${base}/oauth2/token`, refresh)
            assert.strictEqual(first.json.refresh_token, token.json.refresh_token)
            assert.strictEqual((yield* postForm(`${base}/oauth2/token`, refresh)).status, 200)
            // refreshFailureStatus=401 (the flag wins over the environment) and includeErrorField (environment)
            const refused = yield* postForm(`${base}/oauth2/token`, { ...refresh, refresh_token: "nosuchtoken" })
            assert.deepStrictEqual([refused.status, refused.json], [
              401,
              { error: "Unauthorized", status: 401, message: "Invalid refresh token" }
            ])
          }),
          stop(mock)
        )
      }),
    60_000
  )

  it.live(
    "issue 12 #9: a bad quirk stops the mock with a message naming it and the valid ones",
    () =>
      Effect.gen(function*() {
        /** The exit code, or `"listening"` if the mock started anyway (it is then stopped). */
        const outcome = (mock: Mock) =>
          Effect.ensuring(
            Effect.flatMap(listening(mock), (base) =>
              base === undefined
                ? Effect.promise(() => mock.exited)
                : Effect.succeed<number | null | "listening">("listening")),
            stop(mock)
          )
        const flag = startMock(["--quirk", "rotate=false"], {})
        assert.strictEqual(yield* outcome(flag), 1, flag.output())
        assert.include(flag.output(), "--quirk: unknown quirk \"rotate\"; valid quirks: includeErrorField=false|true")
        const env = startMock([], { TWITCH_MOCK_QUIRKS: "emptyScopes=nil" })
        assert.strictEqual(yield* outcome(env), 1, env.output())
        assert.include(
          env.output(),
          "TWITCH_MOCK_QUIRKS: quirk \"emptyScopes\" cannot be \"nil\": expected twitch or empty or null"
        )
        const stray = startMock(["--verbose"], {})
        assert.strictEqual(yield* outcome(stray), 1, stray.output())
        assert.include(stray.output(), "unknown argument \"--verbose\"")
      }),
    60_000
  )
})
