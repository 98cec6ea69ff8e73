/**
 * `npm run bench -- [--users N] [--only backfill,live,latency,ceilings] [--rs <binary>] [--keep] [--fresh] [--no-build]`
 *
 * Measures the real CLI against the native services and prints one markdown table next to
 * the ceilings measured in the same run; with `--rs`, the Rust flusso runs the same phases
 * on the same data right after, and the table has both columns and their ratio. Writes
 * bench/results.json. What each figure is and how it is measured: bench/README.md.
 */
import { execSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { checkMarkers, checkState, compareDocuments, fetchDocuments, type Parity } from "./lib/audit.js"
import { bulkCeiling, flussoStatements, type SqlCeiling, sqlCeiling } from "./lib/ceilings.js"
import { abortStarts, isAborting, killAllChildren, stopAllChildren } from "./lib/child.js"
import { dropPublications, dropSlotSql, prepareDataset, slotState, undoLiveChanges } from "./lib/dataset.js"
import { oursTool } from "./lib/flusso.js"
import { commitChildInserts, commitRootUpdates, commitSentinel, measureCatchUp, measureLatency, RESERVED } from "./lib/live.js"
import { call, deleteIndexesWithPrefix } from "./lib/opensearch.js"
import { runnersBench, table as runnersTable } from "./lib/runners.js"
import { type Backfill, type Ceilings, GOALS, notRun, type Outcome, table, type ToolFigures, toolNotRun } from "./lib/report.js"
import { type RustCheck, rustTool, type RustTool } from "./lib/rust.js"
import { checkServices, ensureBuilt, servicesUp } from "./lib/services.js"
import type { Deployment, Running, Tool } from "./lib/tool.js"
import { errorText, log, pollUntil, rate, sleep, TimedOut } from "./lib/util.js"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const PHASES = ["backfill", "live", "latency", "ceilings"] as const
type Phase = (typeof PHASES)[number]

interface Args {
  /** The checkout whose build is measured. */
  readonly measured: string
  readonly users: number
  readonly only: ReadonlySet<Phase>
  readonly keep: boolean
  readonly fresh: boolean
  readonly build: boolean
  readonly rootUpdates: number
  readonly childInserts: number
  readonly latencySeconds: number
  /** The Rust flusso binary (--rs), measured after flusso in the same run. */
  readonly rs: string | undefined
  /** --no-flusso: only the Rust tool (checking its setup). */
  readonly ours: boolean
  /** `--runners LIST`: the one-process and cluster figures instead of the usual phases. */
  readonly runners: ReadonlyArray<number> | undefined
}

const USAGE = `usage: npm run bench -- [--users N] [--only ${PHASES.join(",")}] [--rs BINARY] [--keep] [--fresh] [--no-build]
                        [--root-updates N] [--child-inserts N] [--latency-seconds S] [--flusso DIR] [--no-flusso]
                        [--runners LIST]
  --users N          root rows of the dataset (default 100000; 3 orders and 6 items per user)
  --only LIST        phases to run (default all); live, latency and ceilings seed the nested index first
  --rs BINARY        also measure the Rust flusso (its binary) on the same data, right after flusso
  --keep             keep the OpenSearch indexes of this run (default: deleted at the end)
  --fresh            rebuild the flusso_bench database even when it has the requested size
  --no-build         measure dist/ as it is, even when src/ is newer
  --flusso DIR       measure the build in another checkout (DIR/dist/main.js; built there already), e.g. an
                     earlier commit for a before/after table; the dataset and config are this checkout's
  --no-flusso        measure only the Rust tool (with --rs)
  --runners LIST     instead of the phases above: backfill and live catch-up of one process, then of a cluster
                     of N runners (run --cluster) for each N in LIST (e.g. 1,2,3), with each process's CPU`

const parseArgs = (argv: ReadonlyArray<string>): Args => {
  const out: { -readonly [K in keyof Args]: Args[K] } = {
    measured: ROOT,
    users: 100_000,
    only: new Set<Phase>(PHASES),
    keep: false,
    fresh: false,
    build: true,
    rootUpdates: 20_000,
    childInserts: 10_000,
    latencySeconds: 15,
    rs: undefined,
    ours: true,
    runners: undefined
  }
  const positive = (flag: string, v: string | undefined) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} takes a positive integer, got ${v ?? "nothing"}\n${USAGE}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined]
    const next = () => inline ?? argv[++i]
    switch (flag) {
      case "--users": out.users = positive(flag, next()); break
      case "--root-updates": out.rootUpdates = positive(flag, next()); break
      case "--child-inserts": out.childInserts = positive(flag, next()); break
      case "--latency-seconds": out.latencySeconds = positive(flag, next()); break
      case "--only": {
        const list = (next() ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
        const bad = list.filter((p) => !(PHASES as ReadonlyArray<string>).includes(p))
        if (list.length === 0 || bad.length > 0) throw new Error(`--only takes a list of ${PHASES.join(", ")}; got ${bad.join(", ") || "nothing"}\n${USAGE}`)
        out.only = new Set(list as Array<Phase>)
        break
      }
      case "--keep": out.keep = true; break
      case "--fresh": out.fresh = true; break
      case "--no-build": out.build = false; break
      case "--flusso": {
        const dir = path.resolve(next() ?? ".")
        process.env["BENCH_FLUSSO_CLI"] = path.join(dir, "dist", "main.js")
        out.build = false
        out.measured = dir
        break
      }
      case "--rs": {
        const binary = next()
        if (binary === undefined || binary.startsWith("--")) throw new Error(`--rs takes the path of the Rust flusso binary\n${USAGE}`)
        out.rs = path.resolve(binary)
        break
      }
      case "--no-flusso": out.ours = false; break
      case "--runners": out.runners = (next() ?? "").split(",").map((v) => positive(flag, v.trim())); break
      case "--help": case "-h": process.stdout.write(`${USAGE}\n`); process.exit(0)
      default: throw new Error(`unknown argument ${a}\n${USAGE}`)
    }
  }
  // Users 1..RESERVED carry the sentinel and the compared documents (lib/live.ts).
  if (out.users <= RESERVED * 10) throw new Error(`--users must be above ${RESERVED * 10}\n${USAGE}`)
  if (!out.ours && out.rs === undefined) throw new Error(`--no-flusso leaves nothing to measure without --rs\n${USAGE}`)
  return out
}

