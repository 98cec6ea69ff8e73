/**
 * The differential test (differential.test.ts) on a cluster: three runners of one
 * deployment (`run --cluster`, the real CLI), random DML over the seven-table schema —
 * some before the runners start (seeding), most while they run — and between rounds a
 * random runner SIGKILLed (the capture holder among them) and restarted after more DML.
 * Once everything is seeded and acknowledged, every document must equal what the SQL
 * oracle computes and no other document may exist.
 *
 *   FLUSSO_CLUSTER_DIFF_SEED=3 FLUSSO_CLUSTER_DIFF_ITERATIONS=4000 FLUSSO_CLUSTER_DIFF_ROUNDS=8 \
 *   npx vitest run test/integration/cluster-differential.test.ts
 */
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, beforeEach, describe, it } from "vitest"
import { type Cluster, makeCluster, withLogs } from "../support/cluster.js"
import { type Deployment, makeDeployment } from "../support/deployment.js"
import { type Comparison, compareIndex, report } from "../support/differential/compare.js"
import { documents, settled } from "../support/differential/indexState.js"
import { expectedDocuments } from "../support/differential/oracle.js"
import { envInt } from "../support/differential/envInt.js"
import { makeRandom } from "../support/differential/prng.js"
import { DDL, INDEX_NAMES, INDEXES } from "../support/differential/schema.js"
import { makeWorkload } from "../support/differential/workload.js"

const SEED = envInt("FLUSSO_CLUSTER_DIFF_SEED", 20_251_207)
const ITERATIONS = envInt("FLUSSO_CLUSTER_DIFF_ITERATIONS", 1200)
const ROUNDS = Math.max(1, envInt("FLUSSO_CLUSTER_DIFF_ROUNDS", 4))
const TMP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.tmp")

let d: Deployment
let cluster: Cluster | undefined
beforeEach(async () => {
  d = await makeDeployment()
  cluster = undefined
})
afterEach(async () => {
  await d.cleanup()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("cluster differential: three runners, random SIGKILLs, OpenSearch equals the SQL oracle", () => {
  const reproduce = `FLUSSO_CLUSTER_DIFF_SEED=${SEED} FLUSSO_CLUSTER_DIFF_ITERATIONS=${ITERATIONS} FLUSSO_CLUSTER_DIFF_ROUNDS=${ROUNDS} npx vitest run test/integration/cluster-differential.test.ts`
  it(`seed ${SEED}, ${ITERATIONS} operations, ${ROUNDS} kills`, { timeout: 240_000 + ITERATIONS * 150 + ROUNDS * 30_000 }, async () => {
    const random = makeRandom(SEED)
    const chaos = makeRandom(SEED ^ 0xc1a5)
    await d.sql(DDL)
    const workload = await makeWorkload(d.db.url, random)
    const dump = () => {
      const file = path.join(TMP, `cluster-differential-${SEED}.sql`)
      mkdirSync(TMP, { recursive: true })
      writeFileSync(file, [`-- ${reproduce}`, DDL, ...workload.log, ""].join("\n"))
      return file
    }
    const c = cluster = makeCluster(d, d.config(INDEXES, { batch: { maxChanges: chaos.pick([16, 64, 256]), maxDelayMs: chaos.pick([5, 20]) } }))
    const kills: Array<string> = []
    try {
      await withLogs(() => cluster, async () => {
        const before = Math.round(ITERATIONS * 0.3)
        await workload.run(before, "populate")
        workload.mark("the runners start")
        for (const name of ["r1", "r2", "r3"]) await c.start(name)
        await c.ready()
        const perRound = Math.floor((ITERATIONS - before) / (ROUNDS * 2 + 1))
        for (let round = 0; round < ROUNDS; round++) {
          await workload.run(perRound, "churn")
          // Any runner, the capture holder included; killed while the DML goes on.
          const capture = await c.capture().catch(() => undefined)
          const victim = chaos.chance(0.5) && capture !== undefined ? capture : chaos.pick(c.runners().filter((r) => r.alive()))
          const churning = workload.run(perRound, "churn")
          await sleep(chaos.between(50, 1500))
          await c.signal(victim, "SIGKILL")
          kills.push(`${victim.name}${victim === capture ? " (capture)" : ""}`)
          workload.mark(`${victim.name} killed`)
          await churning
          await sleep(chaos.between(0, 3000))
          await c.start(victim.name)
          workload.mark(`${victim.name} restarted`)
        }
        await workload.run(ITERATIONS - before - perRound * ROUNDS * 2, "churn")
        await c.ready()
        await settled(d, INDEX_NAMES.length, 180_000)

        const comparisons: Array<Comparison> = []
        for (const index of INDEX_NAMES) comparisons.push(compareIndex(index, await expectedDocuments(d.sql, index), await documents(d, index)))
        if (comparisons.some((comparison) => comparison.mismatches.length > 0)) {
          throw new Error(`OpenSearch differs from the SQL oracle\n${report(comparisons)}\nreproduce: ${reproduce}\nstatements: ${dump()}`)
        }
        console.log(
          `cluster differential seed=${SEED}: ${workload.stats.statements} statements, ${workload.stats.transactions} transactions; ` +
            `killed ${kills.join(", ")}; ${comparisons.map((cmp) => `${cmp.index}: ${cmp.expectedCount} documents`).join(", ")}`
        )
      })
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e)
      if (message.includes("\nstatements: ")) throw e
      throw new Error(`${message}\nreproduce: ${reproduce}\nstatements: ${dump()}`, { cause: e })
    } finally {
      await workload.close()
    }
  })
})
