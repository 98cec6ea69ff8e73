/**
 * Ordering and correctness under production conditions (pipeline.md "Ordering and
 * correctness"), on real services:
 * - builds see their commit: PostgreSQL streams a commit before other sessions can see it;
 *   a synchronous standby played by the test (laggingStandby.ts) holds that window open —
 *   as long as the test likes, or ~50 ms per commit like a standby in another region — and
 *   every document must still end equal to its rows;
 * - a later build wins whatever the network does: a proxy (holdingProxy.ts) holds a bulk
 *   request past the client's timeout and delivers it after newer writes; it must change
 *   nothing.
 */
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { t } from "flusso"
import { type Deployment, waitFor, withDeployment } from "../support/deployment.js"
import { caughtUp, documentsObject, settled } from "../support/differential/indexState.js"
import { type DedicatedServices, startDedicatedServices } from "../support/faults/dedicatedServices.js"
import { startHoldingProxy } from "../support/faults/holdingProxy.js"
import { type LaggingStandby, startLaggingStandby } from "../support/faults/laggingStandby.js"
import { makeRandom } from "../support/differential/prng.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const report = (scenario: string, facts: Record<string, unknown>) =>
  process.stderr.write(`[ordering] ${scenario}: ${JSON.stringify(facts)}\n`)

const connect = async (url: string): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: url })
  client.on("error", () => undefined)
  await client.connect()
  return client
}

/** Parents with a soft-delete marker, children pointing at them (default replica identity: moves and deletes traced through refs). */
const DDL = [
  "CREATE TABLE parents (id int PRIMARY KEY, name text NOT NULL, score int NOT NULL DEFAULT 0, deleted_at timestamptz)",
  "CREATE TABLE children (id int PRIMARY KEY, parent_id int NOT NULL, v int NOT NULL)"
]
const parentsIndex = {
  parents: {
    table: "parents",
    primaryKey: "id",
    softDelete: { column: "deleted_at" },
    fields: {
      id: t.integer({ required: true }),
      name: t.text({ required: true }),
      score: t.integer({ required: true }),
      children: t.hasMany({
        table: "children",
        foreignKey: "parent_id",
        primaryKey: "id",
        fields: { id: t.integer({ required: true }), v: t.integer({ required: true }) }
      }),
      childCount: t.count({ table: "children", foreignKey: "parent_id" })
    }
  }
}

/** Every live parent as its document, computed by hand in SQL (not by flusso's statement). */
const expectedParents = async (d: Deployment): Promise<Record<string, unknown>> => {
  const rows = await d.sql(`
    SELECT p.id::text AS id, json_build_object(
      'id', p.id, 'name', p.name, 'score', p.score,
      'children', coalesce((SELECT json_agg(json_build_object('id', c.id, 'v', c.v) ORDER BY c.id) FROM children c WHERE c.parent_id = p.id), '[]'::json),
      'childCount', (SELECT count(*) FROM children c WHERE c.parent_id = p.id)
    )::text AS doc
    FROM parents p WHERE p.deleted_at IS NULL`)
  return Object.fromEntries(rows.map((row) => [String(row["id"]), JSON.parse(String(row["doc"])) as unknown]))
}

/** Documents that differ from what SQL computes: missing, extra, or stale. */
const differences = (expected: Record<string, unknown>, actual: Record<string, unknown>) => {
  const missing = Object.keys(expected).filter((id) => !(id in actual))
  const extra = Object.keys(actual).filter((id) => !(id in expected))
  const stale = Object.keys(expected).filter((id) => id in actual && JSON.stringify(actual[id]) !== JSON.stringify(expected[id]))
  return { missing, extra, stale }
}

