/**
 * Validation of a config value, whatever file it came from: first that it is plain data
 * (no cycles, BigInts or throwing getters, which a module can export but the schema
 * cannot report), then the `FlussoConfig` schema (unknown keys are errors) and then the
 * rules a schema cannot express well (schema.md "Validation"): options that must suit
 * their field's kind, which of two keys is given, filter arities, and key arities, which
 * depend on the key of the enclosing row.
 */
import { Either, Schema } from "effect"
import { didYouMean, formatParseError, formatPath } from "./issues.js"
import type {
  AggregateField,
  ConstantField,
  Field,
  Filter,
  GeoField,
  IndexConfig,
  JoinField,
  Key,
  ScalarField,
  ScalarKind,
  SoftDelete,
  Through
} from "./model.js"
import { FlussoConfig } from "./model.js"

const decode = Schema.decodeUnknownEither(FlussoConfig, { errors: "all", onExcessProperty: "error" })

// ---------------------------------------------------------------------------------------
// Plain data
// ---------------------------------------------------------------------------------------

type Path = ReadonlyArray<string | number>

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const atPath = (path: Path, issue: string): string => (path.length === 0 ? `the config ${issue}` : `${formatPath(path)}: ${issue}`)

/**
 * The exported value as plain data, each property read exactly once: a getter that throws,
 * a cycle (which would overflow the stack while decoding) and a BigInt (which JSON cannot
 * hold) are issues at their path. Plain objects and lists are copied; other objects (an
 * `env()` reference, a Date) are kept as they are, for the schema to judge, but are
 * searched for the same problems.
 */
const plainData = (input: unknown): Either.Either<unknown, ReadonlyArray<string>> => {
  const issues: Array<string> = []
  const visit = (value: unknown, path: Path, ancestors: ReadonlyArray<{ readonly value: object; readonly path: Path }>): unknown => {
    if (typeof value === "bigint") {
      issues.push(atPath(path, `is a BigInt (${value}n), which a config cannot hold; write it as a number (or a string)`))
      return undefined
    }
    if (typeof value !== "object" || value === null) return value
    const cycle = ancestors.find((ancestor) => ancestor.value === value)
    if (cycle !== undefined) {
      const target = cycle.path.length === 0 ? "the config itself" : formatPath(cycle.path)
      issues.push(atPath(path, `is circular: it refers back to ${target}; a config must be a tree of plain values`))
      return undefined
    }
    const inside = [...ancestors, { value, path }]
    const read = (key: string | number): unknown => {
      try {
        const child: unknown = Reflect.get(value, key)
        return visit(child, [...path, key], inside)
      } catch (error) {
        issues.push(atPath([...path, key], `reading it threw: ${reason(error)}`))
        return undefined
      }
    }
    try {
      if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => read(i))
      const keys = Object.keys(value)
      const prototype: unknown = Object.getPrototypeOf(value)
      if (prototype !== Object.prototype && prototype !== null) {
        for (const key of keys) read(key)
        return value
      }
      const copy: Record<string, unknown> = {}
      for (const key of keys) copy[key] = read(key)
      return copy
    } catch (error) {
      // A proxy whose traps throw.
      issues.push(atPath(path, `cannot be read: ${reason(error)}`))
      return undefined
    }
  }
  const value = visit(input, [], [])
  return issues.length === 0 ? Either.right(value) : Either.left(issues)
}

const TEXTUAL: ReadonlySet<ScalarKind> = new Set(["text", "identifier", "keyword", "enum", "uuid"])
const INTEGRAL: ReadonlySet<ScalarKind> = new Set(["short", "integer", "long"])
const NUMERIC: ReadonlySet<ScalarKind> = new Set([...INTEGRAL, "float", "double", "decimal"])
/** What a map's values may be: kinds with one plain JSON value each. */
const LEAF: ReadonlySet<ScalarKind> = new Set([...TEXTUAL, ...NUMERIC, "date", "timestamp"])
/** What `sum` adds up, and what `min` / `max` can order. */
const SUMMABLE: ReadonlySet<ScalarKind> = NUMERIC
const ORDERABLE: ReadonlySet<ScalarKind> = new Set([...NUMERIC, "date", "timestamp", "text", "identifier", "keyword", "enum"])

const list = (kinds: ReadonlySet<string>): string => [...kinds].join(", ")

const duplicates = (values: ReadonlyArray<string>): Array<string> => [
  ...new Set(values.filter((value, i) => values.indexOf(value) !== i))
]

