/**
 * Index ownership end to end (opensearch.md "Lifecycle"): a schema change and a reindex
 * build a new generation beside the serving one under live traffic, readers of the
 * convenience alias never see an empty or partial index, and the swap retires the old
 * generation (keeping `keepPreviousGenerations` of them).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { t } from "flusso"
import { type Deployment, makeDeployment, waitFor } from "../support/deployment.js"
import { documents } from "../support/differential/indexState.js"

let d: Deployment
beforeEach(async () => {
  d = await makeDeployment()
})
afterEach(async () => {
  await d.cleanup()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const shapeA = { items: { table: "items", primaryKey: "id", fields: { id: t.integer({ required: true }), name: t.text() } } }
const shapeB = {
  items: { table: "items", primaryKey: "id", fields: { id: t.integer({ required: true }), name: t.text(), n: t.integer() } }
}

const json = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
  const response = await d.raw(method, path, body)
  return { status: response.status, body: JSON.parse(response.text) }
}

const hashOf = async (config: Record<string, unknown>): Promise<string> => {
  const hash = (await d.resolve(config)).indexes[0]?.hash
  if (hash === undefined) throw new Error("no index planned")
  return hash
}

/** The generations of `items` (not their hidden companions), sorted. */
const generations = async (): Promise<Array<string>> => {
  const response = await json("GET", `/_cat/indices/${d.prefix}items_*?format=json&h=index&expand_wildcards=open`)
  return (response.body as Array<{ index: string }>).map((i) => i.index).sort()
}

/** Every physical index of `items`, hidden companions included, sorted. */
const physicalIndexes = async (): Promise<Array<string>> => {
  const response = await json("GET", `/_cat/indices/${d.prefix}items_*?format=json&h=index&expand_wildcards=all`)
  return (response.body as Array<{ index: string }>).map((i) => i.index).sort()
}

const aliasTargets = async (alias: string): Promise<Array<string>> => {
  const response = await json("GET", `/_alias/${alias}`)
  return response.status === 404 ? [] : Object.keys(response.body).sort()
}

const checkpoint = async (generation: string): Promise<{ found: boolean; seeded?: boolean }> => {
  const response = await json("GET", `/${d.prefix}flusso_meta/_doc/${encodeURIComponent(`primary:${generation}`)}?realtime=true`)
  return { found: response.body.found === true, seeded: response.body._source?.seeded }
}

const waitServing = (generation: string, timeoutMs = 60_000) =>
  waitFor(`${generation} to serve ${d.prefix}items`, async () => {
    const serving = await aliasTargets(`${d.prefix}items`)
    return serving.length === 1 && serving[0] === generation ? true : undefined
  }, timeoutMs)

/** Inserts a few rows and updates a few, over and over, until stopped. */
const startWriter = () => {
  let running = true
  let failure: unknown
  const done = (async () => {
    let round = 0
    while (running) {
      round++
      await d.sql(`INSERT INTO items (name, n) SELECT 'live ' || g, $1 FROM generate_series(1, 10) AS g`, [round])
      await d.sql(`UPDATE items SET name = name || '+', n = n + 1 WHERE id IN (SELECT (random() * 2000)::int + 1 FROM generate_series(1, 3))`)
      await sleep(15)
    }
  })().catch((error) => {
    failure = error
  })
  return {
    stop: async () => {
      running = false
      await done
      if (failure !== undefined) throw failure
    }
  }
}

/** Polls what a reader of the convenience alias sees: its count and a sample of documents. */
const startReader = () => {
  let running = true
  const counts: Array<number> = []
  const problems: Array<string> = []
  /** What the convenience alias pointed at, each change once. */
  const served: Array<string> = []
  const done = (async () => {
    while (running) {
      const serving = (await aliasTargets(`${d.prefix}items`)).join(",")
      if (serving !== served.at(-1)) served.push(serving)
      // A reader queries the alias as it is; it never refreshes.
      const count = await json("GET", `/${d.prefix}items/_count`)
      if (count.status !== 200) problems.push(`_count answered ${count.status}: ${JSON.stringify(count.body)}`)
      else counts.push(count.body.count as number)
      const sample = await json("POST", `/${d.prefix}items/_search`, { size: 20, query: { function_score: { random_score: {} } } })
      if (sample.status !== 200) problems.push(`_search answered ${sample.status}`)
      for (const hit of sample.body.hits?.hits ?? []) {
        const source = hit._source as Record<string, unknown>
        if (typeof source["id"] !== "number" || typeof source["name"] !== "string" || String(source["id"]) !== hit._id) {
          problems.push(`partial document ${hit._id}: ${JSON.stringify(source)}`)
        }
      }
      await sleep(10)
    }
  })()
  return {
    stop: async () => {
      running = false
      await done
      return { counts, problems, served }
    }
  }
}

