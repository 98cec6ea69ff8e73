/** The table (markdown, pasteable into a README) and the figures' shapes. */
import * as os from "node:os"
import type { MarkerCheck, Parity, StateCheck } from "./audit.js"
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
  /** What the rate counts: the rows the tool says it seeded, else the documents in its index. */
  readonly rows: number
  /** The tool's own measure (Tool.backfill). */
  readonly seconds: number
  readonly source: string
  /** From the bench seeing the tool's first backfill line to seeing its last. */
  readonly observedSeconds: number
  /** From spawning the process to the last backfill line (start-up, index creation, seeding, swap). */
  readonly wallSeconds: number
  readonly documentsInIndex: number | null
  readonly peakRssBytes: number | null
}

export type LiveCatchUp = CatchUp & { readonly backlogCommitRate: number; readonly state: StateCheck | null }

/** One tool's figures. */
export interface ToolFigures {
  backfillNested: Outcome<Backfill>
  backfillFlat: Outcome<Backfill>
  liveRootUpdates: Outcome<LiveCatchUp & { readonly peakRssBytes: number | null }>
  liveChildInserts: Outcome<LiveCatchUp>
  latency200: Outcome<Latency>
  latency1000: Outcome<Latency>
  peakRssLive: Outcome<{ readonly bytes: number; readonly during: string }>
  /** After the latency runs: the users whose marker they set, against the index. */
  markersAfterLatency: Outcome<MarkerCheck>
}

export interface Ceilings {
  sqlNested: Outcome<SqlCeiling>
  bulkNested: Outcome<BulkCeiling>
  sqlFlat: Outcome<SqlCeiling>
  bulkFlat: Outcome<BulkCeiling>
}

export const toolNotRun = (reason: string): ToolFigures => ({
  backfillNested: notRun(reason),
  backfillFlat: notRun(reason),
  liveRootUpdates: notRun(reason),
  liveChildInserts: notRun(reason),
  latency200: notRun(reason),
  latency1000: notRun(reason),
  peakRssLive: notRun(reason),
  markersAfterLatency: notRun(reason)
})

/** Issue 18's goals: ratios to the Rust tool measured in the same run, and a memory bound. */
export const GOALS = {
  source: "issue 18",
  backfillNestedRatio: 1.5,
  liveRootUpdatesRatio: 1.5,
  liveChildInsertsRatio: 3,
  latency1000P99Ratio: 0.5,
  peakRssMB: 100
} as const

export interface TableInput {
  readonly users: number
  readonly rootUpdates: number
  readonly childInserts: number
  readonly ours: ToolFigures
  /** The Rust tool's figures; undefined when --rs was not given. */
  readonly rs: ToolFigures | undefined
  readonly rsTitle: string
  /** The tools' titles in the order they ran. */
  readonly order: ReadonlyArray<string>
  /** The 1-minute load average when each tool's part began and ended. */
  readonly conditions: ReadonlyArray<{ readonly title: string; readonly loadAverageStart: number; readonly loadAverageEnd: number }>
  readonly ceilings: Ceilings
  readonly parity: { readonly nested: Outcome<Parity>; readonly flat: Outcome<Parity> } | undefined
}

