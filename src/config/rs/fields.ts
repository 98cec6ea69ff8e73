/**
 * Type-first fields (`- keyword: email`, Rust `entities/field.rs` + `conversion.rs`) →
 * our `{ kind, ... }` fields. The tag names the kind and its value the document key; each
 * kind takes only its own siblings. The rules YAML cannot state are the Rust tool's, with
 * its messages: the key sibling a join verb takes, aggregate keys and types, scalar
 * defaults, map value kinds. A column left out is the field name lowercased, as there
 * (ours would be its snake_case).
 */
import { ScalarKind } from "../model.js"
import { filters } from "./filters.js"
import {
  boolean,
  invalidType,
  missing,
  report,
  type Scope,
  spot,
  spotKeys,
  string,
  stringList,
  type Table,
  table,
  toJson,
  unsigned,
  variant,
  variantOf
} from "./reader.js"
import type { Entry, Node } from "./tree.js"

/** The Rust scalar tags are our scalar kinds, name for name. */
const SCALARS = ScalarKind.literals
type Scalar = ScalarKind

const JOINS = { belongs_to: "belongsTo", has_one: "hasOne", has_many: "hasMany", many_to_many: "manyToMany" } as const
type Verb = keyof typeof JOINS
const AGGREGATES = ["count", "sum", "avg", "min", "max", "ids"] as const
type Op = (typeof AGGREGATES)[number]

type Tag = Scalar | Verb | Op | "custom" | "geo" | "object" | "map" | "constant"
const TAGS: ReadonlyArray<string> = [...SCALARS, "custom", "geo", "object", "map", ...Object.keys(JOINS), ...AGGREGATES, "constant"]
const isTag = (key: string): key is Tag => TAGS.includes(key)
const isScalar = (tag: Tag): tag is Scalar => (SCALARS as ReadonlyArray<string>).includes(tag)
const isVerb = (tag: Tag): tag is Verb => tag in JOINS
const isOp = (tag: Tag): tag is Op => (AGGREGATES as ReadonlyArray<string>).includes(tag)

/** Each kind's siblings, in the Rust body's order (the order serde lists them in). */
const SIBLINGS = {
  scalar: ["column", "required", "options", "transforms", "default"],
  custom: ["postgres", "opensearch", "column", "required", "options", "default"],
  geo: ["lat", "lon", "column", "required", "options"],
  map: ["values", "column", "required", "options"],
  object: ["options", "fields"],
  join: ["table", "primary_key", "required", "column", "foreign_key", "through", "filters", "order_by", "limit", "fields", "options"],
  aggregate: ["table", "column", "value_type", "element_type", "foreign_key", "through", "filters", "options"],
  constant: ["value"]
} as const

const MISSING_TAG =
  "expected one of: a scalar type like `keyword`/`text`/`integer`, or `custom`, `geo`, `object`, `map`, " +
  "`belongs_to`/`has_one`/`has_many`/`many_to_many`, `count`/`sum`/`avg`/`min`/`max`/`ids`, `constant`"

/** What a map's values may be (`InvalidMapValueType`). */
const LEAF: ReadonlySet<string> = new Set(["text", "identifier", "keyword", "enum", "uuid", "short", "integer", "long", "float", "double", "decimal", "date", "timestamp"])

type Out = Record<string, unknown>

const defined = (record: Out): Out => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined))

const options = (scope: Scope, t: Table): Out | undefined => {
  const e = t.get("options")
  if (e === undefined) return undefined
  if (e.value._tag !== "map") return invalidType(scope, e.value, "a map")
  const json = toJson(e.value)
  return typeof json === "object" && json !== null && !Array.isArray(json) ? Object.fromEntries(Object.entries(json)) : undefined
}

const column = (scope: Scope, t: Table, name: string): string | undefined => string(scope, t, "column") ?? name.toLowerCase()

const scalarDefault = (scope: Scope, t: Table): string | number | boolean | undefined => {
  const e = t.get("default")
  if (e === undefined) return undefined
  const v = e.value
  if (v._tag === "datetime") return v.text
  if (v._tag === "scalar") {
    // YAML null is "no default" (serde reads an `Option`).
    if (v.value === null) return undefined
    return typeof v.value === "bigint" ? Number(v.value) : v.value
  }
  return report(
    scope,
    v,
    `a \`default\` must be a scalar value (string, number, bool, or date) — a \`${v._tag === "seq" ? "sequence" : "mapping"}\` default is not supported`,
    "convert"
  )
}

