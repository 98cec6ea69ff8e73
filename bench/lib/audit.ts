/**
 * What keeps a figure honest: after a catch-up, the index against the database (the
 * number of documents, the sum of scores and of order counts, the latest marker), and the
 * documents of the reserved users (live.ts RESERVED) from both tools' backfills, compared
 * value by value. A tool that is fast because it missed changes shows up here.
 */
import pg from "pg"
import { call, mgetMarkers } from "./opensearch.js"

export interface StateCheck {
  readonly matches: boolean
  readonly index: Totals
  readonly database: Totals
}

interface Totals {
  readonly documents: number | null
  readonly scoreSum: number | null
  readonly orderCountSum: number | null
  readonly maxMarker: number | null
}

const numberOr = (v: unknown): number | null => (typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : null)

/** The nested index's totals (after a refresh) against the database's. */
export const checkState = async (opensearchUrl: string, alias: string, url: string): Promise<StateCheck> => {
  await call(opensearchUrl, "POST", `/${alias}/_refresh`)
  const r = await call(opensearchUrl, "POST", `/${alias}/_search`, {
    size: 0,
    track_total_hits: true,
    aggs: { score: { sum: { field: "score" } }, orderCount: { sum: { field: "orderCount" } }, marker: { max: { field: "marker" } } }
  })
  if (r.status !== 200) throw new Error(`totals of ${alias}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`)
  const body = r.json as { hits: { total: { value: number } }; aggregations: Record<string, { value: number | null }> }
  const index: Totals = {
    documents: body.hits.total.value,
    scoreSum: numberOr(body.aggregations["score"]?.value),
    orderCountSum: numberOr(body.aggregations["orderCount"]?.value),
    maxMarker: numberOr(body.aggregations["marker"]?.value)
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const row = (await client.query<{ documents: string; score: string; orders: string; marker: string | null }>(
      "SELECT count(*)::text AS documents, sum(score)::text AS score, (SELECT count(*) FROM orders)::text AS orders, max(marker)::text AS marker FROM users"
    )).rows[0]
    const database: Totals = {
      documents: numberOr(row?.documents),
      scoreSum: numberOr(row?.score),
      orderCountSum: numberOr(row?.orders),
      maxMarker: numberOr(row?.marker ?? null)
    }
    const same = (a: number | null, b: number | null) => (a ?? 0) === (b ?? 0)
    const matches = same(index.documents, database.documents) && same(index.scoreSum, database.scoreSum) &&
      same(index.orderCountSum, database.orderCountSum) && same(index.maxMarker, database.maxMarker)
    return { matches, index, database }
  } finally {
    await client.end().catch(() => undefined)
  }
}

export interface MarkerCheck {
  /** Users whose marker the latency runs set. */
  readonly users: number
  /** Of them, documents that still did not show the database's marker when the bench stopped waiting. */
  readonly differing: number
  readonly examples: ReadonlyArray<{ readonly id: string; readonly database: number; readonly index: number | null }>
  /** How long it took until none differed (or the bench gave up). */
  readonly waitedSeconds: number
}

/**
 * After the latency runs: every user whose marker they set, against the index (realtime
 * GET), until all match or `timeoutSeconds` pass. A committed change that never shows up
 * is counted here, whichever sample the latency poller happened to pick.
 */
export const checkMarkers = async (opensearchUrl: string, alias: string, url: string, timeoutSeconds: number): Promise<MarkerCheck> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  let expected: Map<string, number>
  try {
    const rows = (await client.query<{ id: string; marker: string }>("SELECT id::text AS id, marker::text AS marker FROM users WHERE marker IS NOT NULL")).rows
    expected = new Map(rows.map((r) => [r.id, Number(r.marker)]))
  } finally {
    await client.end().catch(() => undefined)
  }
  const started = Date.now()
  let pending = [...expected.keys()]
  let seen = new Map<string, number | null>()
  for (;;) {
    seen = new Map()
    for (let i = 0; i < pending.length; i += 1000) {
      const chunk = pending.slice(i, i + 1000)
      for (const [id, marker] of await mgetMarkers(opensearchUrl, alias, chunk)) seen.set(id, marker)
    }
    pending = pending.filter((id) => seen.get(id) !== expected.get(id))
    if (pending.length === 0 || Date.now() - started > timeoutSeconds * 1000) break
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  return {
    users: expected.size,
    differing: pending.length,
    examples: pending.slice(0, 10).map((id) => ({ id, database: expected.get(id) ?? 0, index: seen.get(id) ?? null })),
    waitedSeconds: (Date.now() - started) / 1000
  }
}

/** The `_source` of each id (null when not found). */
export const fetchDocuments = async (opensearchUrl: string, alias: string, ids: ReadonlyArray<string>): Promise<Record<string, unknown>> => {
  const r = await call(opensearchUrl, "POST", `/${alias}/_mget`, { ids })
  if (r.status !== 200) throw new Error(`_mget from ${alias}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`)
  const docs = (r.json as { docs: Array<{ _id: string; found: boolean; _source?: unknown }> }).docs
  return Object.fromEntries(docs.map((d) => [d._id, d.found ? (d._source ?? null) : null]))
}

export interface Parity {
  /** No difference in data. */
  readonly same: boolean
  readonly documents: number
  /** Paths whose values differ (array positions as []), with one example each. */
  readonly differences: ReadonlyArray<string>
  /** Paths written differently for the same value (`755.80` and `755.8`, two spellings of one instant), one example each. */
  readonly representation: ReadonlyArray<string>
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/
const numeric = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) ? Number(v) : undefined

/**
 * Compares two tools' documents of the same rows. Equal values written differently
 * (a number as text, a timestamp with another offset spelling) are not differences in
 * data; they are listed apart. A key one tool leaves out and the other writes as null is no difference.
 */
export const compareDocuments = (ours: Record<string, unknown>, theirs: Record<string, unknown>): Parity => {
  const differences = new Map<string, string>()
  const representation = new Map<string, string>()
  const walk = (a: unknown, b: unknown, at: string, id: string) => {
    const pattern = at.replace(/\[\d+\]/g, "[]")
    if (a === undefined) a = null
    if (b === undefined) b = null
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) differences.set(`${pattern}.length`, `user ${id} ${at}: ${a.length} vs ${b.length} elements`)
      for (let i = 0; i < Math.min(a.length, b.length); i++) walk(a[i], b[i], `${at}[${i}]`, id)
      return
    }
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
      const x = a as Record<string, unknown>
      const y = b as Record<string, unknown>
      for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) walk(x[key], y[key], at === "" ? key : `${at}.${key}`, id)
      return
    }
    if (a === b) return
    const example = `user ${id} ${at === "" ? "(document)" : at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`
    const na = numeric(a)
    const nb = numeric(b)
    if (na !== undefined && nb !== undefined) return void (na === nb ? representation : differences).set(pattern, example)
    if (typeof a === "string" && typeof b === "string" && ISO.test(a) && ISO.test(b)) {
      return void (Date.parse(a) === Date.parse(b) ? representation : differences).set(pattern, example)
    }
    differences.set(pattern, example)
  }
  const ids = new Set([...Object.keys(ours), ...Object.keys(theirs)])
  for (const id of ids) walk(ours[id], theirs[id], "", id)
  return { same: differences.size === 0, documents: ids.size, differences: [...differences.values()], representation: [...representation.values()] }
}
