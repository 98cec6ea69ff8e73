/**
 * The live pipeline: events off the capture queue to acknowledged positions, in stages
 * that overlap — while batch n is written, batch n+1 is built and batch n+2 waits for
 * its commits to become visible (pipeline.md "Ordering and correctness").
 *
 *   batches   events grouped by size and time, numbered, each with its version (the
 *             highest commit position it holds) and what it may acknowledge;
 *   visible   one batch at a time, in order: wait until the database shows every
 *             transaction of the batch — and so, by induction, of every batch before it;
 *   prepare   several batches at once: resolve the changes to documents, and hand them
 *             to `DocumentWork` (in one process it builds them here; in a cluster the
 *             runners owning them build them in the write stage);
 *   write     several batches at once: the versioned writes to every sink (what
 *             `DocumentWork` has left), then the rejection policy;
 *   settle    one batch at a time, in order: acknowledge, metrics.
 * Beside them a refresher makes what was written searchable: a batch that closed before
 * it filled (the pipeline keeps up) or that needed retries (an outage ended) asks for a
 * refresh once written; requests made while one runs (or in the second after it) are
 * served by the next, and none holds back an acknowledgement (durability is the write's,
 * not the refresh's).
 *
 * Why overlapping is safe:
 * - every write carries its batch's version, so writes of one document landing out of
 *   order keep the newer build; a build that read an older snapshot than a concurrent one
 *   of a lower version is corrected by the batch of the change it missed;
 * - acknowledgements happen in `settle`, in batch order, once a batch and every batch
 *   before it is durable: the acked position is a low-water mark over all in flight;
 * - what must see earlier writes waits for them: resolving a change through the refs the
 *   sink holds (a related row deleted or moved without its old values), and a root-table
 *   truncate (an unversioned delete-by-query an earlier write must not land after) wait
 *   until every earlier batch is settled; later batches write only after it is prepared.
 * Every stage retries its own transient failures, from where it stands; anything else
 * fails the stream, and with it the run, before the batch is acknowledged.
 */
import { Chunk, Deferred, Duration, Effect, Queue, Stream } from "effect"
import type { EngineError } from "../errors.js"
import { encodeDocumentId, type KeyValues } from "../schema/documentId.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { ChangeSource, type Change, type SourceEvent } from "../source/ChangeSource.js"
import { DocumentBuilder } from "../source/DocumentBuilder.js"
import { type Rejection, Sink } from "../sink/Sink.js"
import { Status } from "../status/Status.js"
import type { DocumentWork, Staged, WorkDone } from "./DocumentWork.js"
import { handleRejections } from "./rejections.js"
import { isTransient, retryTransient } from "./transient.js"
import type { TruncationFence } from "./truncationFence.js"

export interface PipelineOptions {
  readonly plans: ReadonlyMap<string, IndexPlan>
  /** Every sink name: where live changes go. */
  readonly sinks: ReadonlyArray<string>
  readonly batch: { readonly maxChanges: number; readonly maxDelayMs: number }
  /** Batches resolved and built at once (default 2). */
  readonly builds?: number
  /** Batches written at once (default 2). */
  readonly writes?: number
  /** Where skipped rejections are recorded. */
  readonly quarantine: (rejection: Rejection) => Effect.Effect<void>
  /** A root-table truncate goes through it, so no seeding chunk read before it lands after it. */
  readonly fence: TruncationFence
  /** Where the documents are built and written (here, or on the runners of a cluster). */
  readonly work: DocumentWork
}

/** What one settled batch did, for the metrics and the status. */
export interface BatchOutcome {
  /** Row changes (and truncates) the batch covered. */
  readonly changes: number
  /** Documents built and written, per index. */
  readonly documents: ReadonlyMap<string, number>
  /** Milliseconds spent writing to the sinks (the flush). */
  readonly flushMs: number
  readonly ackedTo: bigint | undefined
  /** When each transaction the batch acknowledged committed. */
  readonly commitTimes: ReadonlyArray<Date>
  /** A stage needed retries (an outage ended). */
  readonly retried: boolean
}

/**
 * The least time between two refreshes of the live pipeline: a lone change is searchable
 * at once, a steady stream within about a second (OpenSearch's own default interval).
 * Measured (`npm run bench -- --only latency`, 1,000 single-row updates/s): with 250 ms,
 * refreshes kept OpenSearch so busy that commit → visible was p50 1.26 s / p99 1.75 s and
 * a realtime GET took 140 ms; with 1 s, p50 0.38 s / p99 0.73 s and 40 ms.
 */