const requiredFlag = (scope: Scope, t: Table): boolean | undefined => boolean(scope, t, "required", true)

const scalar = (scope: Scope, tag: Scalar, name: string, t: Table): Out => {
  const transforms = t.get("transforms")
  return defined({
    kind: tag,
    column: column(scope, t, name),
    required: requiredFlag(scope, t),
    variants: tag === "enum" ? stringList(scope, t, "variants") : undefined,
    transforms:
      transforms === undefined
        ? undefined
        : transforms.value._tag === "seq"
          ? transforms.value.items.flatMap((item) => variantOf(scope, item, ["lowercase", "trim"]) ?? [])
          : invalidType(scope, transforms.value, "a sequence"),
    default: scalarDefault(scope, t),
    options: options(scope, t)
  })
}

const custom = (scope: Scope, name: string, t: Table): Out => {
  const e = t.get("default")
  if (e !== undefined) {
    report(scope, e.keyPos, "`default` is not supported on a `custom` field here: its value is whatever Postgres renders, so there is no type to check a default against", "convert")
  }
  return defined({
    kind: "custom",
    postgres: stringList(scope, t, "postgres", true),
    opensearch: string(scope, t, "opensearch", true),
    column: column(scope, t, name),
    required: requiredFlag(scope, t),
    options: options(scope, t)
  })
}

const geo = (scope: Scope, name: string, t: Table): Out | undefined => {
  const lat = string(scope, t, "lat")
  const lon = string(scope, t, "lon")
  const col = string(scope, t, "column")
  const required = requiredFlag(scope, t)
  const opts = options(scope, t)
  if (lat !== undefined && lon !== undefined && col === undefined) return defined({ kind: "geo", lat, lon, required, options: opts })
  if (lat === undefined && lon === undefined) return defined({ kind: "geo", column: col ?? name.toLowerCase(), required, options: opts })
  return report(
    scope,
    t.node,
    "a `geo` field needs either both `lat` and `lon` (two columns) or a single `column` holding a combined value — not a mix",
    "convert"
  )
}

const map = (scope: Scope, name: string, t: Table): Out | undefined => {
  const valuesEntry = t.get("values")
  const values = valuesEntry === undefined ? missing(scope, t, "values") : variantOf(scope, valuesEntry.value, SCALARS)
  if (values !== undefined && !LEAF.has(values)) {
    report(
      scope,
      valuesEntry?.value,
      `a \`map\` field's \`values\` must be a leaf type — \`text\`/\`keyword\` or a number/date kind (\`${values}\` is not one); \`boolean\`, \`binary\`, \`json\`, \`geo\`, and \`custom\` are not valid map value types`,
      "convert"
    )
  }
  return defined({ kind: "map", values, column: column(scope, t, name), required: requiredFlag(scope, t), options: options(scope, t) })
}

const KEY_HINT: Record<Verb, string> = {
  belongs_to: "`column` — this table's column pointing at the related row (defaults to the field name)",
  has_one: "`foreign_key` — the related table's column pointing back at this row",
  has_many: "`foreign_key` — the related table's column pointing back at this row",
  many_to_many: "`through` — the junction table and its two keys"
}
const JOIN_KEY: Record<Verb, "column" | "foreign_key" | "through"> = {
  belongs_to: "column",
  has_one: "foreign_key",
  has_many: "foreign_key",
  many_to_many: "through"
}

const through = (scope: Scope, e: Entry | undefined, path: string): Out | undefined => {
  if (e === undefined) return undefined
  const t = table(scope, e.value, ["table", "left_key", "right_key"])
  if (t === undefined) return undefined
  spotKeys(scope, path, t, { table: "table", left_key: "leftKey", right_key: "rightKey" })
  return defined({
    table: string(scope, t, "table", true),
    leftKey: string(scope, t, "left_key", true),
    rightKey: string(scope, t, "right_key", true)
  })
}

const orderBy = (scope: Scope, t: Table): Array<Out> | undefined => {
  const e = t.get("order_by")
  if (e === undefined) return undefined
  if (e.value._tag !== "seq") return invalidType(scope, e.value, "a sequence")
  return e.value.items.flatMap((item) => {
    const o = table(scope, item, ["column", "direction"])
    if (o === undefined) return []
    const col = string(scope, o, "column", true)
    return col === undefined ? [] : [defined({ column: col, direction: variant(scope, o, "direction", ["asc", "desc"]) })]
  })
}

