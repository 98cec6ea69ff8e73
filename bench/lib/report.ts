/** The table (markdown, pasteable into a README) and the figures' shapes. */
import type { BulkCeiling, SqlCeiling } from "./ceilings.js"
import type { CatchUp, Latency } from "./live.js"
import { rate } from "./util.js"

/** A figure, or why there is none. */
export type Outcome<A> =
  | { readonly status: "measured"; readonly value: A }
  | { readonly status: "timed out" | "failed" | "not run"; readonly reason: string }

export const notRun = (reason: string): Outcome<never> => ({ status: "not run", reason })

export interface Backfill {
  readonly docsPerSecond: number
  readonly rows: number
  /** From the engine's log line `seeded: N rows in X s`. */
  readonly seconds: number
  readonly source: string
  /** From the bench seeing `seeding up to key …` to seeing `seeded: …`. */
  readonly observedSeconds: number | null
  /** From spawning the process to `seeded: …` (start-up, index creation, seeding, swap). */
  readonly wallSeconds: number
  readonly documentsInIndex: number | null
  readonly peakRssBytes: number | null
}

export interface Figures {
  backfillNested: Outcome<Backfill>
  backfillFlat: Outcome<Backfill>
  liveRootUpdates: Outcome<CatchUp & { readonly backlogCommitRate: number; readonly peakRssBytes: number | null }>
  liveChildInserts: Outcome<CatchUp & { readonly backlogCommitRate: number }>
  latency200: Outcome<Latency>
  latency1000: Outcome<Latency>
  peakRssLive: Outcome<{ readonly bytes: number; readonly during: string }>
  ceilingSqlNested: Outcome<SqlCeiling>
  ceilingBulkNested: Outcome<BulkCeiling>
  ceilingSqlFlat: Outcome<SqlCeiling>
  ceilingBulkFlat: Outcome<BulkCeiling>
}

/** Issue 10's table: quoted, not measured here (the Rust binary is not on this machine). */
export const REFERENCE = {
  source: "issue 10 (measured side by side on this 2-core machine, 100k users, one run each)",
  rustFlusso015: {
    backfillNestedDocsPerSecond: 6900,
    liveRootUpdatesPerSecond: 6000,
    liveChildInsertsPerSecond: 1500,
    latency200: { p50Ms: 56, p99Ms: 138 },
    latency1000: { p50Ms: 124, p99Ms: 356 },
    peakRssMB: 19
  },
  flussoAtIssue10: {
    backfillNestedDocsPerSecond: 4900,
    liveRootUpdatesPerSecond: 3300,
    liveChildInsertsPerSecond: 2900,
    latency200: { p50Ms: 38, p99Ms: 69 },
    latency1000: { p50Ms: 169, p99Ms: 881 },
    peakRssMB: 304
  },
  ceilingsAtIssue10: { documentSqlDocsPerSecond: 32000, rawBulkDocsPerSecond: 22500 },
  goals: {
    backfillNestedDocsPerSecond: 14000,
    liveRootUpdatesPerSecond: 12000,
    liveChildInsertsPerSecond: 10000,
    latency1000P99Ms: 150,
    peakRssMB: 150
  }
} as const

