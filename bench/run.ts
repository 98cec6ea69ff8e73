/**
 * `npm run bench -- [--users N] [--only backfill,live,latency,ceilings] [--keep] [--fresh] [--no-build]`
 *
 * Measures the real CLI against the native services and prints one markdown table next to
 * the ceilings measured in the same run; writes bench/results.json. What each figure is and
 * how it is measured: bench/README.md.
 */
import { execSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { bulkCeiling, flussoStatements, type SqlCeiling, sqlCeiling } from "./lib/ceilings.js"
import { dropPublications, dropSlotSql, prepareDataset } from "./lib/dataset.js"
import { abortStarts, type Deployment, Flusso, isAborting, killAllChildren, slotDrop, stopAllChildren } from "./lib/flusso.js"
import { commitChildInserts, commitRootUpdates, measureCatchUp, measureLatency, walInsertLsn } from "./lib/live.js"
import { call, deleteIndexesWithPrefix } from "./lib/opensearch.js"
import { runnersBench, table as runnersTable } from "./lib/runners.js"
import { type Backfill, type Figures, notRun, type Outcome, REFERENCE, table } from "./lib/report.js"
import { checkServices, ensureBuilt, servicesUp } from "./lib/services.js"
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
  /** `--runners LIST`: the one-process and cluster figures instead of the usual phases. */
  readonly runners: ReadonlyArray<number> | undefined
}

const USAGE = `usage: npm run bench -- [--users N] [--only ${PHASES.join(",")}] [--keep] [--fresh] [--no-build] [--runners LIST]
                        [--root-updates N] [--child-inserts N] [--latency-seconds S]
  --users N          root rows of the dataset (default 100000; 3 orders and 6 items per user)
  --only LIST        phases to run (default all); live, latency and ceilings seed the nested index first
  --keep             keep the OpenSearch indexes of this run (default: deleted at the end)
  --fresh            rebuild the flusso_bench database even when it has the requested size
  --no-build         measure dist/ as it is, even when src/ is newer
  --runners LIST     instead of the phases above: backfill and live catch-up of one process, then of a cluster
                     of N runners (run --cluster) for each N in LIST (e.g. 1,2,3), with each process's CPU
  --flusso DIR       measure the build in another checkout (DIR/dist/main.js; built there already), e.g. an
                     earlier commit for a before/after table; the dataset and config are this checkout's`

const parseArgs = (argv: ReadonlyArray<string>): Args => {
  const out: { -readonly [K in keyof Args]: Args[K] } = { measured: ROOT, users: 100_000, only: new Set<Phase>(PHASES), keep: false, fresh: false, build: true, rootUpdates: 20_000, childInserts: 10_000, latencySeconds: 15, runners: undefined }
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
      case "--runners": {
        const list = (next() ?? "").split(",").map((v) => positive(flag, v.trim()))
        out.runners = list
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
      case "--help": case "-h": process.stdout.write(`${USAGE}\n`); process.exit(0)
      default: throw new Error(`unknown argument ${a}\n${USAGE}`)
    }
  }
  return out
}