describe("builds see their commit (a synchronous standby that confirms late)", () => {
  let services: DedicatedServices | undefined
  let standby: LaggingStandby | undefined
  beforeAll(async () => {
    services = await startDedicatedServices({ postgresOnly: true })
  }, 120_000)
  afterAll(async () => {
    await standby?.stop().catch(() => undefined)
    await services?.down()
  }, 60_000)

  it("a commit streamed while still invisible is built only once visible: a soft-delete restore and an update land", async () => {
    await withDeployment(async (d) => {
      for (const statement of DDL) await d.sql(statement)
      await d.sql("INSERT INTO parents (id, name, deleted_at) VALUES (1, 'gone', now()), (2, 'before', NULL)")
      const running = await d.start(d.config(parentsIndex))
      await settled(d, 1, 60_000, running)
      expect(await d.doc("parents", "1")).toBeUndefined()

      standby = await startLaggingStandby(d.db.url.replace(/\/[^/]*$/, "/postgres"))
      // Sessions opened now commit synchronously: they wait for the standby.
      const [restorer, updater] = [await connect(d.db.url), await connect(d.db.url)]
      try {
        standby.hold()
        const [before] = await d.sql("SELECT pg_current_wal_insert_lsn()::text AS lsn")
        const restore = restorer.query("UPDATE parents SET deleted_at = NULL, name = 'restored' WHERE id = 1")
        const update = updater.query("UPDATE parents SET name = 'after' WHERE id = 2")
        // flusso has received both commits (its walsender sent past them) …
        await waitFor("flusso to receive the held commits", async () => {
          const [row] = await d.sql(
            `SELECT bool_and(sent_lsn > $1::pg_lsn) AS sent FROM pg_stat_replication WHERE application_name = 'flusso-replication'`,
            [before?.["lsn"]]
          )
          return row?.["sent"] === true ? true : undefined
        })
        // … and had every chance to build them (batches close within 20 ms).
        await sleep(1_000)
        const [visible] = await d.sql("SELECT name FROM parents WHERE id = 2")
        expect(visible?.["name"], "the commit is still invisible to other sessions").toBe("before")
        const [slot] = await d.sql(
          "SELECT confirmed_flush_lsn > $1::pg_lsn AS past FROM pg_replication_slots WHERE slot_name = $2",
          [before?.["lsn"], d.db.name]
        )
        expect(slot?.["past"], "nothing past an invisible commit may be acknowledged").toBe(false)
        expect(await d.doc("parents", "2")).toMatchObject({ name: "before" })

        standby.release()
        await Promise.all([restore, update])
        await caughtUp(d, 30_000, running)
        expect(await d.doc("parents", "1")).toMatchObject({ id: 1, name: "restored" })
        expect(await d.doc("parents", "2")).toMatchObject({ id: 2, name: "after" })
      } finally {
        standby.release()
        await standby.stop()
        standby = undefined
        await Promise.all([restorer.end(), updater.end()])
      }
    }, services)
  }, 120_000)

  it("random soft-delete toggles, updates and child inserts, moves and deletes from 6 connections through a 50 ms standby end equal to SQL", async () => {
    await withDeployment(async (d) => {
      for (const statement of DDL) await d.sql(statement)
      const PARENTS = 300
      await d.sql(`INSERT INTO parents (id, name) SELECT g, 'p' || g FROM generate_series(1, ${PARENTS}) g`)
      await d.sql(`INSERT INTO children (id, parent_id, v) SELECT g, 1 + g % ${PARENTS}, g FROM generate_series(1, 600) g`)
      const running = await d.start(d.config(parentsIndex))
      await settled(d, 1, 60_000, running)

      standby = await startLaggingStandby(d.db.url.replace(/\/[^/]*$/, "/postgres"), { delayMs: 50 })
      const WRITERS = 6
      const OPERATIONS = 120
      const started = Date.now()
      try {
        await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
          const client = await connect(d.db.url)
          const random = makeRandom(1000 + w)
          // Child ids of this writer: w + 6k, so writers never collide on a key.
          const mine = new Set<number>()
          let nextChild = 1000 + w
          try {
            for (let i = 0; i < OPERATIONS; i++) {
              const parent = 1 + random.int(PARENTS)
              switch (random.int(6)) {
                case 0:
                  await client.query("UPDATE parents SET deleted_at = CASE WHEN deleted_at IS NULL THEN now() END WHERE id = $1", [parent])
                  break
                case 1:
                  await client.query("UPDATE parents SET name = $2, score = score + 1 WHERE id = $1", [parent, `w${w}-${i}`])
                  break
                case 2: {
                  const id = (nextChild += WRITERS)
                  await client.query("INSERT INTO children (id, parent_id, v) VALUES ($1, $2, $3)", [id, parent, i])
                  mine.add(id)
                  break
                }
                case 3: {
                  const id = [...mine][random.int(Math.max(1, mine.size))]
                  if (id !== undefined) {
                    await client.query("DELETE FROM children WHERE id = $1", [id])
                    mine.delete(id)
                  }
                  break
                }
                case 4: {
                  const id = [...mine][random.int(Math.max(1, mine.size))]
                  if (id !== undefined) await client.query("UPDATE children SET parent_id = $2 WHERE id = $1", [id, parent])
                  break
                }
                default:
                  // Two parents in one transaction: a restore and an update.
                  await client.query("BEGIN")
                  await client.query("UPDATE parents SET deleted_at = NULL, name = name || '+' WHERE id = $1", [parent])
                  await client.query("UPDATE children SET v = v + 1 WHERE parent_id = $1", [1 + random.int(PARENTS)])
                  await client.query("COMMIT")
              }
            }
          } finally {
            await client.end()
          }
        }))
      } finally {
        await standby.stop()
        standby = undefined
      }
      const writing = Date.now() - started
      await caughtUp(d, 60_000, running)
      const diff = differences(await expectedParents(d), await documentsObject(d, "parents"))
      report("lagging standby, random DML", { writers: WRITERS, operations: WRITERS * OPERATIONS, standbyDelayMs: 50, writingMs: writing, ...Object.fromEntries(Object.entries(diff).map(([k, v]) => [k, v.length])) })
      expect(diff).toEqual({ missing: [], extra: [], stale: [] })
    }, services)
  }, 180_000)
})

