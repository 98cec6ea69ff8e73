/**
 * Cluster mode (`run --cluster`), through the real CLI: three runners of one deployment.
 * The capture runner SIGKILLed, and separately SIGSTOPped past its lease and resumed: a
 * change committed right after is searchable within 20 s (the bound: a takeover
 * measures 8–11 s) through another runner, the frozen one's replication session is gone
 * for good (it cannot acknowledge), and every document ends equal to its row.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { type Cluster, makeCluster, withLogs } from "../support/cluster.js"
import { type Deployment, itemsIndex, makeDeployment, waitFor } from "../support/deployment.js"

let d: Deployment
let cluster: Cluster | undefined
beforeEach(async () => {
  d = await makeDeployment()
  cluster = undefined
})
afterEach(async () => {
  await d.cleanup()
})

/** The bound from a commit to its document being searchable after the capture's runner goes. */
const TAKEOVER_BOUND_MS = 20_000

/** Every row as the document flusso must hold, and what the index holds (made searchable first). */
const compare = async () => {
  const rows = await d.sql("SELECT id, name, qty FROM items ORDER BY id")
  await d.raw("POST", `/${d.prefix}items/_refresh`)
  const response = await d.raw("GET", `/${d.prefix}items/_search?size=10000&sort=id:asc`)
  const hits: ReadonlyArray<{ _source: unknown }> = JSON.parse(response.text).hits.hits
  return { expected: rows, actual: hits.map((h) => h._source) }
}

/** Searchable through the alias (a search, not a GET: what readers see). */
const searchable = (id: number, name: string) =>
  waitFor(`row ${id} (${name}) to be searchable`, async () => {
    const response = await d.raw("POST", `/${d.prefix}items/_search`, { query: { term: { id } } })
    const hits: ReadonlyArray<{ _source: { name?: unknown } }> = response.status === 200 ? JSON.parse(response.text).hits.hits : []
    return hits[0]?._source.name === name ? true : undefined
  }, TAKEOVER_BOUND_MS)

const activePid = async (): Promise<number | null> => {
  const [row] = await d.sql("SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", [d.db.name])
  return typeof row?.["active_pid"] === "number" ? row["active_pid"] : null
}

/** A steady trickle of updates, so the capture has batches in flight when it goes. */
const churn = (until: () => boolean) =>
  (async () => {
    let n = 0
    while (!until()) {
      await d.sql("UPDATE items SET qty = qty + 1, name = 'churn ' || $1::int WHERE id = $2", [n, 1 + (n % 50)])
      n++
      await new Promise((r) => setTimeout(r, 20))
    }
  })()

describe("cluster failover", () => {
  it("the capture runner SIGKILLed, then another SIGSTOPped past its lease and resumed: later changes are searchable within 20 s, nothing is lost or stale", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, qty int)")
    await d.sql("INSERT INTO items SELECT i, 'seed ' || i, i FROM generate_series(1, 2000) AS i")
    const c = cluster = makeCluster(d, d.config(itemsIndex, { batch: { maxChanges: 64, maxDelayMs: 10 } }))
    await withLogs(() => cluster, async () => {
      for (const name of ["r1", "r2", "r3"]) await c.start(name)
      await c.ready()
      await d.caughtUp(60_000)

      // SIGKILL: the process and its sockets go at once.
      const first = await c.capture()
      let stop = false
      const writes = churn(() => stop)
      await new Promise((r) => setTimeout(r, 500))
      await c.signal(first, "SIGKILL")
      const killedAt = Date.now()
      await d.sql("INSERT INTO items VALUES (5001, 'after the kill', 1)")
      await searchable(5001, "after the kill")
      const afterKill = Date.now() - killedAt
      const second = await c.capture()
      expect(second.name).not.toBe(first.name)
      expect((await c.status(second))?.cluster.runners).not.toContain(first.address)
      await c.start(first.name)

      // SIGSTOP past the lease: a frozen runner whose sockets stay open.
      const frozen = await c.capture()
      const frozenSession = await activePid()
      expect(frozenSession).not.toBeNull()
      await c.signal(frozen, "SIGSTOP")
      const frozenAt = Date.now()
      await d.sql("INSERT INTO items VALUES (5002, 'while frozen', 1)")
      await searchable(5002, "while frozen")
      const afterFreeze = Date.now() - frozenAt
      const other = c.runners().find((r) => r.name !== frozen.name && r.alive())
      if (other === undefined) throw new Error("no other runner")
      await waitFor("another runner to hold the capture", async () => {
        const s = await c.status(other)
        return s?.cluster.captureRunner !== null && s?.cluster.captureRunner !== frozen.address ? true : undefined
      }, 30_000)
      await c.signal(frozen, "SIGCONT")
      await d.sql("UPDATE items SET name = 'after the resume', qty = -1 WHERE id = 5002")
      await searchable(5002, "after the resume")
      stop = true
      await writes

      // The frozen runner's replication session was ended: it can acknowledge nothing again.
      expect(await activePid()).not.toBe(frozenSession)
      await d.caughtUp(60_000)
      expect(await activePid()).not.toBe(frozenSession)
      const { actual, expected } = await compare()
      expect(actual).toEqual(expected)
      expect(actual.length).toBe(2002)
      for (const runner of c.runners()) expect(runner.alive()).toBe(true)
      console.log(`cluster failover: searchable ${afterKill} ms after SIGKILL of the capture runner, ${afterFreeze} ms after SIGSTOP`)
    })
  }, 240_000)
})