/** Runs a phase: its figure, or "timed out" / "failed" with the reason (the bench goes on). */
const phase = async <A>(name: string, body: () => Promise<A>): Promise<Outcome<A>> => {
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
    await stopAllChildren(15_000) // a phase never leaves a flusso behind
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

const users = (n: number) => `${n} users (3 orders and 6 items each)`

const main = async () => {
  const args = parseArgs(process.argv.slice(2))
  const runId = Date.now()
  const deployments: Array<Deployment> = []
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
        if (await dropSlotSql(adminUrl, d.slot).catch(() => false)) break
        const still = await import("pg").then(async ({ default: pg }) => {
          const c = new pg.Client({ connectionString: adminUrl })
          await c.connect()
          try {
            return (await c.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [d.slot])).rowCount === 1
          } finally {
            await c.end()
          }
        }).catch(() => false)
        if (!still) break
        await sleep(200)
      }
    }
    if (databaseUrl !== undefined) await dropPublications(databaseUrl, deployments.map((d) => d.publication)).catch((e) => log(`dropping publications: ${errorText(e)}`))
    if (opensearchUrl !== undefined && !args.keep) {
      await deleteIndexesWithPrefix(opensearchUrl, `bench${runId}_`).catch((e) => log(`deleting indexes: ${errorText(e)}`))
    }
  }

  let urls: { databaseUrl?: string; adminUrl?: string; opensearchUrl?: string } = {}
  let signalled = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return // Ctrl-C reaches the whole process group, and tsx forwards it too
    signalled = true
    abortStarts()
    log(`${signal}: stopping flusso, dropping this run's slots${args.keep ? "" : " and indexes"}`)
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
      writeFileSync(path.join(ROOT, "bench", "results-runners.json"), `${JSON.stringify({ timestamp: new Date().toISOString(), settings: { ...args, only: [...args.only] }, cpus: os.cpus().length, git: git(args.measured), versions, figures, table: markdown }, null, 2)}\n`)
      process.stdout.write(`\n${markdown}\n\n${users(args.users)}; ${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"}, PostgreSQL ${versions.postgres}, ${versions.opensearch}\n`)
      log("wrote bench/results-runners.json")
      return
    }
    const nested: Deployment = {
      label: "nested",
      databaseUrl: dataset.url,
      opensearchUrl: services.opensearchUrl,
      prefix: `bench${runId}_`,
      slot: `bench_${runId}_nested`,
      publication: `bench_${runId}_nested`,
      indexes: ["bench_users"]
    }
    const flat: Deployment = { ...nested, label: "flat", prefix: `bench${runId}_flat_`, slot: `bench_${runId}_flat`, publication: `bench_${runId}_flat`, indexes: ["bench_users_flat"] }
    deployments.push(nested, flat)
    const n = args.users
    const backfillTimeout = Math.max(600, n / 150)
    const ceilingTimeout = Math.max(300, n / 300)

    const f: Figures = {
      backfillNested: notRun("not asked for (--only)"),
      backfillFlat: notRun("not asked for (--only)"),
      liveRootUpdates: notRun("not asked for (--only)"),
      liveChildInserts: notRun("not asked for (--only)"),
      latency200: notRun("not asked for (--only)"),
      latency1000: notRun("not asked for (--only)"),
      peakRssLive: notRun("not asked for (--only)"),
      ceilingSqlNested: notRun("not asked for (--only)"),
      ceilingBulkNested: notRun("not asked for (--only)"),
      ceilingSqlFlat: notRun("not asked for (--only)"),
      ceilingBulkFlat: notRun("not asked for (--only)")
    }

    const countDocs = async (alias: string): Promise<number | null> => {
      await call(services.opensearchUrl, "POST", `/${alias}/_refresh`)
      const r = await call(services.opensearchUrl, "GET", `/${alias}/_count`)
      return r.status === 200 ? (r.json as { count: number }).count : null
    }

    /** Seeds a deployment from scratch with the real CLI; the figure from its `seeded:` log line. */
    const backfill = async (d: Deployment): Promise<Backfill> => {
      const flusso = await Flusso.start(ROOT, d, logDir)
      const began = await flusso.waitForLine(/^(seeding|resuming seeding)/, 300)
      const seeded = await flusso.waitForLine(/^seeded: \d+ rows in [\d.]+ s/, backfillTimeout)
      const peakRssBytes = flusso.peakRss()
      const m = /^seeded: (\d+) rows in ([\d.]+) s/.exec(seeded.message)
      const rows = Number(m?.[1])
      const seconds = Number(m?.[2])
      await flusso.stop()
      const documentsInIndex = await countDocs(`${d.prefix}${d.indexes[0]}`)
      if (documentsInIndex !== n) log(`warning: ${d.prefix}${d.indexes[0]} holds ${documentsInIndex} documents, expected ${n}`)
      const result: Backfill = {
        docsPerSecond: rows / seconds,
        rows,
        seconds,
        source: "engine log line `seeded: N rows in X s` (N / X)",
        observedSeconds: (seeded.at - began.at) / 1000,
        wallSeconds: (seeded.at - flusso.startedAt) / 1000,
        documentsInIndex,
        peakRssBytes
      }
      log(`${d.label}: ${rows} rows in ${seconds} s → ${rate(result.docsPerSecond)} docs/s (peak RSS ${Math.round((peakRssBytes ?? 0) / 1048576)} MB)`)
      return result
    }

    const dropSlot = async (d: Deployment) => {
      for (let i = 0; i < 25; i++) {
        const r = slotDrop(ROOT, d)
        if (r.ok) return log(`${d.label}: ${r.output.split("\n").pop()}`)
        if (!/in use/.test(r.output) || i === 24) return log(`${d.label}: flusso slot drop failed: ${r.output.slice(0, 300)}`)
        await sleep(200) // the walsender of a stopped flusso lingers a moment
      }
    }

    const wantsNested = ["backfill", "live", "latency", "ceilings"].some((p) => args.only.has(p as Phase))
    if (wantsNested) f.backfillNested = await phase(`backfill, nested index (${n} users)`, () => backfill(nested))
    const nestedSeeded = f.backfillNested.status === "measured"
    const needsSeeded = notRun(`needs the seeded nested index, whose backfill ${f.backfillNested.status}`)

    if (args.only.has("ceilings")) {
      const statements = await flussoStatements(ROOT, { DATABASE_URL: dataset.url, PRIMARY_OPENSEARCH_URL: services.opensearchUrl })
      let docs: Array<{ id: string; doc: string }> = []
      f.ceilingSqlNested = await phase("ceiling: raw document SQL, nested", async () => {
        const r = await sqlCeiling(dataset.url, statements.get("bench_users") as never, ceilingTimeout)
        docs = r.docs
        log(`document SQL: ${rate(r.figure.docsPerSecond)} docs/s, average ${r.figure.averageBytes} B (${r.figure.statementSource})`)
        return r.figure
      })
      f.ceilingBulkNested = !nestedSeeded
        ? needsSeeded
        : docs.length === 0
        ? notRun("needs the documents of the SQL ceiling")
        : await phase("ceiling: raw _bulk, nested", async () => {
          const r = await bulkCeiling(services.opensearchUrl, `${nested.prefix}bench_users`, `${nested.prefix}ceiling_bulk`, docs, ceilingTimeout)
          log(`raw _bulk: ${rate(r.docsPerSecond)} docs/s`)
          return r
        })
      docs = []
      if (!args.only.has("backfill")) {
        f.ceilingSqlFlat = notRun("the flat ceilings run with the flat backfill (--only backfill,ceilings)")
        f.ceilingBulkFlat = notRun("the flat ceilings run with the flat backfill (--only backfill,ceilings)")
      }
    }

    if (args.only.has("backfill")) {
      f.backfillFlat = await phase(`backfill, flat index (${n} users)`, () => backfill(flat))
      await dropSlot(flat)
      if (args.only.has("ceilings")) {
        const statements = await flussoStatements(ROOT, { DATABASE_URL: dataset.url, PRIMARY_OPENSEARCH_URL: services.opensearchUrl })
        let docs: Array<{ id: string; doc: string }> = []
        f.ceilingSqlFlat = await phase("ceiling: raw document SQL, flat", async () => {
          const r = await sqlCeiling(dataset.url, statements.get("bench_users_flat") as never, ceilingTimeout)
          docs = r.docs
          return r.figure satisfies SqlCeiling
        })
        f.ceilingBulkFlat = f.backfillFlat.status !== "measured" || docs.length === 0
          ? notRun("needs the flat index and the flat SQL ceiling's documents")
          : await phase("ceiling: raw _bulk, flat", () =>
            bulkCeiling(services.opensearchUrl, `${flat.prefix}bench_users_flat`, `${flat.prefix}ceiling_bulk`, docs, ceilingTimeout))
      }
    }

    /** Commits a backlog with flusso stopped, starts it, times the catch-up; returns the running flusso too. */
    const catchUp = async (label: string, changes: number, commit: () => Promise<number>) => {
      log(`${label}: committing ${changes} single-row transactions with flusso stopped`)
      const backlogCommitRate = await commit()
      const target = await walInsertLsn(services.adminUrl)
      const flusso = await Flusso.start(ROOT, { ...nested, label }, logDir)
      const c = await measureCatchUp(flusso, services.adminUrl, target, changes, Math.max(300, changes / 50))
      if (flusso.lines.some((l) => /^seeding up to/.test(l.message))) log(`warning: ${label}: flusso seeded again on restart: the figure includes a backfill`)
      log(`${label}: ${changes} changes in ${c.seconds.toFixed(2)} s → ${rate(c.changesPerSecond)}/s`)
      return { flusso, value: { ...c, backlogCommitRate } }
    }

    let liveRss: Array<{ bytes: number; during: string }> = []
    if (args.only.has("live")) {
      f.liveRootUpdates = !nestedSeeded ? needsSeeded : await phase(`live: catch-up of ${args.rootUpdates} root updates`, async () => {
        const { flusso, value } = await catchUp("live-root", args.rootUpdates, () => commitRootUpdates(dataset.url, n, args.rootUpdates))
        const peakRssBytes = flusso.peakRss()
        if (peakRssBytes !== null) liveRss.push({ bytes: peakRssBytes, during: "root-update catch-up" })
        await flusso.stop()
        return { ...value, peakRssBytes }
      })
    }

    // The child-insert catch-up and the latency runs share one process: its VmHWM is the live run's.
    if (args.only.has("live") || args.only.has("latency")) {
      let running: Flusso | undefined
      const holder = { flusso: undefined as Flusso | undefined }
      const readRss = (during: string) => {
        const bytes = holder.flusso?.peakRss() ?? null
        if (bytes !== null) liveRss.push({ bytes, during })
      }
      if (args.only.has("live")) {
        f.liveChildInserts = !nestedSeeded ? needsSeeded : await (async () => {
          log(`── live: catch-up of ${args.childInserts} child inserts`)
          try {
            const { flusso, value } = await catchUp("live-child", args.childInserts, () => commitChildInserts(dataset.url, n, args.childInserts))
            holder.flusso = flusso
            return { status: "measured" as const, value }
          } catch (e) {
            await stopAllChildren(15_000)
            const status = e instanceof TimedOut ? ("timed out" as const) : ("failed" as const)
            log(`live child inserts: ${status}: ${errorText(e)}`)
            return { status, reason: errorText(e) }
          }
        })()
      }
      if (args.only.has("latency") && nestedSeeded) {
        const ensureRunning = async () => {
          if (holder.flusso?.running) return holder.flusso
          holder.flusso = await Flusso.start(ROOT, { ...nested, label: "latency" }, logDir)
          await pollUntil("flusso to stream (/status ready)", 120, 100, async () => ((await holder.flusso?.status())?.ready ? true : undefined))
          return holder.flusso
        }
        const latency = async (offered: number) => {
          log(`── latency: commit → realtime-GET visible at ${offered} updates/s for ${args.latencySeconds} s`)
          try {
            const flusso = await ensureRunning()
            const l = await measureLatency({
              url: dataset.url,
              opensearchUrl: services.opensearchUrl,
              alias: `${nested.prefix}bench_users`,
              users: n,
              rate: offered,
              seconds: args.latencySeconds,
              warmupSeconds: 1,
              drainSeconds: 30,
              flusso
            })
            log(`latency @${offered}/s: p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, achieved ${Math.round(l.achievedPerSecond)}/s, ${l.samples} samples, ${l.unseen} unseen`)
            return { status: "measured" as const, value: l }
          } catch (e) {
            const status = e instanceof TimedOut ? ("timed out" as const) : ("failed" as const)
            log(`latency @${offered}/s: ${status}: ${errorText(e)}`)
            return { status, reason: errorText(e) }
          }
        }
        f.latency200 = await latency(200)
        f.latency1000 = await latency(1000)
      } else if (args.only.has("latency")) {
        f.latency200 = needsSeeded
        f.latency1000 = needsSeeded
      }
      readRss(args.only.has("latency") ? "child-insert catch-up and latency runs" : "child-insert catch-up")
      running = holder.flusso
      await running?.stop()
      await stopAllChildren(15_000)
      const peak = liveRss.reduce<{ bytes: number; during: string } | undefined>((m, r) => (m === undefined || r.bytes > m.bytes ? r : m), undefined)
      f.peakRssLive = peak === undefined ? notRun("no live process ran to the end") : { status: "measured", value: peak }
      liveRss = []
    }

    if (wantsNested) await dropSlot(nested)
    await cleanup(dataset.url, services.adminUrl, services.opensearchUrl)

    const markdown = table(f, n)
    const cpus = os.cpus()
    const results = {
      timestamp: new Date().toISOString(),
      settings: { ...args, only: [...args.only] },
      machine: {
        cpu: cpus[0]?.model ?? "unknown",
        cpus: cpus.length,
        totalMemoryBytes: os.totalmem(),
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.version,
        postgres: versions.postgres,
        opensearch: versions.opensearch
      },
      git: { ...git(args.measured), measured: args.measured, distBuiltByBench: build.built, distStale: build.stale },
      dataset,
      deployments: deployments.map(({ databaseUrl: _, ...d }) => d),
      logs: path.relative(ROOT, logDir),
      figures: f,
      reference: REFERENCE,
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

await main()
