/**
 * One flusso deployment under test, on the real services: a fresh database, a unique
 * index prefix, SQL and OpenSearch helpers, and the engine run in-process (`start`) or
 * as the real CLI in a child process (`spawnCli`) for kill tests.
 *
 * Assertions wait for *acknowledgement*, not time: `caughtUp()` notes the WAL position
 * after the test's DML and waits until flusso's slot is confirmed past it. flusso acks
 * only after the flush, so every document is then in its final state.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Either, Exit, Fiber, Queue, Schema } from "effect"
import pg from "pg"
import { resolveConfig } from "../../src/config/resolve.js"
import type { ResolvedConfig } from "../../src/config/ResolvedConfig.js"
import { validateConfig } from "../../src/config/validate.js"
import * as EngineCommand from "../../src/engine/EngineCommand.js"
import * as Flusso from "../../src/Flusso.js"
import { createTestDatabase, deleteIndexesWithPrefix, type TestDatabase, uniquePrefix } from "./services.js"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: integration tests need the real services (see test/support/globalSetup.ts)`)
  return value
}

/** The environment without reserved override variables, which would win over the test config's URLs (config.md). */
const cliEnvironment = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "DATABASE_URL" && !/_OPENSEARCH_(URL|USERNAME|PASSWORD)$/.test(name)))

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `probe` until it returns something other than undefined. */
/** The index of an `items (id int PRIMARY KEY, name text, qty int)` table: the kill, cluster failover and membership tests'. */
export const itemsIndex = {
  items: {
    table: "items",
    primaryKey: "id",
    fields: { id: { kind: "integer", required: true }, name: { kind: "text" }, qty: { kind: "integer" } }
  }
}

