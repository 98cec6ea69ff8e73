/**
 * The sync as one structured-concurrency program over the service ports, sibling fibers
 * under one scope:
 * - capture: the live stream into a bounded queue (a full queue pauses replication:
 *   memory stays bounded);
 * - worker: batches off the queue through the live pipeline (`pipeline.ts`: visible,
 *   built and written overlapping, acknowledged in order), each stage retried while its
 *   failure is transient;
 * - seeding: one bounded backfill pass per index some sink has not seeded (`backfill`),
 *   beside the live batches;
 * - watch: whether the stream is up, and the slot's lag, for `Status`;
 * - control, when given a command queue: a reindex is one more backfill, into a new
 *   generation.
 * Documents are built and written through `DocumentWork`: here, or — when a cluster
 * provides its own — on the runners that own them; everything above stays in this fiber
 * tree, where the stream is.
 * Anything not transient ends the run with its message (a failed reindex only fails its
 * command). What happens is recorded in `Status` and the metrics; the engine never knows
 * who reads them.
 */
import { Chunk, Deferred, Duration, Effect, Exit, Metric, Option, Queue, Ref, Schedule, Stream } from "effect"
import { type Checkpoint, CheckpointStore } from "../checkpoint/CheckpointStore.js"
import { Quarantine } from "../quarantine/Quarantine.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { ChangeSource, type SourceEvent } from "../source/ChangeSource.js"
import { type Rejection, type SinkIndex, Sink } from "../sink/Sink.js"
import * as Metrics from "../status/metrics.js"
import { Status } from "../status/Status.js"
import { backfill } from "./backfill.js"
import { DocumentWork } from "./DocumentWork.js"
import * as LayoutWatch from "./layoutWatch.js"
import { type EngineCommand, type Reindex, ReindexRefused } from "./EngineCommand.js"
import * as LocalDocumentWork from "./localDocumentWork.js"
import { type BatchOutcome, livePipeline } from "./pipeline.js"
import { retryTransient } from "./transient.js"
import * as TruncationFence from "./truncationFence.js"

export interface EngineOptions {
  readonly indexes: ReadonlyArray<IndexPlan>
  readonly batch: { readonly maxChanges: number; readonly maxDelayMs: number }
  /** Skip seeding entirely (`run --skip-backfill`). */
  readonly skipBackfill?: boolean
  /** Root keys per backfill chunk (default 1000). */
  readonly backfillChunk?: number
  /** Backfill chunks in flight per index (default `DocumentWork.inFlight`, in one process 3: one reading while two are written is what keeps the sink busy). */
  readonly backfillConcurrency?: number
  /** Live batches resolved and built at once (default 2). */
  readonly builds?: number
  /** Live batches written at once (default `DocumentWork.inFlight`, in one process 2). */
  readonly writes?: number
  /** How often the slot's lag is read (default 15 s). */
  readonly lagPollSeconds?: number
  /** How often the source's table layout (partitions) is compared with what the indexes were built from (default 2 s). */
  readonly layoutPollSeconds?: number
  /** Requests read while the engine runs (`EngineCommand.reindex` sends one). */
  readonly commands?: Queue.Dequeue<EngineCommand>
}

const isRowChange = (event: SourceEvent) => event._tag === "RowChange" || event._tag === "TableTruncated"

/** The metrics of one processed batch. */
const recordBatch = (outcome: BatchOutcome) =>
  Effect.gen(function*() {
    yield* Metric.increment(Metrics.batches)
    yield* Metric.incrementBy(Metrics.changesCommitted, outcome.changes)
    yield* Metric.incrementBy(Metrics.changesInFlight, -outcome.changes)
    // flusso_documents_built_total is counted where documents are built (DocumentWork).
    if (outcome.documents.size > 0) yield* Metric.update(Metrics.flushDuration, outcome.flushMs / 1000)
    const now = Date.now()
    for (const committed of outcome.commitTimes) {
      yield* Metric.update(Metrics.endToEndLatency, Math.max(0, now - committed.getTime()) / 1000)
    }
  })

