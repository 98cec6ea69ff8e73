/**
 * From a validated index config to its plan (IndexPlan.ts): every default applied —
 * columns named (snake_case of the field name, or the name itself with
 * `columnNames: "field"`), keys as lists, related schemas "public",
 * orderBy directions "asc", filters in their planned form, `softDelete.field` resolved to
 * its column — and the content hash over everything that shapes the document and its
 * mapping (the whole plan except `name`, `enabled`, `onError`).
 */
import type { AggregateField, Field, Filter, IndexConfig, JoinField, Key, OrderBy, ScalarField, Through } from "../config/model.js"
import { contentHash } from "./contentHash.js"
import type { FieldPlan, IndexPlan, PlannedFilter, SoftDeletePlan, TableRef, Through as ThroughPlan } from "./IndexPlan.js"
import { snakeCase } from "./IndexPlan.js"

const keyList = (key: Key): ReadonlyArray<string> => (typeof key === "string" ? [key] : [...key])

const tableRef = (table: string, schema: string | undefined): TableRef => ({ schema: schema ?? "public", table })

export const planFilter = (filter: Filter): PlannedFilter => {
  if (!("op" in filter)) return { _tag: "Raw", sql: filter.raw }
  switch (filter.op) {
    case "isNull":
    case "isNotNull":
      return { _tag: "Null", column: filter.column, op: filter.op }
    case "in":
    case "notIn":
      return { _tag: "In", column: filter.column, op: filter.op, values: [...filter.value] }
    case "between": {
      // validate.ts guarantees exactly two values.
      const [low = "", high = ""] = filter.value
      return { _tag: "Between", column: filter.column, low, high }
    }
    default:
      return { _tag: "Compare", column: filter.column, op: filter.op, value: filter.value }
  }
}

const planFilters = (filters: ReadonlyArray<Filter> | undefined): ReadonlyArray<PlannedFilter> => (filters ?? []).map(planFilter)

const planOrderBy = (orderBy: ReadonlyArray<OrderBy> | undefined) =>
  (orderBy ?? []).map((o) => ({ column: o.column, direction: o.direction ?? ("asc" as const) }))

const planThrough = (through: Through): ThroughPlan => ({
  table: tableRef(through.table, through.schema),
  leftKey: keyList(through.leftKey),
  rightKey: keyList(through.rightKey)
})

/** The column a field names none of reads: `columnNames` of the index. */
type ColumnOf = (field: string) => string

const planScalar = (name: string, field: ScalarField, columnOf: ColumnOf): FieldPlan => ({
  _tag: "Scalar",
  name,
  kind: field.kind,
  column: field.column ?? columnOf(name),
  required: field.required ?? false,
  transforms: field.transforms ?? [],
  default: field.default,
  variants: field.variants,
  options: field.options
})

const planJoin = (name: string, field: JoinField, columnOf: ColumnOf): FieldPlan => ({
  _tag: "Join",
  name,
  relation: field.kind,
  table: tableRef(field.table, field.schema),
  primaryKey: keyList(field.primaryKey),
  column: field.kind === "belongsTo" ? keyList(field.column) : undefined,
  foreignKey: field.kind === "hasOne" || field.kind === "hasMany" ? keyList(field.foreignKey) : undefined,
  through: field.kind === "manyToMany" ? planThrough(field.through) : undefined,
  filters: planFilters(field.filters),
  orderBy: field.kind === "belongsTo" ? [] : planOrderBy(field.orderBy),
  limit: field.kind === "hasMany" || field.kind === "manyToMany" ? field.limit : undefined,
  required: field.kind === "belongsTo" || field.kind === "hasOne" ? (field.required ?? false) : false,
  fields: planFields(field.fields, columnOf),
  options: field.options
})

const planAggregate = (name: string, field: AggregateField): FieldPlan => ({
  _tag: "Aggregate",
  name,
  fn: field.kind,
  table: tableRef(field.table, field.schema),
  primaryKey: field.kind === "ids" && field.primaryKey !== undefined ? keyList(field.primaryKey) : undefined,
  foreignKey: field.foreignKey === undefined ? undefined : keyList(field.foreignKey),
  through: field.through === undefined ? undefined : planThrough(field.through),
  column: field.kind === "count" || field.kind === "ids" ? undefined : field.column,
  valueType: field.kind === "sum" || field.kind === "min" || field.kind === "max" ? field.valueType : undefined,
  elementType: field.kind === "ids" ? field.elementType : undefined,
  filters: planFilters(field.filters),
  options: field.options
})

const planField = (name: string, field: Field, columnOf: ColumnOf): FieldPlan => {
  switch (field.kind) {
    case "object":
      return { _tag: "Object", name, fields: planFields(field.fields, columnOf), options: field.options }
    case "map":
      return {
        _tag: "Map",
        name,
        column: field.column ?? columnOf(name),
        values: field.values,
        required: field.required ?? false,
        options: field.options
      }
    case "geo":
      return {
        _tag: "Geo",
        name,
        // validate.ts guarantees `column` xor both `lat` and `lon`.
        source:
          field.column !== undefined
            ? { _tag: "Column", column: field.column }
            : { _tag: "LatLon", lat: field.lat ?? "lat", lon: field.lon ?? "lon" },
        required: field.required ?? false,
        options: field.options
      }
    case "constant":
      return { _tag: "Constant", name, value: field.value, options: field.options }
    case "custom":
      return {
        _tag: "Custom",
        name,
        column: field.column ?? columnOf(name),
        required: field.required ?? false,
        postgres: field.postgres,
        mapping: typeof field.opensearch === "string" ? { type: field.opensearch } : field.opensearch,
        options: field.options
      }
    case "belongsTo":
    case "hasOne":
    case "hasMany":
    case "manyToMany":
      return planJoin(name, field, columnOf)
    case "count":
    case "sum":
    case "min":
    case "max":
    case "avg":
    case "ids":
      return planAggregate(name, field)
    default:
      return planScalar(name, field, columnOf)
  }
}

function planFields(fields: { readonly [name: string]: Field }, columnOf: ColumnOf): ReadonlyArray<FieldPlan> {
  return Object.entries(fields).map(([name, field]) => planField(name, field, columnOf))
}

const planSoftDelete = (config: IndexConfig, columnOf: ColumnOf): SoftDeletePlan | undefined => {
  const softDelete = config.softDelete
  if (softDelete === undefined) return undefined
  // validate.ts guarantees `column` xor `field`, the latter naming a root scalar field.
  const fieldColumn = (name: string): string => {
    const field = config.fields[name]
    return field !== undefined && "column" in field && typeof field.column === "string" ? field.column : columnOf(name)
  }
  return { column: softDelete.column ?? fieldColumn(softDelete.field ?? ""), when: planFilters(softDelete.when) }
}

export const planIndex = (name: string, config: IndexConfig, globalOnError: "stop" | "skip"): IndexPlan => {
  const columnOf: ColumnOf = config.columnNames === "field" ? (field) => field : snakeCase
  const shape = {
    schema: config.schema,
    table: config.table,
    qualifiedTable: `${config.schema}.${config.table}`,
    primaryKey: keyList(config.primaryKey),
    softDelete: planSoftDelete(config, columnOf),
    filters: planFilters(config.filters),
    fields: planFields(config.fields, columnOf)
  }
  return {
    name,
    ...shape,
    enabled: config.enabled,
    onError: config.onError ?? globalOnError,
    hash: contentHash(shape)
  }
}
