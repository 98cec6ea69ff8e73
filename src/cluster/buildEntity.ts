/**
 * The runners' side of a live batch: `BuildPart` builds the current state of one index's
 * documents in one shard of document id, writes them to every sink at the batch's
 * version, and answers only once they are durable — with what the sinks refused, which
 * the capture handles by the index's `onError`. The capture made sure every transaction
 * of the batch is visible before sending (visibility only grows, on any connection), so
 * "row not found" here means deleted. A part of many documents (a truncated related
 * table) is built and written a chunk at a time.
 */
import { Duration, Effect, Metric } from "effect"
import { BUILD_CHUNK } from "../engine/localDocumentWork.js"
import { writeOperation } from "../engine/writeOperation.js"
import { DocumentBuilder } from "../source/DocumentBuilder.js"
import { type Rejection, Sink } from "../sink/Sink.js"
import * as Metrics from "../status/metrics.js"
import { BUILD_ENTITY } from "./names.js"
import { BuildEntity, type PartDone } from "./protocol.js"
import { RunnerParts } from "./runnerParts.js"

export const layer = BuildEntity.toLayer(
  Effect.gen(function*() {
    const parts = yield* RunnerParts
    const builder = yield* DocumentBuilder
    const sink = yield* Sink
    return {
      BuildPart: (request) =>
        parts.handle(BUILD_ENTITY, request, Effect.gen(function*() {
          const { epoch, ids, index, version } = request.payload
          const plan = yield* parts.plan(index)
          // The generations this index writes to now, as the capture last changed them.
          yield* parts.targetsAt(epoch)
          let documents = 0
          let flushMs = 0
          const rejections: Array<Rejection> = []
          for (let start = 0; start < ids.length; start += BUILD_CHUNK) {
            const built = yield* builder.build(plan, ids.slice(start, start + BUILD_CHUNK))
            const [took, refused] = yield* Effect.timed(sink.write(sink.names, built.map((doc) => writeOperation(index, doc, version))))
            documents += built.length
            flushMs += Duration.toMillis(took)
            rejections.push(...refused)
            yield* Metric.incrementBy(Metric.tagged(Metrics.documentsBuilt, "index", index), built.length)
          }
          return { runner: parts.self, documents, flushMs, rejections } satisfies PartDone
        }).pipe(Effect.annotateLogs("index", request.payload.index)))
    }
  }),
  // One part at a time per entity; parts of one batch go to many entities at once.
  { concurrency: 1 }
)
