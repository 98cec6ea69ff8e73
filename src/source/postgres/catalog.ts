/**
 * What the database says about the tables an index reads: column types (as
 * `format_type` prints them, for casts), the primary key and the replica identity.
 * Checked against the config at start-up so a wrong name or type stops the run with the
 * field path, before anything is written.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import { SchemaMismatch, type SourceMisconfigured, type SourceUnavailable } from "../../errors.js"
import type { ScalarKind } from "../../config/model.js"
import type { FieldPlan, IndexPlan, PlannedFilter, TableRef } from "../../schema/IndexPlan.js"
import { qualify } from "../../schema/IndexPlan.js"
import { classify, queryRows } from "./sqlErrors.js"

export interface ColumnInfo {
  readonly name: string
  /** `format_type(atttypid, atttypmod)`: usable in a cast. */
  readonly type: string
  /** Base type name (`int4`, `text`, …); for domains, the domain's base type. */
  readonly typeName: string
  /** `e` for enums, `b` base, `d` domain… */
  readonly typeType: string
  /** No NOT NULL constraint (`NOT attnotnull`): the column may hold null. */
  readonly nullable: boolean
}

export interface TableInfo {
  readonly qualifiedTable: string
  readonly columns: ReadonlyMap<string, ColumnInfo>
  readonly primaryKey: ReadonlyArray<string>
  /**
   * `d` default (primary key), `n` nothing, `f` full, `i` index. For a partitioned table,
   * what its changes carry: the weakest of its own and its leaf partitions' — PostgreSQL
   * logs a change with the identity of the partition it touched (and a partition created
   * later does not inherit the parent's).
   */
  readonly replicaIdentity: string
  /** `PARTITION BY …`: its rows live in partitions; their changes are named by the partition unless published via the root. */
  readonly partitioned: boolean
  /** A partition of another table. */
  readonly partition: boolean
  /** A partitioned table's leaf partitions (`schema.table`) whose replica identity is weaker than its own. */
  readonly weakerPartitions: ReadonlyArray<string>
}

const ColumnRow = Schema.Struct({
  name: Schema.String,
  type: Schema.String,
  type_name: Schema.String,
  type_type: Schema.String,
  nullable: Schema.String,
  is_pk: Schema.String,
  replica_identity: Schema.String,
  kind: Schema.String,
  is_partition: Schema.String
})

const LeafRow = Schema.Struct({ name: Schema.String, replica_identity: Schema.String })

/** How much of the old row a replica identity logs: nothing, the key, everything. */
const identityStrength = (identity: string): number => (identity === "n" ? 0 : identity === "f" ? 2 : 1)

