/**
 * *.schema.yml (src/config/rs/schemaYaml.ts, fields.ts, filters.ts): every field kind onto
 * our model, and every rule of the type-first format with the Rust tool's message, placed
 * at its line and column — field-scoped ones included, which the Rust tool cannot place.
 */
import { describe, expect, it } from "vitest"
import * as path from "node:path"
import { issues, loaded, schema, withSchema } from "../fixtures/rs/harness.js"

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/rs/flusso.toml")

/** The issues of a users.schema.yml, without the "failed to … schema `users` from `…`: " prefix. */
const problems = async (yaml: string): Promise<ReadonlyArray<string>> =>
  (await issues(withSchema(yaml))).map((issue) => issue.replace(/^failed to (parse|convert) schema `users` from `users\.schema\.yml`: /, "$1: "))

describe("*.schema.yml: the model", () => {
  it("reads every field kind of the fixture", async () => {
    const config = await loaded(FIXTURE)
    const customers = config.indexes["customers"]
    expect(customers).toMatchObject({ table: "customers", schema: "public", primaryKey: "id", softDelete: { column: "deleted" } })
    expect(customers?.filters).toEqual([{ column: "email", op: "isNotNull" }])
    const f = customers?.fields ?? {}
    expect(f["email"]).toEqual({ kind: "keyword", column: "email", required: true, transforms: ["lowercase", "trim"] })
    // The Rust default column: the field name lowercased.
    expect(f["displayName"]).toEqual({ kind: "text", column: "displayname", required: false })
    expect(f["status"]).toEqual({ kind: "enum", column: "status", required: true, variants: ["new", "active", "churned"] })
    expect(f["age"]).toEqual({ kind: "short", column: "age", required: false, default: 0 })
    expect(f["credit"]).toEqual({ kind: "decimal", column: "credit", required: false, options: { ignore_malformed: true } })
    expect(f["ip"]).toEqual({ kind: "custom", postgres: ["inet"], opensearch: "ip", column: "ip", required: false })
    expect(f["labels"]).toEqual({ kind: "map", values: "keyword", column: "labels", required: false })
    expect(f["position"]).toEqual({ kind: "geo", lat: "lat", lon: "lon", required: false })
    expect(f["home"]).toEqual({ kind: "geo", column: "home", required: false })
    expect(f["contact"]).toMatchObject({ kind: "object", fields: { phone: { kind: "keyword" }, city: { kind: "text" } } })
    expect(f["origin"]).toEqual({ kind: "constant", value: "crm" })
    expect(f["region"]).toMatchObject({ kind: "belongsTo", table: "regions", column: "region_id", primaryKey: "id" })
    expect(f["profile"]).toMatchObject({ kind: "hasOne", foreignKey: "customer_id", orderBy: [{ column: "id", direction: "desc" }] })
    expect(f["orders"]).toMatchObject({
      kind: "hasMany",
      foreignKey: "customer_id",
      limit: 3,
      filters: [{ column: "status", op: "neq", value: "cancelled" }],
      orderBy: [{ column: "placed_at", direction: "desc" }]
    })
    expect(f["tags"]).toMatchObject({ kind: "manyToMany", through: { table: "customer_tags", leftKey: "customer_id", rightKey: "tag_id" } })
    expect(f["order_count"]).toEqual({ kind: "count", table: "orders", foreignKey: "customer_id" })
    // Filter values are stringified, as the Rust tool binds them.
    expect(f["total_spent"]).toMatchObject({ kind: "sum", column: "total", valueType: "decimal", filters: [{ column: "status", op: "in", value: ["paid", "shipped"] }] })
    expect(f["largest_order"]).toMatchObject({ kind: "max", filters: [{ column: "total", op: "between", value: ["0", "100000"] }] })
    expect(f["average_order"]).toEqual({ kind: "avg", table: "orders", column: "total", foreignKey: "customer_id" })
    expect(f["first_order_at"]).toMatchObject({ kind: "min", valueType: "timestamp" })
    expect(f["tag_ids"]).toMatchObject({ kind: "ids", elementType: "long", through: { table: "customer_tags" } })
    expect(config.indexes["orders"]?.filters).toEqual([{ raw: "total >= 0" }])
  })

  it("stringifies filter values like the Rust tool: numbers, booleans and null as text", async () => {
    const config = await loaded(
      withSchema(`version: 1\ntable: users\nprimary_key: id\nfilters:\n  - { column: a, op: eq, value: 5 }\n  - { column: b, op: neq, value: true }\n  - { column: c, op: eq, value: null }\n  - { column: d, op: not_in, value: [1, x] }\n  - { column: e, op: is_null }\nsoft_delete:\n  field: gone\n  when:\n    - { column: gone, op: gte, value: 1.5 }\nfields:\n  - boolean: gone\n    required: false\n`)
    )
    expect(config.indexes["users"]?.filters).toEqual([
      { column: "a", op: "eq", value: "5" },
      { column: "b", op: "neq", value: "true" },
      { column: "c", op: "eq", value: "null" },
      { column: "d", op: "notIn", value: ["1", "x"] },
      { column: "e", op: "isNull" }
    ])
    expect(config.indexes["users"]?.softDelete).toEqual({ field: "gone", when: [{ column: "gone", op: "gte", value: "1.5" }] })
  })

  it("ignores what the Rust tool ignores: column and value_type on count, value_type on avg, a null default", async () => {
    const config = await loaded(
      withSchema(schema(`  - count: n\n    table: orders\n    foreign_key: user_id\n    column: id\n    value_type: long\n  - avg: a\n    table: orders\n    foreign_key: user_id\n    column: total\n    value_type: double\n  - text: t\n    required: false\n    default: null\n`))
    )
    expect(config.indexes["users"]?.fields).toEqual({
      n: { kind: "count", table: "orders", foreignKey: "user_id" },
      a: { kind: "avg", table: "orders", foreignKey: "user_id", column: "total" },
      t: { kind: "text", column: "t", required: false }
    })
  })
})

