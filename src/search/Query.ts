/**
 * A search condition (`Query`) and a sort key (`Sort`): OpenSearch query DSL built by the
 * field handles, with the *scope* it was built in as a type. Root fields build
 * `Query<"">`; the fields of one element of a nested array (`recentOrders`) build
 * `Query<"recentOrders">`, which only that array's `any` / `all` / `none` accept — a
 * condition on an element used outside its array (where OpenSearch would silently match
 * nothing) does not compile.
 *
 * Also the combinators `and`, `or`, `not`, and the escape hatches `raw` / `rawSort`.
 */

/** JSON, as the query DSL is written. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
export type JsonObject = { readonly [key: string]: Json }

/** Only at the type level: the scope a condition (or a sort key) belongs to; two symbols keep the two apart. */
declare const QueryScope: unique symbol
declare const SortScope: unique symbol

/**
 * One condition, in scope `S` (`""` at the root, else the dotted path of the nested array
 * whose elements it tests). `dsl` is the OpenSearch query it stands for.
 */
export class Query<out S extends string = ""> {
  declare readonly [QueryScope]: S
  constructor(
    /** The OpenSearch query clause. */
    readonly dsl: JsonObject,
    /**
     * Paths of the mapping's derived subfields (`.keyword`, `.keyword_lowercase`, `.text`)
     * this condition reads: a sink with `autoSubfields: false` has none, and OpenSearch
     * would answer a query on a missing field with no hits instead of an error.
     */
    readonly subfields: ReadonlyArray<string> = []
  ) {}
}

/** One sort key, in scope `S` like `Query`. */
export class Sort<out S extends string = ""> {
  declare readonly [SortScope]: S
  constructor(
    readonly dsl: JsonObject,
    readonly subfields: ReadonlyArray<string> = []
  ) {}
}

/** A condition, or several that must all hold. */
export type Clauses<S extends string> = Query<S> | ReadonlyArray<Query<S>>

export const clauses = <S extends string>(value: Clauses<S>): ReadonlyArray<Query<S>> =>
  value instanceof Query ? [value] : value

const subfieldsOf = (queries: ReadonlyArray<Query<string>>): ReadonlyArray<string> => queries.flatMap((q) => q.subfields)

const MATCH_ALL: JsonObject = { match_all: {} }
const MATCH_NONE: JsonObject = { match_none: {} }

/** Every condition holds (scored: each contributes to the score). No conditions: every document. */
export const and = <S extends string = never>(...queries: ReadonlyArray<Query<S>>): Query<S> =>
  queries.length === 1 && queries[0] !== undefined
    ? queries[0]
    : new Query(queries.length === 0 ? MATCH_ALL : { bool: { must: queries.map((q) => q.dsl) } }, subfieldsOf(queries))

/** At least one condition holds. No conditions: no document. */
export const or = <S extends string = never>(...queries: ReadonlyArray<Query<S>>): Query<S> =>
  queries.length === 1 && queries[0] !== undefined
    ? queries[0]
    : new Query(
      queries.length === 0 ? MATCH_NONE : { bool: { should: queries.map((q) => q.dsl), minimum_should_match: 1 } },
      subfieldsOf(queries)
    )

/** The condition does not hold. */
export const not = <S extends string>(query: Query<S>): Query<S> =>
  new Query({ bool: { must_not: [query.dsl] } }, query.subfields)

/**
 * Query DSL written by hand, for what the field handles cannot express. It fits any scope
 * (inside `any(…)` write full dotted paths, as OpenSearch wants); hits stay typed.
 */
export const raw = (dsl: JsonObject): Query<never> => new Query<never>(dsl)

/** A sort key written by hand (`{ "_geo_distance": … }`, a script sort). */
export const rawSort = (dsl: JsonObject): Sort<never> => new Sort<never>(dsl)

/** Relevance first (the default when no sort is given). */
export const byScore = (order: "asc" | "desc" = "desc"): Sort<never> => new Sort<never>({ _score: { order } })
