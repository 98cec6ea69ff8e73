/**
 * The ChangeSource port: the live change stream of the database (thin events: table,
 * row values as canonical text, commit position), snapshot enumeration of root keys,
 * and acknowledgement of a durable position.
 */
import type { Effect, Stream } from "effect"
import { Context } from "effect"
import type { SourceError } from "../errors.js"
import type { KeyValues } from "../schema/documentId.js"
import type { IndexPlan } from "../schema/IndexPlan.js"

/**
 * Column values in canonical text form (Postgres' output function, DateStyle ISO,
 * TimeZone UTC). `null` is SQL NULL; a column that is absent (or `undefined`) was not
 * sent — an unchanged TOAST value or a non-key column of a key-only old tuple.
 */
export type RowValues = Readonly<Record<string, string | null | undefined>>

/** One row change. `old` is the key (or, with REPLICA IDENTITY FULL, the whole old row) when Postgres sends it. */
export interface RowChange {
  readonly _tag: "RowChange"
  /** `schema.table` */
  readonly table: string
  readonly op: "insert" | "update" | "delete"
  readonly new: RowValues | null
  readonly old: RowValues | null
}

export interface TableTruncated {
  readonly _tag: "TableTruncated"
  readonly tables: ReadonlyArray<string>
}

/** End of a transaction: everything before it in the stream belongs to it or earlier ones. */
export interface TransactionCommitted {
  readonly _tag: "TransactionCommitted"
  /** The commit's end position: acking it confirms the whole transaction. */
  readonly lsn: bigint
  readonly commitTime: Date
}

/**
 * The server's WAL position while no transaction is open and every earlier event has been
 * delivered: once everything before it is flushed, the slot may advance to it.
 */
export interface SourceIdle {
  readonly _tag: "SourceIdle"
  readonly lsn: bigint
}

export type Change = RowChange | TableTruncated
export type SourceEvent = Change | TransactionCommitted | SourceIdle

export interface ChangeSource {
  /**
   * Live events from the durable position on. Starting it begins replication; it
   * reconnects by itself after a transient failure and redelivers from the last ack.
   */
  readonly changes: Stream.Stream<SourceEvent, SourceError>
  /** Confirms that every change up to `lsn` is flushed; monotonic, never waits. */
  readonly ack: (lsn: bigint) => Effect.Effect<void>
  /** Root keys of an index in key order, strictly after `after`, at most `limit`. */
  readonly snapshotKeys: (
    plan: IndexPlan,
    after: KeyValues | null,
    limit: number
  ) => Effect.Effect<ReadonlyArray<KeyValues>, SourceError>
}

export class ChangeSourceTag extends Context.Tag("flusso/ChangeSource")<ChangeSourceTag, ChangeSource>() {}
