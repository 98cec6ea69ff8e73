/**
 * The dead-letter list: documents a sink refused under `onError: "skip"`, each with why,
 * readable over the private HTTP surface (`/quarantine`). One entry per document and
 * sink — the latest refusal. Kept beside the data where a sink can hold it (OpenSearch:
 * `sink/opensearch/OpenSearchQuarantine.ts`), so it survives a restart; in memory otherwise.
 */
import { Clock, Context, Effect, Layer, Ref } from "effect"
import type { SinkError } from "../errors.js"
import type { Rejection } from "../sink/Sink.js"

export interface QuarantinedDocument extends Rejection {
  /** When it was refused (ISO 8601). */
  readonly at: string
}

export interface QuarantineService {
  readonly record: (rejection: Rejection) => Effect.Effect<void, SinkError>
  /** The latest `limit` entries, newest first. */
  readonly list: (limit: number) => Effect.Effect<ReadonlyArray<QuarantinedDocument>, SinkError>
}

export class Quarantine extends Context.Tag("flusso/Quarantine")<Quarantine, QuarantineService>() {}

export const entryId = (rejection: Rejection): string => `${rejection.sink}:${rejection.index}:${rejection.id}`

/** At most this many entries in memory. */
const MEMORY_LIMIT = 1000

export const makeMemory: Effect.Effect<QuarantineService> = Effect.map(
  Ref.make<ReadonlyMap<string, QuarantinedDocument>>(new Map()),
  (entries): QuarantineService => ({
    record: (rejection) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(entries, (map) => {
          const next = new Map(map)
          next.delete(entryId(rejection))
          next.set(entryId(rejection), { ...rejection, at: new Date(now).toISOString() })
          return new Map([...next].slice(-MEMORY_LIMIT))
        })
      ),
    list: (limit) => Effect.map(Ref.get(entries), (map) => [...map.values()].reverse().slice(0, limit))
  })
)

export const layerMemory: Layer.Layer<Quarantine> = Layer.effect(Quarantine, makeMemory)
