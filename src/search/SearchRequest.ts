/**
 * A search, described: which index (bound from the config object or one `defineIndex`),
 * the conditions that score (`query`) and those that only filter (`filter`), the sort,
 * the projection, the page size and where the page starts. Immutable — each method
 * returns a new request — and connection-free: the `Search` service (or `SearchClient`)
 * runs it against a cluster with the deployment's prefix.
 *
 * Every sort ends in a tiebreaker, the field holding the document key (else `_id`), so
 * `after(page.next)` pages through any result without gaps or repeats.
 */
import { Either } from "effect"
import type { DocumentOf } from "../config/documentOf.js"
import { validateConfig } from "../config/validate.js"
import { ConfigInvalid } from "../errors.js"
import type { FieldPlan, IndexPlan } from "../schema/IndexPlan.js"
import { planIndex } from "../schema/planIndex.js"
import { fieldsSchema, type ValueSchema } from "./documentSchema.js"
import { buildHandles, type Handles, type HandleTree } from "./fields.js"
import { includesOf, type Project, type SelectPath, type Selection, selectionOf } from "./projection.js"
import { type Clauses, clauses, type Json, type JsonObject, type Query, Sort } from "./Query.js"

/** What `DocumentOf` needs of an index: its `fields` as `defineIndex` returns them. */
export interface IndexDefinition {
  readonly fields: object
}

/** A config object whose indexes can be searched: what `defineConfig` returns. */
export interface SearchableConfig {
  readonly source: unknown
  readonly indexes?: { readonly [name: string]: IndexDefinition }
}

/** Where the next page starts: the sort values of the last hit. JSON, so it can travel (in a URL, a token). */
export type Cursor = ReadonlyArray<string | number | boolean | null>

/** Only at the type level: the document type a request's hits have. */
declare const DocumentTypeId: unique symbol

/** One searchable index as the executor needs it; built once per `searchIndex`. */
export interface IndexTarget {
  readonly name: string
  readonly plan: IndexPlan
  readonly handles: () => HandleTree
  /** The last sort key of every search: the field holding the document key, or `_id`. */
  readonly tiebreaker: { readonly path: string; readonly key: JsonObject }
  readonly schema: (selection: Selection | undefined) => ValueSchema
}

export interface RequestState {
  readonly scoring: ReadonlyArray<Query<"">>
  readonly filters: ReadonlyArray<Query<"">>
  readonly sort: ReadonlyArray<Sort<"">>
  readonly selection: Selection | undefined
  readonly size: number | undefined
  readonly after: Cursor | undefined
}

/** A request of any index whose hits are `D`: what the `Search` service runs. */
export interface Runnable<out D> {
  readonly [DocumentTypeId]: D
  readonly target: IndexTarget
  readonly state: RequestState
}

/** The page size when none is given (OpenSearch's own default). */
export const DEFAULT_SIZE = 10

/**
 * A search of index `I` whose hits are `D` (the whole document, or the projection chosen
 * with `select`). Build one with `searchIndex`.
 */
export class SearchRequest<I extends IndexDefinition, D> implements Runnable<D> {
  declare readonly [DocumentTypeId]: D

  /** Use `searchIndex(config, name)` or `searchIndex(name, index)`. */
  constructor(
    /** The index, as the `Search` service reads it. */
    readonly target: IndexTarget,
    /** The request so far, as the `Search` service reads it. */
    readonly state: RequestState
  ) {}

  private with<E>(change: Partial<RequestState>): SearchRequest<I, E> {
    return new SearchRequest<I, E>(this.target, { ...this.state, ...change })
  }

  private fields(): Handles<I["fields"]> {
    // The one cast: the tree is built from the plan of the very config `I` is the type of.
    return this.target.handles() as Handles<I["fields"]>
  }

  /** Conditions that must hold and count towards the score (OpenSearch `bool.must`). Calls add up. */
  query(where: (fields: Handles<I["fields"]>) => Clauses<"">): SearchRequest<I, D> {
    return this.with({ scoring: [...this.state.scoring, ...clauses(where(this.fields()))] })
  }

  /** Conditions that must hold without scoring (`bool.filter`; cached by OpenSearch). Calls add up. */
  filter(where: (fields: Handles<I["fields"]>) => Clauses<"">): SearchRequest<I, D> {
    return this.with({ filters: [...this.state.filters, ...clauses(where(this.fields()))] })
  }

  /** The order of the hits, first key first (default: by score). Replaces an earlier sort. */
  sort(by: (fields: Handles<I["fields"]>) => Sort<""> | ReadonlyArray<Sort<"">>): SearchRequest<I, D> {
    const keys = by(this.fields())
    return this.with({ sort: keys instanceof Sort ? [keys] : keys })
  }

  /** Only these fields (dotted paths reach inside objects and joins); the hits carry exactly them. */
  select<P extends SelectPath<I["fields"]>>(...paths: readonly [P, ...ReadonlyArray<P>]): SearchRequest<I, Project<I["fields"], P>> {
    return this.with({ selection: selectionOf(paths) })
  }

  /** How many hits a page holds (default 10). */
  size(size: number): SearchRequest<I, D> {
    return this.with({ size })
  }

