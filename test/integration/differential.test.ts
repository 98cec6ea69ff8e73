/**
 * Differential test (quality.md "differential"): random DML over a seven-table schema —
 * some before flusso starts (so the backfill sees it), most while it runs, some while it
 * is stopped — then, once flusso has seeded and acknowledged everything, every document
 * in OpenSearch must equal the document an independent, hand-written SQL oracle computes
 * from the database (test/support/differential/oracle.ts), and no other document may exist.
 *
 * CI runs a fixed seed and a bounded size, once with the default replica identity on every
 * table (deletes and moves resolved through what flusso keeps in the index) and once with
 * REPLICA IDENTITY FULL. Locally, run as much as you like:
 *
 *   FLUSSO_DIFF_SEED=7 FLUSSO_DIFF_ITERATIONS=5000 FLUSSO_DIFF_RUNS=20 \
 *   FLUSSO_DIFF_IDENTITY=default,full,mixed npx vitest run test/integration/differential.test.ts
 *
 * FLUSSO_DIFF_RUNS runs seeds SEED, SEED+1, …; a failure prints the seed that reproduces it.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, beforeEach, describe, it } from "vitest"
import { type Deployment, makeDeployment, type Running } from "../support/deployment.js"
import { type Comparison, compareIndex, report } from "../support/differential/compare.js"
import { documents, settled } from "../support/differential/indexState.js"
import { expectedDocuments } from "../support/differential/oracle.js"
import { envInt } from "../support/differential/envInt.js"
import { makeRandom } from "../support/differential/prng.js"
import { DDL, type IdentityMode, identityDdl, INDEX_NAMES, INDEXES } from "../support/differential/schema.js"
import { makeWorkload } from "../support/differential/workload.js"

const SEED = envInt("FLUSSO_DIFF_SEED", 20_240_229)
const ITERATIONS = envInt("FLUSSO_DIFF_ITERATIONS", 2000)
const RUNS = Math.max(1, envInt("FLUSSO_DIFF_RUNS", 1))
const MODES = (process.env["FLUSSO_DIFF_IDENTITY"] ?? "default,full").split(",").map((m) => m.trim()).filter((m) => m !== "")
for (const mode of MODES) {
  if (mode !== "default" && mode !== "full" && mode !== "mixed") {
    throw new Error(`FLUSSO_DIFF_IDENTITY: unknown mode ${mode} (default, full, mixed)`)
  }
}

const TMP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.tmp")

let d: Deployment
beforeEach(async () => {
  d = await makeDeployment()
})
afterEach(async () => {
  await d.cleanup()
})

/** Every index against the oracle; throws a readable report on any difference. */
const verify = async (label: string, reproduce: string, dump: () => string) => {
  const comparisons: Array<Comparison> = []
  for (const index of INDEX_NAMES) {
    const expected = await expectedDocuments(d.sql, index)
    const actual = await documents(d, index)
    comparisons.push(compareIndex(index, expected, actual))
  }
  const failed = comparisons.filter((c) => c.mismatches.length > 0)
  const summary = comparisons.map((c) => `${c.index}: ${c.expectedCount} documents`).join(", ")
  if (failed.length > 0) {
    throw new Error(`${label}: OpenSearch differs from the SQL oracle\n${report(comparisons)}\nreproduce: ${reproduce}\nstatements: ${dump()}`)
  }
  return summary
}

describe("differential: OpenSearch equals the SQL oracle after random DML", () => {
  for (let run = 0; run < RUNS; run++) {
    const seed = SEED + run
    for (const mode of MODES as ReadonlyArray<IdentityMode>) {
      const reproduce =
        `FLUSSO_DIFF_SEED=${seed} FLUSSO_DIFF_ITERATIONS=${ITERATIONS} FLUSSO_DIFF_IDENTITY=${mode} npx vitest run test/integration/differential.test.ts`
      it(`seed ${seed}, ${ITERATIONS} operations, ${mode} replica identity`, { timeout: 120_000 + ITERATIONS * 200 }, async () => {
        const started = Date.now()
        const random = makeRandom(seed)
        // A separate stream, so the DML does not depend on the identity mode.
        const identity = identityDdl(mode, makeRandom(seed ^ 0x5eed))
        await d.sql(`${DDL}\n${identity.sql}`)
        const workload = await makeWorkload(d.db.url, random)
        const config = d.config(INDEXES, { batch: { maxChanges: random.pick([16, 64, 256, 1024]), maxDelayMs: random.pick([5, 20]) } })
        /** Writes the schema and every statement run to test/.tmp, replayable with psql; returns the path. */
        const dump = () => {
          const file = path.join(TMP, `differential-${seed}-${mode}.sql`)
          mkdirSync(TMP, { recursive: true })
          writeFileSync(file, [`-- ${reproduce}`, DDL, identity.sql, ...workload.log, ""].join("\n"))
          return file
        }
        let running: Running | undefined
        try {
          // 1. Before flusso: what the backfill must find.
          const before = Math.round(ITERATIONS * 0.35)
          await workload.run(before, "populate")
          // 2. Live, while the backfill is still running.
          workload.mark("flusso starts")
          running = await d.start(config)
          const live = Math.round(ITERATIONS * 0.4)
          await workload.run(live, "churn")
          await settled(d, INDEX_NAMES.length, 120_000, running)
          workload.mark("settled: verify")
          const first = await verify("after backfill + live changes", reproduce, dump)

          // 3. Stopped, then restarted: what changed meanwhile is streamed on restart.
          await running.stop()
          workload.mark("flusso stopped")
          const stopped = Math.round((ITERATIONS - before - live) / 2)
          await workload.run(stopped, "churn")
          workload.mark("flusso restarts")
          running = await d.start(config)
          await workload.run(ITERATIONS - before - live - stopped, "churn")
          await settled(d, INDEX_NAMES.length, 120_000, running)
          workload.mark("settled: verify")
          const second = await verify("after a restart", reproduce, dump)

          const ops = Object.entries(workload.stats.ops).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}=${n}`).join(" ")
          console.log(
            `differential seed=${seed} mode=${mode} (FULL on: ${identity.full.join(", ") || "none"}) ` +
              `batch=${JSON.stringify(config["batch"])}: ${workload.stats.statements} statements, ` +
              `${workload.stats.transactions} transactions, ${workload.stats.rolledBack} rolled back; ` +
              `${first}; after restart ${second}; ${Date.now() - started} ms\n  ${ops}`
          )
        } catch (e) {
          // Whatever failed (a difference, flusso stopping, a timeout): say how to replay it.
          const message = e instanceof Error ? e.message : String(e)
          if (message.includes("\nstatements: ")) throw e
          throw new Error(`${message}\nreproduce: ${reproduce}\nstatements: ${dump()}`, { cause: e })
        } finally {
          await workload.close()
        }
      })
    }
  }
})