export const readTable = (
  sql: SqlClient,
  schema: string,
  table: string
): Effect.Effect<TableInfo | undefined, SourceUnavailable | SourceMisconfigured> =>
  queryRows(sql, `reading the catalog of ${schema}.${table}`,
    `SELECT a.attname AS name,
            format_type(a.atttypid, a.atttypmod) AS type,
            coalesce(bt.typname, t.typname) AS type_name,
            coalesce(bt.typtype, t.typtype)::text AS type_type,
            (NOT a.attnotnull)::text AS nullable,
            (a.attnum = ANY(coalesce(i.indkey::int2[], '{}')))::text AS is_pk,
            c.relreplident::text AS replica_identity,
            c.relkind::text AS kind,
            c.relispartition::text AS is_partition
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
       LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, table], ColumnRow
  ).pipe(
    Effect.flatMap((rows) => {
      const first = rows[0]
      if (first === undefined) return Effect.succeed(undefined)
      const partitioned = first.kind === "p"
      return (partitioned ? readLeaves(sql, schema, table) : Effect.succeed([])).pipe(Effect.map((leaves): TableInfo => {
        const own = first.replica_identity
        const weaker = leaves.filter((leaf) => identityStrength(leaf.replica_identity) < identityStrength(own))
        const weakest = weaker.reduce((w, leaf) => identityStrength(leaf.replica_identity) < identityStrength(w) ? leaf.replica_identity : w, own)
        return {
          qualifiedTable: `${schema}.${table}`,
          columns: new Map(rows.map((r) => [
            r.name,
            { name: r.name, type: r.type, typeName: r.type_name, typeType: r.type_type, nullable: r.nullable === "true" }
          ])),
          primaryKey: rows.filter((r) => r.is_pk === "true").map((r) => r.name),
          replicaIdentity: weakest,
          partitioned,
          partition: first.is_partition === "true",
          weakerPartitions: weaker.map((leaf) => leaf.name)
        }
      }))
    })
  )

/** A partitioned table's leaf partitions and their replica identities. */
const readLeaves = (sql: SqlClient, schema: string, table: string) =>
  queryRows(sql, `reading the partitions of ${schema}.${table}`,
    `SELECT n.nspname || '.' || c.relname AS name, c.relreplident::text AS replica_identity
       FROM pg_partition_tree(format('%I.%I', $1::text, $2::text)::regclass) t
       JOIN pg_class c ON c.oid = t.relid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.isleaf
      ORDER BY 1`,
    [schema, table], LeafRow)

const TEXT_TYPES = ["text", "varchar", "bpchar", "citext", "name"]

/** Postgres base types each scalar kind accepts (schema.md); `flusso check` reports by the same table. */
export const ACCEPTED: Readonly<Record<ScalarKind, ReadonlyArray<string>>> = {
  text: TEXT_TYPES,
  identifier: TEXT_TYPES,
  keyword: TEXT_TYPES,
  enum: TEXT_TYPES,
  uuid: ["uuid"],
  boolean: ["bool"],
  short: ["int2"],
  integer: ["int2", "int4"],
  long: ["int2", "int4", "int8"],
  float: ["float4"],
  double: ["float4", "float8"],
  decimal: ["numeric", "money"],
  date: ["date"],
  timestamp: ["timestamp", "timestamptz", "time"],
  binary: ["bytea"],
  json: ["json", "jsonb"]
}

export const NUMERIC_TYPES: ReadonlyArray<string> = ["int2", "int4", "int8", "float4", "float8", "numeric"]

/** Whether a scalar kind reads a column: its base type is accepted, or an enum for keyword / enum. */
export const accepts = (kind: ScalarKind, column: ColumnInfo): boolean =>
  ACCEPTED[kind].includes(column.typeName) || ((kind === "keyword" || kind === "enum") && column.typeType === "e")

/** Every table an index reads: root, join and aggregate tables, junctions. */
export const tablesOf = (plan: IndexPlan): ReadonlyArray<TableRef> => {
  const tables = new Map<string, TableRef>([[plan.qualifiedTable, { schema: plan.schema, table: plan.table }]])
  const visit = (fields: ReadonlyArray<FieldPlan>) => {
    for (const field of fields) {
      if (field._tag === "Object") visit(field.fields)
      if (field._tag === "Join" || field._tag === "Aggregate") {
        tables.set(qualify(field.table), field.table)
        if (field.through) tables.set(qualify(field.through.table), field.through.table)
        if (field._tag === "Join") visit(field.fields)
      }
    }
  }
  visit(plan.fields)
  return [...tables.values()]
}

/** Every mismatch between an index and the catalog, each naming the field path and the fix. */
export const checkIndexAgainstCatalog = (
  plan: IndexPlan,
  tables: ReadonlyMap<string, TableInfo>
): ReadonlyArray<SchemaMismatch> => {
  const problems: Array<SchemaMismatch> = []
  const problem = (path: string, reason: string) => problems.push(new SchemaMismatch({ index: plan.name, path, reason }))
  const tableAt = (path: string, ref: TableRef): TableInfo | undefined => {
    const info = tables.get(qualify(ref))
    if (info === undefined) problem(path, `table ${qualify(ref)} does not exist (or the role cannot see it)`)
    return info
  }
  const columnAt = (path: string, table: TableInfo, column: string): ColumnInfo | undefined => {
    const info = table.columns.get(column)
    if (info === undefined) {
      problem(path, `column ${table.qualifiedTable}.${column} does not exist; columns are ${[...table.columns.keys()].join(", ")}`)
    }
    return info
  }
  const columnsAt = (path: string, table: TableInfo, columns: ReadonlyArray<string> | undefined) =>
    (columns ?? []).forEach((c) => columnAt(path, table, c))
  const filtersAt = (path: string, table: TableInfo, filters: ReadonlyArray<PlannedFilter>) =>
    filters.forEach((f, i) => f._tag !== "Raw" && columnAt(`${path}[${i}].column`, table, f.column))

  const visit = (path: string, table: TableInfo, fields: ReadonlyArray<FieldPlan>) => {
    for (const field of fields) {
      const at = `${path}.${field.name}`
      switch (field._tag) {
        case "Scalar": {
          const column = columnAt(at, table, field.column)
          if (column && !accepts(field.kind, column)) {
            problem(at, `t.${field.kind}() cannot read column ${field.column} of type ${column.type}; it accepts ${ACCEPTED[field.kind].join(", ")}`)
          }
          break
        }
        case "Object":
          visit(`${at}.fields`, table, field.fields)
          break
        case "Map": {
          const column = columnAt(at, table, field.column)
          if (column && column.typeName !== "json" && column.typeName !== "jsonb") problem(at, `t.map() needs a json or jsonb column, ${field.column} is ${column.type}`)
          break
        }
        case "Geo":
          if (field.source._tag === "LatLon") {
            for (const c of [field.source.lat, field.source.lon]) {
              const column = columnAt(at, table, c)
              if (column && !NUMERIC_TYPES.includes(column.typeName)) problem(at, `t.geo() needs numeric lat/lon columns, ${c} is ${column.type}`)
            }
          } else columnAt(at, table, field.source.column)
          break
        case "Constant":
          break
        case "Custom": {
          const column = columnAt(at, table, field.column)
          if (column && !field.postgres.includes(column.typeName) && !field.postgres.includes(column.type)) {
            problem(at, `t.custom() accepts ${field.postgres.join(", ")}, column ${field.column} is ${column.type}`)
          }
          break
        }
        case "Join": {
          const related = tableAt(`${at}.table`, field.table)
          if (field.column) columnsAt(`${at}.column`, table, field.column)
          if (related) {
            columnsAt(`${at}.primaryKey`, related, field.primaryKey)
            columnsAt(`${at}.foreignKey`, related, field.foreignKey)
            filtersAt(`${at}.filters`, related, field.filters)
            field.orderBy.forEach((o, i) => columnAt(`${at}.orderBy[${i}].column`, related, o.column))
            visit(`${at}.fields`, related, field.fields)
          }
          if (field.through) {
            const junction = tableAt(`${at}.through.table`, field.through.table)
            if (junction) columnsAt(`${at}.through`, junction, [...field.through.leftKey, ...field.through.rightKey])
          }
          break
        }
        case "Aggregate": {
          const related = tableAt(`${at}.table`, field.table)
          if (related) {
            columnsAt(`${at}.primaryKey`, related, field.primaryKey)
            columnsAt(`${at}.foreignKey`, related, field.foreignKey)
            if (field.column) columnAt(`${at}.column`, related, field.column)
            filtersAt(`${at}.filters`, related, field.filters)
            if (field.primaryKey === undefined && related.primaryKey.length === 0 && (field.fn === "ids" || field.through)) {
              problem(`${at}.primaryKey`, `table ${related.qualifiedTable} has no primary key; set primaryKey`)
            }
          }
          if (field.through) {
            const junction = tableAt(`${at}.through.table`, field.through.table)
            if (junction) columnsAt(`${at}.through`, junction, [...field.through.leftKey, ...field.through.rightKey])
          }
          break
        }
      }
    }
  }

  const root = tableAt("table", { schema: plan.schema, table: plan.table })
  if (root === undefined) return problems
  columnsAt("primaryKey", root, plan.primaryKey)
  if (plan.softDelete) {
    columnAt("softDelete.column", root, plan.softDelete.column)
    filtersAt("softDelete.when", root, plan.softDelete.when)
  }
  filtersAt("filters", root, plan.filters)
  visit("fields", root, plan.fields)
  return problems
}
