/**
 * Seeding one index into the targets (sink + generation) that need it (pipeline.md
 * "Backfill"). A pass is bounded: when it starts it fixes
 * - its end, the highest root key now: rows inserted later reach the index through the
 *   live stream, which already writes to every generation being seeded, so a pass under a
 *   steady insert stream still ends;
 * - the version of its writes, the position confirmed now minus one: a change the pass's
 *   reads miss commits at or after that position, so its live write carries a higher
 *   version and wins whatever order the two writes land in.
 * It then enumerates root keys up to its end in key order and builds and writes chunks of
 * them several at a time, beside the live batches rather than queued behind them. The
 * cursor checkpointed is the last key below which every chunk is durable, so a crash
 * resumes there; a transient failure (Postgres restart, cluster outage) retries from it
 * and never ends the process. Once every chunk is durable each target is swapped in
 * (`Sink.seeded`) and marked seeded.
 */
import { Clock, Effect, Metric, Option, Stream } from "effect"
import { CheckpointStore } from "../checkpoint/CheckpointStore.js"
import { encodeDocumentId, type KeyValues } from "../schema/documentId.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { ChangeSource } from "../source/ChangeSource.js"
import { type Rejection, type SinkIndex, Sink } from "../sink/Sink.js"
import * as Metrics from "../status/metrics.js"
import { Status } from "../status/Status.js"
import type { DocumentWork } from "./DocumentWork.js"
import { handleRejections } from "./rejections.js"
import { retryTransient } from "./transient.js"
import type { TruncationFence } from "./truncationFence.js"

export interface BackfillOptions {
  /** Root keys per chunk. */
  readonly chunkSize: number
  /** Chunks read, built and written at once. */
  readonly concurrency: number
  /** Where skipped rejections are recorded. */
  readonly quarantine: (rejection: Rejection) => Effect.Effect<void>
  /** Run once every chunk is durable, before the swap: what remains is short and cannot be refused. */
  readonly swapping?: Effect.Effect<void>
  /** Keeps a chunk read before a TRUNCATE of the root table from landing after it. */
  readonly fence: TruncationFence
  /** Where each chunk is read, built and written (here, or on a runner of the cluster). */
  readonly work: DocumentWork
}

const sameKey = (a: KeyValues | null, b: KeyValues | null) =>
  a === b || (a !== null && b !== null && a.length === b.length && a.every((v, i) => v === b[i]))

