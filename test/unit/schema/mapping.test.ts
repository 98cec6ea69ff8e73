import { describe, expect, it } from "vitest"
import type { IndexConfig } from "../../../src/config/model.js"
import type { AggregatePlan, FieldPlan, IndexPlan, JoinPlan, ScalarPlan } from "../../../src/schema/IndexPlan.js"
import { deriveMapping, enumSortNormalizerName, indexSettings, REFS_FIELD, refsIndexMappings } from "../../../src/schema/mapping.js"
import { planIndex } from "../../../src/schema/planIndex.js"

const plan = (fields: IndexConfig["fields"]) =>
  planIndex("items", { table: "items", schema: "public", primaryKey: "id", enabled: true, fields }, "stop")

const builtin = { textAnalysis: "builtin", autoSubfields: true } as const

describe("deriveMapping", () => {
  it("is strict with one property per field, typed by kind", () => {
    const mapping = deriveMapping(
      plan({
        id: { kind: "long" },
        small: { kind: "short" },
        count: { kind: "integer" },
        ratio: { kind: "float" },
        score: { kind: "double" },
        price: { kind: "decimal" },
        active: { kind: "boolean" },
        ref: { kind: "uuid" },
        born: { kind: "date" },
        seen: { kind: "timestamp" },
        blob: { kind: "binary" },
        extra: { kind: "json" }
      }),
      builtin
    )
    expect(mapping.dynamic).toBe("strict")
    expect(mapping.properties).toEqual({
      id: { type: "long" },
      small: { type: "short" },
      count: { type: "integer" },
      ratio: { type: "float" },
      score: { type: "double" },
      price: { type: "double" },
      active: { type: "boolean" },
      ref: { type: "keyword" },
      born: { type: "date", format: expect.stringContaining("strict_date_optional_time") },
      seen: { type: "date", format: expect.stringContaining("strict_date_optional_time") },
      blob: { type: "binary" },
      extra: { type: "object", dynamic: true }
    })
  })

  it("gives text and keyword their auto subfields", () => {
    const { properties } = deriveMapping(
      plan({ title: { kind: "text" }, code: { kind: "identifier" }, tag: { kind: "keyword" } }),
      builtin
    )
    expect(properties["title"]).toEqual({
      type: "text",
      analyzer: "flusso_text",
      fields: {
        keyword: { type: "keyword", ignore_above: 256 },
        keyword_lowercase: { type: "keyword", normalizer: "flusso_lowercase", ignore_above: 256 }
      }
    })
    expect(properties["code"]).toMatchObject({ type: "text", analyzer: "flusso_code" })
    expect(properties["tag"]).toEqual({
      type: "keyword",
      fields: {
        text: { type: "text", analyzer: "flusso_code" },
        keyword_lowercase: { type: "keyword", normalizer: "flusso_lowercase", ignore_above: 256 }
      }
    })
  })

  it("leaves subfields out without autoSubfields", () => {
    const { properties } = deriveMapping(plan({ title: { kind: "text" }, tag: { kind: "keyword" } }), {
      textAnalysis: "builtin",
      autoSubfields: false
    })
    expect(properties).toEqual({
      title: { type: "text", analyzer: "flusso_text" },
      tag: { type: "keyword" }
    })
  })

  it("gives an enum with variants a .sort subfield with its own normalizer", () => {
    const { properties } = deriveMapping(plan({ status: { kind: "enum", variants: ["new", "open", "done"] } }), builtin)
    expect(properties["status"]).toEqual({
      type: "keyword",
      fields: { sort: { type: "keyword", normalizer: enumSortNormalizerName("status") } }
    })
    const plain = deriveMapping(plan({ status: { kind: "enum" } }), builtin)
    expect(plain.properties["status"]).toEqual({ type: "keyword" })
  })

  it("merges options over the derived mapping, options winning", () => {
    const { properties } = deriveMapping(
      plan({
        title: { kind: "text", options: { analyzer: "english", fields: {} } },
        n: { kind: "long", options: { index: false } }
      }),
      builtin
    )
    expect(properties["title"]).toEqual({ type: "text", analyzer: "english", fields: {} })
    expect(properties["n"]).toEqual({ type: "long", index: false })
  })
})

