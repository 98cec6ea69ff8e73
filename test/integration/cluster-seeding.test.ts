/**
 * Seeding shared by a cluster (`run --cluster`, the real CLI): 200 000 rows seeded by three
 * runners, one of them SIGKILLed while the pass runs (one that has written chunks, not
 * the capture, so the pass goes on and only that runner's chunks are redelivered). The
 * index must end complete and exact: every row's document, as the row is, and no other.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { type Cluster, makeCluster, withLogs } from "../support/cluster.js"
import { type Deployment, makeDeployment, waitFor } from "../support/deployment.js"
import { documents, settled } from "../support/differential/indexState.js"

let d: Deployment
let cluster: Cluster | undefined
beforeEach(async () => {
  d = await makeDeployment()
  cluster = undefined
})
afterEach(async () => {
  await d.cleanup()
})

const ROWS = 200_000

const bigIndex = {
  big: {
    table: "big",
    primaryKey: "id",
    fields: { id: { kind: "integer", required: true }, name: { kind: "keyword" }, qty: { kind: "integer" } }
  }
}

describe("cluster seeding", () => {
  it("200 000 rows seeded by three runners, one SIGKILLed mid-pass: complete and exact", async () => {
    await d.sql("CREATE TABLE big (id int PRIMARY KEY, name text, qty int)")
    await d.sql(`INSERT INTO big SELECT i, 'row ' || i, i % 1000 FROM generate_series(1, ${ROWS}) AS i`)
    await d.sql("ANALYZE big")
    const c = cluster = makeCluster(d, d.config(bigIndex))
    await withLogs(() => cluster, async () => {
      for (const name of ["r1", "r2", "r3"]) await c.start(name)
      await c.ready()
      const capture = await c.capture()
      // Mid-pass: some rows seeded, most not; a runner other than the capture has written chunks.
      const victim = await waitFor("another runner to have seeded chunks mid-pass", async () => {
        const progress = (await c.status(capture))?.indexes.find((i) => i.name === "big")?.backfill?.rowsDone
        if (progress === undefined || progress > ROWS * 0.6) return undefined
        for (const runner of c.runners()) {
          if (runner === capture) continue
          if (((await c.metric(runner, 'flusso_documents_built_total{index="big"')) ?? 0) > 0) return runner
        }
        return undefined
      }, 120_000)
      const builtBeforeKill = await c.metric(victim, 'flusso_documents_built_total{index="big"')
      // Rows changed while seeding reach the index through the stream too.
      await d.sql("UPDATE big SET qty = -1, name = 'changed while seeding' WHERE id % 997 = 0")
      await c.signal(victim, "SIGKILL")
      await d.sql("DELETE FROM big WHERE id % 1009 = 0")
      await settled(d, 1, 240_000)

      const rows = await d.sql("SELECT id, name, qty FROM big ORDER BY id")
      const expected = new Map(rows.map((row) => [String(row["id"]), row]))
      const actual = await documents(d, "big")
      expect(actual.size).toBe(expected.size)
      const wrong = [...expected].filter(([id, row]) => JSON.stringify(actual.get(id)) !== JSON.stringify(row)).slice(0, 5)
      expect(wrong).toEqual([])
      const survivors = c.runners().filter((r) => r.alive())
      const built = await Promise.all(survivors.map((r) => c.metric(r, 'flusso_documents_built_total{index="big"')))
      console.log(`cluster seeding: ${ROWS} rows; ${victim.name} killed after building ${builtBeforeKill ?? 0} documents; survivors built ${built.join(", ")}`)
    })
  }, 420_000)
})
