/**
 * The SQL that reads an index from Postgres: the root-key predicate, the row filter
 * (soft delete), the snapshot key enumeration and the document statement. Documents are
 * assembled by Postgres as JSON text in one statement per batch of ids; every value
 * the statement needs is a bound parameter cast to the column's catalog type.
 *
 * Canonical values (schema.md): timestamptz as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, timestamp
 * the same without zone, date `YYYY-MM-DD`, int8 and numeric as exact JSON numbers,
 * bytea base64 — identical for backfill and live because both run this statement.
 */
import type { IndexPlan, PlannedField } from "../../schema/IndexPlan.js"
import type { ColumnInfo, TableInfo } from "./catalog.js"

export const quoteIdent = (name: string): string => `"${name.replaceAll("\"", "\"\"")}"`

const quoteLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`

export const qualifiedName = (plan: IndexPlan): string => `${quoteIdent(plan.schema)}.${quoteIdent(plan.table)}`

const columnOf = (table: TableInfo, name: string): ColumnInfo => {
  const column = table.columns.get(name)
  // The catalog check at start-up guarantees every configured column exists.
  if (column === undefined) throw new Error(`column ${table.qualifiedTable}.${name} missing from catalog`)
  return column
}

/** The key columns as canonical text, aliased k0, k1, … */
export const keySelect = (plan: IndexPlan, alias: string): string =>
  plan.primaryKey.map((c, i) => `${alias}.${quoteIdent(c)}::text AS k${i}`).join(", ")

/**
 * `alias` holds one of the keys given as parallel text arrays in parameters
 * `$first…`. Composite keys go through `unnest` so one statement serves any batch size.
 */
export const keyIn = (plan: IndexPlan, table: TableInfo, alias: string, first: number): string => {
  const casts = plan.primaryKey.map((c, i) => `$${first + i}::${columnOf(table, c).type}[]`)
  if (plan.primaryKey.length === 1) return `${alias}.${quoteIdent(plan.primaryKey[0] as string)} = ANY(${casts[0]})`
  const columns = plan.primaryKey.map((c) => `${alias}.${quoteIdent(c)}`).join(", ")
  return `(${columns}) IN (SELECT * FROM unnest(${casts.join(", ")}))`
}

/** Rows that are documents at all: not soft-deleted. A true boolean, or any non-null value of another type, marks a row deleted. */
export const rowFilter = (plan: IndexPlan, table: TableInfo, alias: string): string => {
  if (plan.softDelete === undefined) return "TRUE"
  const column = columnOf(table, plan.softDelete.column)
  const ref = `${alias}.${quoteIdent(column.name)}`
  return column.typeName === "bool" ? `${ref} IS NOT TRUE` : `${ref} IS NULL`
}

/** One field's JSON value expression in canonical form. */
const valueExpression = (field: PlannedField, column: ColumnInfo, alias: string): string => {
  const ref = `${alias}.${quoteIdent(column.name)}`
  const encoded = (() => {
    switch (column.typeName) {
      case "timestamptz":
        return `to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
      case "timestamp":
        return `to_char(${ref}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`
      case "time":
        return `to_char(DATE '2000-01-01' + ${ref}, 'HH24:MI:SS.US')`
      case "date":
        return `to_char(${ref}, 'YYYY-MM-DD')`
      case "bytea":
        // encode() wraps base64 at 76 characters; the document wants one string.
        return `translate(encode(${ref}, 'base64'), E'\\n', '')`
      case "money":
        return `${ref}::numeric`
      case "bool":
      case "int2":
      case "int4":
      case "int8":
      case "float4":
      case "float8":
      case "numeric":
      case "json":
      case "jsonb":
        return ref
      default:
        // text family, uuid, enums, citext: their text form.
        return `${ref}::text`
    }
  })()
  return field.transforms.reduce(
    (expr, transform) => (transform === "lowercase" ? `lower(${expr})` : `btrim(${expr})`),
    encoded
  )
}

export interface DocumentStatement {
  readonly sql: string
  /** Parameters after the key arrays (defaults), in order. */
  readonly constants: ReadonlyArray<string>
}

/**
 * `SELECT k0…, doc FROM root WHERE key IN (…) AND <row filter>`. A requested key with no
 * row is a tombstone. `json_build_object` takes at most 100 arguments, so wider documents
 * are concatenated from 50-field chunks as jsonb.
 */
export const documentStatement = (plan: IndexPlan, table: TableInfo): DocumentStatement => {
  const constants: Array<string> = []
  const keyParams = plan.primaryKey.length
  const pairs = plan.fields.map((field) => {
    const column = columnOf(table, field.column)
    let value = valueExpression(field, column, "r")
    if (field.default !== undefined) {
      constants.push(JSON.stringify(field.default))
      value = `coalesce(to_json(${value}), $${keyParams + constants.length}::json)`
    }
    return `${quoteLiteral(field.name)}, ${value}`
  })
  const chunks: Array<Array<string>> = []
  for (let i = 0; i < pairs.length; i += 50) chunks.push(pairs.slice(i, i + 50))
  const doc = chunks.length <= 1
    ? `json_build_object(${pairs.join(", ")})::text`
    : chunks.map((chunk) => `jsonb_build_object(${chunk.join(", ")})`).join(" || ") + "::text"
  const sql = `SELECT ${keySelect(plan, "r")}, ${doc} AS doc
  FROM ${qualifiedName(plan)} AS r
 WHERE ${keyIn(plan, table, "r", 1)} AND ${rowFilter(plan, table, "r")}`
  return { sql, constants }
}

/** Root keys strictly after a cursor (`$1…$n`), in key order, `limit` as the last parameter. Soft-deleted rows are skipped. */
export const snapshotStatement = (plan: IndexPlan, table: TableInfo, withCursor: boolean): string => {
  const columns = plan.primaryKey.map((c) => `r.${quoteIdent(c)}`)
  const cursor = plan.primaryKey.map((c, i) => `$${i + 1}::${columnOf(table, c).type}`)
  const after = withCursor ? `(${columns.join(", ")}) > (${cursor.join(", ")})` : "TRUE"
  const limitParam = withCursor ? plan.primaryKey.length + 1 : 1
  return `SELECT ${keySelect(plan, "r")}
  FROM ${qualifiedName(plan)} AS r
 WHERE ${after} AND ${rowFilter(plan, table, "r")}
 ORDER BY ${columns.join(", ")}
 LIMIT $${limitParam}`
}
