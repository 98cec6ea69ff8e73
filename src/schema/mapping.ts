/**
 * Mapping derivation (schema.md "Mapping derivation"): from an index plan — a tree of
 * fields, joins and aggregates — to the OpenSearch `mappings` and the analysis
 * `settings` it relies on. Pure and DB-free, so the same plan always yields the same
 * index shape.
 */
import type { ScalarKind } from "../config/model.js"
import type { AggregatePlan, FieldPlan, IndexPlan, JoinPlan, MapPlan, ScalarPlan } from "./IndexPlan.js"
import { CODE_ANALYZER, LOWERCASE_NORMALIZER, TEXT_ANALYZER } from "./analysisNames.js"
import { deriveRustMapping, rustIndexSettings } from "./rustMapping.js"

export interface MappingOptions {
  readonly textAnalysis: "builtin" | "icu"
  readonly autoSubfields: boolean
  /** The Rust flusso's rules instead of ours (a flusso.toml deployment): rustMapping.ts. */
  readonly style?: "flusso" | "rust"
}

export type MappingProperty = Readonly<Record<string, unknown>>

/** One entry of `dynamic_templates`: `{ name: { path_match, mapping } }`. */
export type DynamicTemplate = Readonly<Record<string, { readonly path_match: string; readonly mapping: MappingProperty }>>

export interface IndexMappings {
  readonly dynamic: "strict"
  /** Present only when some map field needs its values typed. */
  readonly dynamic_templates?: ReadonlyArray<DynamicTemplate>
  readonly properties: Readonly<Record<string, MappingProperty>>
}

export interface AnalysisSettings {
  readonly analysis: {
    readonly analyzer: Readonly<Record<string, MappingProperty>>
    readonly normalizer: Readonly<Record<string, MappingProperty>>
    readonly filter: Readonly<Record<string, MappingProperty>>
    readonly char_filter: Readonly<Record<string, MappingProperty>>
  }
}

export { CODE_ANALYZER, LOWERCASE_NORMALIZER, TEXT_ANALYZER }

/**
 * The field listing the related rows a document read, as `schema.table:key` strings. A
 * delete of a related row on a table without REPLICA IDENTITY FULL carries only its key,
 * so the documents to rebuild are found by searching these. They travel beside the
 * document (`UpsertDocument.refs`), never inside it (readers never see them); OpenSearch
 * keeps them in a hidden companion index per generation (`refsIndexMappings`).
 *
 * Not a field of the document's own mapping with `_source.excludes`: any source filter
 * makes OpenSearch re-serialize every stored `_source` through a map, which reorders keys
 * and rounds numerics through a double (12.50 → 12.5, 1.0000000000000001 → 1.0).
 */
export const REFS_FIELD = "_flusso_refs"

/** The companion index holding each document's refs under the same id; nothing to read back but ids. */
export const refsIndexMappings = {
  dynamic: "strict",
  _source: { enabled: false },
  // Only ever searched by term (no sorting, no aggregation): no doc values to write.
  properties: { [REFS_FIELD]: { type: "keyword", doc_values: false } }
} as const

/** Keyword subfields stop indexing long values instead of failing the document. */
const SUBFIELD_IGNORE_ABOVE = 256

const keywordLowercase: MappingProperty = {
  type: "keyword",
  normalizer: LOWERCASE_NORMALIZER,
  ignore_above: SUBFIELD_IGNORE_ABOVE
}

/**
 * Dates accept Postgres `date`, `timestamp[tz]` in canonical ISO form (microseconds are
 * parsed and truncated to OpenSearch's millisecond precision) and `time` values, which
 * the timestamp kind also accepts.
 */
const DATE_FORMAT =
  "strict_date_optional_time||strict_hour_minute_second_fraction||strict_hour_minute_second||epoch_millis"

/**
 * Analysis component names are flattened into dotted setting keys by OpenSearch, so a
 * field path joins with `-` (never in a field name) rather than `.`: `customer.status`
 * → `customer-status`, distinct from a top-level `customer_status`.
 */
const pathKey = (path: string): string => path.split(".").join("-")

/** The normalizer of an enum's `.sort` subfield, by the field's dotted document path; one per field since variants differ. */
export const enumSortNormalizerName = (path: string): string => `flusso_enum_${pathKey(path)}`

const enumCharFilterName = (path: string, rank: number): string => `flusso_enum_${pathKey(path)}_${rank}`

const baseProperty = (kind: ScalarKind): MappingProperty => {
  switch (kind) {
    case "text":
      return { type: "text", analyzer: TEXT_ANALYZER }
    case "identifier":
      return { type: "text", analyzer: CODE_ANALYZER }
    case "keyword":
    case "enum":
    case "uuid":
      return { type: "keyword" }
    case "boolean":
      return { type: "boolean" }
    case "short":
    case "integer":
    case "long":
    case "float":
    case "double":
      return { type: kind }
    case "decimal":
      return { type: "double" }
    case "date":
    case "timestamp":
      return { type: "date", format: DATE_FORMAT }
    case "binary":
      return { type: "binary" }
    case "json":
      // The root is strict; an arbitrary json value must be free to bring its own keys.
      return { type: "object", dynamic: true }
  }
}