describe("a later build wins whatever the network does", () => {
  it("a bulk held past the client's timeout and delivered after newer writes changes nothing", async () => {
    await withDeployment(async (d) => {
      const proxy = await startHoldingProxy(d.opensearchUrl)
      try {
        await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
        await d.sql("INSERT INTO items VALUES (1, 'v0')")
        const config = d.config({
          items: { table: "items", primaryKey: "id", fields: { id: t.integer({ required: true }), name: t.text({ required: true }) } }
        })
        const sinks = config["sinks"] as { primary: Record<string, unknown> }
        const running = await d.start({ ...config, sinks: { primary: { ...sinks.primary, url: proxy.url, timeoutSeconds: 1 } } })
        await settled(d, 1, 60_000, running)

        const held = proxy.holdNext((request) => request.path.startsWith("/_bulk") && /"name"\s*:\s*"A"/.test(request.body))
        await d.sql("UPDATE items SET name = 'A' WHERE id = 1")
        await held.caught
        // The client gives up after 1 s and sends the bulk again, which passes: acked.
        await caughtUp(d, 30_000, running)
        await d.sql("UPDATE items SET name = 'B' WHERE id = 1")
        await caughtUp(d, 30_000, running)
        expect(await d.doc("items", "1")).toEqual({ id: 1, name: "B" })

        // Now the stalled coordinating node executes the abandoned request.
        const late = await held.release()
        expect(late.status).toBe(200)
        expect(late.body).toContain("version_conflict_engine_exception")
        expect(await d.doc("items", "1")).toEqual({ id: 1, name: "B" })
        await d.raw("POST", `/${d.prefix}items/_refresh`)
        expect(await d.doc("items", "1")).toEqual({ id: 1, name: "B" })
      } finally {
        await proxy.close()
      }
    })
  }, 120_000)
})
