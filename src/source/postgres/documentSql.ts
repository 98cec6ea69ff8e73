/**
 * The SQL that reads an index from Postgres: the root-key predicate, the row filter (soft
 * delete, root filters), the snapshot key enumeration and the document statement. A
 * whole document — joins and aggregates at any depth — is assembled by Postgres as JSON
 * text, one statement per batch of ids, with correlated subqueries; every value the
 * statement needs is a bound parameter cast to the column's catalog type.
 *
 * Canonical values (schema.md): timestamptz as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, timestamp
 * the same without zone, date `YYYY-MM-DD`, int8 and numeric as exact JSON numbers,
 * bytea base64 — identical for backfill and live because both run this statement.
 * To-many joins are ordered by `orderBy`, then by the related key, so rebuilding a
 * document always yields the same bytes.
 */
import type { FieldPlan, IndexPlan, JoinPlan, AggregatePlan, PlannedFilter, TableRef } from "../../schema/IndexPlan.js"
import { qualify } from "../../schema/IndexPlan.js"
import type { ColumnInfo, TableInfo } from "./catalog.js"
import { quoteIdent } from "./identifiers.js"

export { quoteIdent }

const quoteLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`

export const tableName = (ref: TableRef): string => `${quoteIdent(ref.schema)}.${quoteIdent(ref.table)}`

/** Bound parameters of one statement; the first `reserved` are the key arrays. */
class Params {
  readonly values: Array<string> = []
  constructor(readonly reserved: number) {}
  add(value: string): string {
    this.values.push(value)
    return `$${this.reserved + this.values.length}`
  }
}

/** The catalog, for column types; the start-up check guarantees every configured name exists. */
export class Catalog {
  constructor(readonly tables: ReadonlyMap<string, TableInfo>) {}
  table(ref: TableRef): TableInfo {
    const info = this.tables.get(qualify(ref))
    if (info === undefined) throw new Error(`table ${qualify(ref)} missing from catalog`)
    return info
  }
  column(ref: TableRef, name: string): ColumnInfo {
    const column = this.table(ref).columns.get(name)
    if (column === undefined) throw new Error(`column ${qualify(ref)}.${name} missing from catalog`)
    return column
  }
  /** A related table's key: as configured, else its primary key. */
  keyOf(ref: TableRef, configured: ReadonlyArray<string> | undefined): ReadonlyArray<string> {
    return configured ?? this.table(ref).primaryKey
  }
}

export const col = (alias: string, column: string) => `${alias}.${quoteIdent(column)}`

/** `(a.x, a.y) = (b.p, b.q)` for key lists of equal arity. */
const keysEqual = (left: string, leftColumns: ReadonlyArray<string>, right: string, rightColumns: ReadonlyArray<string>) =>
  leftColumns.map((c, i) => `${col(left, c)} = ${col(right, rightColumns[i] ?? c)}`).join(" AND ")

/** The key columns as canonical text, aliased k0, k1, … */
export const keySelect = (plan: IndexPlan, alias: string): string =>
  plan.primaryKey.map((c, i) => `${col(alias, c)}::text AS k${i}`).join(", ")

/**
 * `alias` holds one of the keys given as parallel text arrays in parameters
 * `$first…`. Composite keys go through `unnest` so one statement serves any batch size.
 */
export const keyIn = (columns: ReadonlyArray<string>, types: ReadonlyArray<string>, alias: string, first: number): string => {
  const casts = columns.map((_, i) => `$${first + i}::${types[i]}[]`)
  if (columns.length === 1) return `${col(alias, columns[0] as string)} = ANY(${casts[0]})`
  return `(${columns.map((c) => col(alias, c)).join(", ")}) IN (SELECT * FROM unnest(${casts.join(", ")}))`
}

const filterSql = (filter: PlannedFilter, alias: string, table: TableRef, catalog: Catalog, params: Params): string => {
  switch (filter._tag) {
    case "Raw":
      return `(${filter.sql})`
    case "Null":
      return `${col(alias, filter.column)} ${filter.op === "isNull" ? "IS NULL" : "IS NOT NULL"}`
    case "Compare": {
      const type = catalog.column(table, filter.column).type
      const value = String(filter.value)
      switch (filter.op) {
        case "like":
          return `${col(alias, filter.column)}::text LIKE ${params.add(value)}::text`
        case "ilike":
          return `${col(alias, filter.column)}::text ILIKE ${params.add(value)}::text`
        default: {
          const op = { eq: "=", neq: "<>", lt: "<", lte: "<=", gt: ">", gte: ">=" }[filter.op]
          return `${col(alias, filter.column)} ${op} ${params.add(value)}::${type}`
        }
      }
    }
    case "In": {
      const type = catalog.column(table, filter.column).type
      const list = `${params.add(toArrayLiteral(filter.values.map(String)))}::${type}[]`
      return filter.op === "in" ? `${col(alias, filter.column)} = ANY(${list})` : `NOT (${col(alias, filter.column)} = ANY(${list}))`
    }
    case "Between": {
      const type = catalog.column(table, filter.column).type
      return `${col(alias, filter.column)} BETWEEN ${params.add(String(filter.low))}::${type} AND ${params.add(String(filter.high))}::${type}`
    }
  }
}

/** A Postgres array literal of text values (parsed by the cast on the server side). */
const toArrayLiteral = (values: ReadonlyArray<string>): string =>
  `{${values.map((v) => `"${v.replaceAll("\\", "\\\\").replaceAll("\"", "\\\"")}"`).join(",")}}`

const allOf = (conditions: ReadonlyArray<string>): string => (conditions.length === 0 ? "TRUE" : conditions.join(" AND "))

/** Rows that are documents at all: not soft-deleted, and inside the root filters. */
export const rowFilter = (plan: IndexPlan, catalog: Catalog, alias: string, params: Params): string => {
  const root = { schema: plan.schema, table: plan.table }
  const conditions = plan.filters.map((f) => filterSql(f, alias, root, catalog, params))
  const soft = plan.softDelete
  if (soft !== undefined) {
    if (soft.when.length > 0) {
      conditions.push(`NOT coalesce((${allOf(soft.when.map((f) => filterSql(f, alias, root, catalog, params)))}), false)`)
    } else {
      const marker = catalog.column(root, soft.column)
      conditions.push(marker.typeName === "bool" ? `${col(alias, soft.column)} IS NOT TRUE` : `${col(alias, soft.column)} IS NULL`)
    }
  }
  return allOf(conditions)
}

/** A column's JSON value in canonical form. */
const encode = (ref: string, column: ColumnInfo): string => {
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
}

/** The statement's context while descending the tree. */
interface Scope {
  readonly catalog: Catalog
  readonly params: Params
  /** Fresh table aliases. */
  readonly alias: () => string
}

/** `json_build_object` takes at most 100 arguments: wider objects are concatenated from 50-pair chunks as jsonb. */
const objectOf = (pairs: ReadonlyArray<string>): string => {
  if (pairs.length <= 50) return `json_build_object(${pairs.join(", ")})`
  const chunks: Array<string> = []
  for (let i = 0; i < pairs.length; i += 50) chunks.push(`jsonb_build_object(${pairs.slice(i, i + 50).join(", ")})`)
  return `(${chunks.join(" || ")})::json`
}

/** The JSON object for the fields of one row of `table` (keyed by `key`) at `alias`. */
const rowObject = (fields: ReadonlyArray<FieldPlan>, table: TableRef, key: ReadonlyArray<string>, alias: string, scope: Scope): string =>
  objectOf(fields.map((field) => `${quoteLiteral(field.name)}, ${fieldValue(field, table, key, alias, scope)}`))

/** Where the rows of a join or aggregate come from, correlated to the parent row at `parent`. */
const relatedRows = (
  node: JoinPlan | AggregatePlan,
  parentKey: ReadonlyArray<string>,
  parent: string,
  alias: string,
  scope: Scope
): string => {
  const relatedKey = scope.catalog.keyOf(node.table, node.primaryKey)
  const filters = node.filters.map((f) => filterSql(f, alias, node.table, scope.catalog, scope.params))
  if (node._tag === "Join" && node.relation === "belongsTo") {
    return `FROM ${tableName(node.table)} AS ${alias} WHERE ${allOf([keysEqual(alias, relatedKey, parent, node.column ?? []), ...filters])}`
  }
  if (node.through !== undefined) {
    const junction = scope.alias()
    return `FROM ${tableName(node.through.table)} AS ${junction} JOIN ${tableName(node.table)} AS ${alias} ON ${keysEqual(alias, relatedKey, junction, node.through.rightKey)}
      WHERE ${allOf([keysEqual(junction, node.through.leftKey, parent, parentKey), ...filters])}`
  }
  return `FROM ${tableName(node.table)} AS ${alias} WHERE ${allOf([keysEqual(alias, node.foreignKey ?? [], parent, parentKey), ...filters])}`
}

const orderOf = (node: JoinPlan, alias: string, scope: Scope): string =>
  [
    ...node.orderBy.map((o) => `${col(alias, o.column)} ${o.direction === "desc" ? "DESC NULLS LAST" : "ASC NULLS LAST"}`),
    ...scope.catalog.keyOf(node.table, node.primaryKey).map((c) => `${col(alias, c)} ASC`)
  ].join(", ")

const joinValue = (node: JoinPlan, key: ReadonlyArray<string>, parent: string, scope: Scope): string => {
  const alias = scope.alias()
  const rows = relatedRows(node, key, parent, alias, scope)
  const object = rowObject(node.fields, node.table, scope.catalog.keyOf(node.table, node.primaryKey), alias, scope)
  switch (node.relation) {
    case "belongsTo":
      return `(SELECT ${object} ${rows} LIMIT 1)`
    case "hasOne":
      return `(SELECT ${object} ${rows} ORDER BY ${orderOf(node, alias, scope)} LIMIT 1)`
    case "hasMany":
    case "manyToMany": {
      const limit = node.limit === undefined ? "" : ` LIMIT ${node.limit}`
      return `coalesce((SELECT json_agg(s.d ORDER BY s.n) FROM (SELECT ${object} AS d, row_number() OVER (ORDER BY ${orderOf(node, alias, scope)}) AS n ${rows} ORDER BY n${limit}) AS s), '[]'::json)`
    }
  }
}

const aggregateValue = (node: AggregatePlan, key: ReadonlyArray<string>, parent: string, scope: Scope): string => {
  const alias = scope.alias()
  const rows = relatedRows(node, key, parent, alias, scope)
  const column = node.column === undefined ? undefined : scope.catalog.column(node.table, node.column)
  const ref = node.column === undefined ? "" : col(alias, node.column)
  switch (node.fn) {
    case "count":
      return `(SELECT count(*) ${rows})`
    case "avg":
      return `(SELECT avg(${ref})::float8 ${rows})`
    case "sum":
      return `(SELECT sum(${ref}) ${rows})`
    case "min":
    case "max":
      return column === undefined ? "NULL" : `(SELECT ${encode(`${node.fn}(${ref})`, column)} ${rows})`
    case "ids": {
      const relatedKey = scope.catalog.keyOf(node.table, node.primaryKey)
      const value = relatedKey.length === 1
        ? node.elementType === "long" ? col(alias, relatedKey[0] as string) : `${col(alias, relatedKey[0] as string)}::text`
        : `json_build_array(${relatedKey.map((c) => `${col(alias, c)}::text`).join(", ")})::text`
      const order = relatedKey.map((c) => col(alias, c)).join(", ")
      return `coalesce((SELECT json_agg(${value} ORDER BY ${order}) ${rows}), '[]'::json)`
    }
  }
}

const fieldValue = (field: FieldPlan, table: TableRef, key: ReadonlyArray<string>, alias: string, scope: Scope): string => {
  switch (field._tag) {
    case "Scalar": {
      const column = scope.catalog.column(table, field.column)
      let value = field.transforms.reduce(
        (expr, transform) => (transform === "lowercase" ? `lower(${expr})` : `btrim(${expr})`),
        encode(col(alias, field.column), column)
      )
      if (field.default !== undefined) value = `coalesce(to_json(${value}), ${scope.params.add(JSON.stringify(field.default))}::json)`
      return value
    }
    case "Object":
      return rowObject(field.fields, table, key, alias, scope)
    case "Map":
      return col(alias, field.column)
    case "Geo":
      if (field.source._tag === "LatLon") {
        const lat = col(alias, field.source.lat)
        const lon = col(alias, field.source.lon)
        return `CASE WHEN ${lat} IS NULL OR ${lon} IS NULL THEN NULL ELSE json_build_object('lat', ${lat}, 'lon', ${lon}) END`
      }
      // OpenSearch reads a geo_point from {lat, lon}, [lon, lat] or "lat,lon" as they are.
      return col(alias, field.source.column)
    case "Constant":
      return `${scope.params.add(JSON.stringify(field.value))}::json`
    case "Custom":
      // Postgres' own JSON rendering (its output function): `inet` as "10.0.0.1", not text()'s "10.0.0.1/32".
      return `to_json(${col(alias, field.column)})`
    case "Join":
      return joinValue(field, key, alias, scope)
    case "Aggregate":
      return aggregateValue(field, key, alias, scope)
  }
}

export interface DocumentStatement {
  readonly sql: string
  /** Parameters after the key arrays, in order. */
  readonly constants: ReadonlyArray<string>
}

/**
 * `SELECT k0…, doc[, refs] FROM root WHERE key IN (…) AND <row filter>`: `refs` (a JSON
 * array text) when the index traces related tables. A requested key with no row is a
 * tombstone.
 */
export const documentStatement = (plan: IndexPlan, catalog: Catalog, refs: RefsPlan): DocumentStatement => {
  const params = new Params(plan.primaryKey.length)
  let next = 0
  const scope: Scope = { catalog, params, alias: () => `a${++next}` }
  const root = { schema: plan.schema, table: plan.table }
  const types = plan.primaryKey.map((c) => catalog.column(root, c).type)
  const pairs = plan.fields.map((field) => `${quoteLiteral(field.name)}, ${fieldValue(field, root, plan.primaryKey, "r", scope)}`)
  // The refs travel in a column of their own, beside the document: its text goes to the
  // sink as it is, and the refs to the index's companion.
  const refsValue = refsExpression(plan.fields, plan.primaryKey, "r", scope, refs)
  const refsColumn = refsValue === undefined ? "" : `, to_json(ARRAY(SELECT DISTINCT x FROM unnest(${refsValue}) AS x ORDER BY x))::text AS refs`
  const sql = `SELECT ${keySelect(plan, "r")}, ${objectOf(pairs)}::text AS doc${refsColumn}
  FROM ${tableName(root)} AS r
 WHERE ${keyIn(plan.primaryKey, types, "r", 1)} AND ${rowFilter(plan, catalog, "r", params)}`
  return { sql, constants: params.values }
}

/** Tables whose deleted or moved rows can only be traced to their documents through the refs the documents hold. */
export type RefsPlan = ReadonlySet<string>

/**
 * `ARRAY['schema.table:key', …]` of every row, at any depth, from a table in `refs`, that
 * the document reads or could read (filters are ignored: a superset is safe); undefined
 * when no table needs it. Several fields over the same relation (a join and its
 * aggregates) contribute once.
 */
const refsExpression = (
  fields: ReadonlyArray<FieldPlan>,
  key: ReadonlyArray<string>,
  alias: string,
  scope: Scope,
  refs: RefsPlan
): string | undefined => {
  // Per relation (table and link), the expression with the most reach.
  const parts = new Map<string, { readonly deep: boolean; readonly expr: string }>()
  const collect = (list: ReadonlyArray<FieldPlan>) => {
    for (const field of list) {
      if (field._tag === "Object") collect(field.fields)
      if (field._tag !== "Join" && field._tag !== "Aggregate") continue
      const relatedKey = scope.catalog.keyOf(field.table, field.primaryKey)
      const child = scope.alias()
      const own = refs.has(qualify(field.table))
        ? `ARRAY[${quoteLiteral(`${qualify(field.table)}:`)} || ${refKey(child, relatedKey)}]`
        : undefined
      const deeper = field._tag === "Join" ? refsExpression(field.fields, relatedKey, child, scope, refs) : undefined
      if (own === undefined && deeper === undefined) continue
      const signature = JSON.stringify([qualify(field.table), field.foreignKey, field.through, field._tag === "Join" ? field.column : undefined])
      const known = parts.get(signature)
      if (known !== undefined && (known.deep || deeper === undefined)) continue
      const rows = relatedRows({ ...field, filters: [] }, key, alias, child, scope)
      const expr = `ARRAY(SELECT unnest(${[own, deeper].filter((e) => e !== undefined).join(" || ")}) ${rows})`
      parts.set(signature, { deep: deeper !== undefined, expr })
    }
  }
  collect(fields)
  return parts.size === 0 ? undefined : [...parts.values()].map((p) => p.expr).join(" || ")
}

/** A row's key in the form refs use: the canonical text of a single column, or a JSON array of several. */
export const refKey = (alias: string, columns: ReadonlyArray<string>): string =>
  columns.length === 1
    ? `${col(alias, columns[0] as string)}::text`
    // array_to_json prints no spaces: the same text as JSON.stringify of the key values.
    : `array_to_json(ARRAY[${columns.map((c) => `${col(alias, c)}::text`).join(", ")}])::text`

/**
 * Root keys in key order, `limit` as the last parameter; rows that are not documents are
 * skipped. With `after`, only keys strictly after the cursor (`$1…$n`); with `upTo`, only
 * keys up to that bound (the next n parameters) — a seeding pass ends where it began.
 */
export const snapshotStatement = (
  plan: IndexPlan,
  catalog: Catalog,
  bounds: { readonly after: boolean; readonly upTo: boolean }
): DocumentStatement => {
  const root = { schema: plan.schema, table: plan.table }
  const columns = `(${plan.primaryKey.map((c) => col("r", c)).join(", ")})`
  const arity = plan.primaryKey.length
  const keyParams = (first: number) =>
    `(${plan.primaryKey.map((c, i) => `$${first + i}::${catalog.column(root, c).type}`).join(", ")})`
  const conditions: Array<string> = []
  let next = 1
  if (bounds.after) {
    conditions.push(`${columns} > ${keyParams(next)}`)
    next += arity
  }
  if (bounds.upTo) {
    conditions.push(`${columns} <= ${keyParams(next)}`)
    next += arity
  }
  const params = new Params(next)
  conditions.push(rowFilter(plan, catalog, "r", params))
  const sql = `SELECT ${keySelect(plan, "r")}
  FROM ${tableName(root)} AS r
 WHERE ${conditions.join(" AND ")}
 ORDER BY ${plan.primaryKey.map((c) => col("r", c)).join(", ")}
 LIMIT $${params.reserved}`
  return { sql, constants: params.values }
}

/** The highest root key of the table (every row, document or not), as k0…; no row when it is empty. */
export const lastKeyStatement = (plan: IndexPlan): string => {
  const root = { schema: plan.schema, table: plan.table }
  return `SELECT ${keySelect(plan, "r")}
  FROM ${tableName(root)} AS r
 ORDER BY ${plan.primaryKey.map((c) => `${col("r", c)} DESC NULLS LAST`).join(", ")}
 LIMIT 1`
}
