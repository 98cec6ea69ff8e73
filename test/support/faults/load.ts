/**
 * Fault-test helpers: a write load that keeps committing through outages (a failed
 * transaction is counted and the loop goes on — the comparison reads what the table
 * really holds afterwards), slot position probes, and the index-equals-table check.
 */
import pg from "pg"
import type { Deployment } from "../deployment.js"
import { documentsObject } from "../differential/indexState.js"
import { waitFor } from "../deployment.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface LoadStats {
  /** Transactions committed. */
  committed: number
  /** Transactions that failed (the service was down) and were not retried. */
  failed: number
  /** Row changes committed (inserted + updated + deleted). */
  rows: number
}

export interface Load {
  readonly stats: LoadStats
  /** Stops after the transaction in flight; resolves with the totals. */
  readonly stop: () => Promise<LoadStats>
}

/**
 * Commits, until stopped, transactions on `items (id int PRIMARY KEY, name text, qty int)`:
 * each inserts (or bumps) `rowsPerTransaction` rows, updates a few and deletes one, ids in
 * [1, idSpace], from a seeded PRNG.
 */
export const startLoad = (
  url: string,
  options: { readonly idSpace: number; readonly rowsPerTransaction: number; readonly pauseMs: number; readonly seed?: number }
): Load => {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5_000 })
  // A restarted server ends idle connections: the next query gets a fresh one.
  pool.on("error", () => undefined)
  const stats: LoadStats = { committed: 0, failed: 0, rows: 0 }
  let seed = options.seed ?? 17
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  let stopping = false
  let round = 0
  const loop = (async () => {
    while (!stopping) {
      round++
      const ids = Array.from({ length: options.rowsPerTransaction }, () => 1 + random(options.idSpace))
      const updated = [1 + random(options.idSpace), 1 + random(options.idSpace)]
      const deleted = 1 + random(options.idSpace)
      const client = await pool.connect().catch(() => undefined)
      if (client === undefined) {
        stats.failed++
        await sleep(100)
        continue
      }
      // A checked-out client's connection error (the server restarting) would be uncaught.
      const ignore = () => undefined
      client.on("error", ignore)
      let broken = false
      try {
        await client.query("BEGIN")
        await client.query(
          `INSERT INTO items (id, name, qty) SELECT i, 'load ' || $2::int, $2::int FROM unnest($1::int[]) AS i
             ON CONFLICT (id) DO UPDATE SET qty = items.qty + 1, name = excluded.name`,
          [ids, round]
        )
        await client.query("UPDATE items SET name = 'upd ' || $2::int, qty = qty * 2 % 1000 WHERE id = ANY($1::int[])", [updated, round])
        await client.query("DELETE FROM items WHERE id = $1", [deleted])
        await client.query("COMMIT")
        stats.committed++
        stats.rows += ids.length + updated.length + 1
      } catch {
        broken = true
        stats.failed++
        await sleep(100)
      } finally {
        client.off("error", ignore)
        client.release(broken)
      }
      if (options.pauseMs > 0) await sleep(options.pauseMs)
    }
  })()
  return {
    stats,
    stop: async () => {
      stopping = true
      await loop
      await pool.end().catch(() => undefined)
      return stats
    }
  }
}

/** Runs `query` until it succeeds (the server may be restarting). */
export const retrying = async <A>(what: string, query: () => Promise<A>, timeoutMs = 30_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await query()
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what} kept failing for ${timeoutMs} ms: ${String(e)}`)
      await sleep(200)
    }
  }
}

/** The WAL insert position, as text and as a number (bytes). */
export const insertLsn = async (d: Deployment): Promise<string> =>
  String((await d.sql("SELECT pg_current_wal_insert_lsn()::text AS lsn"))[0]?.["lsn"])

export interface SlotState {
  readonly confirmed: string
  /** Bytes of WAL between the insert position and the slot's confirmed position. */
  readonly lag: number
  readonly active: boolean
  readonly activePid: number | null
}

export const slotState = async (d: Deployment): Promise<SlotState> => {
  const [row] = await d.sql(
    `SELECT confirmed_flush_lsn::text AS confirmed, active, active_pid,
            pg_wal_lsn_diff(pg_current_wal_insert_lsn(), confirmed_flush_lsn)::bigint::text AS lag
       FROM pg_replication_slots WHERE slot_name = $1`,
    [d.db.name]
  )
  if (row === undefined) throw new Error(`no slot ${d.db.name}`)
  return {
    confirmed: String(row["confirmed"]),
    lag: Number(row["lag"]),
    active: row["active"] === true,
    activePid: row["active_pid"] === null ? null : Number(row["active_pid"])
  }
}

/** `a - b` in bytes of WAL. */
export const lsnDiff = async (d: Deployment, a: string, b: string): Promise<number> =>
  Number((await d.sql("SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint::text AS diff", [a, b]))[0]?.["diff"])

/**
 * What a reader of the alias finds now: every document by id, scrolled, without a
 * refresh — only what flusso (or the refresh interval) made searchable.
 */
export const searchableDocuments = async (d: Deployment, index = "items"): Promise<Record<string, unknown>> => {
  const found: Record<string, unknown> = {}
  const page = (text: string) => JSON.parse(text) as { _scroll_id?: string; hits: { hits: Array<{ _id: string; _source: unknown }> } }
  let response = await d.raw("POST", `/${d.prefix}${index}/_search?scroll=1m`, { size: 1000, query: { match_all: {} } })
  for (;;) {
    if (response.status !== 200) throw new Error(`search of ${d.prefix}${index} failed: ${response.status} ${response.text}`)
    const current = page(response.text)
    for (const hit of current.hits.hits) found[hit._id] = hit._source
    if (current.hits.hits.length === 0 || current._scroll_id === undefined) {
      if (current._scroll_id !== undefined) await d.raw("DELETE", "/_search/scroll", { scroll_id: [current._scroll_id] })
      return found
    }
    response = await d.raw("POST", "/_search/scroll", { scroll: "1m", scroll_id: current._scroll_id })
  }
}

/**
 * Waits until a reader of the alias (who never refreshes) finds exactly `expected`;
 * polls the cheap count first, the documents only once it matches.
 */
export const untilSearchable = (d: Deployment, expected: Record<string, unknown>, timeoutMs: number, index = "items") => {
  const want = JSON.stringify(expected)
  const total = Object.keys(expected).length
  return waitFor(`the alias to show all ${total} committed rows`, async () => {
    const response = await d.raw("GET", `/${d.prefix}${index}/_count`)
    if ((JSON.parse(response.text) as { count?: number }).count !== total) return await sleep(150).then(() => undefined)
    return JSON.stringify(await searchableDocuments(d, index)) === want ? true : undefined
  }, timeoutMs).catch(async (error: unknown) => {
    const visible = await searchableDocuments(d, index)
    const wrong = Object.keys(expected).filter((id) => JSON.stringify(visible[id]) !== JSON.stringify(expected[id]))
    throw new Error(`${String(error)}: ${Object.keys(visible).length} documents searchable, ${wrong.length} missing or stale`)
  })
}

/** Every `items` row as the document flusso must hold, keyed by id, and what the index holds. */
export const itemsState = async (d: Deployment, index = "items") => {
  const rows = await d.sql("SELECT id, name, qty FROM items ORDER BY id")
  const expected = Object.fromEntries(rows.map((row) => [String(row["id"]), row]))
  const actual = await documentsObject(d, index)
  return { expected, actual }
}
