/**
 * Why a key is wrong for the field kind it was given to, where "unknown key" would not
 * help: a join given another verb's key ("hasMany takes foreignKey …, not column"), an
 * option a kind refuses (`required` on a to-many join). Attached to each field schema as
 * a `KeyHints` annotation; issues.ts uses the message in place of "unknown key".
 */
import { Predicate } from "effect"
import type { KeyHint, KeyHints } from "./issues.js"
import { KeyHintId } from "./issues.js"
import type { FieldKind } from "./model.js"

interface Context {
  readonly kind: FieldKind
  /** The related table the field reads (joins, aggregates). */
  readonly table: string
  /** The table of the row the field belongs to: the index's, or the enclosing join's. */
  readonly parent: string
}

/** The nearest enclosing index or join; an object field reads the same row, so it is skipped. */
const parentTable = (enclosing: ReadonlyArray<unknown>): string => {
  for (let i = enclosing.length - 1; i >= 0; i--) {
    const value = enclosing[i]
    if (Predicate.isRecord(value) && typeof value.table === "string" && "fields" in value) return value.table
  }
  return "the parent table"
}

type JoinKind = "belongsTo" | "hasOne" | "hasMany" | "manyToMany"
type AggregateKind = "count" | "sum" | "min" | "max" | "avg" | "ids"

const JOIN_KEY: Record<JoinKind, string> = {
  belongsTo: "column",
  hasOne: "foreignKey",
  hasMany: "foreignKey",
  manyToMany: "through"
}

const rightKey = (kind: JoinKind | AggregateKind, c: Context): string => {
  switch (kind) {
    case "belongsTo":
      return `column (the column on ${c.parent} pointing at the primaryKey of ${c.table})`
    case "hasOne":
    case "hasMany":
      return `foreignKey (the column on ${c.table} pointing back at ${c.parent})`
    case "manyToMany":
      return `through: { table, leftKey, rightKey } (the junction table linking ${c.parent} and ${c.table})`
    default:
      return `foreignKey (the column on ${c.table} pointing back at ${c.parent}) or through (a junction table)`
  }
}

const isJoin = (kind: FieldKind): kind is JoinKind => kind in JOIN_KEY
const AGGREGATES: ReadonlySet<FieldKind> = new Set(["count", "sum", "min", "max", "avg", "ids"])
const isAggregate = (kind: FieldKind): kind is AggregateKind => AGGREGATES.has(kind)

const LINK_KEYS: ReadonlySet<string> = new Set(["column", "foreignKey", "through", "leftKey", "rightKey"])

/** Another verb's key on a join: name the key this verb takes instead. */
const joinKeyHint = (kind: JoinKind, key: string, c: Context): KeyHint | undefined => {
  const right = JOIN_KEY[kind]
  if (key === right || !LINK_KEYS.has(key)) return undefined
  if (kind === "manyToMany" && (key === "leftKey" || key === "rightKey")) {
    return { message: `${key} belongs inside through: { table, leftKey, rightKey }`, insteadOf: right }
  }
  const advice = key === "through" ? "; a junction table needs t.manyToMany" : ""
  return { message: `${kind} takes ${rightKey(kind, c)}, not ${key}${advice}`, insteadOf: right }
}

/** Options a join refuses. */
const joinOptionHint = (kind: JoinKind, key: string, c: Context): string | undefined => {
  if (kind === "belongsTo" && (key === "orderBy" || key === "limit")) {
    return `belongsTo takes no ${key}: it reads the one ${c.table} row its column points at`
  }
  if (kind === "hasOne" && key === "limit") return "hasOne takes no limit: it folds in one row (orderBy picks which); use t.hasMany for a list"
  if ((kind === "hasMany" || kind === "manyToMany") && key === "required") {
    return `${kind} takes no required: a to-many join is never null (no rows render [])`
  }
  return undefined
}

const aggregateHint = (kind: AggregateKind, key: string, c: Context): KeyHint | undefined => {
  switch (key) {
    case "column":
      if (kind === "count") return { message: `count takes no column: it counts the ${c.table} rows reached by ${rightKey(kind, c)}` }
      if (kind === "ids") {
        return { message: `ids takes no column: it collects the key of the ${c.table} rows (primaryKey chooses its columns)` }
      }
      return undefined
    case "leftKey":
    case "rightKey":
      return { message: `${key} belongs inside through: { table, leftKey, rightKey }` }
    case "valueType":
      if (kind === "ids") return { message: `ids takes elementType ("long" | "keyword"), not valueType`, insteadOf: "elementType" }
      return { message: `${kind} takes no valueType: ${kind === "count" ? "a count is always a long" : "an average is always a double"}` }
    case "elementType":
      return { message: `only ids takes elementType${kind === "count" || kind === "avg" ? "" : `; ${kind} takes valueType`}` }
    case "required":
      return {
        message:
          kind === "count" || kind === "ids"
            ? `${kind} takes no required: it is never null`
            : `${kind} takes no required: it is null when no ${c.table} rows match`
      }
    case "orderBy":
    case "limit":
      return { message: `${kind} takes no ${key}: it reads every matching ${c.table} row` }
    case "primaryKey":
      return { message: `${kind} takes no primaryKey (only ids does, to choose the key it collects)` }
    case "fields":
      return { message: `${kind} takes no fields: it renders one value; a join (t.hasMany…) folds related rows in` }
    default:
      return undefined
  }
}

const hint = (kind: FieldKind, key: string, c: Context): KeyHint | undefined => {
  if (isJoin(kind)) {
    const option = joinOptionHint(kind, key, c)
    return option !== undefined ? { message: option } : joinKeyHint(kind, key, c)
  }
  if (isAggregate(kind)) return aggregateHint(kind, key, c)
  if (kind === "object" && (key === "column" || key === "required")) {
    return {
      message:
        key === "column"
          ? "object takes no column: its fields read columns of the same row (a json column is t.map or t.json)"
          : "object takes no required: an object is never null"
    }
  }
  if (key === "fields" && kind !== "map" && kind !== "geo" && kind !== "constant") {
    return { message: `${kind} takes no fields; t.object nests same-row columns, a join (t.belongsTo…) related rows` }
  }
  return undefined
}

/** The annotation for the schema of field kind `kind`. */
export const keyHints = (kind: FieldKind): { readonly [KeyHintId]: KeyHints } => ({
  [KeyHintId]: (key, value, enclosing) =>
    hint(kind, key, {
      kind,
      table: typeof value.table === "string" ? value.table : "the related table",
      parent: parentTable(enclosing)
    })
})
