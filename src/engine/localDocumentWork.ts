/**
 * DocumentWork in this process: documents built by the DocumentBuilder and written to
 * every sink, counted in `flusso_documents_built_total` as they are built. A live batch
 * is built a chunk at a time; one of many documents (a renamed product, a truncated
 * table) writes each full chunk as soon as every earlier batch is settled, so memory stays
 * bounded, and leaves the last partial chunk to the write stage.
 */
import { Duration, Effect, Metric, Option } from "effect"
import { encodeDocumentId } from "../schema/documentId.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { DocumentBuilder } from "../source/DocumentBuilder.js"
import { type Rejection, Sink, type WriteOperation } from "../sink/Sink.js"
import * as Metrics from "../status/metrics.js"
import type { DocumentWork, Staged, WorkDone } from "./DocumentWork.js"
import { writeOperation } from "./writeOperation.js"

/** Documents built per statement and written per sink call. */
export const BUILD_CHUNK = 2000

const nothing: WorkDone = { documents: new Map(), flushMs: 0, rejections: [] }

/** Live batches written at once and seeding chunks in flight per index, by default. */
export const LOCAL_IN_FLIGHT = { writes: 2, seedChunks: 3 } as const

export const make = (plans: ReadonlyMap<string, IndexPlan>) =>
  Effect.gen(function*() {
    const builder = yield* DocumentBuilder
    const sink = yield* Sink

    /** Writes to every sink; the time it took and what was refused. */
    const writeAll = (operations: ReadonlyArray<WriteOperation>) =>
      Effect.timed(sink.write(sink.names, operations)).pipe(
        Effect.map(([took, rejections]) => ({ flushMs: Duration.toMillis(took), rejections }))
      )

    const built = (index: string, count: number) => Metric.incrementBy(Metric.tagged(Metrics.documentsBuilt, "index", index), count)

    const stage: DocumentWork["stage"] = (work) =>
      Effect.gen(function*() {
        const documents = new Map<string, number>()
        const operations: Array<WriteOperation> = []
        const rejections: Array<Rejection> = []
        let flushMs = 0
        for (const [index, ids] of work.ids) {
          const plan = plans.get(index)
          if (plan === undefined || ids.size === 0) continue
          const all = [...ids]
          for (let start = 0; start < all.length; start += BUILD_CHUNK) {
            const docs = yield* builder.build(plan, all.slice(start, start + BUILD_CHUNK)).pipe(Effect.annotateLogs("index", index))
            documents.set(index, (documents.get(index) ?? 0) + docs.length)
            yield* built(index, docs.length)
            for (const doc of docs) operations.push(writeOperation(index, doc, work.version))
            if (operations.length >= BUILD_CHUNK) {
              // Not before earlier batches are settled: a truncate among them must not land after it.
              yield* work.afterEarlierBatches
              const written = yield* writeAll(operations.splice(0))
              flushMs += written.flushMs
              rejections.push(...written.rejections)
            }
          }
        }
        const rest = operations.splice(0)
        const write = rest.length === 0
          ? Effect.succeed(nothing)
          : Effect.map(writeAll(rest), (written): WorkDone => ({ documents: new Map(), ...written }))
        return { documents, flushMs, rejections, write } satisfies Staged
      })

    const seed: DocumentWork["seed"] = (work) =>
      Effect.gen(function*() {
        const docs = yield* builder.build(work.plan, work.keys.map(encodeDocumentId))
        const operations = docs.map((doc) => writeOperation(work.plan.name, doc, work.version))
        // Read first, fenced only for the write: a truncate waits for no read.
        const written = yield* work.fenced(Effect.forEach(work.targets, (target) => sink.seed(target, operations), { concurrency: "unbounded" }))
        yield* built(work.plan.name, docs.length)
        return Option.map(written, (refused): WorkDone => ({ documents: new Map([[work.plan.name, docs.length]]), flushMs: 0, rejections: refused.flat() }))
      })

    const work: DocumentWork = { stage, seed, inFlight: LOCAL_IN_FLIGHT }
    return work
  })