describe("indexSettings", () => {
  it("defines the flusso analyzers and normalizer", () => {
    const { analysis } = indexSettings(plan({ title: { kind: "text" } }), builtin)
    expect(analysis.analyzer["flusso_text"]).toEqual({
      type: "custom",
      tokenizer: "standard",
      filter: ["lowercase", "asciifolding"]
    })
    expect(analysis.analyzer["flusso_code"]).toEqual({
      type: "custom",
      tokenizer: "whitespace",
      filter: ["flusso_word_delimiter", "flatten_graph", "lowercase", "asciifolding"]
    })
    expect(analysis.filter["flusso_word_delimiter"]).toEqual({
      type: "word_delimiter_graph",
      catenate_all: true,
      preserve_original: true
    })
    expect(analysis.normalizer["flusso_lowercase"]).toEqual({ type: "custom", filter: ["lowercase"] })
  })

  it("swaps to ICU tokenizing and folding with textAnalysis icu", () => {
    const { analysis } = indexSettings(plan({ title: { kind: "text" } }), { textAnalysis: "icu", autoSubfields: true })
    expect(analysis.analyzer["flusso_text"]).toEqual({ type: "custom", tokenizer: "icu_tokenizer", filter: ["icu_folding"] })
    expect(analysis.analyzer["flusso_code"]).toMatchObject({ filter: ["flusso_word_delimiter", "flatten_graph", "icu_folding"] })
  })

  it("maps each enum variant to its zero-padded rank, anchored and escaped", () => {
    const { analysis } = indexSettings(plan({ status: { kind: "enum", variants: ["low", "a.b", "high"] } }), builtin)
    const normalizer = analysis.normalizer[enumSortNormalizerName("status")]
    expect(normalizer).toEqual({
      type: "custom",
      char_filter: ["flusso_enum_status_0", "flusso_enum_status_1", "flusso_enum_status_2"],
      filter: []
    })
    expect(analysis.char_filter["flusso_enum_status_0"]).toEqual({
      type: "pattern_replace",
      pattern: "^low$",
      replacement: "\u00010000"
    })
    expect(analysis.char_filter["flusso_enum_status_1"]).toMatchObject({ pattern: "^a\\.b$", replacement: "\u00010001" })
    expect(analysis.char_filter["flusso_enum_status_2"]).toMatchObject({ pattern: "^high$", replacement: "\u00010002" })
  })

  it("sorts enum ranks as text in declared order (zero padding)", () => {
    const variants = Array.from({ length: 12 }, (_, i) => `v${i}`)
    const { analysis } = indexSettings(plan({ s: { kind: "enum", variants } }), builtin)
    const ranks = variants.map((_, i) => String(analysis.char_filter[`flusso_enum_s_${i}`]?.["replacement"]))
    expect([...ranks].sort()).toEqual(ranks)
  })

  it("is deterministic", () => {
    const p = plan({ status: { kind: "enum", variants: ["a", "b"] }, title: { kind: "text" } })
    expect(JSON.stringify(indexSettings(p, builtin))).toBe(JSON.stringify(indexSettings(p, builtin)))
    expect(JSON.stringify(deriveMapping(p, builtin))).toBe(JSON.stringify(deriveMapping(p, builtin)))
  })
})

// Tree plans are built by hand: the mapping depends on the plan only, not on how the config spells it.
const scalar = (name: string, kind: ScalarPlan["kind"], extra: Partial<ScalarPlan> = {}): ScalarPlan => ({
  _tag: "Scalar",
  name,
  kind,
  column: name,
  required: false,
  transforms: [],
  default: undefined,
  variants: undefined,
  options: undefined,
  ...extra
})

const join = (name: string, relation: JoinPlan["relation"], fields: ReadonlyArray<FieldPlan>, extra: Partial<JoinPlan> = {}): JoinPlan => ({
  _tag: "Join",
  name,
  relation,
  table: { schema: "public", table: name },
  primaryKey: ["id"],
  column: relation === "belongsTo" ? [`${name}_id`] : undefined,
  foreignKey: relation === "hasOne" || relation === "hasMany" ? ["parent_id"] : undefined,
  through: relation === "manyToMany" ? { table: { schema: "public", table: "links" }, leftKey: ["a"], rightKey: ["b"] } : undefined,
  filters: [],
  orderBy: [],
  limit: undefined,
  required: false,
  fields,
  options: undefined,
  ...extra
})

const aggregate = (name: string, fn: AggregatePlan["fn"], extra: Partial<AggregatePlan> = {}): AggregatePlan => ({
  _tag: "Aggregate",
  name,
  fn,
  table: { schema: "public", table: "lines" },
  primaryKey: undefined,
  foreignKey: ["order_id"],
  through: undefined,
  column: fn === "count" || fn === "ids" ? undefined : "amount",
  valueType: undefined,
  elementType: undefined,
  filters: [],
  options: undefined,
  ...extra
})

