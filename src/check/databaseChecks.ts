/**
 * The database half of `flusso check`: what logical replication needs beyond the
 * tables' shape — `wal_level`, the role's REPLICATION attribute and SELECT privileges,
 * the publication covering every table the enabled indexes read (and the right to
 * manage it), the slot's plugin and health. Read-only: where `flusso run` would create
 * or alter something, this says so and prints the SQL instead. The words follow
 * replicationSetup.ts, which stops the run on the same conditions.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Either, Schema } from "effect"
import type { SourceMisconfigured, SourceUnavailable } from "../errors.js"
import type { IndexPlan, TableRef } from "../schema/IndexPlan.js"
import { qualify } from "../schema/IndexPlan.js"
import { type TableInfo, tablesOf } from "../source/postgres/catalog.js"
import { quoteIdent } from "../source/postgres/documentSql.js"
import { checkWalLevel, FAILOVER_SINCE, failoverUnsupported, publishViaRoot, serverVersion, unpublished } from "../source/postgres/replicationSetup.js"
import { slotProblem } from "../source/postgres/setupProblems.js"
import { queryRows } from "../source/postgres/sqlErrors.js"
import { type Finding, finding } from "./CheckReport.js"

type QueryError = SourceUnavailable | SourceMisconfigured

export interface DatabaseCheckInput {
  /** The enabled indexes: every table they read is published. */
  readonly plans: ReadonlyArray<IndexPlan>
  /** The catalog as read (readCatalog.ts); tables absent from it are reported by catalogChecks. */
  readonly tables: ReadonlyMap<string, TableInfo>
  readonly publication: string
  readonly slot: string
  readonly managePublication: boolean
  /** `source.failover`: the slot must be a failover slot. */
  readonly failover: boolean
}

/** `bool::text` as a boolean (every value arrives as text: connection.ts). */
const PgBool = Schema.transform(Schema.Literal("true", "false"), Schema.Boolean, {
  strict: true,
  decode: (text) => text === "true",
  encode: (value) => (value ? "true" : "false")
})

/** A check that could not run is an error finding of its own, never the end of the report. */
const orReport = (what: string) => (effect: Effect.Effect<ReadonlyArray<Finding>, QueryError>) =>
  Effect.catchAll(effect, (e) =>
    Effect.succeed([finding("error", `could not check ${what}: ${e.reason}`, { fix: "fix" in e ? e.fix : "check that PostgreSQL is reachable and run again" })])
  )

const sqlTable = (ref: TableRef): string => `${quoteIdent(ref.schema)}.${quoteIdent(ref.table)}`
const tableList = (refs: ReadonlyArray<TableRef>): string => refs.map(sqlTable).join(", ")
const nameList = (refs: ReadonlyArray<TableRef>): string => refs.map(qualify).join(", ")

// ---------------------------------------------------------------------------------------

const walLevel = (sql: SqlClient): Effect.Effect<ReadonlyArray<Finding>, QueryError> =>
  Effect.either(checkWalLevel(sql)).pipe(
    Effect.flatMap((result) => {
      if (Either.isRight(result)) return Effect.succeed([])
      const error = result.left
      return error._tag === "SourceMisconfigured"
        ? Effect.succeed([finding("error", error.reason, { fix: error.fix })])
        : Effect.fail(error)
    })
  )

const RoleRow = Schema.Struct({
  role: Schema.String,
  database: Schema.String,
  superuser: PgBool,
  replication: PgBool,
  create_on_database: PgBool
})
type Role = typeof RoleRow.Type

// Managed PostgreSQL (RDS, Aurora) grants replication through membership of rds_replication.
const ROLE = `SELECT current_user::text AS role, current_database()::text AS database,
       r.rolsuper::text AS superuser,
       (r.rolreplication OR coalesce((SELECT pg_has_role(current_user, m.oid, 'MEMBER') FROM pg_roles m WHERE m.rolname = 'rds_replication'), false))::text AS replication,
       has_database_privilege(current_database(), 'CREATE')::text AS create_on_database
  FROM pg_roles r WHERE r.rolname = current_user`

const readRole = (sql: SqlClient): Effect.Effect<Role | undefined, QueryError> =>
  queryRows(sql, "reading the role's attributes", ROLE, [], RoleRow).pipe(Effect.map((rows) => rows[0]))

const replicationAttribute = (role: Role): ReadonlyArray<Finding> =>
  role.superuser || role.replication
    ? []
    : [finding("error", `role ${role.role} has neither REPLICATION nor SUPERUSER: it can neither create the replication slot nor stream changes`, {
      fix: `ALTER ROLE ${quoteIdent(role.role)} REPLICATION;`
    })]

