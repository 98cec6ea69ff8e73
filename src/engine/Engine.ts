/**
 * The sync as one structured-concurrency program over the four service ports, sibling
 * fibers under one scope:
 * - capture: the live stream into a bounded queue (a full queue pauses replication:
 *   memory stays bounded);
 * - worker: batches off the queue, processed in order (`processBatch`), each retried
 *   while its failure is transient;
 * - seeding: one bounded backfill pass per index some sink has not seeded (`backfill`),
 *   beside the live batches;
 * - control, when given a command queue: a reindex is one more backfill, into a new
 *   generation.
 * Anything not transient ends the run with its message (a failed reindex only fails its
 * command).
 */
import { Deferred, Effect, Metric, Option, Queue, Ref, Stream } from "effect"
import { CheckpointStoreTag } from "../checkpoint/CheckpointStore.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { ChangeSourceTag, type SourceEvent } from "../source/ChangeSource.js"
import { type Rejection, type SinkIndex, SinkTag } from "../sink/Sink.js"
import { backfill } from "./backfill.js"
import { type EngineCommand, type Reindex, ReindexRefused } from "./EngineCommand.js"
import { processBatch } from "./processBatch.js"
import { retryTransient } from "./transient.js"

export interface EngineOptions {
  readonly indexes: ReadonlyArray<IndexPlan>
  readonly batch: { readonly maxChanges: number; readonly maxDelayMs: number }
  /** Skip seeding entirely (`run --skip-backfill`). */
  readonly skipBackfill?: boolean
  /** Root keys per backfill chunk (default 1000). */
  readonly backfillChunk?: number
  /** Backfill chunks in flight per index (default 2). */
  readonly backfillConcurrency?: number
  /** Requests read while the engine runs (`EngineCommand.reindex` sends one). */
  readonly commands?: Queue.Dequeue<EngineCommand>
}

/** Documents refused under `onError: "skip"` (operations.md metric name). */
export const documentsQuarantined = Metric.counter("flusso_documents_quarantined_total", {
  description: "documents a sink refused and flusso skipped"
})