/** Runs a phase: its figure, or "timed out" / "failed" with the reason (the bench goes on). */
const phase = async <A>(name: string, body: () => Promise<A>, stopTools = true): Promise<Outcome<A>> => {
  if (isAborting()) return notRun("the bench was stopped")
  log(`── ${name}`)
  try {
    const value = await body()
    return { status: "measured", value }
  } catch (e) {
    const status = e instanceof TimedOut ? "timed out" : "failed"
    log(`${name}: ${status}: ${errorText(e)}`)
    return { status, reason: errorText(e) }
  } finally {
    if (stopTools) await stopAllChildren(15_000) // a phase never leaves a tool behind
  }
}

const git = (dir: string) => {
  try {
    const commit = execSync("git rev-parse --short HEAD", { cwd: dir, encoding: "utf8" }).trim()
    const dirty = execSync("git status --porcelain --untracked-files=no", { cwd: dir, encoding: "utf8" }).trim() !== ""
    return { commit, dirty }
  } catch {
    return { commit: "unknown", dirty: null }
  }
}

/** The documents compared between the tools: the reserved users, which no backlog touches. */
const PARITY_IDS = Array.from({ length: RESERVED }, (_, i) => String(i + 1))

/** What a tool's run leaves for the report beyond its figures. */
interface ToolRun {
  readonly figures: ToolFigures
  /** os.loadavg() when the tool's part began and ended: how busy the machine was meanwhile. */
  readonly loadAverage?: { readonly start: ReadonlyArray<number>; readonly end: ReadonlyArray<number> }
  /** The reserved users' documents right after each backfill (nested, flat). */
  readonly documents: { nested?: Record<string, unknown>; flat?: Record<string, unknown> }
}

