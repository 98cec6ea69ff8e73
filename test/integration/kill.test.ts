/**
 * Crashes, through the real CLI (`node dist/main.js run --config <file>.ts`): a process
 * killed with SIGKILL loses nothing, because only flushed positions are ever acked.
 */
import type { ChildProcess } from "node:child_process"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { type Deployment, itemsIndex, makeDeployment, waitFor } from "../support/deployment.js"

let d: Deployment
beforeEach(async () => {
  d = await makeDeployment()
})
afterEach(async () => {
  await d.cleanup()
})

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGKILL")
  })

const streaming = (child: ChildProcess) =>
  waitFor("the CLI to stream", async () => {
    if (child.exitCode !== null) throw new Error(`flusso exited with ${child.exitCode} before streaming`)
    const rows = await d.sql("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [d.db.name])
    return rows[0]?.["active"] === true ? true : undefined
  }, 60_000)

/** Every row as the document flusso must hold, and what the index holds. */
const compare = async () => {
  const rows = await d.sql("SELECT id, name, qty FROM items ORDER BY id")
  // Acked means durable, not yet searchable: make it searchable before reading.
  await d.raw("POST", `/${d.prefix}items/_refresh`)
  const response = await d.raw("GET", `/${d.prefix}items/_search?size=10000&sort=id:asc`)
  const hits: ReadonlyArray<{ _source: unknown }> = JSON.parse(response.text).hits.hits
  return { expected: rows, actual: hits.map((h) => h._source) }
}

describe("SIGKILL", () => {
  it("two transactions committed back to back while flusso cannot ack them both land after a restart", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, qty int)")
    const config = d.config(itemsIndex)
    const first = d.spawnCli(config)
    await streaming(first)
    // T0 is processed and acked…
    await d.sql("INSERT INTO items VALUES (0, 'zero', 0)")
    await d.caughtUp(60_000)
    // …then flusso is frozen, so T1 and T2 — adjacent to T0 in the WAL — are never acked.
    first.kill("SIGSTOP")
    await d.sql("INSERT INTO items VALUES (1, 'one', 1)")
    await d.sql("INSERT INTO items VALUES (2, 'two', 2)")
    const [lsn] = await d.sql("SELECT pg_current_wal_insert_lsn()::text AS lsn")
    const [slot] = await d.sql(
      "SELECT confirmed_flush_lsn < $1::pg_lsn AS behind FROM pg_replication_slots WHERE slot_name = $2",
      [lsn?.["lsn"], d.db.name]
    )
    expect(slot?.["behind"]).toBe(true)
    await killed(first)

    const second = d.spawnCli(config)
    await streaming(second)
    await d.caughtUp(60_000)
    const { actual, expected } = await compare()
    expect(actual).toEqual(expected)
    expect(actual).toHaveLength(3)
    await killed(second)
  })

  it("random kills during writes and seeding: after a final restart the index equals the table", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, qty int)")
    await d.sql("INSERT INTO items SELECT i, 'seed ' || i, i FROM generate_series(1, 5000) AS i")
    const config = d.config(itemsIndex, { batch: { maxChanges: 64, maxDelayMs: 10 } })
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    for (let round = 0; round < 4; round++) {
      const child = d.spawnCli(config)
      // Write while flusso starts, seeds and streams; kill it at a different moment each round.
      const until = Date.now() + 800 + random(1500)
      while (Date.now() < until) {
        const id = 1 + random(6000)
        switch (random(3)) {
          case 0:
            await d.sql("INSERT INTO items VALUES ($1, 'ins', $2) ON CONFLICT (id) DO UPDATE SET qty = items.qty + 1", [id, round])
            break
          case 1:
            // Kept below 2^31: a row updated often must not overflow its int column.
            await d.sql("UPDATE items SET name = 'upd ' || $2::int, qty = qty % 1000000 * 2 WHERE id = $1", [id, round])
            break
          default:
            await d.sql("DELETE FROM items WHERE id = $1", [id])
        }
      }
      await killed(child)
    }
    const last = d.spawnCli(config)
    await streaming(last)
    await waitFor("the index to be seeded", async () => {
      await d.raw("POST", `/${d.prefix}flusso_meta/_refresh`)
      const meta = await d.raw("GET", `/${d.prefix}flusso_meta/_search`)
      return /"seeded"\s*:\s*true/.test(meta.text) ? true : undefined
    }, 120_000)
    await d.caughtUp(60_000)
    const { actual, expected } = await compare()
    expect(actual.length).toBe(expected.length)
    expect(actual).toEqual(expected)
    // Without --cluster, nothing of the cluster mode is written to the database.
    const [cluster] = await d.sql("SELECT to_regnamespace('flusso_cluster')::text AS schema")
    expect(cluster?.["schema"]).toBeNull()
    await killed(last)
  })
})