const hasVariants = (variants: ReadonlyArray<string> | undefined): variants is ReadonlyArray<string> =>
  variants !== undefined && variants.length > 0

const subfields = (
  kind: ScalarKind,
  sortNormalizer: string | undefined,
  options: MappingOptions
): Record<string, MappingProperty> => {
  const out: Record<string, MappingProperty> = {}
  if (options.autoSubfields) {
    switch (kind) {
      // identifier is a text field too (with the code analyzer): it gets the same exact
      // and case-insensitive siblings for sorting and term lookups.
      case "text":
      case "identifier":
        out["keyword"] = { type: "keyword", ignore_above: SUBFIELD_IGNORE_ABOVE }
        out["keyword_lowercase"] = keywordLowercase
        break
      case "keyword":
        out["text"] = { type: "text", analyzer: CODE_ANALYZER }
        out["keyword_lowercase"] = keywordLowercase
        break
      default:
        break
    }
  }
  if (sortNormalizer !== undefined) out["sort"] = { type: "keyword", normalizer: sortNormalizer }
  return out
}

/** A scalar kind's mapping with its subfields; `sortNormalizer` only for an enum with variants. */
const kindProperty = (kind: ScalarKind, options: MappingOptions, sortNormalizer?: string): MappingProperty => {
  const fields = subfields(kind, sortNormalizer, options)
  return Object.keys(fields).length > 0 ? { ...baseProperty(kind), fields } : baseProperty(kind)
}

const withOptions = (derived: MappingProperty, options: Readonly<Record<string, unknown>> | undefined): MappingProperty =>
  options === undefined ? derived : { ...derived, ...options }

const scalarProperty = (field: ScalarPlan, path: string, options: MappingOptions): MappingProperty =>
  kindProperty(
    field.kind,
    options,
    field.kind === "enum" && hasVariants(field.variants) ? enumSortNormalizerName(path) : undefined
  )

/** The mapping a JSON value implies; an array maps as its elements (OpenSearch has no array type). */
const constantProperty = (value: unknown): MappingProperty => {
  if (typeof value === "boolean") return { type: "boolean" }
  if (typeof value === "number") return { type: Number.isInteger(value) ? "long" : "double" }
  if (Array.isArray(value)) {
    const elements: ReadonlyArray<unknown> = value
    const present = elements.filter((element) => element !== null)
    const types = new Set(present.map((element) => constantProperty(element)["type"]))
    // Mixed integers and fractions share `double`; any other mix can only be keyword.
    if (types.size === 2 && types.has("long") && types.has("double")) return { type: "double" }
    const first = present[0]
    return types.size === 1 && first !== undefined ? constantProperty(first) : { type: "keyword" }
  }
  if (value !== null && typeof value === "object") return { type: "object", dynamic: true }
  // Strings, and null (nothing to infer from: keyword indexes whatever it may become).
  return { type: "keyword" }
}

/**
 * An aggregate's value. A sum of integers can outgrow its column's type (Postgres sums
 * int2/int4 into int8 and int8 into numeric), so integral sums map as long.
 */
const aggregateProperty = (field: AggregatePlan, options: MappingOptions): MappingProperty => {
  switch (field.fn) {
    case "count":
      return { type: "long" }
    case "avg":
      return { type: "double" }
    case "ids":
      return { type: field.elementType ?? "keyword" }
    case "sum": {
      const kind = field.valueType ?? "double"
      return kind === "short" || kind === "integer" ? { type: "long" } : kindProperty(kind, options)
    }
    case "min":
    case "max":
      return kindProperty(field.valueType ?? "double", options)
  }
}

/** Types a map's values: the leaf kind's mapping for every key under the map's path. */
const mapTemplate = (field: MapPlan, path: string, options: MappingOptions): DynamicTemplate => ({
  [`flusso_map_${pathKey(path)}`]: { path_match: `${path}.*`, mapping: kindProperty(field.values, options) }
})

const joinType = (field: JoinPlan): "object" | "nested" =>
  // To-many children are matched one by one (nested), so a query's conditions must hold on the same child.
  field.relation === "hasMany" || field.relation === "manyToMany" ? "nested" : "object"

/** Walks one level of fields; `parent` is the dotted path of the object holding them. */
const deriveLevel = (
  fields: ReadonlyArray<FieldPlan>,
  parent: string | undefined,
  options: MappingOptions,
  templates: Array<DynamicTemplate>
): Record<string, MappingProperty> => {
  const properties: Record<string, MappingProperty> = {}
  for (const field of fields) {
    const path = parent === undefined ? field.name : `${parent}.${field.name}`
    properties[field.name] = withOptions(fieldProperty(field, path, options, templates), field.options)
  }
  return properties
}

