/**
 * `DocumentOf<typeof index>`: the search document an index produces, inferred from the
 * plain data its `t.*` builders return (their `const` literals: kinds, `required: true`,
 * variants, element types). Nullability follows schema.md: a field is null when its row
 * has no value, unless `required` (or a `default`) says otherwise; objects, to-many joins,
 * counts and ids are never null.
 */

type NumericKind = "short" | "integer" | "long" | "float" | "double" | "decimal"

/** The JSON value of a scalar kind. */
export type ValueOfKind<K> = K extends "boolean" ? boolean : K extends NumericKind ? number : K extends "json" ? unknown : string

type ScalarValueOf<F> = F extends { readonly kind: "enum"; readonly variants: ReadonlyArray<infer V extends string> }
  ? V
  : F extends { readonly kind: infer K }
    ? ValueOfKind<K>
    : never

type NullableUnless<F, V> = F extends { readonly required: true } | { readonly default: unknown } ? V : V | null

/** The value one field renders. */
export type FieldValue<F> = F extends { readonly kind: "object"; readonly fields: infer Fs }
  ? DocumentFields<Fs>
  : F extends { readonly kind: "map"; readonly values: infer V }
    ? NullableUnless<F, Record<string, ValueOfKind<V> | null>>
    : F extends { readonly kind: "geo" }
      ? NullableUnless<F, { lat: number; lon: number }>
      : F extends { readonly kind: "constant"; readonly value: infer V }
        ? V
        : F extends { readonly kind: "custom" }
        ? NullableUnless<F, unknown>
        : F extends { readonly kind: "belongsTo" | "hasOne"; readonly fields: infer Fs }
          ? NullableUnless<F, DocumentFields<Fs>>
          : F extends { readonly kind: "hasMany" | "manyToMany"; readonly fields: infer Fs }
            ? Array<DocumentFields<Fs>>
            : F extends { readonly kind: "count" }
              ? number
              : F extends { readonly kind: "sum" | "min" | "max"; readonly valueType: infer V }
                ? ValueOfKind<V> | null
                : F extends { readonly kind: "avg" }
                  ? number | null
                  : F extends { readonly kind: "ids"; readonly elementType: "long" }
                    ? Array<number>
                    : F extends { readonly kind: "ids" }
                      ? Array<string>
                      : NullableUnless<F, ScalarValueOf<F>>

/** The document (or nested object) rendered by a `fields` record. */
export type DocumentFields<Fs> = {
  -readonly [K in keyof Fs]-?: FieldValue<Fs[K]>
}

/** The search document an index produces, inferred from its `defineIndex` call. */
export type DocumentOf<I extends { readonly fields: object }> = DocumentFields<I["fields"]>