const main = async () => {
  const args = parseArgs(process.argv.slice(2))
  const runId = Date.now()
  const deployments: Array<Deployment> = []
  const runDir = mkdtempSync(path.join(os.tmpdir(), `flusso-bench-${runId}-`))
  let cleaning: Promise<void> | undefined

  /** Idempotent (a second call waits for the first): stop children, drop this run's slots and publications, delete its indexes unless --keep. */
  const cleanup = (databaseUrl: string | undefined, adminUrl: string | undefined, opensearchUrl: string | undefined): Promise<void> =>
    (cleaning ??= cleanupOnce(databaseUrl, adminUrl, opensearchUrl))
  const cleanupOnce = async (databaseUrl: string | undefined, adminUrl: string | undefined, opensearchUrl: string | undefined) => {
    await stopAllChildren(5000)
    for (const d of deployments) {
      if (adminUrl === undefined) break
      // A walsender lingers briefly after its client exits.
      for (let i = 0; i < 50; i++) {
        const state = await slotState(adminUrl, d.slot).catch(() => "absent" as const)
        if (state === "absent") break
        if (state === "inactive") await dropSlotSql(adminUrl, d.slot).catch(() => false)
        else await sleep(200)
      }
    }
    if (databaseUrl !== undefined) await dropPublications(databaseUrl, deployments.map((d) => d.publication)).catch((e) => log(`dropping publications: ${errorText(e)}`))
    if (opensearchUrl !== undefined && !args.keep) {
      await deleteIndexesWithPrefix(opensearchUrl, `bench${runId}_`).catch((e) => log(`deleting indexes: ${errorText(e)}`))
    }
    rmSync(runDir, { recursive: true, force: true })
  }

  let urls: { databaseUrl?: string; adminUrl?: string; opensearchUrl?: string } = {}
  let signalled = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return // Ctrl-C reaches the whole process group, and tsx forwards it too
    signalled = true
    abortStarts()
    log(`${signal}: stopping the tools, dropping this run's slots${args.keep ? "" : " and indexes"}`)
    const hard = setTimeout(() => {
      killAllChildren()
      process.exit(130)
    }, 30_000)
    void cleanup(urls.databaseUrl, urls.adminUrl, urls.opensearchUrl).finally(() => {
      clearTimeout(hard)
      process.exit(130)
    })
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  process.on("exit", killAllChildren)

  try {
    const services = await servicesUp(ROOT)
    const versions = await checkServices(services)
    urls = { adminUrl: services.adminUrl, opensearchUrl: services.opensearchUrl }
    const build = ensureBuilt(ROOT, args.build)
    const dataset = await prepareDataset(services.adminUrl, args.users, args.fresh)
    urls.databaseUrl = dataset.url
    const logDir = path.join(ROOT, "bench", "logs", String(runId))
    if (args.runners !== undefined) {
      const figures = await runnersBench({
        root: ROOT,
        runId,
        logDir,
        databaseUrl: dataset.url,
        adminUrl: services.adminUrl,
        opensearchUrl: services.opensearchUrl,
        users: args.users,
        rootUpdates: args.rootUpdates,
        counts: args.runners,
        deployments
      })
      await cleanup(dataset.url, services.adminUrl, services.opensearchUrl)
      const markdown = runnersTable(figures)
      const machine = `${args.users} users (3 orders and 6 items each); ${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"}, PostgreSQL ${versions.postgres}, ${versions.opensearch}`
      writeFileSync(path.join(ROOT, "bench", "results-runners.json"), `${JSON.stringify({ timestamp: new Date().toISOString(), settings: { ...args, only: [...args.only] }, git: git(args.measured), machine, figures, table: markdown }, null, 2)}\n`)
      process.stdout.write(`\n${markdown}\n\n${machine}\n`)
      log("wrote bench/results-runners.json")
      return
    }
    const n = args.users
    const backfillTimeout = Math.max(600, n / 150)
    const ceilingTimeout = Math.max(300, n / 300)
    const wantsNested = ["backfill", "live", "latency", "ceilings"].some((p) => args.only.has(p as Phase))

    const ours = args.ours ? oursTool(ROOT, logDir) : undefined
    const rs: RustTool | undefined = args.rs === undefined ? undefined : rustTool(args.rs, runDir, logDir)
    const tools = [ours, rs].filter((t): t is Tool => t !== undefined)

    /** A tool's two deployments, each with its own prefix, slot and publication; the Rust tool's prefixes sit under this run's, so the cleanup finds them. */
    const deploymentsOf = (tool: Tool): { nested: Deployment; flat: Deployment } => {
      const tag = tool.key === "flusso" ? "" : "rs_"
      const nested: Deployment = {
        label: "nested",
        databaseUrl: dataset.url,
        opensearchUrl: services.opensearchUrl,
        prefix: `bench${runId}_${tag}`,
        slot: `bench_${runId}_${tag}nested`,
        publication: `bench_${runId}_${tag}nested`,
        indexes: ["bench_users"]
      }
      const flat: Deployment = {
        ...nested,
        label: "flat",
        prefix: tool.key === "flusso" ? `bench${runId}_flat_` : `bench${runId}_rsflat_`,
        slot: `bench_${runId}_${tag}flat`,
        publication: `bench_${runId}_${tag}flat`,
        indexes: ["bench_users_flat"]
      }
      return { nested, flat }
    }
    const plans = new Map(tools.map((t) => [t.key, deploymentsOf(t)]))
    for (const plan of plans.values()) deployments.push(plan.nested, plan.flat)

    const ceilings: Ceilings = {
      sqlNested: notRun("not asked for (--only)"),
      bulkNested: notRun("not asked for (--only)"),
      sqlFlat: notRun("not asked for (--only)"),
      bulkFlat: notRun("not asked for (--only)")
    }

    const countDocs = async (alias: string): Promise<number | null> => {
      await call(services.opensearchUrl, "POST", `/${alias}/_refresh`)
      const r = await call(services.opensearchUrl, "GET", `/${alias}/_count`)
      return r.status === 200 ? (r.json as { count: number }).count : null
    }

    /** Measures every asked-for phase through one tool; the ceilings go with the first tool (they need an index of its). */
    const measureTool = async (tool: Tool, withCeilings: boolean): Promise<ToolRun> => {
      const { nested, flat } = plans.get(tool.key) ?? deploymentsOf(tool)
      const f: ToolFigures = toolNotRun("not asked for (--only)")
      const documents: ToolRun["documents"] = {}
      const alias = (d: Deployment) => `${d.prefix}${d.indexes[0]}`

      /** Seeds a deployment from scratch; the figure from the tool's own timing. */
      const backfill = async (d: Deployment): Promise<Backfill> => {
        await tool.prepare(d)
        const running = await tool.start(d)
        const timing = await tool.backfill(running, backfillTimeout)
        const peakRssBytes = running.peakRss()
        await running.stop()
        const documentsInIndex = await countDocs(alias(d))
        if (documentsInIndex !== n) log(`warning: ${alias(d)} holds ${documentsInIndex} documents, expected ${n}`)
        const rows = timing.rows ?? documentsInIndex ?? 0
        const result: Backfill = {
          docsPerSecond: rows / timing.seconds,
          rows,
          seconds: timing.seconds,
          source: timing.source,
          observedSeconds: (timing.ended.at - timing.began.at) / 1000,
          wallSeconds: (timing.ended.at - running.startedAt) / 1000,
          documentsInIndex,
          peakRssBytes
        }
        log(`${tool.key} ${d.label}: ${rows} rows in ${timing.seconds.toFixed(2)} s → ${rate(result.docsPerSecond)} docs/s (peak RSS ${Math.round((peakRssBytes ?? 0) / 1048576)} MB)`)
        return result
      }

      const dropSlot = async (d: Deployment) => log(`${tool.key} ${d.label}: ${await tool.dropSlot(d).catch((e) => `dropping the slot failed: ${errorText(e)}`)}`)

      const keepDocuments = async (d: Deployment, into: "nested" | "flat") => {
        try {
          documents[into] = await fetchDocuments(services.opensearchUrl, alias(d), PARITY_IDS)
        } catch (e) {
          log(`reading the compared documents of ${alias(d)}: ${errorText(e)}`)
        }
      }

      if (wantsNested) {
        f.backfillNested = await phase(`${tool.title}: backfill, nested index (${n} users)`, () => backfill(nested))
        if (f.backfillNested.status === "measured") await keepDocuments(nested, "nested")
      }
      const nestedSeeded = f.backfillNested.status === "measured"
      const needsSeeded = notRun(`needs the seeded nested index, whose backfill ${f.backfillNested.status}`)

      if (withCeilings && args.only.has("ceilings")) {
        const statements = await flussoStatements(ROOT, { DATABASE_URL: dataset.url, PRIMARY_OPENSEARCH_URL: services.opensearchUrl })
        let docs: Array<{ id: string; doc: string }> = []
        ceilings.sqlNested = await phase("ceiling: raw document SQL, nested", async () => {
          const r = await sqlCeiling(dataset.url, statements.get("bench_users") as never, ceilingTimeout)
          docs = r.docs
          log(`document SQL: ${rate(r.figure.docsPerSecond)} docs/s, average ${r.figure.averageBytes} B (${r.figure.statementSource})`)
          return r.figure
        })
        ceilings.bulkNested = !nestedSeeded
          ? needsSeeded
          : docs.length === 0
          ? notRun("needs the documents of the SQL ceiling")
          : await phase("ceiling: raw _bulk, nested", async () => {
            const r = await bulkCeiling(services.opensearchUrl, alias(nested), `${nested.prefix}ceiling_bulk`, docs, ceilingTimeout)
            log(`raw _bulk: ${rate(r.docsPerSecond)} docs/s`)
            return r
          })
        docs = []
        if (!args.only.has("backfill")) {
          ceilings.sqlFlat = notRun("the flat ceilings run with the flat backfill (--only backfill,ceilings)")
          ceilings.bulkFlat = notRun("the flat ceilings run with the flat backfill (--only backfill,ceilings)")
        }
      }

      if (args.only.has("backfill")) {
        f.backfillFlat = await phase(`${tool.title}: backfill, flat index (${n} users)`, () => backfill(flat))
        if (f.backfillFlat.status === "measured") await keepDocuments(flat, "flat")
        await dropSlot(flat)
        if (withCeilings && args.only.has("ceilings")) {
          const statements = await flussoStatements(ROOT, { DATABASE_URL: dataset.url, PRIMARY_OPENSEARCH_URL: services.opensearchUrl })
          let docs: Array<{ id: string; doc: string }> = []
          ceilings.sqlFlat = await phase("ceiling: raw document SQL, flat", async () => {
            const r = await sqlCeiling(dataset.url, statements.get("bench_users_flat") as never, ceilingTimeout)
            docs = r.docs
            return r.figure satisfies SqlCeiling
          })
          ceilings.bulkFlat = f.backfillFlat.status !== "measured" || docs.length === 0
            ? notRun("needs the flat index and the flat SQL ceiling's documents")
            : await phase("ceiling: raw _bulk, flat", () =>
              bulkCeiling(services.opensearchUrl, alias(flat), `${flat.prefix}ceiling_bulk`, docs, ceilingTimeout))
        }
      }

      /** Commits a backlog and its sentinel with the tool stopped, starts it, times the catch-up; returns the running tool too. */
      const catchUp = async (label: string, changes: number, commit: () => Promise<number>) => {
        // A backlog committed while the slot is missing would never reach the tool.
        const slot = await slotState(dataset.url, nested.slot)
        if (slot !== "inactive") throw new Error(`replication slot ${nested.slot} is ${slot === "absent" ? "missing" : "in use"} before the backlog: the tool did not create it after seeding`)
        log(`${tool.key} ${label}: committing ${changes} single-row transactions with the tool stopped`)
        const backlogCommitRate = await commit()
        const sentinel = await commitSentinel(dataset.url)
        const running = await tool.start({ ...nested, label })
        const c = await measureCatchUp({
          running,
          url: dataset.url,
          opensearchUrl: services.opensearchUrl,
          alias: alias(nested),
          sentinel,
          changes,
          timeoutSeconds: Math.max(300, changes / 50)
        })
        if (running.lines.some((l) => tool.seedingLine.test(l.message))) log(`warning: ${tool.key} ${label}: the tool seeded again on restart: the figure includes a backfill`)
        const state = await checkState(services.opensearchUrl, alias(nested), dataset.url).catch((e) => {
          log(`${tool.key} ${label}: checking the index against the database: ${errorText(e)}`)
          return null
        })
        if (state !== null && !state.matches) {
          log(`warning: ${tool.key} ${label}: the index does not match the database after the catch-up: ${JSON.stringify(state)}`)
        }
        log(`${tool.key} ${label}: ${changes} changes in ${c.seconds.toFixed(2)} s → ${rate(c.changesPerSecond)}/s` +
          `${c.slotConfirmedSeconds === null ? "" : ` (slot confirmed after ${c.slotConfirmedSeconds.toFixed(2)} s)`}`)
        return { running, value: { ...c, backlogCommitRate, state } }
      }

      const liveRss: Array<{ bytes: number; during: string }> = []
      if (args.only.has("live")) {
        f.liveRootUpdates = !nestedSeeded ? needsSeeded : await phase(`${tool.title}: live: catch-up of ${args.rootUpdates} root updates`, async () => {
          const { running, value } = await catchUp("live-root", args.rootUpdates, () => commitRootUpdates(dataset.url, n, args.rootUpdates))
          const peakRssBytes = running.peakRss()
          if (peakRssBytes !== null) liveRss.push({ bytes: peakRssBytes, during: "root-update catch-up" })
          await running.stop()
          return { ...value, peakRssBytes }
        })
      }

      // The child-insert catch-up and the latency runs share one process: its VmHWM is the live run's.
      if (args.only.has("live") || args.only.has("latency")) {
        const holder = { running: undefined as Running | undefined }
        if (args.only.has("live")) {
          f.liveChildInserts = !nestedSeeded ? needsSeeded : await (async () => {
            log(`── ${tool.title}: live: catch-up of ${args.childInserts} child inserts`)
            try {
              const { running, value } = await catchUp("live-child", args.childInserts, () => commitChildInserts(dataset.url, n, args.childInserts))
              holder.running = running
              return { status: "measured" as const, value }
            } catch (e) {
              await stopAllChildren(15_000)
              const status = e instanceof TimedOut ? ("timed out" as const) : ("failed" as const)
              log(`${tool.key} live child inserts: ${status}: ${errorText(e)}`)
              return { status, reason: errorText(e) }
            }
          })()
        }
        if (args.only.has("latency") && nestedSeeded) {
          const ensureRunning = async () => {
            if (holder.running?.running) return holder.running
            const running = await tool.start({ ...nested, label: "latency" })
            holder.running = running
            await pollUntil("the tool to stream (/status)", 120, 100, async () => ((await running.progress())?.ready ? true : undefined))
            return running
          }
          const latency = async (offered: number) => {
            log(`── ${tool.title}: latency: commit → realtime-GET visible at ${offered} updates/s for ${args.latencySeconds} s`)
            try {
              const running = await ensureRunning()
              const l = await measureLatency({
                url: dataset.url,
                opensearchUrl: services.opensearchUrl,
                alias: alias(nested),
                users: n,
                rate: offered,
                seconds: args.latencySeconds,
                warmupSeconds: 1,
                drainSeconds: 30,
                running,
                ownMetric: tool.ownLatencyMetric
              })
              log(`${tool.key} latency @${offered}/s: p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, achieved ${Math.round(l.achievedPerSecond)}/s, ` +
                `${l.samplesInTime} of ${l.expectedSamples} samples in time (${l.samples} seen in all, ${l.unseen} never)`)
              return { status: "measured" as const, value: l }
            } catch (e) {
              const status = e instanceof TimedOut ? ("timed out" as const) : ("failed" as const)
              log(`${tool.key} latency @${offered}/s: ${status}: ${errorText(e)}`)
              return { status, reason: errorText(e) }
            }
          }
          f.latency200 = await latency(200)
          f.latency1000 = await latency(1000)
          const running = holder.running
          f.markersAfterLatency = running?.running !== true
            ? notRun("the tool was not running after the latency runs")
            : await phase(`${tool.title}: every change of the latency runs in the index`, async () => {
              const m = await checkMarkers(services.opensearchUrl, alias(nested), dataset.url, 60)
              log(`${tool.key}: ${m.differing === 0 ? "all" : `${m.users - m.differing} of`} ${m.users} changed users show their last marker` +
                `${m.differing === 0 ? "" : `; still differing after ${m.waitedSeconds.toFixed(0)} s: ${JSON.stringify(m.examples.slice(0, 3))}`}`)
              return m
            }, false)
        } else if (args.only.has("latency")) {
          f.latency200 = needsSeeded
          f.latency1000 = needsSeeded
        }
        const bytes = holder.running?.peakRss() ?? null
        if (bytes !== null) liveRss.push({ bytes, during: args.only.has("latency") ? "child-insert catch-up and latency runs" : "child-insert catch-up" })
        await holder.running?.stop()
        await stopAllChildren(15_000)
        const peak = liveRss.reduce<{ bytes: number; during: string } | undefined>((m, r) => (m === undefined || r.bytes > m.bytes ? r : m), undefined)
        f.peakRssLive = peak === undefined ? notRun("no live process ran to the end") : { status: "measured", value: peak }
      }

      if (wantsNested) await dropSlot(nested)
      return { figures: f, documents }
    }

    /** The Rust tool's files checked against the live database before it runs; a failed check fails its every figure. */
    let rsCheck: ReadonlyArray<RustCheck> = []
    const rsReady = async (tool: RustTool): Promise<string | undefined> => {
      const { nested } = plans.get(tool.key) ?? deploymentsOf(tool)
      await tool.prepare(nested)
      rsCheck = [tool.check(nested)]
      const failed = rsCheck.find((c) => !c.ok)
      return failed === undefined ? undefined : `${failed.command} failed: ${failed.output.split("\n").slice(-3).join(" / ")}`
    }

    const runs = new Map<string, ToolRun>()
    const resets: Array<{ before: string; ordersDeleted: number; markersCleared: number }> = []
    for (const [i, tool] of tools.entries()) {
      if (isAborting()) break
      if (i > 0 && (args.only.has("live") || args.only.has("latency"))) {
        const undone = await undoLiveChanges(dataset.url, n)
        resets.push({ before: tool.key, ...undone })
        log(`undid the previous tool's live changes before ${tool.title}: ${undone.ordersDeleted} orders deleted, ${undone.markersCleared} markers cleared`)
      }
      const refused = tool.key === "rs" ? await rsReady(tool as RustTool).catch((e) => `preparing the Rust tool failed: ${errorText(e)}`) : undefined
      if (refused !== undefined) {
        log(`${tool.title}: ${refused}`)
        runs.set(tool.key, { figures: { ...toolNotRun(""), ...failedAll(refused) }, documents: {} })
        continue
      }
      const start = os.loadavg()
      const run = await measureTool(tool, i === 0)
      runs.set(tool.key, { ...run, loadAverage: { start, end: os.loadavg() } })
    }

    const oursRun = runs.get("flusso")
    const rsRun = runs.get("rs")
    const compare = (into: "nested" | "flat"): Outcome<Parity> => {
      const a = oursRun?.documents[into]
      const b = rsRun?.documents[into]
      if (a === undefined || b === undefined) return notRun("needs both tools' backfill of that index")
      return { status: "measured", value: compareDocuments(a, b) }
    }
    const parity = oursRun !== undefined && rsRun !== undefined ? { nested: compare("nested"), flat: compare("flat") } : undefined
    if (parity !== undefined) {
      for (const [k, p] of Object.entries(parity)) {
        if (p.status === "measured") log(`documents of users 1..${RESERVED}, ${k}: ${p.value.same ? "the same data" : `DIFFER: ${p.value.differences.slice(0, 3).join("; ")}`}`)
      }
    }

    const rsFiles = rs === undefined ? undefined : (() => {
      try {
        return rs.files(plans.get("rs")?.nested ?? deploymentsOf(rs).nested)
      } catch {
        return undefined // never prepared
      }
    })()
    await cleanup(dataset.url, services.adminUrl, services.opensearchUrl)

    const markdown = table({
      users: n,
      rootUpdates: args.rootUpdates,
      childInserts: args.childInserts,
      ours: oursRun?.figures ?? toolNotRun("--no-flusso"),
      rs: rsRun?.figures,
      rsTitle: rs === undefined ? "Rust flusso" : `Rust flusso ${rs.version.replace(/^flusso\s+/, "")}`,
      order: tools.map((t) => t.title),
      conditions: tools.flatMap((t) => {
        const load = runs.get(t.key)?.loadAverage
        return load === undefined ? [] : [{ title: t.title, loadAverageStart: load.start[0] ?? 0, loadAverageEnd: load.end[0] ?? 0 }]
      }),
      ceilings,
      parity
    })
    const cpus = os.cpus()
    const results = {
      timestamp: new Date().toISOString(),
      settings: { ...args, only: [...args.only] },
      machine: {
        cpu: cpus[0]?.model ?? "unknown",
        cpus: cpus.length,
        totalMemoryBytes: os.totalmem(),
        loadAverageAtEnd: os.loadavg(),
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.version,
        postgres: versions.postgres,
        opensearch: versions.opensearch
      },
      git: { ...git(args.measured), measured: args.measured, distBuiltByBench: build.built, distStale: build.stale },
      dataset,
      order: tools.map((t) => t.key),
      datasetResetsBetweenTools: resets,
      tools: Object.fromEntries(tools.map((t) => [
        t.key,
        {
          title: t.title,
          version: t.version,
          ...(t.key === "rs" ? { binary: args.rs, check: rsCheck, configFiles: rsFiles } : {}),
          deployments: Object.values(plans.get(t.key) ?? {}).map(({ databaseUrl: _, ...d }: Deployment) => d),
          figures: runs.get(t.key)?.figures,
          loadAverage: runs.get(t.key)?.loadAverage,
          documentsAfterBackfill: runs.get(t.key)?.documents
        }
      ])),
      ceilings,
      parity,
      goals: GOALS,
      logs: path.relative(ROOT, logDir),
      table: markdown
    }
    writeFileSync(path.join(ROOT, "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`)
    process.stdout.write(`\n${markdown}\n\n`)
    process.stdout.write(
      `machine: ${results.machine.cpus} × ${results.machine.cpu}, ${Math.round(results.machine.totalMemoryBytes / 2 ** 30)} GB, Node ${process.version}, ` +
        `PostgreSQL ${versions.postgres}, ${versions.opensearch}; commit ${results.git.commit}${results.git.dirty ? " (dirty)" : ""}; ${results.timestamp}\n`
    )
    log("wrote bench/results.json")
  } catch (e) {
    log(`error: ${errorText(e)}`)
    await cleanup(urls.databaseUrl, urls.adminUrl, urls.opensearchUrl).catch(() => undefined)
    process.exitCode = 1
  }
}

/** Every figure of a tool failed for one reason (its setup). */
const failedAll = (reason: string): ToolFigures => {
  const failed = { status: "failed" as const, reason }
  return {
    backfillNested: failed,
    backfillFlat: failed,
    liveRootUpdates: failed,
    liveChildInserts: failed,
    latency200: failed,
    latency1000: failed,
    peakRssLive: failed,
    markersAfterLatency: failed
  }
}

await main()
