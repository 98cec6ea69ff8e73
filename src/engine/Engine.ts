/**
 * The sync as one structured-concurrency program over the four service ports: a capture
 * fiber feeding a bounded queue (a full queue pauses replication: memory stays bounded),
 * one backfill fiber per index some sink has not seeded, the worker that takes batches
 * off the queue and processes them in order, and, when given a command queue, the
 * reader of commands (a reindex: one more backfill, into a new generation). Transient
 * failures are retried with a capped, jittered backoff; anything else ends the run with
 * its message (a failed reindex only fails its command).
 */
import { Deferred, Effect, Metric, Option, Queue, Ref, Schedule, Stream } from "effect"
import { CheckpointStoreTag } from "../checkpoint/CheckpointStore.js"
import type { EngineError } from "../errors.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { ChangeSourceTag } from "../source/ChangeSource.js"
import { type Rejection, SinkTag } from "../sink/Sink.js"
import { backfill } from "./backfill.js"
import { type EngineCommand, type Reindex, ReindexRefused } from "./EngineCommand.js"
import { failSeeds, processBatch } from "./processBatch.js"
import type { WorkItem } from "./WorkItem.js"

export interface EngineOptions {
  readonly indexes: ReadonlyArray<IndexPlan>
  readonly batch: { readonly maxChanges: number; readonly maxDelayMs: number }
  /** Skip seeding entirely (`run --skip-backfill`). */
  readonly skipBackfill?: boolean
  /** Root keys per backfill chunk. */
  readonly backfillChunk?: number
  /** Requests read while the engine runs (`EngineCommand.reindex` sends one). */
  readonly commands?: Queue.Dequeue<EngineCommand>
}

/** Documents refused under `onError: "skip"` (operations.md metric name). */
export const documentsQuarantined = Metric.counter("flusso_documents_quarantined_total", {
  description: "documents a sink refused and flusso skipped"
})

const isTransient = (error: EngineError) => error._tag === "SourceUnavailable" || error._tag === "SinkUnavailable"

/** Retries of a failing batch: exponential from 100 ms, jittered, capped at 30 s, for as long as the failure is transient. */
export const batchRetry = Schedule.exponential("100 millis", 2).pipe(
  Schedule.jittered,
  Schedule.union(Schedule.spaced("30 seconds")),
  Schedule.whileInput(isTransient)
)

export const run = (options: EngineOptions) =>
  Effect.gen(function*() {
    const source = yield* ChangeSourceTag
    const sink = yield* SinkTag
    const checkpoints = yield* CheckpointStoreTag
    const plans = options.indexes.filter((p) => p.enabled)
    const byName = new Map(plans.map((p) => [p.name, p]))

    const targets = yield* sink.ensureIndexes(plans)
    const queue = yield* Queue.bounded<WorkItem>(Math.max(1024, options.batch.maxChanges * 8))
    const quarantined = yield* Ref.make<ReadonlyArray<Rejection>>([])

    const capture = source.changes.pipe(Stream.runForEach((event) => Queue.offer(queue, event)))

    const worker = Stream.fromQueue(queue).pipe(
      Stream.groupedWithin(options.batch.maxChanges, `${options.batch.maxDelayMs} millis`),
      Stream.mapEffect((chunk) => {
        const items = [...chunk]
        return processBatch(items, {
          plans: byName,
          sinks: sink.names,
          refresh: () => Option.getOrElse(queue.unsafeSize(), () => 0) === 0,
          quarantine: (rejection) =>
            Ref.update(quarantined, (list) => [...list.slice(-999), rejection]).pipe(
              Effect.zipRight(Metric.increment(Metric.tagged(documentsQuarantined, "index", rejection.index))),
              Effect.zipRight(Effect.logWarning(`quarantined document ${rejection.id}: ${rejection.reason}`)),
              Effect.annotateLogs({ index: rejection.index, sink: rejection.sink })
            )
        }).pipe(
          Effect.tapError((error) => (isTransient(error) ? Effect.logWarning(`batch failed, retrying: ${error.message}`) : Effect.void)),
          Effect.retry(batchRetry),
          Effect.tapError((error) => failSeeds(items, error))
        )
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
    const chunkSize = options.backfillChunk ?? 1000

    const seeding = Effect.gen(function*() {
      if (options.skipBackfill) return
      const pending = yield* Effect.filter(targets, (t) => checkpoints.get(t).pipe(Effect.map((c) => !c.seeded)))
      yield* Effect.forEach(plans, (plan) => {
        const mine = pending.filter((t) => t.index === plan.name)
        return mine.length === 0 ? Effect.void : exclusively(plan.name, backfill(plan, mine, queue, chunkSize))
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
          if (fresh.length > 0) yield* backfill(plan, fresh, queue, chunkSize)
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