export const waitFor = async <A>(what: string, probe: () => Promise<A | undefined>, timeoutMs = 30_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

const GetResponse = Schema.Struct({ found: Schema.Boolean, _source: Schema.optional(Schema.Unknown) })
const CountResponse = Schema.Struct({ count: Schema.Number })
const SlotRow = Schema.Struct({ confirmed: Schema.NullOr(Schema.String), target: Schema.String, caught_up: Schema.Boolean })

export interface Running {
  /** Interrupts the engine (a clean stop: the in-flight batch is abandoned unacked). */
  readonly stop: () => Promise<void>
  /** Resolves with the engine's exit when it ends by itself (a fatal error). */
  readonly exit: Promise<Exit.Exit<void, unknown>>
  /** Reindexes through the running engine; resolves once the new generation serves. */
  readonly reindex: (index: string) => Promise<void>
}

export interface Deployment {
  readonly db: TestDatabase
  readonly prefix: string
  readonly opensearchUrl: string
  readonly sql: (text: string, params?: ReadonlyArray<unknown>) => Promise<ReadonlyArray<Record<string, unknown>>>
  /** The config object a user would export, with this deployment's source, sink and prefix filled in. */
  readonly config: (indexes: Record<string, unknown>, extra?: Record<string, unknown>) => Record<string, unknown>
  readonly resolve: (config: Record<string, unknown>) => Promise<ResolvedConfig>
  readonly start: (config: Record<string, unknown>, options?: Flusso.RunOptions) => Promise<Running>
  /** Writes `config` as a real user's flusso.config.ts for this deployment; its path. */
  readonly configFile: (config: Record<string, unknown>) => string
  /**
   * `flusso run` (the real CLI) on a TS config file written for this deployment;
   * SIGKILL-able. Its HTTP surfaces listen on ports of their own unless `env` names them;
   * `pipe` captures stdout/stderr instead of passing them through.
   */
  readonly spawnCli: (
    config: Record<string, unknown>,
    options?: { readonly args?: ReadonlyArray<string>; readonly env?: NodeJS.ProcessEnv; readonly pipe?: boolean }
  ) => ChildProcess
  /** GET a document through the convenience alias; undefined when absent. */
  readonly doc: (index: string, id: string) => Promise<unknown>
  readonly count: (index: string) => Promise<number>
  readonly raw: (method: string, urlPath: string, body?: unknown) => Promise<{ status: number; text: string }>
  /** Waits until the slot is confirmed past everything committed so far. */
  readonly caughtUp: (timeoutMs?: number) => Promise<void>
  readonly cleanup: () => Promise<void>
}

/** Where a deployment runs: the shared test services unless given (fault tests bring their own). */
export interface DeploymentServices {
  readonly databaseUrl: string
  readonly opensearchUrl: string
}

export const makeDeployment = async (services?: DeploymentServices): Promise<Deployment> => {
  const db = await createTestDatabase(services?.databaseUrl ?? env("FLUSSO_TEST_DATABASE_URL"))
  const opensearchUrl = (services?.opensearchUrl ?? env("FLUSSO_TEST_OPENSEARCH_URL")).replace(/\/+$/, "")
  const prefix = uniquePrefix()
  const pool = new pg.Pool({ connectionString: db.url, max: 2 })
  // Dropping the database terminates idle connections still closing: not a test failure.
  pool.on("error", () => undefined)
  const running: Array<Running> = []
  const children: Array<ChildProcess> = []

  const sql: Deployment["sql"] = async (text, params = []) => (await pool.query(text, [...params])).rows

  const raw: Deployment["raw"] = async (method, urlPath, body) => {
    const response = await fetch(`${opensearchUrl}${urlPath}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
    })
    return { status: response.status, text: await response.text() }
  }

  const config: Deployment["config"] = (indexes, extra = {}) => ({
    // Slot names are cluster-wide: one per test database.
    source: { type: "postgres", url: db.url, slot: db.name },
    sinks: { primary: { type: "opensearch", url: opensearchUrl, numberOfReplicas: 0, refreshInterval: "1s" } },
    indexes,
    prefix,
    batch: { maxChanges: 256, maxDelayMs: 20 },
    ...extra
  })

  const resolve: Deployment["resolve"] = async (input) => {
    const validated = validateConfig(input)
    if (Either.isLeft(validated)) throw new Error(`invalid test config:\n${validated.left.join("\n")}`)
    return Effect.runPromise(resolveConfig(validated.right, {}))
  }

  const start: Deployment["start"] = async (input, options) => {
    const resolved = await resolve(input)
    const commands = Effect.runSync(Queue.unbounded<EngineCommand.EngineCommand>())
    const fiber = Effect.runFork(Flusso.run(resolved, { commands, ...options }))
    const handle: Running = {
      stop: () => Effect.runPromise(Fiber.interrupt(fiber)).then(() => undefined),
      exit: Effect.runPromise(Fiber.await(fiber)),
      reindex: (index) => Effect.runPromise(EngineCommand.reindex(commands, index))
    }
    running.push(handle)
    // Ready once live capture runs: the slot is active (indexes are ensured before that).
    await waitFor("flusso to start streaming", async () => {
      const exited = await Promise.race([handle.exit, sleep(0).then(() => undefined)])
      if (exited !== undefined) throw new Error(`flusso stopped while starting: ${String(exited)}`)
      const rows = await sql("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [db.name])
      return rows[0]?.["active"] === true ? true : undefined
    })
    return handle
  }

  let configs = 0
  const configFile: Deployment["configFile"] = (input) => {
    const dir = path.join(ROOT, "test", ".tmp")
    mkdirSync(dir, { recursive: true })
    const file = path.join(dir, `${db.name}_${++configs}.config.ts`)
    // A real user config: imports flusso by package name (this package's self-reference → dist/).
    writeFileSync(file, `import { defineConfig } from "flusso"\nexport default defineConfig(${JSON.stringify(input, null, 2)})\n`)
    return file
  }

  const spawnCli: Deployment["spawnCli"] = (input, options = {}) => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "main.js"), "run", "--config", configFile(input), ...(options.args ?? [])], {
      cwd: ROOT,
      stdio: ["ignore", options.pipe ? "pipe" : "inherit", options.pipe ? "pipe" : "inherit"],
      env: {
        ...cliEnvironment(),
        FLUSSO_LOG_LEVEL: process.env["FLUSSO_LOG_LEVEL"] ?? "warn",
        // Port 0: any free port, so CLIs of parallel tests never collide on the defaults.
        FLUSSO_PUBLIC_ADDRESS: "127.0.0.1:0",
        FLUSSO_PRIVATE_ADDRESS: "127.0.0.1:0",
        ...options.env
      }
    })
    children.push(child)
    return child
  }

  const doc: Deployment["doc"] = async (index, id) => {
    const response = await raw("GET", `/${prefix}${index}/_doc/${encodeURIComponent(id)}`)
    if (response.status === 404) {
      const body = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({ found: Schema.optional(Schema.Boolean) })))(response.text)
      if (body.found === false) return undefined
      throw new Error(`index ${prefix}${index} does not exist: ${response.text}`)
    }
    const body = Schema.decodeUnknownSync(Schema.parseJson(GetResponse))(response.text)
    return body.found ? body._source : undefined
  }

  const count: Deployment["count"] = async (index) => {
    await raw("POST", `/${prefix}${index}/_refresh`)
    const response = await raw("GET", `/${prefix}${index}/_count`)
    return Schema.decodeUnknownSync(Schema.parseJson(CountResponse))(response.text).count
  }

  const caughtUp: Deployment["caughtUp"] = async (timeoutMs = 30_000) => {
    // The insert position: with synchronous_commit = off the write position lags commits.
    const [target] = await sql("SELECT pg_current_wal_insert_lsn()::text AS lsn")
    await waitFor(`flusso to acknowledge WAL up to ${String(target?.["lsn"])}`, async () => {
      const rows = await sql(
        `SELECT confirmed_flush_lsn::text AS confirmed, $1::text AS target, coalesce(confirmed_flush_lsn >= $1::pg_lsn, false) AS caught_up
           FROM pg_replication_slots WHERE slot_name = $2`,
        [target?.["lsn"], db.name]
      )
      const row = rows[0] === undefined ? undefined : Schema.decodeUnknownSync(SlotRow)(rows[0])
      return row?.caught_up ? true : undefined
    }, timeoutMs)
  }

  const cleanup = async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL")
    for (const handle of running) await handle.stop()
    await pool.end()
    await db.drop()
    await deleteIndexesWithPrefix(opensearchUrl, prefix)
  }

  return { db, prefix, opensearchUrl, sql, config, resolve, start, configFile, spawnCli, doc, count, raw, caughtUp, cleanup }
}

/** Runs `body` on a deployment of its own (on `services`, else the shared ones), cleaned up however it ends. */
export const withDeployment = async (body: (d: Deployment) => Promise<void>, services?: DeploymentServices): Promise<void> => {
  const d = await makeDeployment(services)
  try {
    await body(d)
  } finally {
    await d.cleanup()
  }
}
