/**
 * Seeding one index: enumerate its root keys in key order, a chunk at a time, through the
 * same queue as live changes, and checkpoint the last flushed key so a crash resumes
 * there. Once every chunk is flushed the generation is swapped in (`Sink.seeded`) and
 * marked seeded in each sink that needed it.
 */
import { Deferred, Effect, Queue } from "effect"
import { CheckpointStoreTag } from "../checkpoint/CheckpointStore.js"
import type { EngineError } from "../errors.js"
import { encodeDocumentId, type KeyValues } from "../schema/documentId.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { ChangeSourceTag } from "../source/ChangeSource.js"
import { type SinkIndex, SinkTag } from "../sink/Sink.js"
import type { WorkItem } from "./WorkItem.js"

const sameKey = (a: KeyValues | null, b: KeyValues | null) =>
  a === b || (a !== null && b !== null && a.length === b.length && a.every((v, i) => v === b[i]))

export const backfill = (
  plan: IndexPlan,
  targets: ReadonlyArray<SinkIndex>,
  queue: Queue.Enqueue<WorkItem>,
  chunkSize: number
) =>
  Effect.gen(function*() {
    const source = yield* ChangeSourceTag
    const checkpoints = yield* CheckpointStoreTag
    const sink = yield* SinkTag
    const sinks = targets.map((t) => t.sink)

    // Sinks that stopped at different keys resume from the start: seeding twice is harmless.
    const cursors = yield* Effect.forEach(targets, (t) => checkpoints.get(t).pipe(Effect.map((c) => c.cursor)))
    let cursor = cursors.every((c) => sameKey(c, cursors[0] ?? null)) ? cursors[0] ?? null : null
    yield* Effect.logInfo(cursor === null ? "seeding" : `resuming seeding after key ${encodeDocumentId(cursor)}`)

    let rows = 0
    while (true) {
      const keys = yield* source.snapshotKeys(plan, cursor, chunkSize)
      const last = keys[keys.length - 1]
      if (last === undefined) break
      const flushed = yield* Deferred.make<void, EngineError>()
      yield* Queue.offer(queue, { _tag: "SeedChunk", index: plan.name, ids: keys.map(encodeDocumentId), sinks, flushed })
      yield* Deferred.await(flushed)
      cursor = last
      rows += keys.length
      yield* Effect.forEach(targets, (t) => checkpoints.saveCursor(t, last), { discard: true })
      yield* Effect.logDebug(`seeded ${rows} rows`)
    }
    // Swapped in before it is recorded seeded: a stop between the two seeds it again
    // (from its last cursor: at once) and the idempotent swap finishes what it began.
    for (const target of targets) {
      yield* sink.seeded(target)
      yield* checkpoints.markSeeded(target)
    }
    yield* Effect.logInfo(`seeded: ${rows} rows`)
  }).pipe(Effect.annotateLogs("index", plan.name))