describe("*.schema.yml: the root", () => {
  it("refuses an unsupported version, doc_id, unknown root keys and a missing primary_key", async () => {
    expect(await problems(`version: 2\ntable: users\nprimary_key: id\nfields: []\n`)).toEqual([
      "parse: unsupported schema version 2; supported versions: 1 (line 1, column 10)"
    ])
    expect(await problems(`version: 1\ntable: users\nprimary_key: id\ndoc_id: code\nfeilds: []\n`)).toEqual([
      "parse: unknown key `feilds` — did you mean `fields`? expected one of `version`, `table`, `schema`, `primary_key`, `doc_id`, `soft_delete`, `filters`, `fields` (line 5, column 1)",
      "convert: `doc_id` is not supported yet — the document `_id` is always derived from `primary_key`. Remove `doc_id` from the schema. (line 4, column 1)",
      "parse: missing key `fields` (line 1, column 1)"
    ])
    expect(await problems(`version: 1\ntable: users\nfields: []\n`)).toEqual([
      "convert: missing key `primary_key`: name the root table's key column (flusso decides the document id without a database) (line 1, column 1)"
    ])
  })

  it("passes a YAML syntax error through with its position", async () => {
    expect(await problems(`version: 1\ntable: users\nfields:\n  - keyword: [x\n`)).toEqual([
      "parse: Flow sequence in block collection must be sufficiently indented and end with a ] (line 5, column 1)"
    ])
  })
})