const columnsOf = (key: Key): ReadonlyArray<string> => (typeof key === "string" ? [key] : key)

/** The row a field belongs to: the index's root row, or the related row of the enclosing join. */
interface Row {
  readonly table: string
  /** Its key, as configured; undefined = unknown here (the catalog's primary key). */
  readonly key: ReadonlyArray<string>
}

const keyIssues = (at: string, key: Key): Array<string> =>
  duplicates(columnsOf(key)).map((column) => `${at}: column "${column}" is listed twice`)

/** A key pointing at another key must have as many columns as the key it points at. */
const arityIssues = (at: string, key: Key, target: ReadonlyArray<string>, targetName: string): Array<string> => {
  const columns = columnsOf(key)
  return columns.length === target.length
    ? keyIssues(at, key)
    : [
        `${at}: has ${columns.length} column${columns.length === 1 ? "" : "s"} (${columns.join(", ")}) but ` +
          `${targetName} has ${target.length} (${target.join(", ")})`
      ]
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

const filterIssues = (at: string, filter: Filter): Array<string> => {
  if (!("op" in filter)) return []
  switch (filter.op) {
    case "in":
    case "notIn":
      return filter.value.length === 0 ? [`${at}.value: ${filter.op} needs a non-empty list of values`] : []
    case "between":
      return filter.value.length === 2
        ? []
        : [`${at}.value: between takes exactly two values [low, high], got ${filter.value.length}`]
    case "like":
    case "ilike":
      return typeof filter.value === "string" ? [] : [`${at}.value: ${filter.op} takes a string pattern`]
    default:
      return []
  }
}

const filtersIssues = (at: string, filters: ReadonlyArray<Filter> | undefined): Array<string> =>
  (filters ?? []).flatMap((filter, i) => filterIssues(`${at}[${i}]`, filter))

// ---------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------

/** Why `field.default` cannot stand in for null, if it cannot. */
const defaultProblem = (field: ScalarField, value: string | number | boolean): string | undefined => {
  if (field.kind === "json") return undefined
  if (field.kind === "boolean") return typeof value === "boolean" ? undefined : "must be a boolean"
  if (NUMERIC.has(field.kind)) {
    if (typeof value !== "number" || !Number.isFinite(value)) return `must be a finite number, as the field is ${field.kind}`
    return INTEGRAL.has(field.kind) && !Number.isInteger(value) ? `must be an integer, as the field is ${field.kind}` : undefined
  }
  if (typeof value !== "string") return `must be a string, as the field is ${field.kind}`
  return field.variants !== undefined && !field.variants.includes(value)
    ? `must be one of the variants ${field.variants.map((v) => JSON.stringify(v)).join(", ")}`
    : undefined
}

const scalarIssues = (at: string, field: ScalarField): Array<string> => {
  const issues: Array<string> = []
  const { variants } = field
  if (variants !== undefined) {
    if (field.kind !== "enum") issues.push(`${at}.variants: only enum fields take variants, this field is ${field.kind}`)
    else if (variants.length === 0) issues.push(`${at}.variants: must not be empty`)
    for (const v of duplicates(variants)) issues.push(`${at}.variants: ${JSON.stringify(v)} is listed twice`)
    // The `.sort` normalizer is a mapping char filter: "=>" and line breaks would corrupt its rules.
    variants.forEach((v, i) => {
      if (/=>|[\r\n]/.test(v)) issues.push(`${at}.variants[${i}]: must not contain "=>" or a line break`)
    })
  }
  if (field.transforms !== undefined && !TEXTUAL.has(field.kind)) {
    issues.push(`${at}.transforms: only text, identifier, keyword, enum and uuid fields take transforms`)
  }
  const problem = field.default === undefined ? undefined : defaultProblem(field, field.default)
  if (problem !== undefined) issues.push(`${at}.default: ${problem}`)
  return issues
}

const geoIssues = (at: string, field: GeoField): Array<string> => {
  const twoColumns = "lat and lon (two numeric columns) or column (one json or text column)"
  if (field.column !== undefined) {
    return field.lat !== undefined || field.lon !== undefined ? [`${at}: geo takes ${twoColumns}, not both`] : []
  }
  if (field.lat === undefined && field.lon === undefined) return [`${at}: geo needs ${twoColumns}`]
  const missing = field.lat === undefined ? "lat" : field.lon === undefined ? "lon" : undefined
  return missing === undefined ? [] : [`${at}.${missing}: is missing; a point from two columns needs both lat and lon`]
}

/** Values a document can carry as they are. */
const isJson = (value: unknown): boolean => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true
  if (typeof value === "number") return Number.isFinite(value)
  if (Array.isArray(value)) return value.every(isJson)
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).every(isJson)
  }
  return false
}