export const backfill = (plan: IndexPlan, targets: ReadonlyArray<SinkIndex>, options: BackfillOptions) =>
  Effect.gen(function*() {
    const source = yield* ChangeSource
    const checkpoints = yield* CheckpointStore
    const sink = yield* Sink
    const status = yield* Status
    const plans = new Map([[plan.name, plan]])

    const confirmed = yield* source.acknowledged
    const version = confirmed > 0n ? confirmed - 1n : 0n
    const end = yield* retryTransient("reading the last key", source.lastKey(plan))
    const estimate = yield* source.estimateRows(plan).pipe(Effect.orElseSucceed(() => null))
    const startedAt = yield* Clock.currentTimeMillis
    const generations = targets.map((t) => t.generation)
    const rowsDone = Metric.tagged(Metrics.backfillRows, "index", plan.name)
    /** Rows done / estimated, the rate so far and what it leaves (ETA); for /status and the progress display. */
    const report = (rows: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const seconds = Math.max(0.001, (now - startedAt) / 1000)
        const rate = rows / seconds
        const rowsEstimated = estimate === null ? null : Math.max(estimate, rows)
        return status.backfill(plan.name, {
          generations,
          rowsDone: rows,
          rowsEstimated,
          rowsPerSecond: Math.round(rate),
          etaSeconds: rowsEstimated === null || rate <= 0 ? null : Math.round((rowsEstimated - rows) / rate),
          startedAt: new Date(startedAt).toISOString()
        })
      })
    yield* report(0)

    /** The pass, named for the work it sends: unique within this run of the engine (one pass per index at a time). */
    const passId = `${generations.join(",")}@${startedAt}`
    /**
     * One chunk: the keys in (after, last] read, built and written. The fence's epoch is
     * noted before anything is read: a truncate of the root table begun since drops the
     * chunk's write, and one begun while it writes waits for it.
     */
    const seedChunk = ({ after, chunk, keys }: { readonly after: KeyValues | null; readonly chunk: number; readonly keys: ReadonlyArray<KeyValues> }) =>
      Effect.gen(function*() {
        const last = keys[keys.length - 1]
        if (last === undefined) return keys
        const epoch = yield* options.fence.epoch(plan.name)
        const written = yield* options.work.seed({
          plan,
          targets,
          pass: passId,
          chunk,
          after,
          upTo: last,
          keys,
          version,
          fenced: (write) => options.fence.writeSince(plan.name, epoch, write)
        })
        if (Option.isNone(written)) {
          yield* Effect.logDebug(`dropped a chunk of ${keys.length} rows read before the root table was truncated`)
        } else {
          yield* handleRejections(written.value.rejections, plans, options.quarantine)
        }
        return keys
      })

    /** From the checkpointed cursor to `end`; resumable: it reads the cursor again when retried. */
    const pass = Effect.gen(function*() {
      // Sinks that stopped at different keys resume from the start: seeding twice is harmless.
      const cursors = yield* Effect.forEach(targets, (t) => checkpoints.get(t).pipe(Effect.map((c) => c.cursor)))
      const cursor = cursors.every((c) => sameKey(c, cursors[0] ?? null)) ? cursors[0] ?? null : null
      const total = end === null ? "" : estimate === null ? ", row count unknown (ANALYZE the table for an estimate)" : `, ~${estimate.toLocaleString("en-US")} rows estimated`
      yield* Effect.logInfo(
        `${cursor === null ? "seeding" : `resuming seeding after key ${encodeDocumentId(cursor)}`} up to key ${end === null ? "(none: the table is empty)" : encodeDocumentId(end)}${total}`
      )
      if (end === null) return 0
      let numbered = 0
      const chunks = Stream.paginateEffect(cursor, (after: KeyValues | null) =>
        source.snapshotKeys(plan, { after, upTo: end, limit: options.chunkSize }).pipe(
          Effect.map((keys) => {
            const last = keys[keys.length - 1]
            return [{ after, chunk: numbered++, keys }, keys.length < options.chunkSize || last === undefined ? Option.none() : Option.some(last)] as const
          })
        ))
      let rows = 0
      yield* chunks.pipe(
        Stream.filter(({ keys }) => keys.length > 0),
        // Ordered: chunk n's result comes out after chunk n-1's, so the cursor saved is
        // always one below which every chunk is durable.
        Stream.mapEffect(seedChunk, { concurrency: options.concurrency }),
        Stream.runForEach((keys) =>
          Effect.gen(function*() {
            const last = keys[keys.length - 1]
            if (last === undefined) return
            rows += keys.length
            yield* Effect.forEach(targets, (t) => checkpoints.saveCursor(t, last), { discard: true })
            yield* Metric.incrementBy(rowsDone, keys.length)
            yield* report(rows)
            yield* Effect.logDebug(`seeded ${rows} rows up to key ${encodeDocumentId(last)}`)
          })
        )
      )
      return rows
    })
    const rows = yield* retryTransient("seeding", pass)
    if (options.swapping !== undefined) yield* options.swapping

    // Swapped in before it is recorded seeded: a stop between the two seeds it again
    // (from its last cursor: at once) and the idempotent swap finishes what it began.
    yield* retryTransient("swapping in the seeded generation", Effect.forEach(targets, (target) =>
      sink.seeded(target).pipe(Effect.zipRight(checkpoints.markSeeded(target))), { discard: true }))
    const took = ((yield* Clock.currentTimeMillis) - startedAt) / 1000
    yield* Effect.logInfo(`seeded: ${rows} rows in ${took.toFixed(1)} s (version ${version})`)
  }).pipe(
    Effect.ensuring(Effect.flatMap(Status, (status) => status.backfill(plan.name, null))),
    Effect.annotateLogs("index", plan.name)
  )
