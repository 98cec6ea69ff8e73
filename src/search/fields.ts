/**
 * The field handles of an index, typed from its `defineIndex` literal: `Handles<Fields>`
 * maps every field to the handle of its kind (handles.ts), objects and to-one joins to
 * their fields, to-many joins to `any` / `all` / `none` over their elements. The same
 * tree is built at run time from the index plan (the validated config), so the paths the
 * handles write are the paths the mapping derives (schema/mapping.ts).
 *
 * Cheap for the compiler on purpose: the mapped types are lazy (a field's handle type is
 * computed only where it is used), each kind is one lookup in `KindHandles`, and the only
 * recursion is into the fields a query actually navigates.
 */
import type { FieldPlan, ScalarPlan } from "../schema/IndexPlan.js"
import type {
  AnyOptions,
  BooleanHandle,
  CustomHandle,
  DateHandle,
  EnumHandle,
  ExactHandle,
  GeoHandle,
  IdentifierHandle,
  JsonHandle,
  KeywordHandle,
  MapHandle,
  NumberHandle,
  Present,
  StoredHandle,
  TextHandle
} from "./handles.js"
import {
  booleanHandle,
  customHandle,
  dateHandle,
  enumHandle,
  exactHandle,
  existsHandle,
  geoHandle,
  identifierHandle,
  jsonHandle,
  keywordHandle,
  mapHandle,
  numberHandle,
  storedHandle,
  textHandle
} from "./handles.js"
import { and, type Clauses, clauses, type Json, type JsonObject, Query, Sort } from "./Query.js"

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

/** The handle of each kind that has one without further parameters. */
interface KindHandles<S extends string> {
  readonly text: TextHandle<S>
  readonly identifier: IdentifierHandle<S>
  readonly keyword: KeywordHandle<S>
  readonly enum: EnumHandle<S, string>
  readonly uuid: ExactHandle<S>
  readonly boolean: BooleanHandle<S>
  readonly short: NumberHandle<S>
  readonly integer: NumberHandle<S>
  readonly long: NumberHandle<S>
  readonly float: NumberHandle<S>
  readonly double: NumberHandle<S>
  readonly decimal: NumberHandle<S>
  readonly date: DateHandle<S>
  readonly timestamp: DateHandle<S>
  readonly binary: StoredHandle
  readonly json: JsonHandle<S>
  readonly geo: GeoHandle<S>
  readonly constant: StoredHandle
  readonly custom: CustomHandle<S>
  readonly count: NumberHandle<S>
  readonly avg: NumberHandle<S>
  /** `ids` of keyword keys; `ids` of long keys are numbers (below). */
  readonly ids: ExactHandle<S>
}

type KindHandle<K, S extends string> = K extends keyof KindHandles<S> ? KindHandles<S>[K] : never

/** What an element's condition or sort key may be built from, given the nested array's fields. */
export interface NestedHandle<S extends string, E extends string, H> {
  /** Some element matches (no condition: the array is not empty). Built as a `nested` query. */
  any(where?: (element: H) => Clauses<E>, options?: AnyOptions): Query<S>
  /** Every element matches (an empty array does: there is no element that fails). */
  all(where: (element: H) => Clauses<E>): Query<S>
  /** No element matches (no condition: the array is empty). */
  none(where?: (element: H) => Clauses<E>): Query<S>
  /**
   * Sorts documents by a value of their elements: `mode` picks which when there are
   * several (default: the least for `asc`, the greatest for `desc`).
   */
  sortBy(key: (element: H) => Sort<E>, mode?: "min" | "max" | "avg" | "sum"): Sort<S>
}

/** belongsTo / hasOne: its fields, and whether the related row is there (unless a field is named `exists`). */
export type RelationHandle<Fs, S extends string, P extends string> = Handles<Fs, S, `${P}.`> & Omit<Present<S>, keyof Fs>

/** The handle of field `F` at path `P`, in scope `S`. */
export type FieldHandle<F, S extends string, P extends string> = F extends {
  readonly kind: infer K
  readonly fields: infer Fs
}
  ? K extends "hasMany" | "manyToMany"
    ? NestedHandle<S, P, Handles<Fs, P, `${P}.`>>
    : K extends "object"
      ? Handles<Fs, S, `${P}.`>
      : RelationHandle<Fs, S, P>
  : F extends { readonly kind: "enum"; readonly variants: ReadonlyArray<infer V extends string> }
    ? EnumHandle<S, V>
    : F extends { readonly kind: "sum" | "min" | "max"; readonly valueType: infer K }
      ? KindHandle<K, S>
      : F extends { readonly kind: "ids"; readonly elementType: "long" }
        ? NumberHandle<S>
        : F extends { readonly kind: "map"; readonly values: infer K }
          ? MapHandle<S, KindHandle<K, S>>
          : F extends { readonly kind: infer K }
            ? KindHandle<K, S>
            : never

/**
 * The handles of a `fields` record whose dotted paths start with `P` ("" at the root, else
 * ending in "."), in scope `S`.
 */