/** Mapping options go to OpenSearch (and into the lock) as JSON; undefined keys are left out there. */
const isJsonOptions = (options: { readonly [key: string]: unknown }): boolean =>
  Object.values(options).every((value) => value === undefined || isJson(value))

const optionsIssues = (at: string, field: Field): Array<string> => {
  const json = "null, booleans, finite numbers, strings, and lists and plain objects of those"
  const options = field.options === undefined || isJsonOptions(field.options) ? [] : [`${at}.options: must be JSON (${json})`]
  const opensearch =
    field.kind === "custom" && typeof field.opensearch !== "string" && !isJsonOptions(field.opensearch)
      ? [`${at}.opensearch: must be a type name or JSON (${json})`]
      : []
  return [...options, ...opensearch]
}

const constantIssues = (at: string, field: ConstantField): Array<string> => {
  if (field.value === undefined) return [`${at}.value: is missing (for no value, t.constant(null))`]
  return isJson(field.value)
    ? []
    : [`${at}.value: must be JSON: null, a boolean, a finite number, a string, or a list or plain object of those`]
}

const throughIssues = (at: string, through: Through, parent: Row, related: ReadonlyArray<string> | undefined, table: string) => [
  ...arityIssues(`${at}.leftKey`, through.leftKey, parent.key, `the key of ${parent.table} it points at`),
  ...(related === undefined
    ? keyIssues(`${at}.rightKey`, through.rightKey)
    : arityIssues(`${at}.rightKey`, through.rightKey, related, `the primaryKey of ${table} it points at`))
]

const joinIssues = (at: string, field: JoinField, parent: Row): Array<string> => {
  const primaryKey = columnsOf(field.primaryKey)
  const link = ((): Array<string> => {
    switch (field.kind) {
      case "belongsTo":
        return arityIssues(`${at}.column`, field.column, primaryKey, `the primaryKey of ${field.table} it points at`)
      case "hasOne":
      case "hasMany":
        return arityIssues(`${at}.foreignKey`, field.foreignKey, parent.key, `the key of ${parent.table} it points back at`)
      case "manyToMany":
        return throughIssues(`${at}.through`, field.through, parent, primaryKey, field.table)
    }
  })()
  return [
    ...keyIssues(`${at}.primaryKey`, field.primaryKey),
    ...link,
    ...filtersIssues(`${at}.filters`, field.filters),
    ...fieldsIssues(at, field.fields, { table: field.table, key: primaryKey })
  ]
}

const aggregateIssues = (at: string, field: AggregateField, parent: Row): Array<string> => {
  const related = field.kind === "ids" && field.primaryKey !== undefined ? columnsOf(field.primaryKey) : undefined
  const reach = `foreignKey (the column on ${field.table} pointing back at ${parent.table}) or through (a junction table)`
  const link =
    field.foreignKey !== undefined && field.through !== undefined
      ? [`${at}: ${field.kind} takes foreignKey or through, not both`]
      : field.foreignKey !== undefined
        ? arityIssues(`${at}.foreignKey`, field.foreignKey, parent.key, `the key of ${parent.table} it points back at`)
        : field.through !== undefined
          ? throughIssues(`${at}.through`, field.through, parent, related, field.table)
          : [`${at}: ${field.kind} needs ${reach}`]
  const own = ((): Array<string> => {
    switch (field.kind) {
      case "count":
        return []
      case "avg":
        return field.column === undefined ? [`${at}.column: is missing; avg needs the column of ${field.table} to average`] : []
      case "ids":
        return [
          ...(field.elementType === undefined ? [`${at}.elementType: is missing; ids needs "long" or "keyword"`] : []),
          ...(field.primaryKey === undefined ? [] : keyIssues(`${at}.primaryKey`, field.primaryKey))
        ]
      default: {
        const accepted = field.kind === "sum" ? SUMMABLE : ORDERABLE
        return [
          ...(field.column === undefined ? [`${at}.column: is missing; ${field.kind} needs the column of ${field.table} it reads`] : []),
          ...(field.valueType === undefined
            ? [`${at}.valueType: is missing; ${field.kind} needs the kind of its value (one of ${list(accepted)})`]
            : accepted.has(field.valueType)
              ? []
              : [`${at}.valueType: ${field.kind} takes one of ${list(accepted)}, not ${field.valueType}`])
        ]
      }
    }
  })()
  return [...link, ...own, ...filtersIssues(`${at}.filters`, field.filters)]
}

