/**
 * The Sink port: where documents go. One service stands for every configured sink (a
 * fan-out layer composes several). Live writes name the sinks they are for; a backfill
 * seeds one target (sink + generation) at a time, so it writes only where seeding is needed.
 *
 * Every write carries a version that orders the builds it came from (pipeline.md
 * "Ordering and correctness"): a sink that can be reached by a write after a newer one
 * (a request given up on, executed later) keeps the newer, so writes of one document
 * may be issued concurrently.
 */
import type { Effect } from "effect"
import { Context } from "effect"
import type { SinkError } from "../errors.js"
import type { IndexPlan } from "../schema/IndexPlan.js"

export interface UpsertDocument {
  readonly _tag: "Upsert"
  readonly index: string
  readonly id: string
  /** The document as JSON text. */
  readonly json: string
  /**
   * Its refs, as a JSON array text (`DocumentBuilder` `BuiltDocument.refs`): where a sink
   * keeps them is its own business; undefined when the index traces no table.
   */
  readonly refs?: string | undefined
  /** Orders builds: a write never replaces one of a higher version. */
  readonly version: bigint
}

export interface DeleteDocument {
  readonly _tag: "Delete"
  readonly index: string
  readonly id: string
  /** Orders builds: a delete never removes a document of a higher version. */
  readonly version: bigint
}

export type WriteOperation = UpsertDocument | DeleteDocument

/** A document one sink refused (not a transport failure: a mapping conflict, a bad value…). */
export interface Rejection {
  readonly sink: string
  readonly index: string
  readonly id: string
  readonly reason: string
}

/** Where one logical index lives in one sink. */
export interface SinkIndex {
  readonly sink: string
  readonly index: string
  /** The physical name seeding state is kept under (the OpenSearch generation). */
  readonly generation: string
  /** Readers see it already: a first run seeds the generation that serves. */
  readonly serving: boolean
}

export interface Sink {
  readonly names: ReadonlyArray<string>
  /**
   * Idempotent: find or create every enabled index in every sink. One `SinkIndex` per
   * sink and index: the generation whose seeding state counts — after a change of the
   * index's shape, the new generation, built while the previous one keeps serving
   * (writes go to both until `seeded`).
   */
  readonly ensureIndexes: (plans: ReadonlyArray<IndexPlan>) => Effect.Effect<ReadonlyArray<SinkIndex>, SinkError>
  /**
   * Starts a rebuild of an index already ensured: a new, unseeded generation of the same
   * shape, written to beside the serving one from now on; the engine seeds it and calls
   * `seeded`. The generation already being built when there is one — unless
   * `discardBuilding`: then that one is dropped for a new one (what it holds may predate a
   * gap in the stream). Sinks without generations answer nothing to seed.
   */
  readonly reindex: (
    plan: IndexPlan,
    options?: { readonly discardBuilding?: boolean }
  ) => Effect.Effect<ReadonlyArray<SinkIndex>, SinkError>
  /**
   * Writes and makes durable (a flush) every live operation to the given sinks: every
   * generation each index writes to. Succeeds with the items refused; fails only when a
   * sink is unreachable after its retries or refuses the request itself.
   */
  readonly write: (sinks: ReadonlyArray<string>, operations: ReadonlyArray<WriteOperation>) => Effect.Effect<ReadonlyArray<Rejection>, SinkError>
  /**
   * Makes everything written live so far searchable where readers look (sinks whose
   * searches are near-real-time would otherwise show it only at their next periodic refresh).
   */
  readonly refresh: (sinks: ReadonlyArray<string>) => Effect.Effect<void, SinkError>
  /** Writes and makes durable backfill operations into the one generation being seeded; the items refused. */
  readonly seed: (target: SinkIndex, operations: ReadonlyArray<WriteOperation>) => Effect.Effect<ReadonlyArray<Rejection>, SinkError>
  /**
   * The generation is fully seeded in that sink: give it its steady-state settings, make
   * it the one readers see and the only one written to, and retire those it supersedes.
   * Idempotent.
   */
  readonly seeded: (target: SinkIndex) => Effect.Effect<void, SinkError>
  /**
   * Removes every document of a logical index from the given sinks (its root table was
   * truncated); durable when it succeeds.
   */
  readonly truncate: (sinks: ReadonlyArray<string>, index: string) => Effect.Effect<void, SinkError>
  /**
   * The ids of documents of logical index `index` whose hidden refs field
   * (`REFS_FIELD`, `schema.table:key` strings) holds any of `refs`, across every
   * generation the index currently writes to; it sees every write that completed before
   * the call. How a delete of a related row without its old values (no REPLICA IDENTITY
   * FULL) finds the documents to rebuild. A sink that cannot search answers `[]`.
   */
  readonly referencing: (index: string, refs: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>, SinkError>
}

/** The service tag: the interface and its tag share the name, as in Effect's own packages. */
export const Sink: Context.Tag<Sink, Sink> = Context.GenericTag<Sink>("flusso/Sink")
