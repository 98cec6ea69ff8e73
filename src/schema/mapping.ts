/**
 * Mapping derivation (schema.md "Mapping derivation"): from an index plan to the
 * OpenSearch `mappings` and the analysis `settings` it relies on. Pure and DB-free, so
 * the same plan always yields the same index shape.
 */
import type { ScalarKind } from "../config/model.js"
import type { IndexPlan, PlannedField } from "./IndexPlan.js"

export interface MappingOptions {
  readonly textAnalysis: "builtin" | "icu"
  readonly autoSubfields: boolean
}

export type MappingProperty = Readonly<Record<string, unknown>>

export interface IndexMappings {
  readonly dynamic: "strict"
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

export const TEXT_ANALYZER = "flusso_text"
export const CODE_ANALYZER = "flusso_code"
export const LOWERCASE_NORMALIZER = "flusso_lowercase"

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

/** The normalizer of an enum's `.sort` subfield; one per field since variants differ. */
export const enumSortNormalizerName = (field: string): string => `flusso_enum_${field}`

const enumCharFilterName = (field: string, rank: number): string => `flusso_enum_${field}_${rank}`

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

const subfields = (field: PlannedField, options: MappingOptions): Record<string, MappingProperty> => {
  const out: Record<string, MappingProperty> = {}
  if (options.autoSubfields) {
    switch (field.kind) {
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
  if (field.kind === "enum" && field.variants !== undefined && field.variants.length > 0) {
    out["sort"] = { type: "keyword", normalizer: enumSortNormalizerName(field.name) }
  }
  return out
}

/** The mapping of one field: derived by kind, then `options` merged over it and winning. */
export const deriveFieldMapping = (field: PlannedField, options: MappingOptions): MappingProperty => {
  const fields = subfields(field, options)
  const derived: MappingProperty =
    Object.keys(fields).length > 0 ? { ...baseProperty(field.kind), fields } : baseProperty(field.kind)
  return field.options === undefined ? derived : { ...derived, ...field.options }
}

export const deriveMapping = (plan: IndexPlan, options: MappingOptions): IndexMappings => {
  const properties: Record<string, MappingProperty> = {}
  for (const field of plan.fields) properties[field.name] = deriveFieldMapping(field, options)
  return { dynamic: "strict", properties }
}

/** Java regex literal for a variant (pattern_replace patterns are Java regexes). */
const regexLiteral = (text: string): string => text.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`)

/**
 * A known variant sorts as U+0001 followed by its zero-padded rank. The control-char
 * marker sorts below every printable first byte, so unknown values (kept as they are)
 * sort after all known ones, and a value that merely looks like a rank is not taken for one.
 * Whole-value anchors keep `active` from rewriting part of `inactive`.
 */
const enumSortCharFilters = (field: PlannedField): Record<string, MappingProperty> => {
  const variants = field.variants ?? []
  const width = Math.max(4, String(variants.length).length)
  const out: Record<string, MappingProperty> = {}
  variants.forEach((variant, rank) => {
    out[enumCharFilterName(field.name, rank)] = {
      type: "pattern_replace",
      pattern: `^${regexLiteral(variant)}$`,
      // `$` and `\` are special in Java replacement strings; the rank is digits only.
      replacement: `\u0001${String(rank).padStart(width, "0")}`
    }
  })
  return out
}

export const indexSettings = (plan: IndexPlan, options: MappingOptions): AnalysisSettings => {
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
  for (const field of plan.fields) {
    if (field.kind !== "enum" || field.variants === undefined || field.variants.length === 0) continue
    const charFilters = enumSortCharFilters(field)
    Object.assign(char_filter, charFilters)
    normalizer[enumSortNormalizerName(field.name)] = {
      type: "custom",
      char_filter: Object.keys(charFilters),
      filter: []
    }
  }
  return { analysis: { analyzer, normalizer, filter, char_filter } }
}
