/**
 * What a `flusso.config.ts` imports: `defineConfig`, `defineIndex`, `env` and the `t.*`
 * field builders. At run time they only build plain data (`{ kind, ...options }`) for the
 * loader to validate; their types reject options a kind does not take and keep literals
 * so `DocumentOf<typeof index>` (documentOf.ts) infers the exact document shape.
 */
import type { Field, Filter, FlussoConfigInput, IndexConfigInput, OrderBy, ScalarKind, Transform } from "./model.js"
import { EnvRef } from "./model.js"

export type { DocumentOf } from "./documentOf.js"

/** `const` keeps literals (`required: true`, variants, kinds) for `DocumentOf`. */
export const defineConfig = <const C extends FlussoConfigInput>(config: C): C => config

export const defineIndex = <const I extends IndexConfigInput>(index: I): I => index

/** Defers a value (a URL, a password) to the environment variable `name` at run time. */
export const env = (name: string): EnvRef => new EnvRef({ name })

/** Extra OpenSearch mapping properties, merged over the derived ones (and winning). */
type MappingOptions = Readonly<Record<string, unknown>>

/** One column, or several for a composite key. */
type KeyInput = string | ReadonlyArray<string>

type Fields = { readonly [name: string]: Field }

// ---------------------------------------------------------------------------------------
// Option sets, one per kind
// ---------------------------------------------------------------------------------------

interface ScalarOptions<D> {
  /** Default: snake_case of the field name. */
  readonly column?: string
  readonly required?: boolean
  /** Replaces null, so the field is never null. */
  readonly default?: D
  readonly options?: MappingOptions
}

interface StringOptions extends ScalarOptions<string> {
  readonly transforms?: ReadonlyArray<Transform>
}

interface EnumOptions extends StringOptions {
  readonly variants?: ReadonlyArray<string>
}

interface ObjectOptions {
  readonly fields: Fields
  readonly options?: MappingOptions
}

/** The kinds a map's values may have. */
export type LeafKind = Exclude<ScalarKind, "boolean" | "binary" | "json">

interface MapOptions {
  readonly values: LeafKind
  /** A json/jsonb column; default: snake_case of the field name. */
  readonly column?: string
  readonly required?: boolean
  readonly options?: MappingOptions
}

type GeoOptions = { readonly required?: boolean; readonly options?: MappingOptions } & (
  | { readonly lat: string; readonly lon: string; readonly column?: never }
  | { readonly column: string; readonly lat?: never; readonly lon?: never }
)

interface CustomOptions {
  /** Postgres types accepted (`typname` such as "inet", or `format_type` text). */
  readonly postgres: ReadonlyArray<string>
  /** The OpenSearch type, or a whole mapping property. */
  readonly opensearch: string | MappingOptions
  readonly column?: string
  readonly required?: boolean
  readonly options?: MappingOptions
}

interface RelatedTable {
  readonly table: string
  /** Default "public". */
  readonly schema?: string
  /** Which related rows count; all by default. */
  readonly filters?: ReadonlyArray<Filter>
  readonly options?: MappingOptions
}

interface Join extends RelatedTable {
  /** The related table's key. */
  readonly primaryKey: KeyInput
  readonly fields: Fields
}

interface BelongsToOptions extends Join {
  /** Column(s) on this row pointing at the related `primaryKey`. */
  readonly column: KeyInput
  readonly required?: boolean
}

interface HasOneOptions extends Join {
  /** Column(s) on the related table pointing back at this row's key. */
  readonly foreignKey: KeyInput
  /** Picks which related row, when several match. */
  readonly orderBy?: ReadonlyArray<OrderBy>
  readonly required?: boolean
}

interface HasManyOptions extends Join {
  /** Column(s) on the related table pointing back at this row's key. */
  readonly foreignKey: KeyInput
  readonly orderBy?: ReadonlyArray<OrderBy>
  readonly limit?: number
}

interface ThroughOptions {
  readonly table: string
  readonly schema?: string
  /** Junction column(s) pointing at this row's key. */
  readonly leftKey: KeyInput
  /** Junction column(s) pointing at the related `primaryKey`. */
  readonly rightKey: KeyInput
}

interface ManyToManyOptions extends Join {
  readonly through: ThroughOptions
  readonly orderBy?: ReadonlyArray<OrderBy>
  readonly limit?: number
}

/** Aggregates reach the related rows by `foreignKey` or by `through`, never both. */
type Aggregate<Own> = RelatedTable &
  Own &
  (
    | { readonly foreignKey: KeyInput; readonly through?: never }
    | { readonly through: ThroughOptions; readonly foreignKey?: never }
  )

type NumericKind = "short" | "integer" | "long" | "float" | "double" | "decimal"
type OrderableKind = NumericKind | "date" | "timestamp" | "text" | "identifier" | "keyword" | "enum"

// ---------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------

type AllKeys<T> = T extends unknown ? keyof T : never