const fieldProperty = (
  field: FieldPlan,
  path: string,
  options: MappingOptions,
  templates: Array<DynamicTemplate>
): MappingProperty => {
  switch (field._tag) {
    case "Scalar":
      return scalarProperty(field, path, options)
    case "Object":
      return { type: "object", properties: deriveLevel(field.fields, path, options, templates) }
    case "Join":
      return { type: joinType(field), properties: deriveLevel(field.fields, path, options, templates) }
    case "Map":
      templates.push(mapTemplate(field, path, options))
      return { type: "object", dynamic: true }
    case "Geo":
      return { type: "geo_point" }
    case "Constant":
      return constantProperty(field.value)
    case "Custom":
      return field.mapping
    case "Aggregate":
      return aggregateProperty(field, options)
  }
}

export const deriveMapping = (plan: IndexPlan, options: MappingOptions): IndexMappings => {
  if (options.style === "rust") return deriveRustMapping(plan, options)
  // Map fields add their value templates (a root-level list) as the walk meets them.
  const templates: Array<DynamicTemplate> = []
  const properties = deriveLevel(plan.fields, undefined, options, templates)
  return { dynamic: "strict", ...(templates.length > 0 ? { dynamic_templates: templates } : {}), properties }
}

/** Every enum with variants at any depth, with its dotted path: sort normalizers are index-wide settings. */
const enumsWithVariants = (
  fields: ReadonlyArray<FieldPlan>,
  parent: string | undefined
): ReadonlyArray<{ readonly path: string; readonly variants: ReadonlyArray<string> }> =>
  fields.flatMap((field) => {
    const path = parent === undefined ? field.name : `${parent}.${field.name}`
    switch (field._tag) {
      case "Scalar":
        return field.kind === "enum" && hasVariants(field.variants) ? [{ path, variants: field.variants }] : []
      case "Object":
      case "Join":
        return enumsWithVariants(field.fields, path)
      default:
        return []
    }
  })

/** Java regex literal for a variant (pattern_replace patterns are Java regexes). */
const regexLiteral = (text: string): string => text.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`)

/**
 * A known variant sorts as U+0001 followed by its zero-padded rank. The control-char
 * marker sorts below every printable first byte, so unknown values (kept as they are)
 * sort after all known ones, and a value that merely looks like a rank is not taken for one.
 * Whole-value anchors keep `active` from rewriting part of `inactive`.
 */
const enumSortCharFilters = (path: string, variants: ReadonlyArray<string>): Record<string, MappingProperty> => {
  const width = Math.max(4, String(variants.length).length)
  const out: Record<string, MappingProperty> = {}
  variants.forEach((variant, rank) => {
    out[enumCharFilterName(path, rank)] = {
      type: "pattern_replace",
      pattern: `^${regexLiteral(variant)}$`,
      // `$` and `\` are special in Java replacement strings; the rank is digits only.
      replacement: `\u0001${String(rank).padStart(width, "0")}`
    }
  })
  return out
}

export const indexSettings = (plan: IndexPlan, options: MappingOptions): AnalysisSettings => {
  if (options.style === "rust") return rustIndexSettings(plan, options)
  const icu = options.textAnalysis === "icu"
  // ICU folding lowercases and folds every script; the builtin pair covers Latin.
  const fold = icu ? ["icu_folding"] : ["lowercase", "asciifolding"]
  const analyzer: Record<string, MappingProperty> = {
    [TEXT_ANALYZER]: { type: "custom", tokenizer: icu ? "icu_tokenizer" : "standard", filter: fold },
    [CODE_ANALYZER]: {
      type: "custom",
      tokenizer: "whitespace",
      filter: ["flusso_word_delimiter", "flatten_graph", ...fold]
    }
  }
  const filter: Record<string, MappingProperty> = {
    // `C-01234` → C-01234, C, 01234, C01234: found by `c01234`, `C-01234` and `01234`.
    flusso_word_delimiter: { type: "word_delimiter_graph", catenate_all: true, preserve_original: true }
  }
  const normalizer: Record<string, MappingProperty> = {
    [LOWERCASE_NORMALIZER]: { type: "custom", filter: ["lowercase"] }
  }
  const char_filter: Record<string, MappingProperty> = {}
  for (const { path, variants } of enumsWithVariants(plan.fields, undefined)) {
    const charFilters = enumSortCharFilters(path, variants)
    Object.assign(char_filter, charFilters)
    normalizer[enumSortNormalizerName(path)] = {
      type: "custom",
      char_filter: Object.keys(charFilters),
      filter: []
    }
  }
  return { analysis: { analyzer, normalizer, filter, char_filter } }
}
