/**
 * PostgreSQL identifiers as SQL text. Statements flusso runs quote every name
 * (`quoteIdent`): a table named `User` or `order` is then what it is. SQL shown to a
 * person — a fix line — quotes only where PostgreSQL needs it (`sqlName`), as
 * `quote_ident()` does, so the common case stays readable and the rest still runs.
 */
import type { TableRef } from "../../schema/IndexPlan.js"

export const quoteIdent = (name: string): string => `"${name.replaceAll("\"", "\"\"")}"`

/** Keywords that cannot name a table or column unquoted (PostgreSQL's reserved and type/function-only ones). */
const RESERVED = new Set(
  ("all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column " +
    "concurrently constraint create cross current_catalog current_date current_role current_schema current_time " +
    "current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze from " +
    "full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit localtime " +
    "localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references returning right " +
    "select session_user similar some symmetric system_user table tablesample then to trailing true union unique user using " +
    "variadic verbose when where window with").split(" ")
)

/** A name as a person would type it in SQL: bare when PostgreSQL reads it back unchanged, quoted otherwise. */
export const sqlName = (name: string): string => (/^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : quoteIdent(name))

/** `schema.table` for a person's SQL. */
export const sqlTable = (ref: TableRef): string => `${sqlName(ref.schema)}.${sqlName(ref.table)}`

/** The `TableRef` of a `schema.table` key (the first dot separates: a schema name with a dot is not supported there). */
export const refOf = (qualified: string): TableRef => {
  const dot = qualified.indexOf(".")
  return dot < 0 ? { schema: "public", table: qualified } : { schema: qualified.slice(0, dot), table: qualified.slice(dot + 1) }
}
