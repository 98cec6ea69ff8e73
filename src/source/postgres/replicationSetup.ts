/**
 * Ensures what logical replication needs before any snapshot is read: `wal_level`,
 * the publication covering every table an index reads, then the slot. Publication first:
 * a slot decodes with the catalog as of the WAL it reads, so a publication created after
 * the slot makes PostgreSQL 15 stop the stream with `publication "x" does not exist`.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import { SourceMisconfigured, type SourceUnavailable } from "../../errors.js"
import { quoteIdent } from "./documentSql.js"
import { parseLsn } from "./lsn.js"
import { slotProblem } from "./setupProblems.js"
import { classify, queryRows, rootCause } from "./sqlErrors.js"

type SetupError = SourceUnavailable | SourceMisconfigured

const isPermissionDenied = (error: unknown): boolean => {
  const cause = rootCause(error)
  return typeof cause === "object" && cause !== null && "code" in cause && (cause.code === "42501")
}

export const checkWalLevel = (sql: SqlClient): Effect.Effect<void, SetupError> =>
  queryRows(sql, "reading wal_level", "SELECT current_setting('wal_level') AS level", [], Schema.Struct({ level: Schema.String })).pipe(
    Effect.flatMap((rows) =>
      rows[0]?.level === "logical" ? Effect.void : Effect.fail(new SourceMisconfigured({
        reason: `PostgreSQL runs with wal_level = ${rows[0]?.level ?? "unknown"}; logical replication needs wal_level = logical`,
        fix: "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL"
      }))
    )
  )

/** A table a publication must carry, and whether it is partitioned or itself a partition. */
export interface PublishedTable {
  readonly schema: string
  readonly table: string
  readonly partitioned: boolean
  readonly partition: boolean
}

/**
 * Whether a publication should publish partitions' changes under their partitioned table
 * (`publish_via_partition_root`): yes, unless an index reads a partition itself — whose
 * changes would then be named by a table above it, which no mapping can undo. Without it
 * flusso maps each partition to its partitioned table (`partitions.ts`) at the cost of a
 * catalog read per partition and connection.
 */
export const publishViaRoot = (tables: ReadonlyArray<PublishedTable>): boolean => !tables.some((t) => t.partition)

const CoverageRow = Schema.Struct({ schema: Schema.String, table: Schema.String, covered: Schema.String })

/**
 * Which of `tables` the publication does not carry whole: a table is carried when it or
 * a table above it is a member, or the publication lists it (FOR ALL TABLES, FOR TABLES IN
 * SCHEMA), or — for a partitioned table — lists every one of its leaf partitions.
 * (`pg_publication_tables` lists a partitioned member by its partitions unless the
 * publication publishes via the root, so comparing names alone re-adds it: 42710.)
 */
export const unpublished = (sql: SqlClient, publication: string, tables: ReadonlyArray<PublishedTable>) =>
  queryRows(sql, "reading publication tables",
    `WITH wanted AS (
       SELECT w.schema, w.table, format('%I.%I', w.schema, w.table)::regclass AS rel
         FROM unnest($2::text[], $3::text[]) AS w(schema, "table")
     ), listed AS (
       SELECT format('%I.%I', schemaname, tablename)::regclass AS rel FROM pg_publication_tables WHERE pubname = $1
     )
     SELECT w.schema, w.table,
            (w.rel IN (SELECT rel FROM listed)
             OR EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
                         WHERE p.pubname = $1 AND pr.prrelid IN (SELECT relid FROM pg_partition_ancestors(w.rel)))
             OR (EXISTS (SELECT 1 FROM pg_partition_tree(w.rel) t WHERE t.isleaf AND t.relid <> w.rel)
                 AND NOT EXISTS (SELECT 1 FROM pg_partition_tree(w.rel) t WHERE t.isleaf AND t.relid NOT IN (SELECT rel FROM listed)))
            )::text AS covered
       FROM wanted w`,
    [publication, tables.map((t) => t.schema), tables.map((t) => t.table)], CoverageRow).pipe(
      Effect.map((rows) => {
        const missing = new Set(rows.filter((r) => r.covered !== "true").map((r) => `${r.schema}.${r.table}`))
        return tables.filter((t) => missing.has(`${t.schema}.${t.table}`))
      })
    )

/**
 * Creates the publication or adds the tables it lacks (never removes any). Without the
 * privilege to do so, logs the exact SQL to run and goes on when the publication exists.
 * A publication flusso manages publishes via the partition root when it can
 * (`publishViaRoot`); one the user manages is used as it is.
 */