const relatedFilters = (scope: Scope, t: Table, path: string): Array<Out> | undefined => {
  const e = t.get("filters")
  return e === undefined ? undefined : filters(scope, e.value, `${path}.filters`)
}

const join = (scope: Scope, verb: Verb, name: string, t: Table, path: string): Out => {
  const key = JOIN_KEY[verb]
  for (const sibling of ["column", "foreign_key", "through"] as const) {
    const e = t.get(sibling)
    if (e !== undefined && sibling !== key) {
      report(scope, e.keyPos, `\`${verb}\` join does not take \`${sibling}\`; it takes ${KEY_HINT[verb]}`, "convert")
    }
  }
  if (key !== "column" && !t.has(key)) report(scope, t.node, `\`${verb}\` join is missing its key: it takes ${KEY_HINT[verb]}`, "convert")
  const refuse = (sibling: string, why: string) => {
    const e = t.get(sibling)
    if (e !== undefined) report(scope, e.keyPos, `\`${verb}\` join does not take \`${sibling}\` (${why})`, "convert")
  }
  if (verb === "belongs_to") refuse("order_by", "a to-one join picks a single row")
  if (verb === "belongs_to" || verb === "has_one") refuse("limit", "a to-one join picks a single row")
  if (verb === "has_many" || verb === "many_to_many") refuse("required", "a to-many join is always a non-null array")
  const fieldsEntry = t.get("fields")
  if (fieldsEntry === undefined) missing(scope, t, "fields")
  spotKeys(scope, path, t, { table: "table", primary_key: "primaryKey", column: "column", foreign_key: "foreignKey", order_by: "orderBy", limit: "limit" })
  const toOne = verb === "belongs_to" || verb === "has_one"
  const toMany = !toOne
  return defined({
    kind: JOINS[verb],
    table: string(scope, t, "table", true),
    column: verb === "belongs_to" ? column(scope, t, name) : undefined,
    foreignKey: verb === "has_one" || verb === "has_many" ? string(scope, t, "foreign_key") : undefined,
    through: verb === "many_to_many" ? through(scope, t.get("through"), `${path}.through`) : undefined,
    primaryKey: string(scope, t, "primary_key", true),
    required: toOne ? boolean(scope, t, "required") : undefined,
    filters: relatedFilters(scope, t, path),
    orderBy: verb === "belongs_to" ? undefined : orderBy(scope, t),
    limit: toMany ? unsigned(scope, t, "limit", "u64") : undefined,
    options: options(scope, t),
    fields: fieldsEntry === undefined ? {} : fields(scope, fieldsEntry.value, path)
  })
}

const aggregate = (scope: Scope, op: Op, t: Table, path: string): Out => {
  const fail = (message: string, at = t.node.pos) => report(scope, at, message, "convert")
  const e = (key: string) => t.get(key)
  if (op !== "ids" && e("element_type") !== undefined) fail("aggregate does not take `element_type` (only `ids` does)", e("element_type")?.keyPos)
  const valueType = e("value_type") === undefined ? undefined : variantOf(scope, e("value_type")?.value ?? t.node, SCALARS)
  const col = string(scope, t, "column")
  let own: Out = {}
  switch (op) {
    // The Rust tool ignores `column` and `value_type` on count, and `value_type` on avg: so do we.
    case "count":
      break
    case "avg":
      if (col === undefined) fail("aggregate op 'avg' requires a `column`")
      own = { column: col }
      break
    case "sum":
    case "min":
    case "max":
      if (col === undefined) fail(`aggregate op '${op}' requires a \`column\``)
      if (e("value_type") === undefined) fail(`aggregate op '${op}' requires a \`value_type\` (its result mirrors the column)`)
      own = { column: col, valueType }
      break
    case "ids": {
      if (e("column") !== undefined) fail("aggregate op 'ids' does not take `column` (it always collects the related table's primary key)", e("column")?.keyPos)
      if (e("value_type") !== undefined) {
        fail("aggregate op 'ids' does not take `value_type` (it always collects the related table's primary key)", e("value_type")?.keyPos)
      }
      const element = e("element_type")
      if (element === undefined) {
        fail("aggregate op 'ids' requires an `element_type` (`long` or `keyword`) — it states the element type of the collected primary keys")
        break
      }
      const type = variantOf(scope, element.value, SCALARS)
      if (type !== undefined && type !== "long" && type !== "keyword") {
        fail(`aggregate op 'ids' \`element_type\` \`${type}\` is not supported here: use \`long\` (integer keys) or \`keyword\` (any other key)`, element.value.pos)
      }
      own = { elementType: type }
      break
    }
  }
  const hasFk = e("foreign_key") !== undefined
  const hasThrough = e("through") !== undefined
  if (hasFk === hasThrough) fail("aggregate must specify either `foreign_key` or `through`, not both or neither")
  spotKeys(scope, path, t, { table: "table", column: "column", value_type: "valueType", element_type: "elementType", foreign_key: "foreignKey" })
  return defined({
    kind: op,
    table: string(scope, t, "table", true),
    ...own,
    foreignKey: string(scope, t, "foreign_key"),
    through: through(scope, e("through"), `${path}.through`),
    filters: relatedFilters(scope, t, path),
    options: options(scope, t)
  })
}

