/**
 * `--runners LIST` (e.g. 1,2,3): the nested backfill and the root-update catch-up of one
 * process, then of a cluster of N runners (`run --cluster`) for each N, each on a fresh
 * deployment of its own — with the CPU each process used (utime + stime from /proc)
 * during each figure. On one machine this shows what the cluster protocol costs, not how
 * it scales: every runner shares the same cores with PostgreSQL and OpenSearch.
 */
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import pg from "pg"
import { freePort } from "./child.js"
import { cliPath, oursTool, startFlusso } from "./flusso.js"
import { commitRootUpdates } from "./live.js"
import type { Deployment, Running } from "./tool.js"
import { log, now, pollUntil, rate, sleep } from "./util.js"

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICKS = 100

const cpuSeconds = (pid: number): number | null => {
  try {
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / TICKS
  } catch {
    return null
  }
}

export interface RunnerFigures {
  /** 0: one process, without --cluster. */
  readonly runners: number
  readonly backfill: { readonly rows: number; readonly seconds: number; readonly docsPerSecond: number; readonly cpuSeconds: ReadonlyArray<number | null> } | null
  readonly live: { readonly changes: number; readonly seconds: number; readonly changesPerSecond: number; readonly cpuSeconds: ReadonlyArray<number | null> } | null
  readonly error?: string
}

interface Options {
  readonly root: string
  readonly runId: number
  readonly logDir: string
  readonly databaseUrl: string
  readonly adminUrl: string
  readonly opensearchUrl: string
  readonly users: number
  readonly rootUpdates: number
  readonly counts: ReadonlyArray<number>
  /** Deployments made here, for the bench's cleanup (slots, publications, indexes). */
  readonly deployments: Array<Deployment>
}

const confirmed = async (adminUrl: string, slot: string, target: string): Promise<boolean> => {
  const client = new pg.Client({ connectionString: adminUrl })
  client.on("error", () => undefined)
  await client.connect()
  try {
    const r = await client.query<{ done: boolean }>(
      "SELECT coalesce(confirmed_flush_lsn >= $1::pg_lsn, false) AS done FROM pg_replication_slots WHERE slot_name = $2",
      [target, slot]
    )
    return r.rows[0]?.done === true
  } finally {
    await client.end()
  }
}

/** Where the WAL is: once the slot confirms it, every change committed before is written. */
const walInsertLsn = async (adminUrl: string): Promise<string> => {
  const client = new pg.Client({ connectionString: adminUrl })
  client.on("error", () => undefined)
  await client.connect()
  try {
    return (await client.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]?.lsn ?? "0/0"
  } finally {
    await client.end()
  }
}

/** N runners of deployment `d` (N = 0: one process without --cluster). */
const startAll = async (o: Options, d: Deployment, runners: number, phase: string): Promise<ReadonlyArray<Running>> => {
  if (runners === 0) return [await startFlusso(o.root, o.logDir, { ...d, label: `${d.label}-${phase}` })]
  const all: Array<Running> = []
  for (let i = 1; i <= runners; i++) {
    const port = await freePort()
    all.push(await startFlusso(o.root, o.logDir, { ...d, label: `${d.label}-${phase}-r${i}` }, ["--cluster", "--runner-address", `127.0.0.1:${port}`]))
  }
  return all
}

const stopAll = (all: ReadonlyArray<Running>) => Promise.all(all.map((f) => f.stop()))

/** The first line matching `pattern` logged by any of `all` (its time). */
const anyLine = (all: ReadonlyArray<Running>, pattern: RegExp, seconds: number) =>
  pollUntil(`a runner to log ${pattern}`, seconds, 100, async () => {
    for (const f of all) {
      if (!f.running) throw new Error(`flusso (${f.deployment.label}) exited; last log lines:\n${f.tail()}`)
    }
    const lines = all.flatMap((f) => f.lines).filter((l) => pattern.test(l.message)).sort((a, b) => a.at - b.at)
    return lines[0]
  })

