/**
 * The mappings the Rust flusso (0.15) derives, for deployments read from its `flusso.toml`
 * (`mappingStyle: "rust"` on the sink): a user moving over keeps the exact index shape
 * their queries were written against. Measured against the Rust binary on the same files,
 * its rules differ from ours (mapping.ts) in these ways:
 * - every field whose OpenSearch type is `text` or `keyword` gets the auto subfields —
 *   enums, uuids, string constants, `ids` of keys and `custom` fields typed so included;
 *   a `text` field's `flusso_text` analyzer comes with them (none without them);
 * - dates carry OpenSearch's default format;
 * - a `map` is an object with `dynamic: true` and no value template, so its values take
 *   OpenSearch's own dynamic mapping (strings: `text` with a `keyword` subfield);
 * - `sum`/`min`/`max` keep their value type (a sum of `integer` maps `integer`), a
 *   constant array maps as its first element;
 * - an enum's `.sort` subfield uses a `mapping` char filter `variant => rank` and a
 *   normalizer named `flusso_enumsort__<path>`;
 * - `flusso_lowercase` also folds accents, and ICU analysis uses `icu_normalizer`.
 * One deliberate exception: a `json` field stays `dynamic: true`. The Rust flusso maps it
 * as a bare object under the strict root, which refuses every document whose value has a
 * key, so no working deployment depends on that.
 */
import type { ScalarKind } from "../config/model.js"
import type { AggregatePlan, FieldPlan, IndexPlan } from "./IndexPlan.js"
import type { AnalysisSettings, IndexMappings, MappingOptions, MappingProperty } from "./mapping.js"
import { CODE_ANALYZER, LOWERCASE_NORMALIZER, TEXT_ANALYZER } from "./analysisNames.js"

const IGNORE_ABOVE = 256

const keywordLowercase: MappingProperty = { type: "keyword", normalizer: LOWERCASE_NORMALIZER, ignore_above: IGNORE_ABOVE }

/** The OpenSearch type of a declared kind, as the Rust flusso's `FlussoType::opensearch`. */
const typeOf = (kind: ScalarKind): string => {
  switch (kind) {
    case "text":
    case "identifier":
      return "text"
    case "keyword":
    case "enum":
    case "uuid":
      return "keyword"
    case "decimal":
      return "double"
    case "date":
    case "timestamp":
      return "date"
    case "json":
      return "object"
    default:
      return kind
  }
}

/** `{ type }` plus, when auto subfields are on, what a text or keyword field gets by default. */
const typed = (type: string, options: MappingOptions): Record<string, unknown> => {
  if (!options.autoSubfields) return { type }
  if (type === "text") {
    return { type, analyzer: TEXT_ANALYZER, fields: { keyword: { type: "keyword", ignore_above: IGNORE_ABOVE }, keyword_lowercase: keywordLowercase } }
  }
  if (type === "keyword") return { type, fields: { text: { type: "text", analyzer: CODE_ANALYZER }, keyword_lowercase: keywordLowercase } }
  return { type }
}

/** The sort normalizer (and char filter) of an enum with variants, by its dotted path: non-alphanumerics become `_`. */
export const rustEnumSortName = (path: string): string =>
  `flusso_enumsort__${[...path].map((c) => (/^[A-Za-z0-9]$/.test(c) ? c : "_")).join("")}`

const scalarProperty = (kind: ScalarKind, variants: ReadonlyArray<string> | undefined, path: string, options: MappingOptions) => {
  const property = typed(typeOf(kind), options)
  // An identifier is text analyzed as a code (an option the Rust loader adds, so the user's own wins).
  if (kind === "identifier") property["analyzer"] = CODE_ANALYZER
  if (kind === "json") property["dynamic"] = true
  if (kind === "enum" && variants !== undefined && variants.length > 0) {
    const existing = property["fields"]
    const fields = typeof existing === "object" && existing !== null ? existing : {}
    property["fields"] = { ...fields, sort: { type: "keyword", normalizer: rustEnumSortName(path), ignore_above: IGNORE_ABOVE } }
  }
  return property
}

/** The type a constant implies: a whole number is long, an array its first element's. */
const constantType = (value: unknown): string => {
  if (typeof value === "boolean") return "boolean"
  if (typeof value === "number") return Number.isInteger(value) ? "long" : "double"
  if (Array.isArray(value)) {
    const items: ReadonlyArray<unknown> = value
    return items.length === 0 ? "keyword" : constantType(items[0])
  }
  if (value !== null && typeof value === "object") return "object"
  return "keyword"
}