const value = <A>(o: Outcome<A>): A | undefined => (o.status === "measured" ? o.value : undefined)
const firstLine = (s: string) => (s.split("\n")[0] ?? "").slice(0, 90)
/** A measured cell, or the status with its reason. */
const shown = <A>(o: Outcome<A> | undefined, f: (a: A) => string): string =>
  o === undefined ? "not measured" : o.status === "measured" ? f(o.value) : o.status === "not run" ? "not run" : `${o.status}: ${firstLine(o.reason)}`
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`
const times = (x: number) => `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`
const pct = (x: number | undefined, of: number | undefined) => (x === undefined || of === undefined || of <= 0 ? "—" : `${Math.round((100 * x) / of)} %`)
const ratio = (a: number | undefined | null, b: number | undefined | null) => (a == null || b == null || b <= 0 ? undefined : a / b)

/** The binding ceiling of a backfill: the lower of raw SQL and raw `_bulk`. */
const ceilingOf = (sql: Outcome<SqlCeiling>, bulk: Outcome<BulkCeiling>): { value: number; label: string } | undefined => {
  const s = value(sql)?.docsPerSecond
  const b = value(bulk)?.docsPerSecond
  if (s === undefined && b === undefined) return undefined
  if (b === undefined || (s !== undefined && s < b)) return { value: s as number, label: `${rate(s as number)} (SQL)` }
  return { value: b, label: `${rate(b)} (_bulk)` }
}

const backfillCell = (o: Outcome<Backfill> | undefined) =>
  shown(o, (b) => `${rate(b.docsPerSecond)}${b.documentsInIndex !== null && b.documentsInIndex !== b.rows ? ` (${b.documentsInIndex} documents in the index)` : ""}`)

const catchUpCell = (o: Outcome<LiveCatchUp> | undefined) =>
  shown(o, (c) => `${rate(c.changesPerSecond)}${c.state !== null && !c.state.matches ? " ⚠ index ≠ database after it" : ""}`)

const latencyCell = (o: Outcome<Latency> | undefined) =>
  shown(o, (l) =>
    `${l.p50Ms ?? "?"}/${l.p99Ms ?? "?"} ms at ${Math.round(l.achievedPerSecond)}/s, ${l.samplesInTime.toLocaleString("en-US")} of ${l.expectedSamples.toLocaleString("en-US")} samples in time${l.rateHeld ? "" : " (rate not held)"}${l.unseen > 0 ? `, ${l.unseen} never seen` : ""}`)

/** The audits of the live phases (audit.ts) in one cell: "yes", or what differed. */
const consistencyCell = (f: ToolFigures): string => {
  const checks: Array<[string, boolean | undefined, string]> = [
    ["root updates", value(f.liveRootUpdates)?.state?.matches, ""],
    ["child inserts", value(f.liveChildInserts)?.state?.matches, ""],
    [
      "latency runs",
      (() => {
        const m = value(f.markersAfterLatency)
        return m === undefined ? undefined : m.differing === 0
      })(),
      (() => {
        const m = value(f.markersAfterLatency)
        return m === undefined || m.differing === 0 ? "" : ` (${m.differing} of ${m.users.toLocaleString("en-US")} changes never visible)`
      })()
    ]
  ]
  const known = checks.filter(([, ok]) => ok !== undefined)
  if (known.length === 0) return "not checked"
  const bad = known.filter(([, ok]) => ok === false)
  if (bad.length === 0) return `yes (${known.map(([name]) => name).join(", ")})`
  return `NO: ${bad.map(([name, , detail]) => `${name}${detail}`).join("; ")}`
}

/**
 * How busy the machine was while each tool ran: the load average, and OpenSearch's own
 * realtime-GET round trip during the latency runs (the same requests for both tools).
 */
const conditionsNote = (t: TableInput): string => {
  const load = t.conditions.map((c) => `${c.title} ${c.loadAverageStart.toFixed(1)} → ${c.loadAverageEnd.toFixed(1)}`).join(", ")
  const polls = [["flusso (ours)", t.ours] as const, ...(t.rs === undefined ? [] : [[t.rsTitle, t.rs] as const])]
    .filter(([, f]) => f.latency200.status === "measured" || f.latency1000.status === "measured")
    .map(([title, f]) => `${title} ${shown(f.latency200, (l) => `${l.pollMeanMs ?? "?"}`)} / ${shown(f.latency1000, (l) => `${l.pollMeanMs ?? "?"}`)} ms`)
  return `Machine load (${os.cpus().length} cores; 1-minute load average when each tool's part began → ended): ${load}.` +
    (polls.length === 0 ? "" : ` Mean realtime-GET round trip of the latency poller (200 / 1,000 updates/s), the same requests for every tool: ${polls.join(", ")}.`)
}

const met = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? " — met" : " — not met")

