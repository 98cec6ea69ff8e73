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

/**
 * The committed transaction a change belongs to. The source streams a commit before the
 * database shows it to other sessions, so a build waits until `xid` is visible
 * (`DocumentBuilder.awaitVisible`); `commitLsn` orders transactions and so the builds
 * that follow them: it is the version their writes carry.
 */
export interface Origin {
  /** The transaction id (32 bits, as the stream sends it). */
  readonly xid: number
  /** Where the transaction's commit record starts; strictly increasing along the stream. */
  readonly commitLsn: bigint
}

/** One row change. `old` is the key (or, with REPLICA IDENTITY FULL, the whole old row) when Postgres sends it. */
export interface RowChange extends Origin {
  readonly _tag: "RowChange"
  /** `schema.table` */
  readonly table: string
  readonly op: "insert" | "update" | "delete"
  readonly new: RowValues | null
  readonly old: RowValues | null
}

export interface TableTruncated extends Origin {
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
  /**
   * Whether the stream continues from where an earlier run confirmed (an existing slot).
   * A new one starts now: what changed after an earlier run's last confirmation and
   * before it was created is never streamed, so indexes seeded before must be rebuilt.
   */
  readonly resumes: boolean
  /** What an operator wants to know of the source (`/status`): for PostgreSQL the slot, whether it fails over, the publication, the server version. */
  readonly description: Readonly<Record<string, string | number | boolean | null>>
  /** A position as the database prints it (an LSN: `16/B374D848`). */
  readonly describePosition: (position: bigint) => string
  /** Whether the live stream is connected and streaming now. */
  readonly streaming: Effect.Effect<boolean>
  /** How far the slot's confirmed position is behind the server's current one, in bytes (WAL retained for us). */
  readonly lag: Effect.Effect<number, SourceError>
  /** The table statistics' estimate of an index's root rows; null when never analyzed. */
  readonly estimateRows: (plan: IndexPlan) => Effect.Effect<number | null, SourceError>
  /** Confirms that every change up to `lsn` is flushed; monotonic, never waits. */
  readonly ack: (lsn: bigint) => Effect.Effect<void>
  /**
   * The position confirmed so far: every transaction whose commit ends at or before it
   * is flushed, and every other one commits at or after it.
   */
  readonly acknowledged: Effect.Effect<bigint>
  /**
   * The physical layout of an index's tables where rows can appear or vanish without a
   * row event (PostgreSQL: the leaf partitions of partitioned tables), as text to record
   * beside the index; null when none of its tables has one.
   */
  readonly layout: (plan: IndexPlan) => Effect.Effect<string | null, SourceError>
  /** Why rows may have changed without being streamed between two layouts of `layout`; empty when nothing did. */
  readonly layoutChanges: (before: string, after: string) => Effect.Effect<ReadonlyArray<string>, SourceError>
  /** Root keys of an index that are documents, in key order: after `after`, up to `upTo` (both when not null), at most `limit`. */
  readonly snapshotKeys: (plan: IndexPlan, range: KeyRange) => Effect.Effect<ReadonlyArray<KeyValues>, SourceError>
  /** The highest root key of the index's table now (document or not); null when it is empty. */
  readonly lastKey: (plan: IndexPlan) => Effect.Effect<KeyValues | null, SourceError>
}

export interface KeyRange {
  /** Exclusive lower bound. */
  readonly after: KeyValues | null
  /** Inclusive upper bound. */
  readonly upTo: KeyValues | null
  readonly limit: number
}

/** The service tag: the interface and its tag share the name, as in Effect's own packages. */
export const ChangeSource: Context.Tag<ChangeSource, ChangeSource> = Context.GenericTag<ChangeSource>("flusso/ChangeSource")