/** Inference does not check excess keys, so a typo such as `requird` must be made `never`. */
type Exact<O, Allowed> = O & { readonly [K in Exclude<keyof O, AllKeys<Allowed>>]: never }

/** A kind whose options are all optional: `t.text()` or `t.text({ ... })`. */
interface Builder<K extends string, Allowed> {
  (): { readonly kind: K }
  <const O extends Allowed>(options: Exact<O, Allowed>): { readonly kind: K } & O
}

/** A kind that needs options: `t.hasMany({ ... })`. */
type BuilderOf<K extends string, Allowed> = <const O extends Allowed>(options: Exact<O, Allowed>) => { readonly kind: K } & O

// The one cast: TypeScript cannot see that spreading `O` yields `O`.
const builder = <K extends string, Allowed>(kind: K): Builder<K, Allowed> =>
  ((options?: object) => ({ ...options, kind })) as Builder<K, Allowed>

const builderOf = <K extends string, Allowed>(kind: K): BuilderOf<K, Allowed> => builder<K, Allowed>(kind)

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

function constant<const V extends Json>(value: V): { readonly kind: "constant"; readonly value: V }
function constant<const V extends Json>(
  value: V,
  settings: { readonly options: MappingOptions }
): { readonly kind: "constant"; readonly value: V; readonly options: MappingOptions }
function constant(value: Json, settings?: { readonly options: MappingOptions }) {
  return settings === undefined ? { kind: "constant", value } : { kind: "constant", value, options: settings.options }
}

export const t = {
  text: builder<"text", StringOptions>("text"),
  identifier: builder<"identifier", StringOptions>("identifier"),
  keyword: builder<"keyword", StringOptions>("keyword"),
  enum: builder<"enum", EnumOptions>("enum"),
  uuid: builder<"uuid", StringOptions>("uuid"),
  boolean: builder<"boolean", ScalarOptions<boolean>>("boolean"),
  short: builder<"short", ScalarOptions<number>>("short"),
  integer: builder<"integer", ScalarOptions<number>>("integer"),
  long: builder<"long", ScalarOptions<number>>("long"),
  float: builder<"float", ScalarOptions<number>>("float"),
  double: builder<"double", ScalarOptions<number>>("double"),
  decimal: builder<"decimal", ScalarOptions<number>>("decimal"),
  date: builder<"date", ScalarOptions<string>>("date"),
  timestamp: builder<"timestamp", ScalarOptions<string>>("timestamp"),
  binary: builder<"binary", ScalarOptions<string>>("binary"),
  json: builder<"json", ScalarOptions<string | number | boolean>>("json"),

  /** Same-row columns nested under one key; never null. */
  object: builderOf<"object", ObjectOptions>("object"),
  /** A json/jsonb column with open keys whose values share one leaf kind. */
  map: builderOf<"map", MapOptions>("map"),
  /** A geo_point from `lat` + `lon` columns, or from one json / text `column`. */
  geo: builderOf<"geo", GeoOptions>("geo"),
  /** A fixed value (null allowed). */
  constant,
  /** A column of another Postgres type, as Postgres renders it to JSON, mapped as given. */
  custom: builderOf<"custom", CustomOptions>("custom"),

  /** The row this row's `column` points at: an object, null when absent unless `required`. */
  belongsTo: builderOf<"belongsTo", BelongsToOptions>("belongsTo"),
  /** One related row pointing back by `foreignKey` (`orderBy` picks which): nullable unless `required`. */
  hasOne: builderOf<"hasOne", HasOneOptions>("hasOne"),
  /** Related rows pointing back by `foreignKey`: a nested array, never null. */
  hasMany: builderOf<"hasMany", HasManyOptions>("hasMany"),
  /** Related rows linked through a junction table: a nested array, never null. */
  manyToMany: builderOf<"manyToMany", ManyToManyOptions>("manyToMany"),

  /** How many related rows: a non-null long. */
  count: builderOf<"count", Aggregate<object>>("count"),
  /** Sum of a related column: its value type, null when no rows match. */
  sum: builderOf<"sum", Aggregate<{ readonly column: string; readonly valueType: NumericKind }>>("sum"),
  /** Average of a related column: a double, null when no rows match. */
  avg: builderOf<"avg", Aggregate<{ readonly column: string }>>("avg"),
  /** Least value of a related column: its value type, null when no rows match. */
  min: builderOf<"min", Aggregate<{ readonly column: string; readonly valueType: OrderableKind }>>("min"),
  /** Greatest value of a related column: its value type, null when no rows match. */
  max: builderOf<"max", Aggregate<{ readonly column: string; readonly valueType: OrderableKind }>>("max"),
  /** The related rows' keys (`primaryKey`, default the table's): a non-null array. */
  ids: builderOf<"ids", Aggregate<{ readonly elementType: "long" | "keyword"; readonly primaryKey?: KeyInput }>>("ids")
}