export const run = (options: EngineOptions) =>
  Effect.gen(function*() {
    const source = yield* ChangeSourceTag
    const sink = yield* SinkTag
    const checkpoints = yield* CheckpointStoreTag
    const plans = options.indexes.filter((p) => p.enabled)
    const byName = new Map(plans.map((p) => [p.name, p]))

    const targets = yield* sink.ensureIndexes(plans)
    const queue = yield* Queue.bounded<SourceEvent>(Math.max(1024, options.batch.maxChanges * 8))
    const quarantined = yield* Ref.make<ReadonlyArray<Rejection>>([])
    const quarantine = (rejection: Rejection) =>
      Ref.update(quarantined, (list) => [...list.slice(-999), rejection]).pipe(
        Effect.zipRight(Metric.increment(Metric.tagged(documentsQuarantined, "index", rejection.index))),
        Effect.zipRight(Effect.logWarning(`quarantined document ${rejection.id}: ${rejection.reason}`)),
        Effect.annotateLogs({ index: rejection.index, sink: rejection.sink })
      )

    const capture = source.changes.pipe(Stream.runForEach((event) => Queue.offer(queue, event)))

    // A batch that did not fill closed on time: the pipeline keeps up, so what it wrote is
    // made searchable at once. A full batch means a backlog: the refresh interval bounds
    // staleness until it is worked off. A batch that needed retries ends an outage: refresh.
    const worker = Stream.fromQueue(queue).pipe(
      Stream.groupedWithin(options.batch.maxChanges, `${options.batch.maxDelayMs} millis`),
      Stream.mapEffect((chunk) => {
        const items = [...chunk]
        let attempts = 0
        return retryTransient("batch", Effect.suspend(() =>
          processBatch(items, {
            plans: byName,
            sinks: sink.names,
            refresh: items.length < options.batch.maxChanges || attempts++ > 0,
            quarantine
          })
        ))
      }),
      Stream.runDrain
    )

    // Indexes with a backfill running: one at a time per index, startup seeding or reindex.
    const seedingNow = yield* Ref.make<ReadonlySet<string>>(new Set())
    const exclusively = <A, E, R>(index: string, seed: Effect.Effect<A, E, R>) =>
      Effect.flatMap(
        Ref.modify(seedingNow, (set): [boolean, ReadonlySet<string>] => set.has(index) ? [false, set] : [true, new Set([...set, index])]),
        (claimed) =>
          claimed
            ? seed.pipe(Effect.map(Option.some), Effect.ensuring(Ref.update(seedingNow, (set) => new Set([...set].filter((i) => i !== index)))))
            : Effect.succeed(Option.none<A>())
      )
    const backfillOptions = {
      chunkSize: options.backfillChunk ?? 1000,
      concurrency: options.backfillConcurrency ?? 2,
      quarantine
    }

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
     * A new replication slot while a sink holds what an earlier run seeded: changes between
     * that run's last confirmation and now were never streamed, so the index is rebuilt into
     * a new generation (the current one serves meanwhile). A partly built one is dropped
     * too — its rows may predate the gap, and on a database restored elsewhere its versions
     * may be higher than anything the new one will write.
     */
    const rebuildAfterGap = (plan: IndexPlan, unseeded: ReadonlyArray<SinkIndex>) =>
      Effect.gen(function*() {
        yield* Effect.logWarning(
          "the replication slot is new but this index was synced before: changes made meanwhile were never streamed; rebuilding it into a new generation"
        )
        const fresh = yield* sink.reindex(plan, { discardBuilding: true })
        const rebuilt = new Set(fresh.map((t) => t.sink))
        yield* backfill(plan, [...fresh, ...unseeded.filter((t) => !rebuilt.has(t.sink))], backfillOptions)
      })

    const seeding = Effect.gen(function*() {
      const progress = yield* Effect.forEach(targets, (target) => checkpoints.get(target).pipe(Effect.map((checkpoint) => ({ target, checkpoint }))))
      const pending = progress.filter((p) => !p.checkpoint.seeded).map((p) => p.target)
      if (options.skipBackfill) {
        return yield* Effect.forEach(pending, (target) => withoutSeeding(target).pipe(Effect.annotateLogs("index", target.index)), {
          discard: true
        })
      }
      yield* Effect.forEach(plans, (plan) => {
        const mine = pending.filter((t) => t.index === plan.name)
        const syncedBefore = progress.some((p) => p.target.index === plan.name && (p.checkpoint.seeded || p.checkpoint.cursor !== null))
        if (!source.resumes && syncedBefore) return exclusively(plan.name, rebuildAfterGap(plan, mine)).pipe(Effect.annotateLogs("index", plan.name))
        return mine.length === 0 ? Effect.void : exclusively(plan.name, backfill(plan, mine, backfillOptions))
      }, { concurrency: "unbounded", discard: true })
    })

    // A new generation of the index's shape, seeded beside the serving one, then swapped in.
    const reindex = (command: Reindex) =>
      Effect.gen(function*() {
        const plan = byName.get(command.index)
        if (plan === undefined) {
          return yield* new ReindexRefused({ index: command.index, reason: "no enabled index has that name" })
        }
        const started = yield* exclusively(plan.name, Effect.gen(function*() {
          const fresh = yield* sink.reindex(plan)
          yield* Effect.logInfo(`reindexing into ${fresh.map((t) => t.generation).join(", ") || "no generation"}`)
          if (fresh.length > 0) yield* backfill(plan, fresh, backfillOptions)
        }))
        if (Option.isNone(started)) {
          return yield* new ReindexRefused({ index: command.index, reason: "it is being seeded already; retry once that is done" })
        }
      }).pipe(
        Effect.onExit((exit) => Deferred.done(command.done, exit)),
        Effect.catchAll((error) => Effect.logError(error.message)),
        Effect.annotateLogs("index", command.index)
      )

    const control = options.commands === undefined
      ? Effect.void
      : Stream.fromQueue(options.commands).pipe(
        Stream.mapEffect((command) => reindex(command), { concurrency: "unbounded" }),
        Stream.runDrain
      )

    yield* Effect.logInfo(`syncing ${plans.map((p) => p.name).join(", ") || "no index"} to ${sink.names.join(", ")}`)
    yield* Effect.all([capture, worker, seeding, control], { concurrency: "unbounded", discard: true })
  })