const aggregateType = (field: AggregatePlan): string => {
  switch (field.fn) {
    case "count":
      return "long"
    case "avg":
      return "double"
    case "ids":
      return field.elementType ?? "keyword"
    case "sum":
    case "min":
    case "max":
      return field.valueType === undefined ? "double" : typeOf(field.valueType)
  }
}

const level = (fields: ReadonlyArray<FieldPlan>, parent: string | undefined, options: MappingOptions): Record<string, MappingProperty> => {
  const properties: Record<string, MappingProperty> = {}
  for (const field of fields) {
    const path = parent === undefined ? field.name : `${parent}.${field.name}`
    // The field's own options overlay whatever was derived, as in the Rust flusso.
    properties[field.name] = { ...property(field, path, options), ...field.options }
  }
  return properties
}

const property = (field: FieldPlan, path: string, options: MappingOptions): MappingProperty => {
  switch (field._tag) {
    case "Scalar":
      return scalarProperty(field.kind, field.variants, path, options)
    case "Object":
      return { type: "object", properties: level(field.fields, path, options) }
    case "Join":
      return {
        type: field.relation === "hasMany" || field.relation === "manyToMany" ? "nested" : "object",
        properties: level(field.fields, path, options)
      }
    case "Map":
      return { type: "object", dynamic: true }
    case "Geo":
      return { type: "geo_point" }
    case "Constant": {
      const type = constantType(field.value)
      return type === "object" ? { type, dynamic: true } : typed(type, options)
    }
    case "Custom": {
      const type = field.mapping["type"]
      return { ...(typeof type === "string" ? typed(type, options) : {}), ...field.mapping }
    }
    case "Aggregate":
      return typed(aggregateType(field), options)
  }
}

export const deriveRustMapping = (plan: IndexPlan, options: MappingOptions): IndexMappings => ({
  dynamic: "strict",
  properties: level(plan.fields, undefined, options)
})

const enumsWithVariants = (fields: ReadonlyArray<FieldPlan>, parent: string | undefined): ReadonlyArray<{ readonly path: string; readonly variants: ReadonlyArray<string> }> =>
  fields.flatMap((field) => {
    const path = parent === undefined ? field.name : `${parent}.${field.name}`
    if (field._tag === "Scalar") return field.kind === "enum" && field.variants !== undefined && field.variants.length > 0 ? [{ path, variants: field.variants }] : []
    return field._tag === "Object" || field._tag === "Join" ? enumsWithVariants(field.fields, path) : []
  })

/** `variant => rank`, the rank zero-padded to the width of the highest one so keyword order is rank order. */
const rankRules = (variants: ReadonlyArray<string>): ReadonlyArray<string> => {
  const width = String(Math.max(0, variants.length - 1)).length
  return variants.map((variant, rank) => `${variant} => ${String(rank).padStart(width, "0")}`)
}

export const rustIndexSettings = (plan: IndexPlan, options: MappingOptions): AnalysisSettings => {
  const icu = options.textAnalysis === "icu"
  const char_filter: Record<string, MappingProperty> = {}
  const normalizer: Record<string, MappingProperty> = {
    [LOWERCASE_NORMALIZER]: { type: "custom", filter: icu ? ["icu_normalizer"] : ["lowercase", "asciifolding"] }
  }
  for (const { path, variants } of enumsWithVariants(plan.fields, undefined)) {
    const name = rustEnumSortName(path)
    char_filter[name] = { type: "mapping", mappings: rankRules(variants) }
    normalizer[name] = { type: "custom", char_filter: [name], filter: [] }
  }
  return {
    analysis: {
      filter: { flusso_word_delimiter: { type: "word_delimiter_graph", catenate_all: true, preserve_original: true } },
      char_filter,
      analyzer: {
        [CODE_ANALYZER]: {
          type: "custom",
          tokenizer: "whitespace",
          filter: ["flusso_word_delimiter", "flatten_graph", "lowercase", icu ? "icu_folding" : "asciifolding"]
        },
        [TEXT_ANALYZER]: icu
          ? { type: "custom", tokenizer: "icu_tokenizer", filter: ["icu_normalizer", "icu_folding"] }
          : { type: "custom", tokenizer: "standard", filter: ["lowercase", "asciifolding"] }
      },
      normalizer
    }
  }
}
