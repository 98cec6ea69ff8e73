/**
 * The handle of one leaf field: the operators its kind supports, each building a `Query`
 * (or a `Sort`) on the field's path. One interface per kind, and the function building it
 * at run time; `fields.ts` picks which for each field of an index.
 *
 * Operator names follow the query DSL they build (`term`, `terms`, `prefix`, `match`,
 * `exists`, ranges as `gt`/`gte`/`lt`/`lte`/`between`), so what a handle sends reads the
 * same in OpenSearch's own docs.
 */
import type { DateInput, Distance, GeoPoint, CustomValue } from "./values.js"
import { jsonValue } from "./values.js"
import { type Json, type JsonObject, Query, Sort } from "./Query.js"

export interface SortOptions {
  /** Where documents without a value go; OpenSearch's default is last, in either order. */
  readonly missing?: "first" | "last"
}

export interface MatchOptions {
  /** `"and"`: every word must occur; default `"or"`. */
  readonly operator?: "and" | "or"
  readonly fuzziness?: "AUTO" | 0 | 1 | 2
  readonly minimumShouldMatch?: number | `${number}%`
}

export interface PhraseOptions {
  /** How many positions the words may move apart. */
  readonly slop?: number
}

export interface AnyOptions {
  /** How the matching elements' scores make the document's (scoring context only); default `"avg"`. */
  readonly scoreMode?: "avg" | "max" | "min" | "sum" | "none"
}

// ---------------------------------------------------------------------------------------
// Operator families
// ---------------------------------------------------------------------------------------

export interface Present<S extends string> {
  /** The field has a value: neither null nor missing (an empty array has none). */
  exists(): Query<S>
}

export interface Exact<S extends string, V> {
  /** The value equals `value` (on an array: some element does). */
  term(value: V): Query<S>
  /** The value is one of `values`. */
  terms(values: ReadonlyArray<V>): Query<S>
}

export interface Ordered<S extends string, V> {
  gt(value: V): Query<S>
  gte(value: V): Query<S>
  lt(value: V): Query<S>
  lte(value: V): Query<S>
  /** `low <= value <= high`. */
  between(low: V, high: V): Query<S>
}

export interface Sorted<S extends string> {
  asc(options?: SortOptions): Sort<S>
  desc(options?: SortOptions): Sort<S>
}

// ---------------------------------------------------------------------------------------
// One handle per kind
// ---------------------------------------------------------------------------------------

/** Analyzed text: found by its words. */
export interface MatchHandle<S extends string> extends Present<S> {
  /** Any of the words (all of them with `operator: "and"`), in any order; scored by relevance. */
  match(text: string, options?: MatchOptions): Query<S>
  /** The words in this order. */
  phrase(text: string, options?: PhraseOptions): Query<S>
  /** The words in this order, the last one as a prefix (search as you type). */
  prefix(text: string): Query<S>
}

/** An exact string: a keyword subfield, a uuid, `ids` of keys. */
export interface ExactHandle<S extends string> extends Present<S>, Exact<S, string>, Sorted<S> {
  /** The value starts with `value`. */
  prefix(value: string): Query<S>
}

/** `t.text`: analyzed with `flusso_text`; its derived subfields are exact. */
export interface TextHandle<S extends string> extends MatchHandle<S> {
  /** `.keyword`: the exact value (values over 256 characters are not indexed). */
  readonly keyword: ExactHandle<S>
  /** `.keyword_lowercase`: the exact value, case-insensitively. */
  readonly lowercase: ExactHandle<S>
}

/**
 * `t.identifier`: a code such as "SO-00042". `match` finds it by its parts ("so00042",
 * "00042"); `term` is the exact code; `prefix` is case-insensitive; sorts by the code.
 */
export interface IdentifierHandle<S extends string> extends Present<S>, Exact<S, string>, Sorted<S> {
  match(text: string, options?: MatchOptions): Query<S>
  /** The code starts with `value`, in any case. */
  prefix(value: string): Query<S>
  readonly keyword: ExactHandle<S>
  readonly lowercase: ExactHandle<S>
}

/** `t.keyword`: an exact string; `.text` finds it by its parts, `.lowercase` in any case. */
export interface KeywordHandle<S extends string> extends ExactHandle<S> {
  readonly text: MatchHandle<S>
  readonly lowercase: ExactHandle<S>
}

/** `t.enum`: only its variants; sorts in the order they are declared (unknown values last). */
export interface EnumHandle<S extends string, V extends string> extends Present<S>, Exact<S, V>, Sorted<S> {}

