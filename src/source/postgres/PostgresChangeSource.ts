/**
 * The ChangeSource backed by Postgres logical replication. Building the layer checks
 * `wal_level`, the tables, then ensures the publication and the slot — before anything
 * reads a snapshot, so no commit falls between the snapshot and the stream.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Layer, Metric, Ref, Schema, Stream } from "effect"
import type { ResolvedSource } from "../../config/ResolvedConfig.js"
import { type SourceError, SourceMisconfigured, type SourceUnavailable } from "../../errors.js"
import { type IndexPlan, qualify } from "../../schema/IndexPlan.js"
import * as Metrics from "../../status/metrics.js"
import { ChangeSource, type SourceEvent } from "../ChangeSource.js"
import { tablesOf } from "./catalog.js"
import { clientConfig } from "./connection.js"
import { PgCatalog } from "./PgDatabase.js"
import { checkFailoverSupport, checkWalLevel, ensurePublication, ensureSlot, serverVersionText } from "./replicationSetup.js"
import { formatLsn } from "./lsn.js"
import { replicationStream } from "./replicationStream.js"
import * as RootKeys from "./rootKeys.js"
import { layoutChanges as partitionLayoutChanges, readLayout, relationTables } from "./partitions.js"
import { noPrimaryKey, rootIdentityProblem, weakerPartitionsFix } from "./setupProblems.js"
import { classify, queryRows } from "./sqlErrors.js"

export interface PostgresChangeSourceOptions {
  readonly source: ResolvedSource
  readonly plans: ReadonlyArray<IndexPlan>
  /** Standby status cadence; well below wal_sender_timeout / 2. */
  readonly statusIntervalMs?: number
  /**
   * Run before every replication connection (the first and each reconnect); its failure
   * is retried like a connection's. A cluster's capture ends a former capture's session
   * on the slot here, and refuses once it no longer holds the capture.
   */
  readonly beforeStreaming?: Effect.Effect<void, SourceUnavailable | SourceMisconfigured>
}

