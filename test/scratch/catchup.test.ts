import { it } from "vitest"
import { t } from "flusso"
import { makeDeployment } from "../support/deployment.js"
import { caughtUp, settled } from "../support/differential/indexState.js"

it("catch-up throughput", async () => {
  const d = await makeDeployment()
  try {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, qty int)")
    await d.sql("INSERT INTO items SELECT i, 'seed ' || i, i FROM generate_series(1, 5000) AS i")
    const cfg = d.config({ items: { table: "items", primaryKey: "id", fields: { id: t.integer({ required: true }), name: t.text(), qty: t.integer() } } })
    let running = await d.start(cfg)
    await settled(d, 1, 60_000, running)
    await running.stop()
    for (let i = 0; i < 700; i++) {
      await d.sql(`UPDATE items SET qty = qty + 1 WHERE id IN (SELECT (random()*4999)::int + 1 FROM generate_series(1, 20))`)
    }
    const started = Date.now()
    running = await d.start(cfg)
    await caughtUp(d, 120_000, running)
    process.stderr.write(`CATCHUP 14000 changes in ${Date.now() - started} ms\n`)
  } finally {
    await d.cleanup()
  }
}, 300_000)