const shown = <A>(o: Outcome<A>, f: (a: A) => string): string => (o.status === "measured" ? f(o.value) : o.status)
const value = <A>(o: Outcome<A>): A | undefined => (o.status === "measured" ? o.value : undefined)
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`
const pct = (x: number | undefined, of: number | undefined) => (x === undefined || of === undefined || of <= 0 ? "—" : `${Math.round((100 * x) / of)} %`)

/** The binding ceiling of a backfill: the lower of raw SQL and raw `_bulk`. */
const ceilingOf = (sql: Outcome<SqlCeiling>, bulk: Outcome<BulkCeiling>): { value: number; label: string } | undefined => {
  const s = value(sql)?.docsPerSecond
  const b = value(bulk)?.docsPerSecond
  if (s === undefined && b === undefined) return undefined
  if (b === undefined || (s !== undefined && s < b)) return { value: s as number, label: `${rate(s as number)} (SQL)` }
  return { value: b, label: `${rate(b)} (_bulk)` }
}

const latencyCell = (o: Outcome<Latency>) =>
  shown(o, (l) =>
    `${l.p50Ms ?? "?"}/${l.p99Ms ?? "?"} ms at ${Math.round(l.achievedPerSecond)}/s achieved${l.unseen > 0 ? `, ${l.unseen} of ${l.samples + l.unseen} samples never seen` : ""}`)

export const table = (f: Figures, users: number): string => {
  const r = REFERENCE.rustFlusso015
  const g = REFERENCE.goals
  const nestedCeiling = ceilingOf(f.ceilingSqlNested, f.ceilingBulkNested)
  const flatCeiling = ceilingOf(f.ceilingSqlFlat, f.ceilingBulkFlat)
  const rssBackfill = value(f.backfillNested)?.peakRssBytes ?? null
  const n = users.toLocaleString("en-US")
  const rows: Array<[string, string, string, string, string, string]> = [
    [
      `backfill docs/s, nested (${n} users)`,
      shown(f.backfillNested, (b) => rate(b.docsPerSecond)),
      nestedCeiling?.label ?? "—",
      pct(value(f.backfillNested)?.docsPerSecond, nestedCeiling?.value),
      rate(r.backfillNestedDocsPerSecond),
      `≥ ${rate(g.backfillNestedDocsPerSecond)}`
    ],
    [
      `backfill docs/s, flat (${n} users)`,
      shown(f.backfillFlat, (b) => rate(b.docsPerSecond)),
      flatCeiling?.label ?? "—",
      pct(value(f.backfillFlat)?.docsPerSecond, flatCeiling?.value),
      "—",
      "—"
    ],
    [
      `live root updates/s (catch-up of ${rate(value(f.liveRootUpdates)?.changes ?? 20000)} single-row updates)`,
      shown(f.liveRootUpdates, (c) => rate(c.changesPerSecond)),
      "—",
      "—",
      rate(r.liveRootUpdatesPerSecond),
      `≥ ${rate(g.liveRootUpdatesPerSecond)}`
    ],
    [
      `live child inserts/s (${rate(value(f.liveChildInserts)?.changes ?? 10000)} orders → parents rebuilt)`,
      shown(f.liveChildInserts, (c) => rate(c.changesPerSecond)),
      "—",
      "—",
      rate(r.liveChildInsertsPerSecond),
      `≥ ${rate(g.liveChildInsertsPerSecond)}`
    ],
    ["commit → realtime-GET visible p50/p99, offered 200 updates/s", latencyCell(f.latency200), "—", "—", `${r.latency200.p50Ms}/${r.latency200.p99Ms} ms`, "—"],
    [
      "same, offered 1,000 updates/s",
      latencyCell(f.latency1000),
      "—",
      "—",
      `${r.latency1000.p50Ms}/${r.latency1000.p99Ms} ms`,
      `p99 ≤ ${g.latency1000P99Ms} ms, rate held`
    ],
    ["peak RSS, backfill run (VmHWM)", rssBackfill === null ? shown(f.backfillNested, () => "?") : mb(rssBackfill), "—", "—", `${r.peakRssMB} MB`, `≤ ${g.peakRssMB} MB`],
    ["peak RSS, live run (VmHWM)", shown(f.peakRssLive, (p) => mb(p.bytes)), "—", "—", `${r.peakRssMB} MB`, `≤ ${g.peakRssMB} MB`],
    ["ceiling: raw document SQL, nested (chunks of 1000, 2 connections)", "—", shown(f.ceilingSqlNested, (c) => rate(c.docsPerSecond)), "—", "—", "—"],
    ["ceiling: raw `_bulk` of pre-built nested docs (1000/request, 2 in flight)", "—", shown(f.ceilingBulkNested, (c) => rate(c.docsPerSecond)), "—", "—", "—"],
    ["ceiling: raw document SQL, flat", "—", shown(f.ceilingSqlFlat, (c) => rate(c.docsPerSecond)), "—", "—", "—"],
    ["ceiling: raw `_bulk`, flat", "—", shown(f.ceilingBulkFlat, (c) => rate(c.docsPerSecond)), "—", "—", "—"]
  ]
  const header = ["figure", "flusso (this run)", "ceiling (this run)", "fraction of ceiling", "Rust flusso 0.15 (quoted from issue 10)", "goal (issue 10)"]
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`
  const avg = value(f.ceilingSqlNested)?.averageBytes
  const notes = [
    `Rust flusso 0.15 figures are quoted from issue 10, not measured here. Issue 10's ceilings were: document SQL ${rate(REFERENCE.ceilingsAtIssue10.documentSqlDocsPerSecond)}, raw _bulk ${rate(REFERENCE.ceilingsAtIssue10.rawBulkDocsPerSecond)} docs/s.`,
    ...(avg === undefined ? [] : [`Average nested document: ${avg} B (as the document SQL returns it).`]),
    ...(value(f.ceilingSqlNested)?.statementSource.startsWith("hand-written") ? ["The SQL ceiling used a hand-written statement, not flusso's own (see results.json)."] : [])
  ]
  return [line(header), line(header.map(() => "---")), ...rows.map(line), "", ...notes.map((n) => `- ${n}`)].join("\n")
}