/** Numbers (and decimals, counts, sums, averages). */
export interface NumberHandle<S extends string> extends Present<S>, Exact<S, number>, Ordered<S, number>, Sorted<S> {}

/** `t.date`, `t.timestamp` (and min/max of them). */
export interface DateHandle<S extends string> extends Present<S>, Exact<S, DateInput>, Ordered<S, DateInput>, Sorted<S> {}

export interface BooleanHandle<S extends string> extends Present<S>, Sorted<S> {
  term(value: boolean): Query<S>
}

export interface BoundingBox {
  readonly topLeft: GeoPoint
  readonly bottomRight: GeoPoint
}

/** `t.geo`: a geo_point. */
export interface GeoHandle<S extends string> extends Present<S> {
  /** Within `distance` of `center`. */
  withinDistance(center: GeoPoint, distance: Distance): Query<S>
  /** Inside the box. */
  withinBox(box: BoundingBox): Query<S>
}

/** `t.map`: open keys, each value of the map's leaf kind. */
export interface MapHandle<S extends string, L> extends Present<S> {
  /** The value under `key`. */
  key(key: string): L
}

/** `t.json`: any shape; only whether it is there (`raw` for the rest). */
export interface JsonHandle<S extends string> extends Present<S> {}

/** `t.custom`: mapped as the config says; exact values and presence. */
export interface CustomHandle<S extends string> extends Present<S>, Exact<S, CustomValue> {}

/** `t.binary`, `t.constant`: stored, not searched (binary is not indexed; a constant is the same everywhere). */
export interface StoredHandle {
  readonly searchable: false
}

// ---------------------------------------------------------------------------------------
// Building them
// ---------------------------------------------------------------------------------------

/** Where a leaf lives: its dotted path, and whether that path is a derived subfield. */
interface Leaf {
  readonly path: string
  readonly subfield: boolean
}

const subfield = (parent: string, name: string): Leaf => ({ path: `${parent}.${name}`, subfield: true })

const query = <S extends string>(leaf: Leaf, dsl: JsonObject): Query<S> => new Query<S>(dsl, leaf.subfield ? [leaf.path] : [])

const present = <S extends string>(leaf: Leaf): Present<S> => ({ exists: () => query(leaf, { exists: { field: leaf.path } }) })

const exact = <S extends string, V extends string | number | boolean | Date>(leaf: Leaf): Exact<S, V> => ({
  term: (value) => query(leaf, { term: { [leaf.path]: { value: jsonValue(value) } } }),
  terms: (values) => query(leaf, { terms: { [leaf.path]: values.map(jsonValue) } })
})

const range = <S extends string>(leaf: Leaf, bounds: Readonly<Record<string, Json>>): Query<S> =>
  query(leaf, { range: { [leaf.path]: bounds } })

const ordered = <S extends string, V extends number | DateInput>(leaf: Leaf): Ordered<S, V> => ({
  gt: (value) => range(leaf, { gt: jsonValue(value) }),
  gte: (value) => range(leaf, { gte: jsonValue(value) }),
  lt: (value) => range(leaf, { lt: jsonValue(value) }),
  lte: (value) => range(leaf, { lte: jsonValue(value) }),
  between: (low, high) => range(leaf, { gte: jsonValue(low), lte: jsonValue(high) })
})

const sortKey = <S extends string>(leaf: Leaf, order: "asc" | "desc", options: SortOptions | undefined): Sort<S> =>
  new Sort<S>(
    { [leaf.path]: { order, ...(options?.missing === undefined ? {} : { missing: `_${options.missing}` }) } },
    leaf.subfield ? [leaf.path] : []
  )

const sorted = <S extends string>(leaf: Leaf): Sorted<S> => ({
  asc: (options) => sortKey(leaf, "asc", options),
  desc: (options) => sortKey(leaf, "desc", options)
})

const matchOptions = (options: MatchOptions | undefined): Record<string, Json> => ({
  ...(options?.operator === undefined ? {} : { operator: options.operator }),
  ...(options?.fuzziness === undefined ? {} : { fuzziness: options.fuzziness }),
  ...(options?.minimumShouldMatch === undefined ? {} : { minimum_should_match: options.minimumShouldMatch })
})

const matchQuery = <S extends string>(leaf: Leaf, text: string, options: MatchOptions | undefined): Query<S> =>
  query(leaf, { match: { [leaf.path]: { query: text, ...matchOptions(options) } } })