describe("*.schema.yml: fields", () => {
  it("needs exactly one type tag", async () => {
    expect(await problems(schema(`  - column: x\n    required: true\n  - keyword: a\n    text: b\n    required: true\n`))).toEqual([
      "parse: field is missing a type tag (this field has keys: column, required); expected one of: a scalar type like `keyword`/`text`/`integer`, or `custom`, `geo`, `object`, `map`, `belongs_to`/`has_one`/`has_many`/`many_to_many`, `count`/`sum`/`avg`/`min`/`max`/`ids`, `constant` (line 5, column 5)",
      "parse: field has more than one type tag: `keyword` and `text` (line 8, column 5)"
    ])
  })

  it("takes only its kind's siblings, with did-you-mean, and needs `required` on scalars", async () => {
    expect(await problems(schema(`  - keyword: email\n    requird: true\n  - geo: place\n    lat: la\n    lon: lo\n    fields: []\n    required: false\n  - constant: c\n    value: 1\n    options: {}\n`))).toEqual([
      "parse: `keyword` field `email`: unknown key `requird` — did you mean `required`? expected one of `column`, `required`, `options`, `transforms`, `default` (line 6, column 5)",
      "parse: `keyword` field `email`: missing key `required` (line 5, column 5)",
      "parse: `geo` field `place`: unknown key `fields`, expected one of `lat`, `lon`, `column`, `required`, `options` (line 10, column 5)",
      "parse: `constant` field `c`: unknown key `options`, expected `value` (line 14, column 5)"
    ])
  })

  it("checks types and variants at their value", async () => {
    expect(await problems(schema(`  - integer: n\n    required: maybe\n  - keyword: k\n    required: true\n    transforms: [upper]\n`))).toEqual([
      'parse: `integer` field `n`: invalid type: string "maybe", expected a boolean (line 6, column 15)',
      "parse: `keyword` field `k`: unknown variant `upper`, expected `lowercase` or `trim` (line 9, column 18)"
    ])
  })

  it("refuses a non-scalar default, a non-leaf map, a mixed geo and a default on custom", async () => {
    expect(
      await problems(
        schema(`  - keyword: d\n    required: false\n    default: [1]\n  - map: m\n    values: boolean\n    required: false\n  - geo: g\n    lat: a\n    column: b\n    required: false\n  - custom: c\n    postgres: [inet]\n    opensearch: ip\n    required: false\n    default: x\n`)
      )
    ).toEqual([
      "convert: `keyword` field `d`: a `default` must be a scalar value (string, number, bool, or date) — a `sequence` default is not supported (line 7, column 14)",
      "convert: `map` field `m`: a `map` field's `values` must be a leaf type — `text`/`keyword` or a number/date kind (`boolean` is not one); `boolean`, `binary`, `json`, `geo`, and `custom` are not valid map value types (line 9, column 13)",
      "convert: `geo` field `g`: a `geo` field needs either both `lat` and `lon` (two columns) or a single `column` holding a combined value — not a mix (line 11, column 5)",
      "convert: `custom` field `c`: `default` is not supported on a `custom` field here: its value is whatever Postgres renders, so there is no type to check a default against (line 19, column 5)"
    ])
  })

  it("refuses a document key declared twice", async () => {
    expect(await problems(schema(`  - keyword: a\n    required: true\n  - text: a\n    required: true\n`))).toEqual([
      "convert: `text` field `a`: the document key `a` is declared twice (line 7, column 5)"
    ])
  })
})