export const ensurePublication = (
  sql: SqlClient,
  publication: string,
  tables: ReadonlyArray<PublishedTable>,
  manage: boolean
): Effect.Effect<void, SetupError> =>
  Effect.gen(function*() {
    const existing = yield* queryRows(sql, "reading publications",
      "SELECT puballtables::text AS all_tables, pubviaroot::text AS via_root FROM pg_publication WHERE pubname = $1", [publication],
      Schema.Struct({ all_tables: Schema.String, via_root: Schema.String }))
    const tableList = (list: ReadonlyArray<PublishedTable>) => list.map((t) => `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`).join(", ")
    const viaRoot = publishViaRoot(tables)
    if (existing.length === 0) {
      const create = `CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${tableList(tables)}${viaRoot ? " WITH (publish_via_partition_root = true)" : ""}`
      if (!manage) {
        return yield* new SourceMisconfigured({ reason: `publication ${publication} does not exist`, fix: `run as a table owner: ${create};` })
      }
      yield* sql.unsafe(create).pipe(
        Effect.catchAll((e) =>
          Effect.fail(isPermissionDenied(e)
            ? new SourceMisconfigured({ reason: `not allowed to create publication ${publication}`, fix: `run as a table owner: ${create};` })
            : classify(`creating publication ${publication}`, e))
        )
      )
      const partitioned = viaRoot && tables.some((t) => t.partitioned) ? " (partitions' changes published under their partitioned table)" : ""
      yield* Effect.logInfo(`created publication ${publication} for ${tableList(tables)}${partitioned}`)
      return
    }
    const current = existing[0]
    // Only a partitioned table's changes are named differently by the setting: leave it alone otherwise.
    if (manage && viaRoot && current?.via_root !== "true" && tables.some((t) => t.partitioned)) {
      const alter = `ALTER PUBLICATION ${quoteIdent(publication)} SET (publish_via_partition_root = true)`
      yield* sql.unsafe(alter).pipe(
        Effect.zipRight(Effect.logInfo(`publication ${publication} now publishes partitions' changes under their partitioned table`)),
        Effect.catchAll((e) =>
          isPermissionDenied(e)
            ? Effect.logWarning(`publication ${publication} names changes by partition; flusso maps them (run ${alter}; to spare it that)`)
            : Effect.fail(classify(`altering publication ${publication}`, e))
        )
      )
    }
    if (current?.all_tables === "true") return
    const missing = yield* unpublished(sql, publication, tables)
    if (missing.length === 0) return
    const alter = `ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${tableList(missing)}`
    const advise = Effect.logWarning(
      `publication ${publication} lacks ${tableList(missing)}; their changes are not streamed until you run: ${alter};`
    )
    if (!manage) return yield* advise
    yield* sql.unsafe(alter).pipe(
      Effect.zipRight(Effect.logInfo(`added ${tableList(missing)} to publication ${publication}`)),
      Effect.catchAll((e) => (isPermissionDenied(e) ? advise : Effect.fail(classify(`altering publication ${publication}`, e))))
    )
  })

/** The slot as found (or made): the position it is confirmed up to, and whether it was created now. */
export interface SlotState {
  readonly confirmed: bigint
  readonly created: boolean
}

/**
 * Creates the slot when missing and returns the position it is confirmed up to: where
 * streaming resumes, so a received-but-unflushed change is always redelivered.
 */
export const ensureSlot = (sql: SqlClient, slot: string): Effect.Effect<SlotState, SetupError> =>
  Effect.gen(function*() {
    const SlotRow = Schema.Struct({
      plugin: Schema.NullOr(Schema.String),
      database: Schema.NullOr(Schema.String),
      current_database: Schema.String,
      wal_status: Schema.NullOr(Schema.String),
      confirmed: Schema.NullOr(Schema.String)
    })
    const read = queryRows(sql, "reading replication slots",
      `SELECT plugin, database, current_database() AS current_database, wal_status, confirmed_flush_lsn::text AS confirmed
         FROM pg_replication_slots WHERE slot_name = $1`, [slot], SlotRow)
    let rows = yield* read
    const created = rows.length === 0
    if (created) {
      yield* sql.unsafe("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]).pipe(
        Effect.catchAll((e) =>
          Effect.fail(isPermissionDenied(e)
            ? new SourceMisconfigured({ reason: `not allowed to create replication slot ${slot}`, fix: "grant the role REPLICATION: ALTER ROLE <role> REPLICATION;" })
            : classify(`creating replication slot ${slot}`, e))
        )
      )
      yield* Effect.logInfo(`created replication slot ${slot}`)
      rows = yield* read
    }
    const row = rows[0]
    if (row === undefined) return yield* new SourceMisconfigured({ reason: `replication slot ${slot} vanished after creation`, fix: "check that nothing else drops it" })
    const problem = slotProblem(slot, row)
    if (problem !== undefined) return yield* new SourceMisconfigured(problem)
    return { confirmed: row.confirmed === null ? 0n : parseLsn(row.confirmed), created }
  })