const TableRow = Schema.Struct({
  schema: Schema.String,
  table: Schema.String,
  schema_usage: PgBool,
  can_select: PgBool,
  owned: PgBool,
  owner: Schema.String
})
type TableRow = typeof TableRow.Type

const TABLES = `SELECT n.nspname::text AS schema, c.relname::text AS table,
       has_schema_privilege(n.oid, 'USAGE')::text AS schema_usage,
       has_table_privilege(c.oid, 'SELECT')::text AS can_select,
       pg_has_role(c.relowner, 'USAGE')::text AS owned,
       pg_get_userbyid(c.relowner)::text AS owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`

const readTables = (sql: SqlClient, refs: ReadonlyArray<TableRef>): Effect.Effect<ReadonlyArray<TableRow>, QueryError> =>
  refs.length === 0
    ? Effect.succeed([])
    : queryRows(sql, "reading table privileges", TABLES, [refs.map((r) => r.schema), refs.map((r) => r.table)], TableRow)

/** SELECT on every table an index reads, and USAGE on its schema. */
const selectPrivileges = (role: Role, rows: ReadonlyArray<TableRow>): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  const schemas = new Set<string>()
  for (const row of rows) {
    const name = `${row.schema}.${row.table}`
    if (!row.schema_usage && !schemas.has(row.schema)) {
      schemas.add(row.schema)
      out.push(finding("error", `role ${role.role} has no USAGE on schema ${row.schema}: it cannot read ${name}`, {
        table: name,
        fix: `GRANT USAGE ON SCHEMA ${quoteIdent(row.schema)} TO ${quoteIdent(role.role)};`
      }))
    }
    if (!row.can_select) {
      out.push(finding("error", `role ${role.role} has no SELECT on ${name}: flusso cannot seed or build its documents`, {
        table: name,
        fix: `GRANT SELECT ON ${sqlTable(row)} TO ${quoteIdent(role.role)};`
      }))
    }
  }
  return out
}

const PublicationRow = Schema.Struct({
  all_tables: PgBool,
  insert: PgBool,
  update: PgBool,
  delete: PgBool,
  truncate: PgBool,
  owned: PgBool,
  owner: Schema.String,
  via_root: PgBool
})

const PUBLICATION = `SELECT puballtables::text AS all_tables, pubinsert::text AS insert, pubupdate::text AS update,
       pubdelete::text AS delete, pubtruncate::text AS truncate,
       pg_has_role(pubowner, 'USAGE')::text AS owned, pg_get_userbyid(pubowner)::text AS owner,
       pubviaroot::text AS via_root
  FROM pg_publication WHERE pubname = $1`

// `rowfilter` exists from PostgreSQL 15 on; through to_jsonb the query runs on any version.
const PublishedRow = Schema.Struct({ schema: Schema.String, table: Schema.String, rowfilter: Schema.NullOr(Schema.String) })
const PUBLISHED = `SELECT pt.schemaname::text AS schema, pt.tablename::text AS table, to_jsonb(pt) ->> 'rowfilter' AS rowfilter
  FROM pg_publication_tables pt WHERE pt.pubname = $1`

/** Whether the role may run a statement needing ownership of `tables` (and of the publication, or CREATE on the database). */
const lacking = (role: Role, rows: ReadonlyMap<string, TableRow>, tables: ReadonlyArray<TableRef>, extra: ReadonlyArray<string>): ReadonlyArray<string> => {
  if (role.superuser) return []
  const notOwned = tables.filter((t) => rows.get(qualify(t))?.owned !== true)
  return [
    ...extra,
    ...(notOwned.length === 0 ? [] : [`does not own ${notOwned.map((t) => `${qualify(t)} (owner ${rows.get(qualify(t))?.owner ?? "unknown"})`).join(", ")}`])
  ]
}