const tree = (fields: ReadonlyArray<FieldPlan>): IndexPlan => ({
  name: "orders",
  schema: "public",
  table: "orders",
  qualifiedTable: "public.orders",
  primaryKey: ["id"],
  softDelete: undefined,
  filters: [],
  fields,
  enabled: true,
  onError: "stop",
  hash: "abcd1234"
})

describe("deriveMapping over the plan tree", () => {
  const plain = { textAnalysis: "builtin", autoSubfields: false } as const

  it("maps objects and to-one joins as object, to-many joins as nested, at any depth", () => {
    const { properties } = deriveMapping(
      tree([
        { _tag: "Object", name: "address", fields: [scalar("city", "keyword")], options: undefined },
        join("customer", "belongsTo", [scalar("name", "keyword"), join("company", "belongsTo", [scalar("id", "long")])]),
        join("invoice", "hasOne", [scalar("total", "decimal")]),
        join("lines", "hasMany", [scalar("sku", "keyword"), join("tags", "manyToMany", [scalar("label", "keyword")])]),
        join("tags", "manyToMany", [scalar("label", "keyword")])
      ]),
      plain
    )
    expect(properties).toEqual({
      address: { type: "object", properties: { city: { type: "keyword" } } },
      customer: {
        type: "object",
        properties: { name: { type: "keyword" }, company: { type: "object", properties: { id: { type: "long" } } } }
      },
      invoice: { type: "object", properties: { total: { type: "double" } } },
      lines: {
        type: "nested",
        properties: { sku: { type: "keyword" }, tags: { type: "nested", properties: { label: { type: "keyword" } } } }
      },
      tags: { type: "nested", properties: { label: { type: "keyword" } } }
    })
  })

  it("maps a map as a dynamic object whose values follow the leaf kind", () => {
    const mapping = deriveMapping(
      tree([
        { _tag: "Map", name: "attrs", column: "attrs", values: "keyword", required: false, options: undefined },
        join("lines", "hasMany", [
          { _tag: "Map", name: "dims", column: "dims", values: "timestamp", required: false, options: undefined }
        ])
      ]),
      builtin
    )
    expect(mapping.properties["attrs"]).toEqual({ type: "object", dynamic: true })
    expect(mapping.properties["lines"]).toEqual({ type: "nested", properties: { dims: { type: "object", dynamic: true } } })
    expect(mapping.dynamic_templates).toEqual([
      {
        flusso_map_attrs: {
          path_match: "attrs.*",
          mapping: {
            type: "keyword",
            fields: {
              text: { type: "text", analyzer: "flusso_code" },
              keyword_lowercase: { type: "keyword", normalizer: "flusso_lowercase", ignore_above: 256 }
            }
          }
        }
      },
      {
        "flusso_map_lines-dims": {
          path_match: "lines.dims.*",
          mapping: { type: "date", format: expect.stringContaining("strict_date_optional_time") }
        }
      }
    ])
    // No map, no templates.
    expect(deriveMapping(tree([scalar("id", "long")]), builtin)).not.toHaveProperty("dynamic_templates")
  })

  it("maps geo as geo_point and infers constants from their value", () => {
    const constant = (name: string, value: unknown): FieldPlan => ({ _tag: "Constant", name, value, options: undefined })
    const { properties } = deriveMapping(
      tree([
        { _tag: "Geo", name: "at", source: { _tag: "LatLon", lat: "lat", lon: "lon" }, required: false, options: undefined },
        { _tag: "Geo", name: "place", source: { _tag: "Column", column: "place" }, required: true, options: undefined },
        constant("kind", "order"),
        constant("version", 3),
        constant("weight", 0.5),
        constant("live", true),
        constant("nothing", null),
        constant("ints", [1, 2]),
        constant("mixed", [1, 2.5]),
        constant("strings", ["a", null]),
        { _tag: "Constant", name: "custom", value: "x", options: { type: "text", index: false } }
      ]),
      builtin
    )
    expect(properties).toMatchObject({
      at: { type: "geo_point" },
      place: { type: "geo_point" },
      kind: { type: "keyword" },
      version: { type: "long" },
      weight: { type: "double" },
      live: { type: "boolean" },
      nothing: { type: "keyword" },
      ints: { type: "long" },
      mixed: { type: "double" },
      strings: { type: "keyword" },
      custom: { type: "text", index: false }
    })
  })

  it("maps aggregates by function and value type", () => {
    const { properties } = deriveMapping(
      tree([
        aggregate("lineCount", "count"),
        aggregate("total", "sum", { valueType: "decimal" }),
        aggregate("units", "sum", { valueType: "integer" }),
        aggregate("avgPrice", "avg"),
        aggregate("cheapest", "min", { valueType: "float" }),
        aggregate("latest", "max", { valueType: "timestamp" }),
        aggregate("lineIds", "ids", { elementType: "long" }),
        aggregate("skus", "ids", { elementType: "keyword" })
      ]),
      plain
    )
    expect(properties).toEqual({
      lineCount: { type: "long" },
      total: { type: "double" },
      // A sum of int4 values is an int8 in Postgres: it may not fit `integer`.
      units: { type: "long" },
      avgPrice: { type: "double" },
      cheapest: { type: "float" },
      latest: { type: "date", format: expect.stringContaining("strict_date_optional_time") },
      lineIds: { type: "long" },
      skus: { type: "keyword" }
    })
  })

  it("lets options override what is derived on every kind", () => {
    const { properties } = deriveMapping(
      tree([
        { _tag: "Object", name: "o", fields: [scalar("a", "long")], options: { enabled: false } },
        join("lines", "hasMany", [scalar("a", "long")], { options: { include_in_parent: true } }),
        join("owner", "belongsTo", [scalar("a", "long")], { options: { dynamic: false } }),
        { _tag: "Map", name: "m", column: "m", values: "long", required: false, options: { dynamic: false } },
        { _tag: "Geo", name: "g", source: { _tag: "Column", column: "g" }, required: false, options: { ignore_malformed: true } },
        aggregate("n", "count", { options: { type: "integer" } })
      ]),
      plain
    )
    expect(properties["o"]).toEqual({ type: "object", properties: { a: { type: "long" } }, enabled: false })
    expect(properties["lines"]).toEqual({ type: "nested", properties: { a: { type: "long" } }, include_in_parent: true })
    expect(properties["owner"]).toEqual({ type: "object", properties: { a: { type: "long" } }, dynamic: false })
    expect(properties["m"]).toEqual({ type: "object", dynamic: false })
    expect(properties["g"]).toEqual({ type: "geo_point", ignore_malformed: true })
    expect(properties["n"]).toEqual({ type: "integer" })
  })

  it("keeps the refs out of the document mapping: they live in a strict companion keyword index", () => {
    const mapping = deriveMapping(tree([scalar("id", "long")]), builtin)
    expect(REFS_FIELD).toBe("_flusso_refs")
    // No _source filter: it would make OpenSearch re-serialize (and round) every stored document.
    expect(mapping).toEqual({ dynamic: "strict", properties: { id: { type: "long" } } })
    expect(refsIndexMappings).toEqual({
      dynamic: "strict",
      _source: { enabled: false },
      properties: { _flusso_refs: { type: "keyword", doc_values: false } }
    })
  })

  it("gives nested enums their own sort normalizers, named by path, in index-wide settings", () => {
    const status = (variants: ReadonlyArray<string>) => scalar("status", "enum", { variants })
    const plan = tree([
      status(["new", "done"]),
      join("customer", "belongsTo", [status(["lead", "client"])]),
      join("lines", "hasMany", [{ _tag: "Object", name: "state", fields: [status(["open", "shipped", "lost"])], options: undefined }]),
      // A top-level field whose name looks like a path must not collide with one.
      scalar("customer_status", "enum", { variants: ["x"] })
    ])
    const { properties } = deriveMapping(plan, plain)
    expect(properties["customer"]).toEqual({
      type: "object",
      properties: { status: { type: "keyword", fields: { sort: { type: "keyword", normalizer: enumSortNormalizerName("customer.status") } } } }
    })
    const { analysis } = indexSettings(plan, builtin)
    const names = ["status", "customer.status", "lines.state.status", "customer_status"].map(enumSortNormalizerName)
    expect(new Set(names).size).toBe(4)
    for (const name of names) expect(analysis.normalizer[name]).toMatchObject({ type: "custom" })
    expect(analysis.normalizer[enumSortNormalizerName("lines.state.status")]).toEqual({
      type: "custom",
      char_filter: ["flusso_enum_lines-state-status_0", "flusso_enum_lines-state-status_1", "flusso_enum_lines-state-status_2"],
      filter: []
    })
    expect(analysis.char_filter["flusso_enum_customer-status_1"]).toEqual({
      type: "pattern_replace",
      pattern: "^client$",
      replacement: "\u00010001"
    })
    // Setting keys are dotted paths in OpenSearch: no analysis name may contain a dot.
    const all = [...Object.keys(analysis.normalizer), ...Object.keys(analysis.char_filter)]
    expect(all.filter((name) => name.includes("."))).toEqual([])
  })
})