export type Handles<Fs, S extends string = "", P extends string = ""> = {
  readonly [K in keyof Fs & string]: FieldHandle<Fs[K], S, `${P}${K}`>
}

// ---------------------------------------------------------------------------------------
// Run time: the same tree, from the plan
// ---------------------------------------------------------------------------------------

/** A handle tree as built; `SearchIndex` gives it its type. */
export type HandleTree = { readonly [name: string]: unknown }

const join = (parent: string, name: string): string => (parent === "" ? name : `${parent}.${name}`)

/** The handle of a scalar kind at `path`; `sortPath` for an enum with variants. */
const kindHandle = (kind: ScalarPlan["kind"], path: string, sortPath: string = path): unknown => {
  switch (kind) {
    case "text":
      return textHandle(path)
    case "identifier":
      return identifierHandle(path)
    case "keyword":
      return keywordHandle(path)
    case "enum":
      return enumHandle(path, sortPath)
    case "uuid":
      return exactHandle({ path, subfield: false })
    case "boolean":
      return booleanHandle(path)
    case "short":
    case "integer":
    case "long":
    case "float":
    case "double":
    case "decimal":
      return numberHandle(path)
    case "date":
    case "timestamp":
      return dateHandle(path)
    case "binary":
      return storedHandle
    case "json":
      return jsonHandle(path)
  }
}

const EVERY_ELEMENT: JsonObject = { match_all: {} }

const nestedQuery = (path: string, query: Query<string>, extra: JsonObject = {}): Query<string> =>
  new Query({ nested: { path, query: query.dsl, ...extra } }, query.subfields)

const isJsonObject = (value: Json): value is JsonObject => value !== null && typeof value === "object" && !Array.isArray(value)

/** The one `{ field: options }` entry of a sort key, with `mode` and this array's `nested` added. */
const nestedSort = (path: string, inner: Sort<string>, mode: string | undefined): Sort<string> => {
  const entries = Object.entries(inner.dsl).map(([field, options]): [string, Json] => {
    const own: JsonObject = isJsonObject(options) ? options : { order: options }
    const deeper = own["nested"]
    return [field, {
      ...own,
      ...(mode === undefined ? {} : { mode }),
      nested: deeper === undefined ? { path } : { path, nested: deeper }
    }]
  })
  return new Sort(Object.fromEntries(entries), inner.subfields)
}

const nestedHandle = (path: string, elementFields: ReadonlyArray<FieldPlan>): NestedHandle<string, string, HandleTree> => {
  let elements: HandleTree | undefined
  const element = (): HandleTree => (elements ??= buildHandles(elementFields, path))
  const condition = (where: ((element: HandleTree) => Clauses<string>) | undefined): Query<string> =>
    where === undefined ? new Query(EVERY_ELEMENT) : and(...clauses(where(element())))
  return {
    any: (where, options) =>
      nestedQuery(path, condition(where), options?.scoreMode === undefined ? {} : { score_mode: options.scoreMode }),
    all: (where) => {
      const holds = condition(where)
      const some = nestedQuery(path, new Query({ bool: { must_not: [holds.dsl] } }, holds.subfields))
      return new Query({ bool: { must_not: [some.dsl] } }, some.subfields)
    },
    none: (where) => {
      const some = nestedQuery(path, condition(where))
      return new Query({ bool: { must_not: [some.dsl] } }, some.subfields)
    },
    sortBy: (key, mode) => nestedSort(path, key(element()), mode)
  }
}

const fieldHandle = (field: FieldPlan, path: string): unknown => {
  switch (field._tag) {
    case "Scalar":
      return kindHandle(
        field.kind,
        path,
        field.kind === "enum" && field.variants !== undefined && field.variants.length > 0 ? `${path}.sort` : path
      )
    case "Object":
      return buildHandles(field.fields, path)
    case "Join": {
      if (field.relation === "hasMany" || field.relation === "manyToMany") return nestedHandle(path, field.fields)
      const fields = buildHandles(field.fields, path)
      // A field of the related row named `exists` wins over the operator (as in the type).
      return "exists" in fields ? fields : { ...existsHandle(path), ...fields }
    }
    case "Map":
      return mapHandle(path, (at) => kindHandle(field.values, at))
    case "Geo":
      return geoHandle(path)
    case "Constant":
      return storedHandle
    case "Custom":
      return customHandle(path)
    case "Aggregate":
      switch (field.fn) {
        case "count":
        case "avg":
          return numberHandle(path)
        case "sum":
        case "min":
        case "max":
          return kindHandle(field.valueType ?? "double", path)
        case "ids":
          return field.elementType === "long" ? numberHandle(path) : exactHandle({ path, subfield: false })
      }
  }
}

/** The handles of `fields` under the dotted path `parent` ("" at the root). */
export const buildHandles = (fields: ReadonlyArray<FieldPlan>, parent: string): HandleTree =>
  Object.fromEntries(fields.map((field) => [field.name, fieldHandle(field, join(parent, field.name))]))