const publicationCoverage = (
  sql: SqlClient,
  input: DatabaseCheckInput,
  role: Role,
  rows: ReadonlyMap<string, TableRow>,
  published: ReadonlyArray<TableRef>
): Effect.Effect<ReadonlyArray<Finding>, QueryError> =>
  Effect.gen(function*() {
    const name = input.publication
    const pub = quoteIdent(name)
    const manage = input.managePublication
    if (published.length === 0) return []
    const [existing] = yield* queryRows(sql, "reading publications", PUBLICATION, [name], PublicationRow)
    const described = published.map((ref) => {
      const info = input.tables.get(qualify(ref))
      return { ...ref, partitioned: info?.partitioned ?? false, partition: info?.partition ?? false }
    })
    const viaRoot = publishViaRoot(described)
    if (existing === undefined) {
      const create = `CREATE PUBLICATION ${pub} FOR TABLE ${tableList(published)}${viaRoot ? " WITH (publish_via_partition_root = true)" : ""}`
      const missing = lacking(role, rows, published, role.create_on_database ? [] : [`has no CREATE on database ${role.database}`])
      if (manage && missing.length === 0) {
        return [finding("info", `publication ${name} does not exist yet: flusso creates it on start (${create})`)]
      }
      return [finding(
        "error",
        manage
          ? `publication ${name} does not exist, and role ${role.role} may not create it: it ${missing.join(" and ")}`
          : `publication ${name} does not exist (managePublication is off, so flusso does not create it)`,
        { fix: `run as a table owner: ${create};` }
      )]
    }
    const out: Array<Finding> = []
    const partitioned = described.filter((t) => t.partitioned)
    if (!existing.via_root && partitioned.length > 0) {
      const set = `ALTER PUBLICATION ${pub} SET (publish_via_partition_root = true);`
      if (manage && viaRoot && existing.owned) {
        out.push(finding("info", `publication ${name} names changes by partition: flusso sets publish_via_partition_root on start`, { fix: set }))
      } else {
        out.push(finding("info",
          `publication ${name} names the changes of ${nameList(partitioned)} by partition (publish_via_partition_root is off): ` +
            "flusso maps each partition to its partitioned table from the catalog, one catalog read per partition and connection; nothing is lost",
          viaRoot ? { fix: set } : {}))
      }
    }
    const flags = (["insert", "update", "delete"] as const).filter((op) => !existing[op])
    if (flags.length > 0 || !existing.truncate) {
      const fix = `ALTER PUBLICATION ${pub} SET (publish = 'insert, update, delete, truncate');`
      if (flags.length > 0) {
        out.push(finding("error", `publication ${name} does not publish ${flags.join(", ")}: those changes never reach flusso`, { fix }))
      } else {
        out.push(finding("warning", `publication ${name} does not publish truncate: a TRUNCATE leaves its documents in the index`, { fix }))
      }
    }
    if (existing.all_tables) return out
    const tables = yield* queryRows(sql, "reading publication tables", PUBLISHED, [name], PublishedRow)
    const have = new Map(tables.map((t) => [`${t.schema}.${t.table}`, t]))
    for (const ref of published) {
      const filter = have.get(qualify(ref))?.rowfilter
      if (filter !== undefined && filter !== null) {
        out.push(finding("warning", `publication ${name} publishes ${qualify(ref)} only WHERE ${filter}: changes to other rows never reach flusso`, {
          table: qualify(ref),
          fix: `ALTER PUBLICATION ${pub} DROP TABLE ${sqlTable(ref)}; ALTER PUBLICATION ${pub} ADD TABLE ${sqlTable(ref)};`
        }))
      }
    }
    const missing = yield* unpublished(sql, name, described)
    if (missing.length === 0) return out
    const alter = `ALTER PUBLICATION ${pub} ADD TABLE ${tableList(missing)}`
    const [first] = missing
    const single = missing.length === 1 && first !== undefined ? qualify(first) : undefined
    const cannot = lacking(role, rows, missing, existing.owned ? [] : [`does not own publication ${name} (owner ${existing.owner})`])
    const lacks = `publication ${name} lacks ${nameList(missing)}`
    if (manage && cannot.length === 0) {
      out.push(finding("warning", `${lacks}: flusso will add ${missing.length === 1 ? "it" : "them"} on start`, { table: single, fix: `${alter}; (or let flusso run it)` }))
    } else {
      out.push(finding(
        "error",
        manage
          ? `${lacks}, and role ${role.role} may not add them: it ${cannot.join(" and ")}; their changes are not streamed`
          : `${lacks} (managePublication is off): their changes are not streamed`,
        { table: single, fix: `run as the owner: ${alter};` }
      ))
    }
    return out
  })

const SlotRow = Schema.Struct({
  failover: Schema.NullOr(Schema.String),
  plugin: Schema.NullOr(Schema.String),
  database: Schema.NullOr(Schema.String),
  current_database: Schema.String,
  wal_status: Schema.NullOr(Schema.String),
  active: PgBool,
  active_pid: Schema.NullOr(Schema.String)
})
// `failover` exists from PostgreSQL 17 on; through to_jsonb the query runs on any version.
const SLOT = `SELECT to_jsonb(s) ->> 'failover' AS failover, plugin::text AS plugin, database::text AS database, current_database()::text AS current_database,
       wal_status, active::text AS active, active_pid::text AS active_pid
  FROM pg_replication_slots s WHERE slot_name = $1`

