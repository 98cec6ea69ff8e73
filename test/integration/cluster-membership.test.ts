/**
 * Runners coming and going, and generations changing, in a cluster (`run --cluster`, the
 * real CLI), under a steady stream of writes:
 * - a runner joining mid-stream takes shards and builds documents; a graceful stop
 *   (SIGTERM) hands its shards (and the capture, if it had it) over with nothing lost;
 * - a reindex asked of a runner that does not hold the capture is run once, by the
 *   capture; after the swap every document equals its row, and the retired generation
 *   is gone for good (no runner wrote it back into existence).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { type Cluster, makeCluster, type Runner, withLogs } from "../support/cluster.js"
import { type Deployment, itemsIndex, makeDeployment, waitFor } from "../support/deployment.js"
import { settled } from "../support/differential/indexState.js"

let d: Deployment
let cluster: Cluster | undefined
let stopWriters = async () => {}
beforeEach(async () => {
  d = await makeDeployment()
  cluster = undefined
})
afterEach(async () => {
  await stopWriters()
  stopWriters = async () => {}
  await d.cleanup()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Inserts, updates and deletes until `stop()`; the next id to insert is above every earlier one. */
const writer = (stop: () => boolean, firstId: number) =>
  (async () => {
    let n = 0
    while (!stop()) {
      const id = 1 + ((n * 7919) % (firstId - 1))
      switch (n % 4) {
        case 0:
          await d.sql("INSERT INTO items VALUES ($1, 'new', $1)", [firstId + n])
          break
        case 1:
        case 2:
          await d.sql("UPDATE items SET qty = qty + 1, name = 'updated ' || $2::int WHERE id = $1", [id, n])
          break
        default:
          await d.sql("DELETE FROM items WHERE id = $1", [id])
      }
      n++
      await sleep(5)
    }
  })()

const compare = async () => {
  const rows = await d.sql("SELECT id, name, qty FROM items ORDER BY id")
  await d.raw("POST", `/${d.prefix}items/_refresh`)
  const response = await d.raw("GET", `/${d.prefix}items/_search?size=10000&sort=id:asc`)
  const hits: ReadonlyArray<{ _source: unknown }> = JSON.parse(response.text).hits.hits
  return { expected: rows, actual: hits.map((h) => h._source) }
}

const built = (c: Cluster, runner: Runner) => c.metric(runner, 'flusso_documents_built_total{index="items"').then((n) => n ?? 0)

describe("cluster membership", () => {
  it("a runner joining mid-stream builds documents; a SIGTERMed one hands over with nothing lost", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, qty int)")
    await d.sql("INSERT INTO items SELECT i, 'seed ' || i, i FROM generate_series(1, 3000) AS i")
    const c = cluster = makeCluster(d, d.config(itemsIndex, { batch: { maxChanges: 64, maxDelayMs: 10 } }))
    await withLogs(() => cluster, async () => {
      const r1 = await c.start("r1")
      await c.ready()
      await d.caughtUp(60_000)
      let stop = false
      const writes = writer(() => stop, 100_000)
      stopWriters = async () => {
        stop = true
        await writes.catch(() => undefined)
      }

      const r2 = await c.start("r2")
      await c.ready()
      const joined = await waitFor("the joining runner to build documents", async () => {
        const n = await built(c, r2)
        return n > 0 ? n : undefined
      }, 60_000)
      const owned = await waitFor("the joining runner to report the shards it holds", async () => {
        const n = await c.metric(r2, "flusso_cluster_shards_owned")
        return n !== undefined && n > 0 ? n : undefined
      }, 10_000)

      // A graceful stop of the first runner, writes going on: its shards move to r2.
      expect(await c.signal(r1, "SIGTERM")).toBe(0)
      await waitFor("the remaining runner to hold the capture", async () => {
        const s = await c.status(r2)
        return s?.cluster.captureRunner === r2.address && s.ready ? true : undefined
      }, 60_000)
      const afterStop = await built(c, r2)
      await waitFor("the remaining runner to build after the stop", async () => ((await built(c, r2)) > afterStop ? true : undefined), 60_000)
      stop = true
      await writes
      await d.caughtUp(60_000)
      const { actual, expected } = await compare()
      expect(actual).toEqual(expected)
      expect(r2.alive()).toBe(true)
      console.log(`cluster membership: r2 held ${owned} shards and built ${joined} documents after joining, ${await built(c, r2)} in all`)
    })
  }, 240_000)

  it("a reindex asked of a runner without the capture runs once; after the swap every document equals its row and the retired generation stays gone", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, qty int)")
    await d.sql("INSERT INTO items SELECT i, 'seed ' || i, i FROM generate_series(1, 5000) AS i")
    const c = cluster = makeCluster(d, d.config(itemsIndex, { batch: { maxChanges: 64, maxDelayMs: 10 } }))
    await withLogs(() => cluster, async () => {
      for (const name of ["r1", "r2", "r3"]) await c.start(name)
      await c.ready()
      await settled(d, 1, 120_000)
      const generationsOf = async () => {
        const response = await d.raw("GET", `/_cat/indices/${d.prefix}items_*?h=index&expand_wildcards=all`)
        return response.text.split("\n").map((l) => l.trim()).filter((l) => l !== "").sort()
      }
      const before = await generationsOf()
      const capture = await c.capture()
      const asked = c.runners().find((r) => r !== capture)
      if (asked === undefined) throw new Error("no runner without the capture")

      let stop = false
      const writes = writer(() => stop, 100_000)
      stopWriters = async () => {
        stop = true
        await writes.catch(() => undefined)
      }
      // Every runner has written (so has read its index targets) before the reindex begins.
      await waitFor("every runner to build documents", async () => {
        for (const runner of c.runners()) if ((await built(c, runner)) === 0) return undefined
        return true
      }, 60_000)
      const response = await fetch(`${asked.privateUrl}/reindex?index=items`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from("admin:flusso").toString("base64")}` }
      })
      const body = await response.text()
      expect(response.status, body).toBe(202)
      const [fresh] = (JSON.parse(body) as { generations: ReadonlyArray<string> }).generations
      if (fresh === undefined) throw new Error(`no generation in ${body}`)
      await waitFor(`${fresh} to serve`, async () => {
        const alias = await d.raw("GET", `/_alias/${d.prefix}items`)
        return alias.status === 200 && fresh in JSON.parse(alias.text) ? true : undefined
      }, 120_000)
      await sleep(1500)
      stop = true
      await writes
      await d.caughtUp(60_000)
      const { actual, expected } = await compare()
      expect(actual).toEqual(expected)
      // The retired generation (and its refs companion) are gone, and nothing wrote them back.
      await sleep(2000)
      const after = await generationsOf()
      for (const old of before) expect(after).not.toContain(old)
      expect(after.some((name) => name.startsWith(fresh))).toBe(true)
      expect(after.length).toBe(before.length)
      // No runner met a write into a deleted generation (refused: the test cluster creates no index on write).
      for (const runner of c.runners()) expect(runner.alive(), `${runner.name} is running`).toBe(true)
    })
  }, 240_000)
})
