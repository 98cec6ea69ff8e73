/**
 * An index as the engine, source and sinks use it: the validated config of one logical
 * index with every default applied (columns named, keys as lists, schemas filled in), as a
 * tree of relations — the root table, and under it the tables its joins and aggregates
 * read — plus its content hash. Built by `planIndex` (planIndex.ts).
 */
import type { ScalarKind, Transform } from "../config/model.js"

export interface TableRef {
  readonly schema: string
  readonly table: string
}

export type ComparisonOp = "eq" | "neq" | "lt" | "lte" | "gt" | "gte" | "like" | "ilike"

/** A row predicate; values are bound as parameters cast to the column's type, never inlined. */
export type PlannedFilter =
  | { readonly _tag: "Raw"; readonly sql: string }
  | { readonly _tag: "Null"; readonly column: string; readonly op: "isNull" | "isNotNull" }
  | { readonly _tag: "Compare"; readonly column: string; readonly op: ComparisonOp; readonly value: string | number | boolean }
  | { readonly _tag: "In"; readonly column: string; readonly op: "in" | "notIn"; readonly values: ReadonlyArray<string | number | boolean> }
  | { readonly _tag: "Between"; readonly column: string; readonly low: string | number; readonly high: string | number }

export interface OrderBy {
  readonly column: string
  readonly direction: "asc" | "desc"
}

/** A junction table: `leftKey` points at the parent's key, `rightKey` at the related table's key. */
export interface Through {
  readonly table: TableRef
  readonly leftKey: ReadonlyArray<string>
  readonly rightKey: ReadonlyArray<string>
}

/** A value read from one column of the row the field belongs to. */
export interface ScalarPlan {
  readonly _tag: "Scalar"
  readonly name: string
  readonly kind: ScalarKind
  readonly column: string
  readonly required: boolean
  readonly transforms: ReadonlyArray<Transform>
  readonly default: string | number | boolean | undefined
  readonly variants: ReadonlyArray<string> | undefined
  readonly options: Readonly<Record<string, unknown>> | undefined
}

/** Same-row columns nested under one key; never null. */
export interface ObjectPlan {
  readonly _tag: "Object"
  readonly name: string
  readonly fields: ReadonlyArray<FieldPlan>
  readonly options: Readonly<Record<string, unknown>> | undefined
}

/** A json/jsonb column with open keys whose values share one leaf kind. */
export interface MapPlan {
  readonly _tag: "Map"
  readonly name: string
  readonly column: string
  readonly values: ScalarKind
  readonly required: boolean
  readonly options: Readonly<Record<string, unknown>> | undefined
}

/** A geo_point from two numeric columns, or from one json / text column. */
export interface GeoPlan {
  readonly _tag: "Geo"
  readonly name: string
  readonly source:
    | { readonly _tag: "LatLon"; readonly lat: string; readonly lon: string }
    | { readonly _tag: "Column"; readonly column: string }
  readonly required: boolean
  readonly options: Readonly<Record<string, unknown>> | undefined
}

export interface ConstantPlan {
  readonly _tag: "Constant"
  readonly name: string
  /** JSON-compatible; null allowed. */
  readonly value: unknown
  readonly options: Readonly<Record<string, unknown>> | undefined
}

/** A column of a type flusso has no kind for: its JSON as Postgres renders it, mapped as configured. */
export interface CustomPlan {
  readonly _tag: "Custom"
  readonly name: string
  readonly column: string
  readonly required: boolean
  /** Accepted Postgres types (`typname` or `format_type`). */
  readonly postgres: ReadonlyArray<string>
  /** The OpenSearch mapping property. */
  readonly mapping: Readonly<Record<string, unknown>>
  readonly options: Readonly<Record<string, unknown>> | undefined
}

/**
 * Related rows folded in. The key the verb implies:
 * - belongsTo: `column` on the parent row → the related table's `primaryKey`;
 * - hasOne / hasMany: `foreignKey` on the related table → the parent's primary key;
 * - manyToMany: `through` junction (`leftKey` → parent key, `rightKey` → related key).
 * Key lists have the arity of the key they point at.
 */
export interface JoinPlan {
  readonly _tag: "Join"
  readonly name: string
  readonly relation: "belongsTo" | "hasOne" | "hasMany" | "manyToMany"
  readonly table: TableRef
  readonly primaryKey: ReadonlyArray<string>
  readonly column: ReadonlyArray<string> | undefined
  readonly foreignKey: ReadonlyArray<string> | undefined
  readonly through: Through | undefined
  readonly filters: ReadonlyArray<PlannedFilter>
  readonly orderBy: ReadonlyArray<OrderBy>
  readonly limit: number | undefined
  /** To-one joins only: the object is never null. */
  readonly required: boolean
  readonly fields: ReadonlyArray<FieldPlan>
  readonly options: Readonly<Record<string, unknown>> | undefined
}

/** An aggregate over related rows, reached by `foreignKey` xor `through`. */
export interface AggregatePlan {
  readonly _tag: "Aggregate"
  readonly name: string
  readonly fn: "count" | "sum" | "avg" | "min" | "max" | "ids"
  readonly table: TableRef
  /** The related table's key: what `ids` collects; undefined = the catalog's primary key. */
  readonly primaryKey: ReadonlyArray<string> | undefined
  readonly foreignKey: ReadonlyArray<string> | undefined
  readonly through: Through | undefined
  /** sum/avg/min/max. */
  readonly column: string | undefined
  /** sum/min/max: the value's kind. */
  readonly valueType: ScalarKind | undefined
  /** ids: element type. */
  readonly elementType: "long" | "keyword" | undefined
  readonly filters: ReadonlyArray<PlannedFilter>
  readonly options: Readonly<Record<string, unknown>> | undefined
}

export type FieldPlan = ScalarPlan | ObjectPlan | MapPlan | GeoPlan | ConstantPlan | CustomPlan | JoinPlan | AggregatePlan

/** When a root row is soft-deleted: a truthy marker column, or — with `when` — all of those filters holding. */
export interface SoftDeletePlan {
  /** The marker column (for `{ field }`, the column of that scalar field). */
  readonly column: string
  readonly when: ReadonlyArray<PlannedFilter>
}

export interface IndexPlan {
  /** Logical index name (the config key). */
  readonly name: string
  readonly schema: string
  readonly table: string
  /** `schema.table`, the form changes are matched on. */
  readonly qualifiedTable: string
  readonly primaryKey: ReadonlyArray<string>
  readonly softDelete: SoftDeletePlan | undefined
  /** Root filters: which rows become documents at all. */
  readonly filters: ReadonlyArray<PlannedFilter>
  readonly fields: ReadonlyArray<FieldPlan>
  readonly enabled: boolean
  readonly onError: "stop" | "skip"
  /** 8 hex chars naming the generation family (see schema.md). */
  readonly hash: string
}

/** snake_case of a field name: the default column. */
export const snakeCase = (name: string): string =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toLowerCase()

export const qualify = (ref: TableRef): string => `${ref.schema}.${ref.table}`