export const make = (options: PostgresChangeSourceOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const plans = options.plans.filter((p) => p.enabled)
    yield* checkWalLevel(sql)
    yield* checkFailoverSupport(sql, options.source.failover ?? false)
    const catalog = yield* PgCatalog
    const tables = catalog.tables
    for (const plan of plans) {
      const table = tables.get(plan.qualifiedTable)
      const problem = table && rootIdentityProblem(plan, table)
      if (problem) return yield* new SourceMisconfigured(problem)
    }
    // Every table any index reads: a change anywhere may change a document.
    const read = [...new Map(plans.flatMap(tablesOf).map((t) => [qualify(t), t])).values()]
    for (const ref of read) {
      const table = tables.get(qualify(ref))
      if (table && table.replicaIdentity === "d" && table.primaryKey.length === 0) return yield* new SourceMisconfigured(noPrimaryKey(qualify(ref)))
      if (table && table.weakerPartitions.length > 0) {
        yield* Effect.logWarning(
          `partitions ${table.weakerPartitions.join(", ")} of ${table.qualifiedTable} have a weaker REPLICA IDENTITY than the table: ` +
            `their deletes carry less, so flusso traces them through the index; ${weakerPartitionsFix(table)}`
        )
      }
    }
    const published = read.map((ref) => {
      const table = tables.get(qualify(ref))
      return { ...ref, partitioned: table?.partitioned ?? false, partition: table?.partition ?? false }
    })
    yield* ensurePublication(sql, options.source.publication, published, options.source.managePublication)
    const slot = yield* ensureSlot(sql, options.source.slot, {
      failover: options.source.failover ?? false,
      replicationClient: clientConfig(options.source.url, "flusso-setup")
    })
    const acked = yield* Ref.make(slot.confirmed)

    const snapshotKeys: ChangeSource["snapshotKeys"] = RootKeys.snapshotKeys(sql, catalog)
    const lastKey: ChangeSource["lastKey"] = RootKeys.lastKey(sql)

    const streaming = yield* Ref.make(false)
    const LagRow = Schema.Struct({ lag: Schema.NullOr(Schema.NumberFromString) })
    // On a standby (PostgreSQL 16+ decodes there) the current position is the one received.
    const lag: ChangeSource["lag"] = queryRows(sql, `reading the lag of slot ${options.source.slot}`,
      `SELECT pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,
                              confirmed_flush_lsn)::bigint::text AS lag
         FROM pg_replication_slots WHERE slot_name = $1`,
      [options.source.slot], LagRow
    ).pipe(Effect.map((rows) => rows[0]?.lag ?? 0))
    const EstimateRow = Schema.Struct({ rows: Schema.NumberFromString })
    // A partitioned table holds no rows itself: its estimate is its leaf partitions' (-1 each until analyzed).
    const estimateRows: ChangeSource["estimateRows"] = (plan) =>
      queryRows(sql, `estimating the rows of ${plan.qualifiedTable}`,
        `SELECT (CASE WHEN c.relkind <> 'p' THEN c.reltuples
                      ELSE (SELECT CASE WHEN bool_or(l.reltuples < 0) THEN -1 ELSE coalesce(sum(l.reltuples), 0) END
                              FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf) END)::bigint::text AS rows
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2`,
        [plan.schema, plan.table], EstimateRow
      ).pipe(
        // -1: never vacuumed or analyzed, nothing known.
        Effect.map((rows) => {
          const estimate = rows[0]?.rows
          return estimate === undefined || estimate < 0 ? null : estimate
        })
      )

    // A change no index reads is counted, and said once per table: a publication carrying
    // more than flusso needs is fine, a table flusso should read but does not is a bug to see.
    const readNames = new Set(read.map(qualify))
    const ignoredSeen = new Set<string>()
    const ignore = (event: SourceEvent): Effect.Effect<boolean> => {
      if (event._tag !== "RowChange" || readNames.has(event.table)) return Effect.succeed(true)
      const first = !ignoredSeen.has(event.table)
      ignoredSeen.add(event.table)
      return Metric.increment(Metric.tagged(Metrics.changesIgnored, "table", event.table)).pipe(
        Effect.zipRight(first
          ? Effect.logInfo(`ignoring changes of ${event.table}: the publication carries it, but no enabled index reads it (counted in flusso_changes_ignored_total)`)
          : Effect.void),
        Effect.as(false)
      )
    }

    const layout: ChangeSource["layout"] = (plan) => readLayout(sql, tablesOf(plan).filter((ref) => tables.get(qualify(ref))?.partitioned === true))
    const layoutChanges: ChangeSource["layoutChanges"] = (before, after) => partitionLayoutChanges(sql, before, after)

    const source: ChangeSource = {
      changes: replicationStream({
        client: clientConfig(options.source.url, "flusso-replication"),
        slot: options.source.slot,
        publication: options.source.publication,
        acked,
        streaming,
        chunkSize: 256,
        bufferSize: 16,
        statusIntervalMs: options.statusIntervalMs ?? 1000,
        relationTables: relationTables(sql, readNames),
        ...(options.beforeStreaming === undefined ? {} : { beforeConnect: options.beforeStreaming })
      }).pipe(Stream.filterEffect(ignore)),
      resumes: !slot.created,
      description: {
        slot: options.source.slot,
        failoverSlot: slot.failover,
        publication: options.source.publication,
        serverVersion: yield* serverVersionText(sql)
      },
      describePosition: formatLsn,
      streaming: Ref.get(streaming),
      lag,
      estimateRows,
      layout,
      layoutChanges,
      ack: (lsn) => Ref.update(acked, (current) => (lsn > current ? lsn : current)),
      acknowledged: Ref.get(acked),
      snapshotKeys,
      lastKey
    }
    return source
  })

export const layer = (options: PostgresChangeSourceOptions): Layer.Layer<ChangeSource, SourceError, SqlClient | PgCatalog> =>
  Layer.effect(ChangeSource, make(options))
