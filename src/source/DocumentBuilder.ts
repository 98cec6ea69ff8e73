/**
 * The DocumentBuilder port: which documents a batch of changes affects (resolve), and
 * their current state (build). Documents are JSON text assembled by the database, never
 * re-parsed on the way to the sink, so 64-bit integers and numerics keep every digit.
 */
import type { Effect } from "effect"
import { Context } from "effect"
import type { SourceError } from "../errors.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import type { KeyValues } from "../schema/documentId.js"
import type { Change, KeyRange } from "./ChangeSource.js"

/** Document ids per logical index name. */
export type AffectedDocuments = ReadonlyMap<string, ReadonlySet<string>>

/**
 * What a batch of changes affects: documents known from the database, and — per index —
 * refs (`schema.table:key`) of deleted or moved related rows whose previous parent the
 * stream did not carry; the documents holding those refs are affected too (the sink
 * knows which: `Sink.referencing`).
 */
export interface Resolution {
  readonly documents: AffectedDocuments
  readonly references: ReadonlyMap<string, ReadonlySet<string>>
  /** Indexes whose root table was truncated: every document goes. */
  readonly truncated: ReadonlySet<string>
  /** Indexes a truncated related table feeds: every document is rebuilt. */
  readonly rebuild: ReadonlySet<string>
}

/** The current state of one document: its JSON, or `null` when it must not exist (a tombstone). */
export interface BuiltDocument {
  readonly id: string
  readonly json: string | null
  /**
   * The refs (`schema.table:key` strings) of every related row it read from a table traced
   * through the index, as a JSON array text; undefined when the index traces none.
   */
  readonly refs?: string | undefined
}

export interface DocumentBuilder {
  /**
   * Completes once every transaction in `xids` (`Origin.xid`) is visible to reads that
   * start afterwards: a source may stream a commit before the database shows it, and a
   * resolve or build that read the state before it would never be corrected.
   */
  readonly awaitVisible: (xids: ReadonlyArray<number>) => Effect.Effect<void, SourceError>
  readonly resolve: (changes: ReadonlyArray<Change>) => Effect.Effect<Resolution, SourceError>
  /** One entry per requested id, in no particular order. */
  readonly build: (plan: IndexPlan, ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<BuiltDocument>, SourceError>
  /**
   * Root keys of an index that are documents, in key order, in a range — what
   * `ChangeSource.snapshotKeys` enumerates, for a seeding chunk built where there is no
   * change source (another runner of a cluster).
   */
  readonly keys: (plan: IndexPlan, range: KeyRange) => Effect.Effect<ReadonlyArray<KeyValues>, SourceError>
}

/** The service tag: the interface and its tag share the name, as in Effect's own packages. */
export const DocumentBuilder: Context.Tag<DocumentBuilder, DocumentBuilder> = Context.GenericTag<DocumentBuilder>("flusso/DocumentBuilder")
