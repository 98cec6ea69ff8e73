/**
 * The CheckpointStore port: durable progress per (sink, index generation) — whether it is
 * seeded, and the backfill cursor (the last root key whose document is flushed).
 */
import type { Effect } from "effect"
import { Context } from "effect"
import type { SinkError } from "../errors.js"
import type { KeyValues } from "../schema/documentId.js"
import type { SinkIndex } from "../sink/Sink.js"

export interface Checkpoint {
  readonly seeded: boolean
  readonly cursor: KeyValues | null
  /**
   * The layout of the source tables this generation was built from (`ChangeSource.layout`),
   * as recorded when it was started or last found unchanged; null when none was recorded.
   */
  readonly layout: string | null
}

export interface CheckpointStore {
  readonly get: (target: SinkIndex) => Effect.Effect<Checkpoint, SinkError>
  readonly saveCursor: (target: SinkIndex, cursor: KeyValues) => Effect.Effect<void, SinkError>
  readonly markSeeded: (target: SinkIndex) => Effect.Effect<void, SinkError>
  readonly saveLayout: (target: SinkIndex, layout: string) => Effect.Effect<void, SinkError>
}

/** The service tag: the interface and its tag share the name, as in Effect's own packages. */
export const CheckpointStore: Context.Tag<CheckpointStore, CheckpointStore> = Context.GenericTag<CheckpointStore>("flusso/CheckpointStore")