const siblingsOf = (tag: Tag): ReadonlyArray<string> => {
  if (tag === "enum") return [...SIBLINGS.scalar, "variants"]
  if (isScalar(tag)) return SIBLINGS.scalar
  if (isVerb(tag)) return SIBLINGS.join
  if (isOp(tag)) return SIBLINGS.aggregate
  return SIBLINGS[tag]
}

const field = (file: Scope, node: Node, container: string, out: Out): void => {
  if (node._tag !== "map") {
    invalidType(file, node, "a YAML mapping")
    return
  }
  const tags = node.entries.filter((e) => isTag(e.key))
  const [first, second] = tags
  if (first === undefined) {
    const keys = node.entries.map((e) => e.key)
    const here = keys.length === 0 ? "" : ` (this field has keys: ${keys.join(", ")})`
    report(file, node, `field is missing a type tag${here}; ${MISSING_TAG}`)
    return
  }
  if (second !== undefined) {
    report(file, second.keyPos, `field has more than one type tag: \`${first.key}\` and \`${second.key}\``)
    return
  }
  const tag = first.key
  if (!isTag(tag)) return
  const value = first.value
  const name = value._tag === "scalar" && typeof value.value === "string" ? value.value : JSON.stringify(value._tag === "scalar" ? value.value : value._tag)
  const scope: Scope = { ...file, label: `\`${tag}\` field \`${name}\`` }
  const path = `${container}.fields.${name}`
  if (Object.hasOwn(out, name)) {
    report(scope, first.keyPos, `the document key \`${name}\` is declared twice`, "convert")
    return
  }
  spot(scope, path, first.keyPos)
  const rest: Node = { ...node, entries: node.entries.filter((e) => e !== first) }
  const t = table(scope, rest, siblingsOf(tag))
  if (t === undefined) return
  spotKeys(scope, path, t, {
    column: "column",
    required: "required",
    default: "default",
    transforms: "transforms",
    variants: "variants",
    options: "options",
    values: "values",
    lat: "lat",
    lon: "lon",
    postgres: "postgres",
    opensearch: "opensearch",
    value: "value"
  })
  const built = ((): Out | undefined => {
    if (isScalar(tag)) return scalar(scope, tag, name, t)
    if (isVerb(tag)) return join(scope, tag, name, t, path)
    if (isOp(tag)) return aggregate(scope, tag, t, path)
    switch (tag) {
      case "custom":
        return custom(scope, name, t)
      case "geo":
        return geo(scope, name, t)
      case "map":
        return map(scope, name, t)
      case "object": {
        const inner = t.get("fields")
        if (inner === undefined) missing(scope, t, "fields")
        return defined({ kind: "object", options: options(scope, t), fields: inner === undefined ? {} : fields(scope, inner.value, path) })
      }
      case "constant": {
        const v = t.get("value")
        return v === undefined ? missing(scope, t, "value") : { kind: "constant", value: toJson(v.value) }
      }
    }
  })()
  if (built !== undefined) out[name] = built
}

/** A `fields` list at model path `container` (`indexes.users`, `indexes.users.fields.orders`). */
export function fields(scope: Scope, node: Node, container: string): Out {
  const out: Out = {}
  // Nested lists are read at the top of their file: messages name the innermost field.
  const file: Scope = { ...scope, label: "" }
  if (node._tag !== "seq") {
    invalidType(scope, node, "a sequence")
    return out
  }
  for (const item of node.items) field(file, item, container, out)
  return out
}