  /** The page after the one `cursor` (a page's `next`) ended; `undefined`: the first page. */
  after(cursor: Cursor | undefined): SearchRequest<I, D> {
    return this.with({ after: cursor })
  }
}

// ---------------------------------------------------------------------------------------
// Binding
// ---------------------------------------------------------------------------------------

type IndexesOf<C extends SearchableConfig> = NonNullable<C["indexes"]>

/** A search of one index of a config (its name as in `indexes`), or of one `defineIndex` under the name `run` gives it. */
export function searchIndex<C extends SearchableConfig, N extends keyof IndexesOf<C> & string>(
  config: C,
  name: N
): SearchRequest<IndexesOf<C>[N], DocumentOf<IndexesOf<C>[N]>>
export function searchIndex<const I extends IndexDefinition>(name: string, index: I): SearchRequest<I, DocumentOf<I>>
export function searchIndex(first: SearchableConfig | string, second: string | IndexDefinition): SearchRequest<IndexDefinition, unknown> {
  const [name, config] = typeof first === "string"
    ? [first, { source: { type: "postgres" }, indexes: { [first]: second } }]
    : [String(second), first]
  return new SearchRequest(indexTarget(name, config), {
    scoring: [],
    filters: [],
    sort: [],
    selection: undefined,
    size: undefined,
    after: undefined
  })
}

/** Validates the config as `run` does and plans the index; a config `run` would refuse throws `ConfigInvalid`. */
const indexTarget = (name: string, config: unknown): IndexTarget => {
  const validated = validateConfig(config)
  if (Either.isLeft(validated)) throw new ConfigInvalid({ file: "search config", issues: validated.left })
  const index = validated.right.indexes[name]
  if (index === undefined) {
    const known = Object.keys(validated.right.indexes).join(", ") || "none"
    throw new ConfigInvalid({ file: "search config", issues: [`indexes.${name}: no such index (the config has: ${known})`] })
  }
  const plan = planIndex(name, index, "stop")
  let handles: HandleTree | undefined
  let whole: ValueSchema | undefined
  // Weak: an application may build a projection per incoming request.
  const projections = new WeakMap<Selection, ValueSchema>()
  return {
    name,
    plan,
    handles: () => (handles ??= buildHandles(plan.fields, "")),
    tiebreaker: tiebreaker(plan),
    schema: (selection) => {
      if (selection === undefined) return (whole ??= fieldsSchema(plan.fields, true))
      const known = projections.get(selection)
      if (known !== undefined) return known
      const schema = fieldsSchema(plan.fields, selection)
      projections.set(selection, schema)
      return schema
    }
  }
}

/** Kinds whose own path sorts by value (doc values, no subfield needed). */
const sortableKinds = new Set(["keyword", "uuid", "short", "integer", "long", "float", "double", "decimal", "date", "timestamp"])

/** The root field holding a one-column document key, if it sorts by value; else `_id`. */
const tiebreaker = (plan: IndexPlan): IndexTarget["tiebreaker"] => {
  const [column, ...more] = plan.primaryKey
  const field = more.length === 0
    ? plan.fields.find((f: FieldPlan) => f._tag === "Scalar" && f.column === column && sortableKinds.has(f.kind) && f.transforms.length === 0 && f.default === undefined)
    : undefined
  const path = field?.name ?? "_id"
  return { path, key: { [path]: { order: "asc" } } }
}

// ---------------------------------------------------------------------------------------
// The request as OpenSearch reads it
// ---------------------------------------------------------------------------------------

/** The `query` of a request: its scoring and filtering conditions, or every document. */
export const queryOf = (state: RequestState): JsonObject => {
  if (state.scoring.length === 0 && state.filters.length === 0) return { match_all: {} }
  return {
    bool: {
      ...(state.scoring.length > 0 ? { must: state.scoring.map((q) => q.dsl) } : {}),
      ...(state.filters.length > 0 ? { filter: state.filters.map((q) => q.dsl) } : {})
    }
  }
}

/** The sort keys sent: the request's (by score when none), then the tiebreaker unless already there. */
export const sortOf = (request: Runnable<unknown>): ReadonlyArray<JsonObject> => {
  const keys: ReadonlyArray<JsonObject> = request.state.sort.length > 0
    ? request.state.sort.map((s) => s.dsl)
    : [{ _score: { order: "desc" } }]
  const { path, key } = request.target.tiebreaker
  return keys.some((k) => path in k) ? keys : [...keys, key]
}

/** The `_search` body of a request. */
export const searchBody = (request: Runnable<unknown>): JsonObject => {
  const { state } = request
  const source: Json = state.selection === undefined ? true : { includes: [...includesOf(state.selection, request.target.plan.fields)] }
  return {
    query: queryOf(state),
    sort: [...sortOf(request)],
    size: state.size ?? DEFAULT_SIZE,
    ...(state.after === undefined ? {} : { search_after: [...state.after] }),
    _source: source,
    track_total_hits: true,
    track_scores: true
  }
}

/** Every derived subfield a request reads (see `Query.subfields`). */
export const subfieldsOf = (state: RequestState): ReadonlyArray<string> => [
  ...state.scoring.flatMap((q) => q.subfields),
  ...state.filters.flatMap((q) => q.subfields),
  ...state.sort.flatMap((s) => s.subfields)
]