const REFRESH_PAUSE = Duration.seconds(1)

interface Batch {
  readonly number: number
  readonly changes: ReadonlyArray<Change>
  /** The version of every write of the batch: the highest commit position it holds. */
  readonly version: bigint
  readonly ackTo: bigint | undefined
  readonly commitTimes: ReadonlyArray<Date>
  /** Closed before it filled: the pipeline keeps up, so its writes are made searchable at once. */
  readonly partial: boolean
  /** Completed when this batch is settled — and so every batch before it. */
  readonly settled: Deferred.Deferred<void>
  readonly previous: Deferred.Deferred<void> | undefined
  /** A stage needed retries: the batch ends an outage, so it refreshes. */
  retried: boolean
}

interface Prepared {
  readonly batch: Batch
  /** What the build stage did, and the write left for the write stage. */
  readonly staged: Staged
}

interface Written {
  readonly batch: Batch
  readonly documents: ReadonlyMap<string, number>
  readonly writeMs: number
}

const addAll = (into: Map<string, Set<string>>, index: string, ids: Iterable<string>) => {
  let set = into.get(index)
  if (set === undefined) into.set(index, set = new Set())
  for (const id of ids) set.add(id)
}

/** Every root key of an index, as document ids. */
const allDocumentIds = (plan: IndexPlan) =>
  Effect.gen(function*() {
    const source = yield* ChangeSource
    const ids: Array<string> = []
    let after: KeyValues | null = null
    while (true) {
      const keys: ReadonlyArray<KeyValues> = yield* source.snapshotKeys(plan, { after, upTo: null, limit: 10_000 })
      const last = keys[keys.length - 1]
      if (last === undefined) return ids
      for (const key of keys) ids.push(encodeDocumentId(key))
      after = last
    }
  })

