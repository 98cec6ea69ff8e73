/**
 * What flows through the engine's bounded queue: the source's events in stream order,
 * and backfill chunks, which ride the same path so live changes and seeding interleave
 * in one build order.
 */
import type { Deferred } from "effect"
import type { EngineError } from "../errors.js"
import type { SourceEvent } from "../source/ChangeSource.js"

/** Root documents to seed into the sinks that still need them; `flushed` completes once they are durable. */
export interface SeedChunk {
  readonly _tag: "SeedChunk"
  readonly index: string
  readonly ids: ReadonlyArray<string>
  readonly sinks: ReadonlyArray<string>
  readonly flushed: Deferred.Deferred<void, EngineError>
}

export type WorkItem = SourceEvent | SeedChunk
