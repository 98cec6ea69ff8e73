/**
 * Ensures what logical replication needs before any snapshot is read: `wal_level`,
 * the publication covering every table an index reads, then the slot. Publication first:
 * a slot decodes with the catalog as of the WAL it reads, so a publication created after
 * the slot makes PostgreSQL 15 stop the stream with `publication "x" does not exist`.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import type { ClientConfig } from "pg"
import pg from "pg"
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

/** The slot as found (or made): the position it is confirmed up to, whether it was created now, whether it fails over. */
export interface SlotState {
  readonly confirmed: bigint
  readonly created: boolean
  /** Made with `failover = true` (PostgreSQL 17+): a promoted standby keeps it. */
  readonly failover: boolean
}

export interface SlotOptions {
  /** The slot must be a failover slot (`source.failover`). */
  readonly failover: boolean
  /** A connection for replication commands (ALTER_REPLICATION_SLOT has no SQL function). */
  readonly replicationClient: ClientConfig
}

/** `server_version_num`: 170004 for 17.4. */
export const serverVersion = (sql: SqlClient): Effect.Effect<number, SetupError> =>
  queryRows(sql, "reading the server version", "SELECT current_setting('server_version_num') AS version", [],
    Schema.Struct({ version: Schema.NumberFromString })).pipe(Effect.map((rows) => rows[0]?.version ?? 0))

/** `server_version`, as PostgreSQL prints it (`17.4`). */
export const serverVersionText = (sql: SqlClient): Effect.Effect<string, SetupError> =>
  queryRows(sql, "reading the server version", "SELECT current_setting('server_version') AS version", [],
    Schema.Struct({ version: Schema.String })).pipe(Effect.map((rows) => rows[0]?.version ?? "unknown"))

/** Failover slots came with PostgreSQL 17. */
export const FAILOVER_SINCE = 170000

export const failoverUnsupported = (version: number): { readonly reason: string; readonly fix: string } => ({
  reason: `source.failover needs PostgreSQL 17 or later (failover slots); this server is ${Math.floor(version / 10000)}`,
  fix: "remove source.failover (a promotion then loses the slot: flusso re-seeds after one), or upgrade PostgreSQL to 17+"
})

/** A failover slot asked of a server that cannot make one stops the run before anything is created. */
export const checkFailoverSupport = (sql: SqlClient, failover: boolean): Effect.Effect<void, SetupError> =>
  failover
    ? Effect.flatMap(serverVersion(sql), (version) =>
      version < FAILOVER_SINCE ? Effect.fail(new SourceMisconfigured(failoverUnsupported(version))) : Effect.void)
    : Effect.void

/** Sets `failover` on an existing slot: a replication command, sent over a replication connection. */
const alterFailover = (client: ClientConfig, slot: string): Effect.Effect<void, SetupError> =>
  Effect.acquireUseRelease(
    Effect.tryPromise({
      try: async () => {
        // `replication` is a startup parameter pg passes on but its types do not declare.
        const config: ClientConfig & { readonly replication: "database" } = { ...client, replication: "database" }
        const connection = new pg.Client(config)
        connection.on("error", () => undefined)
        await connection.connect()
        return connection
      },
      catch: (e) => classify(`connecting to alter replication slot ${slot}`, e)
    }),
    (connection) =>
      Effect.tryPromise({
        try: () => connection.query(`ALTER_REPLICATION_SLOT ${quoteIdent(slot)} ( FAILOVER true )`),
        catch: (e) =>
          isPermissionDenied(e)
            ? new SourceMisconfigured({ reason: `not allowed to make replication slot ${slot} a failover slot`, fix: "grant the role REPLICATION: ALTER ROLE <role> REPLICATION;" })
            : classify(`making replication slot ${slot} a failover slot`, e)
      }),
    (connection) => Effect.promise(() => connection.end().catch(() => undefined))
  ).pipe(Effect.asVoid)

/**
 * Creates the slot when missing and returns the position it is confirmed up to: where
 * streaming resumes, so a received-but-unflushed change is always redelivered. With
 * `failover`, the slot is created as (or made) a failover slot; a server older than 17
 * cannot, which stops the run before anything is created.
 */
export const ensureSlot = (sql: SqlClient, slot: string, options: SlotOptions): Effect.Effect<SlotState, SetupError> =>
  Effect.gen(function*() {
    yield* checkFailoverSupport(sql, options.failover)
    const SlotRow = Schema.Struct({
      plugin: Schema.NullOr(Schema.String),
      database: Schema.NullOr(Schema.String),
      current_database: Schema.String,
      wal_status: Schema.NullOr(Schema.String),
      confirmed: Schema.NullOr(Schema.String),
      failover: Schema.NullOr(Schema.String)
    })
    // `failover` exists from PostgreSQL 17 on; through to_jsonb the query runs on any version.
    const read = queryRows(sql, "reading replication slots",
      `SELECT plugin, database, current_database() AS current_database, wal_status, confirmed_flush_lsn::text AS confirmed,
              to_jsonb(s) ->> 'failover' AS failover
         FROM pg_replication_slots s WHERE slot_name = $1`, [slot], SlotRow)
    let rows = yield* read
    const created = rows.length === 0
    if (created) {
      const create = options.failover
        ? sql.unsafe("SELECT pg_create_logical_replication_slot($1, 'pgoutput', false, false, true)", [slot])
        : sql.unsafe("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot])
      yield* create.pipe(
        Effect.catchAll((e) =>
          Effect.fail(isPermissionDenied(e)
            ? new SourceMisconfigured({ reason: `not allowed to create replication slot ${slot}`, fix: "grant the role REPLICATION: ALTER ROLE <role> REPLICATION;" })
            : classify(`creating replication slot ${slot}`, e))
        )
      )
      yield* Effect.logInfo(`created replication slot ${slot}${options.failover ? " (a failover slot)" : ""}`)
      rows = yield* read
    }
    const row = rows[0]
    if (row === undefined) return yield* new SourceMisconfigured({ reason: `replication slot ${slot} vanished after creation`, fix: "check that nothing else drops it" })
    const problem = slotProblem(slot, row)
    if (problem !== undefined) return yield* new SourceMisconfigured(problem)
    let failover = row.failover === "true"
    if (options.failover && !failover) {
      yield* alterFailover(options.replicationClient, slot)
      yield* Effect.logInfo(`replication slot ${slot} is now a failover slot`)
      failover = true
    }
    return { confirmed: row.confirmed === null ? 0n : parseLsn(row.confirmed), created, failover }
  })