const rowCount = async () => Number((await d.sql("SELECT count(*)::int AS c FROM items"))[0]?.["c"])

/** Every document through the alias equals its row, in shape B (with `n`) or A. */
const expectDocumentsEqualRows = async (withN: boolean) => {
  const rows = await d.sql("SELECT id, name, n FROM items ORDER BY id")
  expect(await d.count("items")).toBe(rows.length)
  // Scrolled: exact for any size.
  const docs = await documents(d, "items")
  expect(docs.size).toBe(rows.length)
  for (const row of rows) {
    const expected = withN ? { id: row["id"], name: row["name"], n: row["n"] } : { id: row["id"], name: row["name"] }
    expect(docs.get(String(row["id"]))).toEqual(expected)
  }
}

const setupTable = async (rows: number) => {
  await d.sql("CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, n int NOT NULL DEFAULT 0)")
  await d.sql(`INSERT INTO items (name, n) SELECT 'row ' || g, g FROM generate_series(1, $1::int) AS g`, [rows])
}

describe("generations", () => {
  it("a schema change seeds a new generation under live writes and swaps it in atomically", async () => {
    await setupTable(3000)
    const configA = d.config(shapeA)
    const configB = d.config(shapeB)
    const [hashA, hashB] = [await hashOf(configA), await hashOf(configB)]
    expect(hashB).not.toBe(hashA)
    const genA = `${d.prefix}items_${hashA}_1`
    const genB = `${d.prefix}items_${hashB}_1`

    const first = await d.start(configA)
    await waitFor("shape A seeded", async () => ((await checkpoint(genA)).seeded === true ? true : undefined), 60_000)
    const before = startWriter()
    await sleep(300)
    await before.stop()
    // Everything committed now is searchable in shape A (a stop with a write in flight is tested elsewhere).
    const baseline = await rowCount()
    await d.caughtUp()
    expect(await d.count("items")).toBe(baseline)

    const reader = startReader()
    await first.stop()
    const writer = startWriter()
    await sleep(200)
    const second = await d.start(configB)
    await Promise.race([
      waitServing(genB),
      second.exit.then((exit) => Promise.reject(new Error(`flusso stopped: ${String(exit)}`)))
    ])
    await sleep(300)
    const seen = await reader.stop()
    await writer.stop()
    await d.caughtUp()

    expect(seen.problems).toEqual([])
    // A served until B was seeded, then B, in one step: never nothing, never both.
    expect(seen.served).toEqual([genA, genB])
    expect(seen.counts.length).toBeGreaterThan(10)
    expect(Math.min(...seen.counts)).toBeGreaterThanOrEqual(baseline)

    // B serves alone: A, its companion, its hash alias and its checkpoint entry are gone.
    expect(await generations()).toEqual([genB])
    expect(await physicalIndexes()).toEqual([genB, `${genB}_refs`].sort())
    expect(await aliasTargets(`${d.prefix}items_${hashB}`)).toEqual([genB])
    expect(await aliasTargets(`${d.prefix}items_${hashA}`)).toEqual([])
    expect(await checkpoint(genB)).toEqual({ found: true, seeded: true })
    expect((await checkpoint(genA)).found).toBe(false)
    const settings = await json("GET", `/${genB}/_settings`)
    expect(settings.body[genB].settings.index.refresh_interval).toBe("1s")
    await expectDocumentsEqualRows(true)
  }, 120_000)

  it("reindexes on demand into generation n+1 while live sync runs, then retires generation n", async () => {
    await setupTable(2000)
    const config = d.config(shapeA)
    const hash = await hashOf(config)
    const gen1 = `${d.prefix}items_${hash}_1`
    const gen2 = `${d.prefix}items_${hash}_2`
    const running = await d.start(config)
    await waitFor("seeded", async () => ((await checkpoint(gen1)).seeded === true ? true : undefined), 60_000)

    const writer = startWriter()
    await sleep(200)
    const baseline = await rowCount()
    await d.caughtUp()
    // Searchable now, as a reader would see it within the refresh interval.
    expect(await d.count("items")).toBeGreaterThanOrEqual(baseline)
    const reader = startReader()
    await running.reindex("items")
    // Resolved once the new generation serves.
    expect(await aliasTargets(`${d.prefix}items`)).toEqual([gen2])
    await sleep(300)
    const seen = await reader.stop()
    await writer.stop()
    await d.caughtUp()

    expect(seen.problems).toEqual([])
    expect(seen.served).toEqual([gen1, gen2])
    expect(Math.min(...seen.counts)).toBeGreaterThanOrEqual(baseline)
    expect(await physicalIndexes()).toEqual([gen2, `${gen2}_refs`].sort())
    expect(await aliasTargets(`${d.prefix}items_${hash}`)).toEqual([gen2])
    expect((await checkpoint(gen1)).found).toBe(false)
    expect(await checkpoint(gen2)).toEqual({ found: true, seeded: true })
    await expectDocumentsEqualRows(false)

    // An index the engine does not sync is refused; the engine goes on.
    await expect(running.reindex("nope")).rejects.toThrow(/cannot reindex nope/)
    await d.sql("INSERT INTO items (name, n) VALUES ('after', 1)")
    await d.caughtUp()
    await expectDocumentsEqualRows(false)
  }, 120_000)

  it("keepPreviousGenerations: 1 keeps exactly the previous generation", async () => {
    await setupTable(500)
    const keepOne = (indexes: Record<string, unknown>) => {
      const config = d.config(indexes)
      const sinks = config["sinks"] as { primary: Record<string, unknown> }
      return { ...config, sinks: { primary: { ...sinks.primary, keepPreviousGenerations: 1 } } }
    }
    const [hashA, hashB] = [await hashOf(keepOne(shapeA)), await hashOf(keepOne(shapeB))]
    const genA = (n: number) => `${d.prefix}items_${hashA}_${n}`
    const running = await d.start(keepOne(shapeA))
    await waitFor("seeded", async () => ((await checkpoint(genA(1))).seeded === true ? true : undefined), 60_000)

    await running.reindex("items")
    expect(await generations()).toEqual([genA(1), genA(2)])
    await running.reindex("items")
    expect(await generations()).toEqual([genA(2), genA(3)])
    // The kept one is no longer served by either alias, and no longer written to.
    expect(await aliasTargets(`${d.prefix}items`)).toEqual([genA(3)])
    expect(await aliasTargets(`${d.prefix}items_${hashA}`)).toEqual([genA(3)])

    // A schema change keeps the previous shape's generation, reachable by its hash alias.
    await running.stop()
    await d.start(keepOne(shapeB))
    const genB = `${d.prefix}items_${hashB}_1`
    await waitServing(genB)
    await waitFor("the superseded generations retired", async () =>
      (await generations()).length === 2 ? true : undefined)
    expect(await generations()).toEqual([genA(3), genB].sort())
    expect(await aliasTargets(`${d.prefix}items_${hashA}`)).toEqual([genA(3)])
    expect(await aliasTargets(`${d.prefix}items_${hashB}`)).toEqual([genB])
    await d.caughtUp()
    await expectDocumentsEqualRows(true)
  }, 120_000)

  it("a first run under --skip-backfill serves live changes at the configured refresh interval, unseeded", async () => {
    await setupTable(50)
    const config = d.config(shapeA)
    const generation = `${d.prefix}items_${await hashOf(config)}_1`
    const running = await d.start(config, { skipBackfill: true })
    await waitFor("the refresh interval", async () => {
      const settings = await json("GET", `/${generation}/_settings`)
      return settings.body[generation]?.settings.index.refresh_interval === "1s" ? true : undefined
    })
    await d.sql("INSERT INTO items (name) VALUES ('live')")
    await d.caughtUp()
    const [row] = await d.sql("SELECT max(id) AS id FROM items")
    // Searchable through the alias without anyone refreshing; the existing rows are not seeded.
    await waitFor("the live row to be searchable", async () => {
      const count = await json("GET", `/${d.prefix}items/_count`)
      return count.body.count === 1 ? true : undefined
    })
    expect(await d.doc("items", String(row?.["id"]))).toEqual({ id: row?.["id"], name: "live" })
    expect((await checkpoint(generation)).seeded).not.toBe(true)
    await running.stop()
  }, 60_000)

  it("a new replication slot under a seeded index rebuilds it: changes made while no slot existed land", async () => {
    await setupTable(200)
    const config = d.config(shapeA)
    const hash = await hashOf(config)
    const first = await d.start(config)
    await waitFor("seeded", async () => ((await checkpoint(`${d.prefix}items_${hash}_1`)).seeded === true ? true : undefined), 60_000)
    await first.stop()
    // The slot goes (dropped by hand, or lost): what changes now is never streamed.
    await waitFor("the slot to be dropped", async () => {
      const [row] = await d.sql("SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", [d.db.name])
      if (row?.["n"] !== 1) return undefined
      await d.sql("SELECT pg_drop_replication_slot($1)", [d.db.name])
      return true
    })
    await d.sql("UPDATE items SET name = 'changed while no slot existed' WHERE id = 1")
    await d.sql("DELETE FROM items WHERE id = 2")
    await d.sql("INSERT INTO items (name) VALUES ('inserted while no slot existed')")
    await d.start(config)
    await waitServing(`${d.prefix}items_${hash}_2`)
    await d.caughtUp()
    expect(await generations()).toEqual([`${d.prefix}items_${hash}_2`])
    await expectDocumentsEqualRows(false)
  }, 90_000)
})