export const table = (t: TableInput): string => {
  const { ours, rs, ceilings } = t
  const nestedCeiling = ceilingOf(ceilings.sqlNested, ceilings.bulkNested)
  const flatCeiling = ceilingOf(ceilings.sqlFlat, ceilings.bulkFlat)
  const rssBackfill = (f: ToolFigures | undefined) => (f === undefined ? undefined : value(f.backfillNested)?.peakRssBytes ?? undefined)
  const rssLive = (f: ToolFigures | undefined) => (f === undefined ? undefined : value(f.peakRssLive)?.bytes)
  const rateOf = <A extends { changesPerSecond: number } | { docsPerSecond: number }>(o: Outcome<A> | undefined) => {
    const v = o === undefined ? undefined : value(o)
    return v === undefined ? undefined : "docsPerSecond" in v ? v.docsPerSecond : v.changesPerSecond
  }
  const r = {
    backfillNested: ratio(rateOf(ours.backfillNested), rateOf(rs?.backfillNested)),
    backfillFlat: ratio(rateOf(ours.backfillFlat), rateOf(rs?.backfillFlat)),
    root: ratio(rateOf(ours.liveRootUpdates), rateOf(rs?.liveRootUpdates)),
    child: ratio(rateOf(ours.liveChildInserts), rateOf(rs?.liveChildInserts)),
    rssBackfill: ratio(rssBackfill(ours), rssBackfill(rs)),
    rssLive: ratio(rssLive(ours), rssLive(rs))
  }
  const latencyRatio = (a: Outcome<Latency>, b: Outcome<Latency> | undefined) => {
    const x = value(a)
    const y = b === undefined ? undefined : value(b)
    const p50 = ratio(x?.p50Ms, y?.p50Ms)
    const p99 = ratio(x?.p99Ms, y?.p99Ms)
    return { text: p50 === undefined || p99 === undefined ? "—" : `p50 ${times(p50)}, p99 ${times(p99)}`, p99, held: x?.rateHeld }
  }
  const l200 = latencyRatio(ours.latency200, rs?.latency200)
  const l1000 = latencyRatio(ours.latency1000, rs?.latency1000)
  const ratioCell = (x: number | undefined) => (x === undefined ? "—" : times(x))
  const rssGoal = (bytes: number | undefined) => `≤ ${GOALS.peakRssMB} MB${met(bytes === undefined ? undefined : bytes <= GOALS.peakRssMB * 1048576)}`
  const n = t.users.toLocaleString("en-US")
  const rows: Array<[string, string, string, string, string, string, string]> = [
    [
      `backfill docs/s, nested (${n} users)`,
      backfillCell(ours.backfillNested),
      backfillCell(rs?.backfillNested),
      ratioCell(r.backfillNested),
      nestedCeiling?.label ?? "—",
      pct(rateOf(ours.backfillNested), nestedCeiling?.value),
      `≥ ${GOALS.backfillNestedRatio}× Rust${met(r.backfillNested === undefined ? undefined : r.backfillNested >= GOALS.backfillNestedRatio)}`
    ],
    [
      `backfill docs/s, flat (${n} users)`,
      backfillCell(ours.backfillFlat),
      backfillCell(rs?.backfillFlat),
      ratioCell(r.backfillFlat),
      flatCeiling?.label ?? "—",
      pct(rateOf(ours.backfillFlat), flatCeiling?.value),
      "—"
    ],
    [
      `live root updates/s (catch-up of ${t.rootUpdates.toLocaleString("en-US")} single-row updates)`,
      catchUpCell(ours.liveRootUpdates),
      catchUpCell(rs?.liveRootUpdates),
      ratioCell(r.root),
      "—",
      "—",
      `≥ ${GOALS.liveRootUpdatesRatio}× Rust${met(r.root === undefined ? undefined : r.root >= GOALS.liveRootUpdatesRatio)}`
    ],
    [
      `live child inserts/s (catch-up of ${t.childInserts.toLocaleString("en-US")} order inserts → parents rebuilt)`,
      catchUpCell(ours.liveChildInserts),
      catchUpCell(rs?.liveChildInserts),
      ratioCell(r.child),
      "—",
      "—",
      `≥ ${GOALS.liveChildInsertsRatio}× Rust${met(r.child === undefined ? undefined : r.child >= GOALS.liveChildInsertsRatio)}`
    ],
    ["commit → visible p50/p99, offered 200 updates/s", latencyCell(ours.latency200), latencyCell(rs?.latency200), l200.text, "—", "—", "—"],
    [
      "commit → visible p50/p99, offered 1,000 updates/s",
      latencyCell(ours.latency1000),
      latencyCell(rs?.latency1000),
      l1000.text,
      "—",
      "—",
      `p99 ≤ ${GOALS.latency1000P99Ratio}× Rust, rate held${met(l1000.p99 === undefined ? undefined : l1000.p99 <= GOALS.latency1000P99Ratio && l1000.held === true)}`
    ],
    [
      "peak RSS through the nested backfill (VmHWM)",
      shown(ours.backfillNested, (b) => (b.peakRssBytes === null ? "?" : mb(b.peakRssBytes))),
      shown(rs?.backfillNested, (b) => (b.peakRssBytes === null ? "?" : mb(b.peakRssBytes))),
      ratioCell(r.rssBackfill),
      "—",
      "—",
      rssGoal(rssBackfill(ours))
    ],
    [
      "peak RSS through the live phases (VmHWM)",
      shown(ours.peakRssLive, (p) => mb(p.bytes)),
      shown(rs?.peakRssLive, (p) => mb(p.bytes)),
      ratioCell(r.rssLive),
      "—",
      "—",
      rssGoal(rssLive(ours))
    ],
    ["index = database after each live phase", consistencyCell(ours), rs === undefined ? "not measured" : consistencyCell(rs), "—", "—", "—", "—"],
    ["ceiling: raw document SQL, nested (chunks of 1000, 2 connections)", "—", "—", "—", shown(ceilings.sqlNested, (c) => rate(c.docsPerSecond)), "—", "—"],
    ["ceiling: raw `_bulk` of pre-built nested docs (1000/request, 2 in flight)", "—", "—", "—", shown(ceilings.bulkNested, (c) => rate(c.docsPerSecond)), "—", "—"],
    ["ceiling: raw document SQL, flat", "—", "—", "—", shown(ceilings.sqlFlat, (c) => rate(c.docsPerSecond)), "—", "—"],
    ["ceiling: raw `_bulk`, flat", "—", "—", "—", shown(ceilings.bulkFlat, (c) => rate(c.docsPerSecond)), "—", "—"]
  ]
  const header = ["figure", "flusso (ours)", t.rsTitle, "ours / Rust", "ceiling (this run)", "ours: fraction of ceiling", `goal (${GOALS.source})`]
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`
  const avg = value(ceilings.sqlNested)?.averageBytes
  const parityNote = (label: string, o: Outcome<Parity>) =>
    shown(o, (p) =>
      p.same
        ? `${label}: the same data in both tools' documents of ${p.documents} users${p.representation.length > 0 ? ` (written differently: ${p.representation.slice(0, 3).join("; ")})` : ""}`
        : `${label}: the documents DIFFER: ${p.differences.slice(0, 4).join("; ")}`)
  const notes = [
    rs === undefined
      ? "The Rust flusso was not measured in this run (`--rs <binary>` measures it in the same sitting)."
      : t.order.length > 1
      ? `Both tools ran one after the other in this sitting (${t.order.join(", then ")}) on the same database and OpenSearch; every figure is measured the same way for both (bench/README.md).`
      : `Only ${t.order.join("")} ran (--no-flusso).`,
    ...(t.parity === undefined ? [] : [parityNote("Nested", t.parity.nested), parityNote("Flat", t.parity.flat)]),
    conditionsNote(t),
    ...(avg === undefined ? [] : [`Average nested document: ${avg} B (as the document SQL returns it).`]),
    ...(value(ceilings.sqlNested)?.statementSource.startsWith("hand-written") ? ["The SQL ceiling used a hand-written statement, not flusso's own (see results.json)."] : [])
  ]
  return [line(header), line(header.map(() => "---")), ...rows.map(line), "", ...notes.map((note) => `- ${note}`)].join("\n")
}