describe("*.schema.yml: joins", () => {
  const join = (verb: string, rest: string) => schema(`  - ${verb}: j\n    table: other\n    primary_key: id\n${rest}    fields: []\n`)

  it("takes the key sibling its verb implies", async () => {
    expect(await problems(join("has_many", "    column: user_id\n"))).toEqual([
      "convert: `has_many` field `j`: `has_many` join does not take `column`; it takes `foreign_key` — the related table's column pointing back at this row (line 8, column 5)",
      "convert: `has_many` field `j`: `has_many` join is missing its key: it takes `foreign_key` — the related table's column pointing back at this row (line 5, column 5)"
    ])
    expect(await problems(join("belongs_to", "    foreign_key: other_id\n"))).toEqual([
      "convert: `belongs_to` field `j`: `belongs_to` join does not take `foreign_key`; it takes `column` — this table's column pointing at the related row (defaults to the field name) (line 8, column 5)"
    ])
    expect(await problems(join("many_to_many", "    foreign_key: x\n"))).toEqual([
      "convert: `many_to_many` field `j`: `many_to_many` join does not take `foreign_key`; it takes `through` — the junction table and its two keys (line 8, column 5)",
      "convert: `many_to_many` field `j`: `many_to_many` join is missing its key: it takes `through` — the junction table and its two keys (line 5, column 5)"
    ])
    expect(await problems(join("has_one", "    through: { table: t, left_key: a, right_key: b }\n    foreign_key: x\n"))).toEqual([
      "convert: `has_one` field `j`: `has_one` join does not take `through`; it takes `foreign_key` — the related table's column pointing back at this row (line 8, column 5)"
    ])
  })

  it("defaults a belongs_to column to the field name, lowercased", async () => {
    const config = await loaded(withSchema(join("belongs_to", "")))
    expect(config.indexes["users"]?.fields["j"]).toMatchObject({ kind: "belongsTo", column: "j" })
  })

  it("refuses order_by and limit on to-one joins and required on to-many", async () => {
    expect(await problems(join("belongs_to", "    order_by: [{ column: id }]\n    limit: 1\n"))).toEqual([
      "convert: `belongs_to` field `j`: `belongs_to` join does not take `order_by` (a to-one join picks a single row) (line 8, column 5)",
      "convert: `belongs_to` field `j`: `belongs_to` join does not take `limit` (a to-one join picks a single row) (line 9, column 5)"
    ])
    expect(await problems(join("has_one", "    foreign_key: user_id\n    limit: 1\n"))).toEqual([
      "convert: `has_one` field `j`: `has_one` join does not take `limit` (a to-one join picks a single row) (line 9, column 5)"
    ])
    expect(await problems(join("has_many", "    foreign_key: user_id\n    required: true\n"))).toEqual([
      "convert: `has_many` field `j`: `has_many` join does not take `required` (a to-many join is always a non-null array) (line 9, column 5)"
    ])
  })

  it("reads required on to-one joins, and through's keys", async () => {
    const config = await loaded(withSchema(join("has_one", "    foreign_key: user_id\n    required: true\n")))
    expect(config.indexes["users"]?.fields["j"]).toMatchObject({ kind: "hasOne", required: true })
    expect(await problems(join("many_to_many", "    through: { table: t, left: a }\n"))).toEqual([
      "parse: `many_to_many` field `j`: unknown key `left`, expected one of `table`, `left_key`, `right_key` (line 8, column 26)",
      "parse: `many_to_many` field `j`: missing key `left_key` (line 8, column 14)",
      "parse: `many_to_many` field `j`: missing key `right_key` (line 8, column 14)"
    ])
  })
})

describe("*.schema.yml: aggregates", () => {
  const agg = (op: string, rest: string) => schema(`  - ${op}: a\n    table: orders\n${rest}`)

  it("needs foreign_key xor through", async () => {
    expect(await problems(agg("count", ""))).toEqual([
      "convert: `count` field `a`: aggregate must specify either `foreign_key` or `through`, not both or neither (line 5, column 5)"
    ])
    expect(await problems(agg("count", "    foreign_key: u\n    through: { table: t, left_key: a, right_key: b }\n"))).toEqual([
      "convert: `count` field `a`: aggregate must specify either `foreign_key` or `through`, not both or neither (line 5, column 5)"
    ])
  })

  it("needs column and value_type on sum/min/max, column on avg", async () => {
    expect(await problems(agg("sum", "    foreign_key: u\n"))).toEqual([
      "convert: `sum` field `a`: aggregate op 'sum' requires a `column` (line 5, column 5)",
      "convert: `sum` field `a`: aggregate op 'sum' requires a `value_type` (its result mirrors the column) (line 5, column 5)"
    ])
    expect(await problems(agg("avg", "    foreign_key: u\n"))).toEqual(["convert: `avg` field `a`: aggregate op 'avg' requires a `column` (line 5, column 5)"])
    expect(await problems(agg("max", "    foreign_key: u\n    column: c\n    value_type: geo_point\n"))).toEqual([
      "parse: `max` field `a`: unknown variant `geo_point`, expected one of `text`, `identifier`, `keyword`, `enum`, `uuid`, `boolean`, `short`, `integer`, `long`, `float`, `double`, `decimal`, `date`, `timestamp`, `binary`, `json` (line 9, column 17)"
    ])
  })

  it("keeps element_type to ids, which takes no column or value_type", async () => {
    expect(await problems(agg("count", "    foreign_key: u\n    element_type: long\n"))).toEqual([
      "convert: `count` field `a`: aggregate does not take `element_type` (only `ids` does) (line 8, column 5)"
    ])
    expect(await problems(agg("ids", "    foreign_key: u\n    column: id\n    value_type: long\n"))).toEqual([
      "convert: `ids` field `a`: aggregate op 'ids' does not take `column` (it always collects the related table's primary key) (line 8, column 5)",
      "convert: `ids` field `a`: aggregate op 'ids' does not take `value_type` (it always collects the related table's primary key) (line 9, column 5)",
      "convert: `ids` field `a`: aggregate op 'ids' requires an `element_type` (`long` or `keyword`) — it states the element type of the collected primary keys (line 5, column 5)"
    ])
    expect(await problems(agg("ids", "    foreign_key: u\n    element_type: integer\n"))).toEqual([
      "convert: `ids` field `a`: aggregate op 'ids' `element_type` `integer` is not supported here: use `long` (integer keys) or `keyword` (any other key) (line 8, column 19)"
    ])
  })
})