const prefixQuery = <S extends string>(leaf: Leaf, value: string): Query<S> =>
  query(leaf, { prefix: { [leaf.path]: { value } } })

export const matchHandle = <S extends string>(leaf: Leaf): MatchHandle<S> => ({
  ...present(leaf),
  match: (text, options) => matchQuery(leaf, text, options),
  phrase: (text, options) =>
    query(leaf, { match_phrase: { [leaf.path]: { query: text, ...(options?.slop === undefined ? {} : { slop: options.slop }) } } }),
  prefix: (text) => query(leaf, { match_phrase_prefix: { [leaf.path]: { query: text } } })
})

export const exactHandle = <S extends string>(leaf: Leaf): ExactHandle<S> => ({
  ...present(leaf),
  ...exact<S, string>(leaf),
  ...sorted(leaf),
  prefix: (value) => prefixQuery(leaf, value)
})

export const textHandle = <S extends string>(path: string): TextHandle<S> => {
  const leaf = { path, subfield: false }
  return {
    ...matchHandle(leaf),
    keyword: exactHandle(subfield(path, "keyword")),
    lowercase: exactHandle(subfield(path, "keyword_lowercase"))
  }
}

export const identifierHandle = <S extends string>(path: string): IdentifierHandle<S> => {
  const leaf = { path, subfield: false }
  const keyword = exactHandle<S>(subfield(path, "keyword"))
  const lowercase = exactHandle<S>(subfield(path, "keyword_lowercase"))
  return {
    ...present(leaf),
    match: (text, options) => matchQuery(leaf, text, options),
    term: keyword.term,
    terms: keyword.terms,
    asc: keyword.asc,
    desc: keyword.desc,
    prefix: lowercase.prefix,
    keyword,
    lowercase
  }
}

export const keywordHandle = <S extends string>(path: string): KeywordHandle<S> => ({
  ...exactHandle({ path, subfield: false }),
  text: matchHandle(subfield(path, "text")),
  lowercase: exactHandle(subfield(path, "keyword_lowercase"))
})

/** `sortPath`: the `.sort` subfield an enum with variants gets (mapping.ts), which ranks them. */
export const enumHandle = <S extends string, V extends string>(path: string, sortPath: string): EnumHandle<S, V> => ({
  ...present({ path, subfield: false }),
  ...exact<S, V>({ path, subfield: false }),
  ...sorted({ path: sortPath, subfield: false })
})

export const numberHandle = <S extends string>(path: string): NumberHandle<S> => {
  const leaf = { path, subfield: false }
  return { ...present(leaf), ...exact<S, number>(leaf), ...ordered<S, number>(leaf), ...sorted(leaf) }
}

export const dateHandle = <S extends string>(path: string): DateHandle<S> => {
  const leaf = { path, subfield: false }
  return { ...present(leaf), ...exact<S, DateInput>(leaf), ...ordered<S, DateInput>(leaf), ...sorted(leaf) }
}

export const booleanHandle = <S extends string>(path: string): BooleanHandle<S> => {
  const leaf = { path, subfield: false }
  return { ...present(leaf), ...sorted(leaf), term: (value) => query(leaf, { term: { [path]: { value } } }) }
}

const point = (p: GeoPoint): JsonObject => ({ lat: p.lat, lon: p.lon })

export const geoHandle = <S extends string>(path: string): GeoHandle<S> => {
  const leaf = { path, subfield: false }
  return {
    ...present(leaf),
    withinDistance: (center, distance) => query(leaf, { geo_distance: { distance, [path]: point(center) } }),
    withinBox: (box) =>
      query(leaf, { geo_bounding_box: { [path]: { top_left: point(box.topLeft), bottom_right: point(box.bottomRight) } } })
  }
}

export const mapHandle = <S extends string, L>(path: string, leafAt: (path: string) => L): MapHandle<S, L> => ({
  ...present({ path, subfield: false }),
  key: (key) => leafAt(`${path}.${key}`)
})

export const jsonHandle = <S extends string>(path: string): JsonHandle<S> => present({ path, subfield: false })

export const customHandle = <S extends string>(path: string): CustomHandle<S> => {
  const leaf = { path, subfield: false }
  return { ...present(leaf), ...exact<S, CustomValue>(leaf) }
}

export const storedHandle: StoredHandle = { searchable: false }

export const existsHandle = <S extends string>(path: string): Present<S> => present({ path, subfield: false })