const measure = async (o: Options, runners: number): Promise<RunnerFigures> => {
  const label = runners === 0 ? "one-process" : `cluster-${runners}`
  const d: Deployment = {
    label,
    databaseUrl: o.databaseUrl,
    opensearchUrl: o.opensearchUrl,
    prefix: `bench${o.runId}_c${runners}_`,
    slot: `bench_${o.runId}_c${runners}`,
    publication: `bench_${o.runId}_c${runners}`,
    indexes: ["bench_users"]
  }
  o.deployments.push(d)

  // Backfill: from the first "seeding up to" to "seeded:" (the capture may move while runners join; it resumes).
  const seeding = await startAll(o, d, runners, "backfill")
  const cpuBefore = seeding.map((f) => cpuSeconds(f.pid))
  const began = await anyLine(seeding, /^seeding up to/, 300)
  const seeded = await anyLine(seeding, /^seeded: \d+ rows/, Math.max(900, o.users / 100))
  const cpuAfter = seeding.map((f) => cpuSeconds(f.pid))
  const backfillSeconds = (seeded.at - began.at) / 1000
  await stopAll(seeding)
  const backfill = {
    rows: o.users,
    seconds: backfillSeconds,
    docsPerSecond: o.users / backfillSeconds,
    cpuSeconds: cpuAfter.map((after, i) => (after === null || cpuBefore[i] === null ? null : after - (cpuBefore[i] ?? 0)))
  }
  log(`${label}: backfill ${o.users} users in ${backfillSeconds.toFixed(1)} s → ${rate(backfill.docsPerSecond)} docs/s; CPU s per process ${backfill.cpuSeconds.map((s) => s?.toFixed(1)).join(", ")}`)

  // Live: a backlog committed while stopped, caught up by the restarted runners.
  log(`${label}: committing ${o.rootUpdates} root updates with flusso stopped`)
  await commitRootUpdates(o.databaseUrl, o.users, o.rootUpdates)
  const target = await walInsertLsn(o.adminUrl)
  const live = await startAll(o, d, runners, "live")
  const start = await anyLine(live, /^syncing /, 300)
  const liveCpuBefore = live.map((f) => cpuSeconds(f.pid))
  const startedAt = now()
  await pollUntil(`the slot to confirm ${target}`, Math.max(600, o.rootUpdates / 20), 50, async () => ((await confirmed(o.adminUrl, d.slot, target)) ? true : undefined))
  const liveSeconds = (now() - startedAt) / 1000
  const liveCpuAfter = live.map((f) => cpuSeconds(f.pid))
  await stopAll(live)
  const liveFigures = {
    changes: o.rootUpdates,
    seconds: liveSeconds,
    changesPerSecond: o.rootUpdates / liveSeconds,
    cpuSeconds: liveCpuAfter.map((after, i) => (after === null || liveCpuBefore[i] === null ? null : after - (liveCpuBefore[i] ?? 0)))
  }
  log(`${label}: ${o.rootUpdates} root updates caught up in ${liveSeconds.toFixed(1)} s (from "${start.message.slice(0, 40)}") → ${rate(liveFigures.changesPerSecond)}/s; CPU s per process ${liveFigures.cpuSeconds.map((s) => s?.toFixed(1)).join(", ")}`)

  log(`${label}: ${await oursTool(o.root, o.logDir).dropSlot(d)}`)
  if (runners > 0) clusterDrop(o.root, d)
  return { runners, backfill, live: liveFigures }
}

/** `flusso cluster drop` for a cluster deployment (after its runners stopped). */
const clusterDrop = (root: string, d: Deployment) => {
  for (let i = 0; i < 30; i++) {
    const r = spawnSync(process.execPath, [cliPath(root), "cluster", "drop", "--config", path.join(root, "bench", "flusso.bench.config.ts"), "--slot", d.slot], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: process.env["PATH"], DATABASE_URL: d.databaseUrl, PRIMARY_OPENSEARCH_URL: d.opensearchUrl, BENCH_INDEXES: d.indexes.join(",") }
    })
    if (r.status === 0) return log(`${d.label}: ${(r.stdout ?? "").trim()}`)
    // A runner's registration outlives it by the lock expiry.
    spawnSync("sleep", ["1"])
  }
  log(`${d.label}: flusso cluster drop kept failing; drop schema flusso_cluster's tables by hand`)
}

const cell = (value: number | undefined) => (value === undefined ? "—" : rate(value))
const cpu = (seconds: ReadonlyArray<number | null>, wall: number) =>
  seconds.map((s) => (s === null ? "?" : `${s.toFixed(1)} s (${Math.round((100 * s) / wall)}%)`)).join(" + ")

export const table = (figures: ReadonlyArray<RunnerFigures>): string =>
  [
    "| mode | backfill, nested (docs/s) | CPU per process during it | live root updates (changes/s) | CPU per process during it |",
    "| --- | --- | --- | --- | --- |",
    ...figures.map((f) =>
      `| ${f.runners === 0 ? "one process" : `${f.runners} runner${f.runners === 1 ? "" : "s"}`} | ${cell(f.backfill?.docsPerSecond)} | ` +
      `${f.backfill === null ? f.error ?? "—" : cpu(f.backfill.cpuSeconds, f.backfill.seconds)} | ${cell(f.live?.changesPerSecond)} | ` +
      `${f.live === null ? "—" : cpu(f.live.cpuSeconds, f.live.seconds)} |`
    )
  ].join("\n")

/** One process first, then each runner count; a count that fails is reported and the next one runs. */
export const runnersBench = async (o: Options): Promise<ReadonlyArray<RunnerFigures>> => {
  const figures: Array<RunnerFigures> = []
  for (const runners of [0, ...o.counts]) {
    log(`── ${runners === 0 ? "one process" : `${runners} runner(s)`}: backfill of ${o.users} users, then ${o.rootUpdates} root updates`)
    try {
      figures.push(await measure(o, runners))
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e)
      log(`${runners} runner(s): failed: ${error}`)
      figures.push({ runners, backfill: null, live: null, error })
    }
  }
  return figures
}