const fieldIssues = (at: string, field: Field, row: Row): Array<string> => {
  switch (field.kind) {
    case "object":
      // Same-row columns: its fields belong to the same row as the object.
      return fieldsIssues(at, field.fields, row)
    case "map":
      return LEAF.has(field.values) ? [] : [`${at}.values: map values must be a leaf kind (${list(LEAF)}), not ${field.values}`]
    case "geo":
      return geoIssues(at, field)
    case "constant":
      return constantIssues(at, field)
    case "custom":
      return []
    case "belongsTo":
    case "hasOne":
    case "hasMany":
    case "manyToMany":
      return joinIssues(at, field, row)
    case "count":
    case "sum":
    case "min":
    case "max":
    case "avg":
    case "ids":
      return aggregateIssues(at, field, row)
    default:
      return scalarIssues(at, field)
  }
}

function fieldsIssues(at: string, fields: { readonly [name: string]: Field }, row: Row): Array<string> {
  return Object.entries(fields).flatMap(([name, field]) => [
    ...fieldIssues(`${at}.fields.${name}`, field, row),
    ...optionsIssues(`${at}.fields.${name}`, field)
  ])
}

// ---------------------------------------------------------------------------------------
// Indexes
// ---------------------------------------------------------------------------------------

const softDeleteIssues = (at: string, softDelete: SoftDelete, index: IndexConfig): Array<string> => {
  const marker = softDelete.field === undefined ? [] : softDeleteFieldIssues(`${at}.field`, softDelete.field, index)
  const which =
    softDelete.column !== undefined && softDelete.field !== undefined
      ? [`${at}: takes column or field, not both`]
      : softDelete.column === undefined && softDelete.field === undefined
        ? [`${at}: needs column (the marker column of ${index.table}) or field (a scalar field of this index)`]
        : []
  return [...which, ...marker, ...filtersIssues(`${at}.when`, softDelete.when)]
}

const softDeleteFieldIssues = (at: string, name: string, index: IndexConfig): Array<string> => {
  const field = index.fields[name]
  if (field === undefined) {
    const suggestion = didYouMean(name, Object.keys(index.fields))
    return [`${at}: no field "${name}" in this index${suggestion === undefined ? "" : `; did you mean "${suggestion}"?`}`]
  }
  return isScalar(field) ? [] : [`${at}: "${name}" is a ${field.kind} field; softDelete.field must name a scalar field (or use column)`]
}

const isScalar = (field: Field): field is ScalarField => {
  switch (field.kind) {
    case "object":
    case "map":
    case "geo":
    case "constant":
    case "belongsTo":
    case "hasOne":
    case "hasMany":
    case "manyToMany":
    case "count":
    case "sum":
    case "min":
    case "max":
    case "avg":
    case "ids":
      return false
    default:
      return true
  }
}

const indexIssues = (name: string, index: IndexConfig): Array<string> => {
  const at = `indexes.${name}`
  return [
    ...keyIssues(`${at}.primaryKey`, index.primaryKey),
    ...filtersIssues(`${at}.filters`, index.filters),
    ...(index.softDelete === undefined ? [] : softDeleteIssues(`${at}.softDelete`, index.softDelete, index)),
    ...fieldsIssues(at, index.fields, { table: index.table, key: columnsOf(index.primaryKey) })
  ]
}

/** The validated config, or one line per problem naming its path. */
export const validateConfig = (input: unknown): Either.Either<FlussoConfig, ReadonlyArray<string>> =>
  Either.gen(function* () {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      const shown = typeof input === "bigint" ? `${input}n` : (JSON.stringify(input) ?? typeof input)
      return yield* Either.left([`the config must be an object, got ${shown}`])
    }
    const data = yield* plainData(input)
    const config = yield* Either.mapLeft(decode(data), formatParseError)
    const issues = Object.entries(config.indexes).flatMap(([name, index]) => indexIssues(name, index))
    return issues.length === 0 ? config : yield* Either.left(issues)
  })