const CapacityRow = Schema.Struct({ max: Schema.NumberFromString, used: Schema.NumberFromString })
const CAPACITY = `SELECT current_setting('max_replication_slots') AS max, (SELECT count(*) FROM pg_replication_slots)::text AS used`

/** The slot as ensureSlot (replicationSetup.ts) would find it: same conditions, same words (setupProblems.ts). */
const slotHealth = (sql: SqlClient, slot: string, failover: boolean): Effect.Effect<ReadonlyArray<Finding>, QueryError> =>
  Effect.gen(function*() {
    const version = yield* serverVersion(sql)
    if (failover && version < FAILOVER_SINCE) {
      const problem = failoverUnsupported(version)
      return [finding("error", problem.reason, { path: "source.failover", fix: problem.fix })]
    }
    const [row] = yield* queryRows(sql, "reading replication slots", SLOT, [slot], SlotRow)
    if (row === undefined) {
      const [capacity] = yield* queryRows(sql, "reading max_replication_slots", CAPACITY, [], CapacityRow)
      if (capacity !== undefined && capacity.used >= capacity.max) {
        return [finding("error", `replication slot ${slot} does not exist and all ${capacity.max} slots (max_replication_slots) are taken: flusso cannot create it`, {
          fix: `drop an unused slot (SELECT pg_drop_replication_slot('…');), or ALTER SYSTEM SET max_replication_slots = ${capacity.max + 1}; then restart PostgreSQL`
        })]
      }
      return [finding("info", `replication slot ${slot} does not exist yet: flusso creates it${failover ? " as a failover slot" : ""} on start and seeds every index`)]
    }
    const problem = slotProblem(slot, row)
    if (problem !== undefined) return [finding("error", problem.reason, { fix: problem.fix })]
    const out: Array<Finding> = []
    if (row.failover === "true") {
      out.push(finding("info", `replication slot ${slot} is a failover slot: a standby that syncs slots (sync_replication_slots) keeps it through a promotion`))
    } else if (failover) {
      out.push(finding("info", `replication slot ${slot} is not a failover slot: flusso makes it one on start (source.failover)`))
    } else if (version >= FAILOVER_SINCE) {
      out.push(finding("info", `replication slot ${slot} is not a failover slot: a promotion of a standby loses it and flusso re-seeds; set source.failover on highly available PostgreSQL`))
    }
    if (row.wal_status === "unreserved") {
      out.push(finding("warning", `replication slot ${slot} is about to lose WAL it needs (wal_status = unreserved): flusso lags too far behind`, {
        fix: "let flusso catch up, or raise max_slot_wal_keep_size"
      }))
    }
    if (row.active) {
      out.push(finding("info", `replication slot ${slot} is in use${row.active_pid === null ? "" : ` (pid ${row.active_pid})`}: another flusso is running on it; a second one waits until it stops`))
    }
    return out
  })

// ---------------------------------------------------------------------------------------

/** Every database-level finding; a check that cannot run becomes an error finding, the others still run. */
export const checkDatabase = (input: DatabaseCheckInput): Effect.Effect<ReadonlyArray<Finding>, never, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const published = [...new Map(input.plans.flatMap(tablesOf).map((t) => [qualify(t), t])).values()]
      .filter((t) => input.tables.has(qualify(t)))
    const wal = yield* orReport("wal_level")(walLevel(sql))
    const role = yield* Effect.either(readRole(sql))
    if (Either.isLeft(role) || role.right === undefined) {
      const reason = Either.isLeft(role) ? role.left.reason : "the current role is not in pg_roles"
      return [...wal, finding("error", `could not check the role's privileges: ${reason}`)]
    }
    const me = role.right
    const rows = yield* Effect.either(readTables(sql, published))
    const byName = new Map(Either.isRight(rows) ? rows.right.map((r) => [`${r.schema}.${r.table}`, r]) : [])
    const privileges = Either.isRight(rows)
      ? selectPrivileges(me, rows.right)
      : [finding("error", `could not check table privileges: ${rows.left.reason}`)]
    const publication = yield* orReport(`publication ${input.publication}`)(publicationCoverage(sql, input, me, byName, published))
    const slot = yield* orReport(`replication slot ${input.slot}`)(slotHealth(sql, input.slot, input.failover))
    return [...wal, ...replicationAttribute(me), ...privileges, ...publication, ...slot]
  })
