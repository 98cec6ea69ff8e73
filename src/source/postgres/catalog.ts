/**
 * What the database says about the tables an index reads: column types (as
 * `format_type` prints them, for casts), the primary key and the replica identity.
 * Checked against the config at start-up so a wrong name or type stops the run with the
 * field path, before anything is written.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import { SchemaMismatch, type SourceMisconfigured, type SourceUnavailable } from "../../errors.js"
import type { IndexPlan, PlannedField } from "../../schema/IndexPlan.js"
import { classify } from "./sqlErrors.js"

export interface ColumnInfo {
  readonly name: string
  /** `format_type(atttypid, atttypmod)`: usable in a cast. */
  readonly type: string
  /** Base type name (`int4`, `text`, …); for domains, the domain's base type. */
  readonly typeName: string
  /** `e` for enums, `b` base, `d` domain… */
  readonly typeType: string
}

export interface TableInfo {
  readonly qualifiedTable: string
  readonly columns: ReadonlyMap<string, ColumnInfo>
  readonly primaryKey: ReadonlyArray<string>
  /** `d` default (primary key), `n` nothing, `f` full, `i` index. */
  readonly replicaIdentity: string
}

const ColumnRow = Schema.Struct({
  name: Schema.String,
  type: Schema.String,
  type_name: Schema.String,
  type_type: Schema.String,
  is_pk: Schema.String,
  replica_identity: Schema.String
})

export const readTable = (
  sql: SqlClient,
  schema: string,
  table: string
): Effect.Effect<TableInfo | undefined, SourceUnavailable | SourceMisconfigured> =>
  sql.unsafe(
    `SELECT a.attname AS name,
            format_type(a.atttypid, a.atttypmod) AS type,
            coalesce(bt.typname, t.typname) AS type_name,
            coalesce(bt.typtype, t.typtype)::text AS type_type,
            (a.attnum = ANY(coalesce(i.indkey::int2[], '{}')))::text AS is_pk,
            c.relreplident::text AS replica_identity
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
       LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
        AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, table]
  ).pipe(
    Effect.mapError((e) => classify(`reading the catalog of ${schema}.${table}`, e)),
    Effect.flatMap((rows) =>
      Schema.decodeUnknown(Schema.Array(ColumnRow))(rows).pipe(
        Effect.mapError((e) => classify(`reading the catalog of ${schema}.${table}`, e))
      )
    ),
    Effect.map((rows) => {
      const first = rows[0]
      if (first === undefined) return undefined
      return {
        qualifiedTable: `${schema}.${table}`,
        columns: new Map(rows.map((r) => [r.name, { name: r.name, type: r.type, typeName: r.type_name, typeType: r.type_type }])),
        primaryKey: rows.filter((r) => r.is_pk === "true").map((r) => r.name),
        replicaIdentity: first.replica_identity
      }
    })
  )

const TEXT_TYPES = ["text", "varchar", "bpchar", "citext", "name"]

/** Postgres base types each field kind accepts (schema.md). */
const ACCEPTED: Record<PlannedField["kind"], ReadonlyArray<string>> = {
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

const acceptsColumn = (field: PlannedField, column: ColumnInfo): boolean =>
  ACCEPTED[field.kind].includes(column.typeName) ||
  ((field.kind === "keyword" || field.kind === "enum") && column.typeType === "e")

/** Every mismatch between an index and its root table, each naming the field path and the fix. */
export const checkIndexAgainstTable = (plan: IndexPlan, info: TableInfo | undefined): ReadonlyArray<SchemaMismatch> => {
  if (info === undefined) {
    return [new SchemaMismatch({
      index: plan.name,
      path: "table",
      reason: `table ${plan.qualifiedTable} does not exist (or the role cannot see it)`
    })]
  }
  const problems: Array<SchemaMismatch> = []
  for (const column of plan.primaryKey) {
    if (!info.columns.has(column)) {
      problems.push(new SchemaMismatch({ index: plan.name, path: "primaryKey", reason: `column ${plan.qualifiedTable}.${column} does not exist` }))
    }
  }
  if (plan.softDelete && !info.columns.has(plan.softDelete.column)) {
    problems.push(new SchemaMismatch({ index: plan.name, path: "softDelete.column", reason: `column ${plan.qualifiedTable}.${plan.softDelete.column} does not exist` }))
  }
  for (const field of plan.fields) {
    const column = info.columns.get(field.column)
    if (column === undefined) {
      problems.push(new SchemaMismatch({
        index: plan.name,
        path: `fields.${field.name}`,
        reason: `column ${plan.qualifiedTable}.${field.column} does not exist; set \`column\` to the right name`
      }))
    } else if (!acceptsColumn(field, column)) {
      problems.push(new SchemaMismatch({
        index: plan.name,
        path: `fields.${field.name}`,
        reason: `t.${field.kind}() cannot read column ${field.column} of type ${column.type}; it accepts ${ACCEPTED[field.kind].join(", ")}`
      }))
    }
  }
  return problems
}
