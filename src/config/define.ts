/**
 * What a `flusso.config.ts` imports: `defineConfig`, `defineIndex`, `env` and the `t.*`
 * field builders. At run time they only build plain data for the loader to validate;
 * their types exist so `DocumentOf<typeof index>` infers the exact document shape.
 */
import type { FlussoConfigInput, IndexConfigInput, ScalarKind, Transform } from "./model.js"
import { EnvRef } from "./model.js"

/** `const` keeps literals (`required: true`, variants, kinds) for `DocumentOf`. */
export const defineConfig = <const C extends FlussoConfigInput>(config: C): C => config

export const defineIndex = <const I extends IndexConfigInput>(index: I): I => index

/** Defers a value (a URL, a password) to the environment variable `name` at run time. */
export const env = (name: string): EnvRef => new EnvRef({ name })

interface ScalarOptions<D> {
  /** Default: snake_case of the field name. */
  readonly column?: string
  readonly required?: boolean
  /** Replaces null, so the field is never null. */
  readonly default?: D
  /** Extra OpenSearch mapping properties, merged over the derived ones. */
  readonly options?: Readonly<Record<string, unknown>>
}

interface StringOptions extends ScalarOptions<string> {
  readonly transforms?: ReadonlyArray<Transform>
}

interface EnumOptions extends StringOptions {
  readonly variants?: ReadonlyArray<string>
}

/** Inference does not check excess keys, so a typo such as `requird` must be made `never`. */
type Exact<O, Allowed> = O & { readonly [K in Exclude<keyof O, keyof Allowed>]: never }

interface Builder<K extends ScalarKind, Allowed> {
  (): { readonly kind: K }
  <const O extends Allowed>(options: Exact<O, Allowed>): { readonly kind: K } & O
}

// The one cast: TypeScript cannot see that spreading `O` yields `O`.
const builder = <K extends ScalarKind, Allowed>(kind: K): Builder<K, Allowed> =>
  ((options?: object) => ({ ...options, kind })) as Builder<K, Allowed>

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
  json: builder<"json", ScalarOptions<string | number | boolean>>("json")
}

type ValueOfKind<K> = K extends "boolean"
  ? boolean
  : K extends "short" | "integer" | "long" | "float" | "double" | "decimal"
    ? number
    : K extends "json"
      ? unknown
      : string

type ValueOfField<F> = F extends { readonly kind: "enum"; readonly variants: ReadonlyArray<infer V extends string> }
  ? V
  : F extends { readonly kind: infer K }
    ? ValueOfKind<K>
    : never

type NullableUnless<F, V> = F extends { readonly required: true } | { readonly default: unknown } ? V : V | null

/** The document a field produces; joins and aggregates will add their cases here. */
export type FieldValue<F> = NullableUnless<F, ValueOfField<F>>

/** The search document an index produces, inferred from its `defineIndex` call. */
export type DocumentOf<I extends { readonly fields: object }> = {
  -readonly [K in keyof I["fields"]]-?: FieldValue<I["fields"][K]>
}