describe("*.schema.yml: filters", () => {
  const filtered = (filter: string) => `version: 1\ntable: users\nprimary_key: id\nfilters:\n  - ${filter}\nfields: []\n`

  it("wants a value, a list for in/not_in/between, two values for between, none for null checks", async () => {
    expect(await problems(filtered("{ column: x, op: eq }"))).toEqual(["convert: filter op 'eq' requires a value (line 5, column 5)"])
    expect(await problems(filtered("{ column: x, op: in, value: 3 }"))).toEqual(["convert: filter op 'in' requires a sequence value (line 5, column 33)"])
    expect(await problems(filtered("{ column: x, op: between, value: [1] }"))).toEqual([
      "convert: filter op 'between' requires exactly 2 values, got 1 (line 5, column 38)"
    ])
    expect(await problems(filtered("{ column: x, op: is_null, value: 1 }"))).toEqual(["convert: filter op 'is_null' takes no `value` (line 5, column 31)"])
    expect(await problems(filtered("{ column: x, op: equals, value: 3 }"))).toEqual([
      "parse: unknown variant `equals`, expected one of `is_null`, `is_not_null`, `eq`, `neq`, `lt`, `lte`, `gt`, `gte`, `in`, `not_in`, `like`, `ilike`, `between` (line 5, column 22)"
    ])
    expect(await problems(filtered("{ raw: 'a > 0', column: x }"))).toEqual(["parse: unknown key `column`, expected `raw` (line 5, column 21)"])
  })
})

describe("*.schema.yml: problems our shared validation finds", () => {
  it("are placed at the field and key they were read from", async () => {
    expect(
      await problems(`version: 1\ntable: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nprimary_key: id\nfields:\n  - keyword: email\n    required: true\n    column: ""\n  - has_many: orders\n    table: orders\n    foreign_key: user_id\n    primary_key: id\n    limit: 0\n    fields: []\n`)
    ).toEqual([
      "convert: table: must be at most 63 bytes: PostgreSQL cuts longer names short (line 2, column 1)",
      "convert: `keyword` field `email`: column: must not be empty (line 7, column 5)",
      "convert: `has_many` field `orders`: limit: must be a positive integer (line 12, column 5)"
    ])
    expect(await problems(schema(`  - enum: e\n    required: true\n    variants: [a, a]\n  - integer: n\n    required: true\n    default: "x"\n`))).toEqual([
      'convert: `enum` field `e`: variants: "a" is listed twice (line 7, column 5)',
      "convert: `integer` field `n`: default: must be a finite number, as the field is integer (line 10, column 5)"
    ])
    expect(await problems(`version: 1\ntable: users\nprimary_key: id\nsoft_delete: { column: a, field: b }\nfields:\n  - text: b\n    required: false\n`)).toEqual([
      "convert: soft_delete: takes column or field, not both (line 4, column 1)"
    ])
  })
})