export const livePipeline = (queue: Queue.Dequeue<SourceEvent>, options: PipelineOptions) =>
  Effect.gen(function*() {
    const source = yield* ChangeSource
    const builder = yield* DocumentBuilder
    const sink = yield* Sink
    const status = yield* Status
    const { plans, sinks } = options

    /** One stage of one batch, retried while its failure is transient, the status told. */
    const attempt = <A, R>(batch: Batch, stage: string, effect: Effect.Effect<A, EngineError, R>) =>
      effect.pipe(
        Effect.tapError((error) => {
          // Transient ones are recorded by retryTransient.
          if (!isTransient(error)) return status.failed(error.message)
          batch.retried = true
          return Effect.void
        }),
        (failing) => retryTransient(`batch (${stage})`, failing)
      )

    // batches: numbered, versioned, chained to the one before.
    let numbered = 0
    let previous: Deferred.Deferred<void> | undefined
    const toBatch = (events: Chunk.Chunk<SourceEvent>) =>
      Effect.map(Deferred.make<void>(), (settled): Batch => {
        const changes: Array<Change> = []
        const commitTimes: Array<Date> = []
        let ackTo: bigint | undefined
        let version = 0n
        for (const event of events) {
          switch (event._tag) {
            case "RowChange":
            case "TableTruncated":
              changes.push(event)
              if (event.commitLsn > version) version = event.commitLsn
              break
            case "TransactionCommitted":
              commitTimes.push(event.commitTime)
              if (ackTo === undefined || event.lsn > ackTo) ackTo = event.lsn
              break
            case "SourceIdle":
              if (ackTo === undefined || event.lsn > ackTo) ackTo = event.lsn
              break
          }
        }
        const batch: Batch = {
          number: ++numbered,
          changes,
          version,
          ackTo,
          commitTimes,
          partial: Chunk.size(events) < options.batch.maxChanges,
          settled,
          previous,
          retried: false
        }
        previous = settled
        return batch
      })

    // visible: before anything reads, "not found" must mean deleted, not "not committed yet".
    const visible = (batch: Batch) =>
      batch.changes.length === 0
        ? Effect.succeed(batch)
        : attempt(batch, "visibility", builder.awaitVisible(batch.changes.map((change) => change.xid))).pipe(Effect.as(batch))

    /** Until every batch before this one is settled: what it wrote is what a search or a truncate must follow. */
    const afterEarlierBatches = (batch: Batch) => batch.previous === undefined ? Effect.void : Deferred.await(batch.previous)

    // prepare: the changes as the documents they affect, built.
    const affected = (batch: Batch) =>
      Effect.gen(function*() {
        const ids = new Map<string, Set<string>>()
        if (batch.changes.length === 0) return ids
        const resolution = yield* builder.resolve(batch.changes)
        const truncated = [...resolution.truncated].filter((index) => plans.has(index))
        const traced = [...resolution.references].filter(([index, refs]) => plans.has(index) && refs.size > 0)
        if (truncated.length > 0 || traced.length > 0) yield* afterEarlierBatches(batch)
        // A truncated root table empties its index before this batch writes current state.
        for (const index of truncated) {
          yield* Effect.logWarning(`root table truncated: removing every document`).pipe(Effect.annotateLogs("index", index))
          yield* options.fence.truncating(index, sink.truncate(sinks, index))
        }
        // A truncated related table changes every document that read it: rebuild them all.
        for (const index of resolution.rebuild) {
          const plan = plans.get(index)
          if (plan === undefined) continue
          yield* Effect.logWarning(`related table truncated: rebuilding every document`).pipe(Effect.annotateLogs("index", index))
          addAll(ids, index, yield* allDocumentIds(plan))
        }
        for (const [index, documents] of resolution.documents) if (plans.has(index)) addAll(ids, index, documents)
        for (const [index, refs] of traced) addAll(ids, index, yield* sink.referencing(index, [...refs]))
        return ids
      })

    const applyPolicy = (rejections: ReadonlyArray<Rejection>) => handleRejections(rejections, plans, options.quarantine)

    const prepare = (batch: Batch) =>
      attempt(batch, "build", Effect.gen(function*() {
        const ids = yield* affected(batch)
        const staged = yield* options.work.stage({
          batch: batch.number,
          version: batch.version,
          ids,
          afterEarlierBatches: afterEarlierBatches(batch)
        })
        yield* applyPolicy(staged.rejections)
        return { batch, staged } satisfies Prepared
      }))

    // write: durable in every sink, each refusal handled by its index's policy.
    const write = ({ batch, staged }: Prepared) =>
      attempt(batch, "write", Effect.tap(staged.write, (done) => applyPolicy(done.rejections))).pipe(
        Effect.map((done: WorkDone): Written => {
          const documents = new Map(staged.documents)
          for (const [index, count] of done.documents) documents.set(index, (documents.get(index) ?? 0) + count)
          return { batch, documents, writeMs: staged.flushMs + done.flushMs }
        })
      )

    // refresher: one refresh at a time, covering every request made before it began, and
    // a pause after each — back-to-back refreshes under steady writes cost the cluster more
    // than a few hundred milliseconds of search staleness are worth.
    const refreshWanted = yield* Queue.dropping<void>(1)
    const refresher = Queue.take(refreshWanted).pipe(
      Effect.zipRight(retryTransient("refresh", sink.refresh(sinks).pipe(Effect.tapError((error) => (isTransient(error) ? Effect.void : status.failed(error.message)))))),
      Effect.zipRight(Effect.sleep(REFRESH_PAUSE)),
      Effect.forever
    )

    // settle: in order, so the position acknowledged is one below which everything is durable.
    const settle = (written: Written) =>
      Effect.gen(function*() {
        const { batch } = written
        if (batch.partial || batch.retried) yield* Queue.offer(refreshWanted, undefined)
        if (batch.ackTo !== undefined) yield* source.ack(batch.ackTo)
        yield* Deferred.succeed(batch.settled, undefined)
        return {
          changes: batch.changes.length,
          documents: written.documents,
          flushMs: written.writeMs,
          ackedTo: batch.ackTo,
          commitTimes: batch.commitTimes,
          retried: batch.retried
        } satisfies BatchOutcome
      })

    const inBatch = <A, E, R>(batch: Batch, effect: Effect.Effect<A, E, R>) => Effect.annotateLogs(effect, "batch", batch.number)
    const batches = Stream.fromQueue(queue).pipe(
      Stream.groupedWithin(options.batch.maxChanges, `${options.batch.maxDelayMs} millis`),
      Stream.mapEffect(toBatch),
      Stream.mapEffect((batch) => inBatch(batch, visible(batch))),
      Stream.mapEffect((batch) => inBatch(batch, prepare(batch)), { concurrency: options.builds ?? 2 }),
      Stream.mapEffect((prepared) => inBatch(prepared.batch, write(prepared)), { concurrency: options.writes ?? options.work.inFlight.writes }),
      Stream.mapEffect((written) => inBatch(written.batch, settle(written)))
    )
    // The refresher lives as long as the batches flow; its failure (not transient) ends them.
    return Stream.merge(batches, Stream.drain(Stream.fromEffect(refresher)), { haltStrategy: "left" })
  }).pipe(Stream.unwrap)
