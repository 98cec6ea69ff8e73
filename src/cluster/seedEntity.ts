/**
 * The runners' side of seeding: `SeedChunk` reads every root key in its range now (rows
 * inserted since the pass began come through the live stream as well; reading them twice
 * is harmless), builds their documents, writes them into the generations being seeded at
 * the pass's version, and answers once they are durable. The coordinator on the capture
 * moves the pass's cursor only past chunks answered in order, so a chunk lost with its
 * runner is redelivered, and a killed runner costs only its chunks.
 */
import { Effect, Metric } from "effect"
import { BUILD_CHUNK } from "../engine/localDocumentWork.js"
import { writeOperation } from "../engine/writeOperation.js"
import { encodeDocumentId, type KeyValues } from "../schema/documentId.js"
import { DocumentBuilder } from "../source/DocumentBuilder.js"
import { type Rejection, Sink } from "../sink/Sink.js"
import * as Metrics from "../status/metrics.js"
import { SEED_ENTITY } from "./names.js"
import { type PartDone, SeedEntity } from "./protocol.js"
import { RunnerParts } from "./runnerParts.js"

export const layer = SeedEntity.toLayer(
  Effect.gen(function*() {
    const parts = yield* RunnerParts
    const builder = yield* DocumentBuilder
    const sink = yield* Sink
    return {
      SeedChunk: (request) =>
        parts.handle(SEED_ENTITY, request, Effect.gen(function*() {
          const { after, index, targets, upTo, version } = request.payload
          const plan = yield* parts.plan(index)
          let rows = 0
          let documents = 0
          const rejections: Array<Rejection> = []
          let cursor: KeyValues | null = after
          for (;;) {
            const keys: ReadonlyArray<KeyValues> = yield* builder.keys(plan, { after: cursor, upTo, limit: BUILD_CHUNK })
            const last = keys[keys.length - 1]
            if (last === undefined) break
            const built = yield* builder.build(plan, keys.map(encodeDocumentId))
            const operations = built.map((doc) => writeOperation(index, doc, version))
            const refused = yield* Effect.forEach(targets, (target) => sink.seed(target, operations), { concurrency: "unbounded" })
            rows += keys.length
            documents += built.length
            rejections.push(...refused.flat())
            yield* Metric.incrementBy(Metric.tagged(Metrics.documentsBuilt, "index", index), built.length)
            if (keys.length < BUILD_CHUNK) break
            cursor = last
          }
          return { runner: parts.self, rows, documents, flushMs: 0, rejections } satisfies PartDone & { readonly rows: number }
        }).pipe(Effect.annotateLogs("index", request.payload.index)))
    }
  }),
  { concurrency: 1 }
)