export const run = (options: EngineOptions) =>
  Effect.gen(function*() {
    const source = yield* ChangeSource
    const sink = yield* Sink
    const checkpoints = yield* CheckpointStore
    const status = yield* Status
    const quarantineStore = yield* Quarantine
    const plans = options.indexes.filter((p) => p.enabled)
    const byName = new Map(plans.map((p) => [p.name, p]))
    // Built and written here unless a DocumentWork (a cluster's) is provided.
    const work = yield* Effect.flatMap(Effect.serviceOption(DocumentWork), Option.match({
      onNone: () => LocalDocumentWork.make(byName),
      onSome: Effect.succeed
    }))

    yield* status.source(source.description)
    // A sink unreachable at start is waited for, like one that goes away later.
    const targets = yield* retryTransient("preparing the indexes", sink.ensureIndexes(plans))
    const progress = yield* Effect.forEach(targets, (target) =>
      checkpoints.get(target).pipe(Effect.map((checkpoint) => ({ target, checkpoint }))))
    const describe = (plan: IndexPlan, entries: ReadonlyArray<{ readonly target: SinkIndex; readonly checkpoint: Checkpoint }>) =>
      status.index(
        plan.name,
        plan.qualifiedTable,
        entries.map(({ target, checkpoint }) => ({
          sink: target.sink,
          generation: target.generation,
          serving: target.serving,
          seeded: checkpoint.seeded
        }))
      )
    for (const plan of plans) yield* describe(plan, progress.filter((p) => p.target.index === plan.name))
    // Before anything is seeded: which indexes lost rows or gained them unstreamed since they were built.
    const layouts = yield* LayoutWatch.make({ plans, source, checkpoints })
    const layoutChanged = yield* layouts.atStart(progress.map(({ target, checkpoint }) => ({ target, layout: checkpoint.layout })))
    /** New generations of an index, recorded as built from the source's layout now. */
    const startGenerations = (plan: IndexPlan, options?: { readonly discardBuilding?: boolean }) =>
      sink.reindex(plan, options).pipe(Effect.tap((fresh) => layouts.started(plan, fresh)))
    // What the status says of an index's generations, from its checkpoints now.
    const refreshIndexStatus = (plan: IndexPlan, current: ReadonlyArray<SinkIndex>) =>
      Effect.flatMap(
        Effect.forEach(current, (target) => checkpoints.get(target).pipe(Effect.map((checkpoint) => ({ target, checkpoint })))),
        (entries) => describe(plan, entries)
      ).pipe(Effect.orElse(() => Effect.void))

    const queue = yield* Queue.bounded<SourceEvent>(Math.max(1024, options.batch.maxChanges * 8))
    const fence = yield* TruncationFence.make
    const quarantine = (rejection: Rejection) =>
      quarantineStore.record(rejection).pipe(
        Effect.catchAll((error) => Effect.logWarning(`could not record the quarantined document durably: ${error.message}`)),
        Effect.zipRight(Metric.increment(Metric.tagged(Metrics.documentsQuarantined, "index", rejection.index))),
        Effect.zipRight(Effect.logWarning(`quarantined document ${rejection.id}: ${rejection.reason}`)),
        Effect.annotateLogs({ index: rejection.index, sink: rejection.sink })
      )

    // A chunk at a time, as the source hands them on: per-event effects cost more than the events.
    const capture = source.changes.pipe(
      Stream.runForEachChunk((events) => {
        const changes = Chunk.reduce(events, 0, (n, event) => isRowChange(event) ? n + 1 : n)
        return Metric.incrementBy(Metrics.changesCaptured, changes).pipe(
          Effect.zipRight(Metric.incrementBy(Metrics.changesInFlight, changes)),
          Effect.zipRight(Queue.offerAll(queue, events))
        )
      })
    )

    // Live batches, overlapping (pipeline.ts); each settled one recorded.
    const worker = livePipeline(queue, {
      plans: byName,
      sinks: sink.names,
      batch: options.batch,
      ...(options.builds !== undefined ? { builds: options.builds } : {}),
      ...(options.writes !== undefined ? { writes: options.writes } : {}),
      quarantine,
      fence,
      work
    }).pipe(
      Stream.runForEach((outcome) =>
        Effect.all([
          recordBatch(outcome),
          status.flushed(outcome.flushMs),
          outcome.ackedTo === undefined ? Effect.void : status.acked(source.describePosition(outcome.ackedTo))
        ], { discard: true })
      )
    )

    // Whether the stream is up (for /readyz), and the slot's lag.
    const watchStream = Effect.flatMap(source.streaming, status.streaming).pipe(
      Effect.repeat(Schedule.spaced("250 millis"))
    )
    const watchLag = source.lag.pipe(
      Effect.flatMap((bytes) => status.slotLag(bytes)),
      Effect.catchAll((error) => Effect.logDebug(`reading the slot's lag failed: ${error.message}`)),
      Effect.repeat(Schedule.spaced(Duration.seconds(options.lagPollSeconds ?? 15)))
    )

    // Indexes with a backfill running: one at a time per index, startup seeding or reindex.
    // A reindex meeting a backfill that still reads rows is refused (409); one meeting a
    // backfill whose rows are all durable waits for its swap instead, since by then the
    // checkpoints and /status may say "seeded" and whoever acts on that must not be refused.
    interface Claim {
      readonly swapping: Ref.Ref<boolean>
      readonly released: Deferred.Deferred<void>
    }
    const claims = yield* Ref.make<ReadonlyMap<string, Claim>>(new Map())
    const exclusively = <A, E, R>(index: string, work: (swapping: Effect.Effect<void>) => Effect.Effect<A, E, R>) =>
      Effect.gen(function*() {
        const mine: Claim = { swapping: yield* Ref.make(false), released: yield* Deferred.make<void>() }
        for (;;) {
          const held = yield* Ref.modify(claims, (map): [Claim | undefined, ReadonlyMap<string, Claim>] => {
            const current = map.get(index)
            return current === undefined ? [undefined, new Map([...map, [index, mine]])] : [current, map]
          })
          if (held === undefined) break
          if (!(yield* Ref.get(held.swapping))) return Option.none<A>()
          yield* Deferred.await(held.released)
        }
        const release = Ref.update(claims, (map) => new Map([...map].filter(([name]) => name !== index))).pipe(
          Effect.zipRight(Deferred.succeed(mine.released, undefined))
        )
        return yield* work(Ref.set(mine.swapping, true)).pipe(Effect.map(Option.some), Effect.ensuring(release))
      })
    const backfillOptions = {
      chunkSize: options.backfillChunk ?? 1000,
      concurrency: options.backfillConcurrency ?? work.inFlight.seedChunks,
      quarantine,
      fence,
      work
    }
    /** A backfill, then the index's generations as they stand after it (seeded, swapped in). */
    const seed = (plan: IndexPlan, into: ReadonlyArray<SinkIndex>, swapping: Effect.Effect<void>) =>
      backfill(plan, into, { ...backfillOptions, swapping }).pipe(
        Effect.zipRight(refreshIndexStatus(plan, into.map((t) => ({ ...t, serving: true })))),
        Effect.zipRight(status.indexFailed(plan.name, null)),
        Effect.tapError((error) => status.failed(error.message).pipe(Effect.zipRight(status.indexFailed(plan.name, error.message))))
      )

    /**
     * `--skip-backfill`: a generation that serves already (a first run) gets its
     * steady-state settings, unseeded; one being built for a new shape keeps the old one
     * serving until a run seeds it.
     */
    const withoutSeeding = (target: SinkIndex) =>
      target.serving
        ? Effect.logWarning(`not seeded (--skip-backfill): ${target.generation} holds live changes only`).pipe(
          Effect.zipRight(sink.seeded(target))
        )
        : Effect.logWarning(
          `not seeded (--skip-backfill): ${target.generation} will replace the serving generation once a run without --skip-backfill seeds it`
        )

    /**
     * A rebuild into a new generation (the current one serves meanwhile) when changes were
     * never streamed: a new replication slot while a sink holds what an earlier run seeded,
     * or rows that came or went with a partition. A partly built generation is dropped too —
     * its rows may predate the gap, and on a database restored elsewhere its versions may be
     * higher than anything the new one will write.
     */
    const rebuild = (plan: IndexPlan, why: string, unseeded: ReadonlyArray<SinkIndex>, swapping: Effect.Effect<void>) =>
      Effect.gen(function*() {
        yield* Effect.logWarning(`${why}; rebuilding it into a new generation`)
        const fresh = yield* startGenerations(plan, { discardBuilding: true })
        const rebuilt = new Set(fresh.map((t) => t.sink))
        yield* seed(plan, [...fresh, ...unseeded.filter((t) => !rebuilt.has(t.sink))], swapping)
      })
    const unstreamed = (reasons: ReadonlyArray<string>) => `rows changed without row events (${reasons.join("; ")})`

    const seeding = Effect.gen(function*() {
      const pending = progress.filter((p) => !p.checkpoint.seeded).map((p) => p.target)
      if (options.skipBackfill) {
        return yield* Effect.forEach(pending, (target) => withoutSeeding(target).pipe(Effect.annotateLogs("index", target.index)), {
          discard: true
        })
      }
      yield* Effect.forEach(plans, (plan) => {
        const mine = pending.filter((t) => t.index === plan.name)
        const syncedBefore = progress.some((p) => p.target.index === plan.name && (p.checkpoint.seeded || p.checkpoint.cursor !== null))
        const gap = !source.resumes && syncedBefore
          ? "the replication slot is new but this index was synced before: changes made meanwhile were never streamed"
          : undefined
        const moved = layoutChanged.get(plan.name)
        const why = gap ?? (moved === undefined ? undefined : unstreamed(moved))
        if (why !== undefined) return exclusively(plan.name, (swapping) => rebuild(plan, why, mine, swapping)).pipe(Effect.annotateLogs("index", plan.name))
        return mine.length === 0 ? Effect.void : exclusively(plan.name, (swapping) => seed(plan, mine, swapping))
      }, { concurrency: "unbounded", discard: true })
    })

    // A new generation of the index's shape, seeded beside the serving one, then swapped in.
    const reindex = (command: Reindex) =>
      Effect.gen(function*() {
        const plan = byName.get(command.index)
        if (plan === undefined) {
          return yield* new ReindexRefused({ index: command.index, reason: "no enabled index has that name" })
        }
        const started = yield* exclusively(plan.name, (swapping) => Effect.gen(function*() {
          const fresh = yield* startGenerations(plan)
          yield* Deferred.succeed(command.accepted, fresh.map((t) => t.generation))
          yield* Effect.logInfo(`reindexing into ${fresh.map((t) => t.generation).join(", ") || "no generation"}`)
          if (fresh.length > 0) yield* seed(plan, fresh, swapping)
        }))
        if (Option.isNone(started)) {
          return yield* new ReindexRefused({ index: command.index, reason: "it is being seeded already; retry once that is done" })
        }
      }).pipe(
        Effect.onExit((exit) =>
          Effect.all([Deferred.done(command.done, exit), Deferred.done(command.accepted, Exit.map(exit, (): ReadonlyArray<string> => []))])
        ),
        Effect.catchAll((error) => Effect.logError(error.message)),
        Effect.annotateLogs("index", command.index)
      )

    const control = options.commands === undefined
      ? Effect.void
      : Stream.fromQueue(options.commands).pipe(
        Stream.mapEffect((command) => reindex(command), { concurrency: "unbounded" }),
        Stream.runDrain
      )

    // Partitions attached, detached, dropped or truncated: the index is rebuilt (layoutWatch.ts).
    const watchLayout = layouts.watch(options.layoutPollSeconds ?? 2, (plan, reasons) =>
      exclusively(plan.name, (swapping) => rebuild(plan, unstreamed(reasons), [], swapping)).pipe(
        Effect.map(Option.isSome),
        Effect.annotateLogs("index", plan.name)
      ))

    yield* Effect.logInfo(`syncing ${plans.map((p) => p.name).join(", ") || "no index"} to ${sink.names.join(", ")}`)
    yield* Effect.all([capture, worker, seeding, control, watchStream, watchLag, watchLayout], { concurrency: "unbounded", discard: true })
  }).pipe(Effect.ensuring(Effect.flatMap(Status, (status) => status.stopped)))
