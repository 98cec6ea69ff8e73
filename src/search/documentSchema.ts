/**
 * The `effect/Schema` a hit's `_source` is decoded with, derived from the index plan by
 * the same rules `DocumentOf` types it with (config/documentOf.ts): a scalar is null
 * unless `required` or given a `default`; objects, to-many joins, counts and ids never
 * are; an enum with variants holds one of them. A hit is typed only once it has passed,
 * so a document of another shape (an index built from another config) is an error naming
 * the path, never a value of the wrong type.
 *
 * A geo point is read from any form OpenSearch stores (`{lat, lon}`, `[lon, lat]`,
 * `"lat,lon"`) into the `{ lat, lon }` its type promises.
 */
import { isDeepStrictEqual } from "node:util"
import { Schema } from "effect"
import type { ScalarKind } from "../config/model.js"
import type { FieldPlan } from "../schema/IndexPlan.js"
import type { Selection } from "./projection.js"

/**
 * A schema whose output type only the caller knows (the document type it is derived
 * alongside); its decoded values are taken as `unknown`.
 */
export type ValueSchema = Schema.Schema.AnyNoContext

const nullable = (schema: ValueSchema, nonNull: boolean): ValueSchema => (nonNull ? schema : Schema.NullOr(schema))

const kindSchema = (kind: ScalarKind): ValueSchema => {
  switch (kind) {
    case "boolean":
      return Schema.Boolean
    case "short":
    case "integer":
    case "long":
    case "float":
    case "double":
    case "decimal":
      return Schema.Number
    case "json":
      return Schema.Unknown
    default:
      return Schema.String
  }
}

const LatLon = Schema.Struct({ lat: Schema.Number, lon: Schema.Number })

const GeoPoint: ValueSchema = Schema.Union(
  LatLon,
  Schema.transform(Schema.Tuple(Schema.Number, Schema.Number), LatLon, {
    strict: true,
    decode: ([lon, lat]) => ({ lat, lon }),
    encode: ({ lat, lon }) => [lon, lat] as const
  }),
  Schema.transform(Schema.String.pipe(Schema.pattern(/^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$/)), LatLon, {
    strict: true,
    decode: (text) => {
      const [lat = "", lon = ""] = text.split(",")
      return { lat: Number(lat), lon: Number(lon) }
    },
    encode: ({ lat, lon }) => `${lat},${lon}`
  })
)

const constant = (value: unknown): ValueSchema =>
  Schema.declare((input: unknown): input is unknown => isDeepStrictEqual(input, value), {
    description: `the constant ${JSON.stringify(value)}`
  })

const fieldSchema = (field: FieldPlan, selection: true | Selection): ValueSchema => {
  switch (field._tag) {
    case "Scalar": {
      const nonNull = field.required || field.default !== undefined
      if (field.kind === "enum" && field.variants !== undefined && field.variants.length > 0) {
        return nullable(Schema.Literal(...field.variants), nonNull)
      }
      return field.kind === "json" ? Schema.Unknown : nullable(kindSchema(field.kind), nonNull)
    }
    case "Object":
      return fieldsSchema(field.fields, selection)
    case "Join": {
      const element = fieldsSchema(field.fields, selection)
      if (field.relation === "hasMany" || field.relation === "manyToMany") return Schema.Array(element)
      return nullable(element, field.required)
    }
    case "Map":
      return nullable(Schema.Record({ key: Schema.String, value: Schema.NullOr(kindSchema(field.values)) }), field.required)
    case "Geo":
      return nullable(GeoPoint, field.required)
    case "Constant":
      return constant(field.value)
    case "Custom":
      return Schema.Unknown
    case "Aggregate":
      switch (field.fn) {
        case "count":
          return Schema.Number
        case "avg":
          return Schema.NullOr(Schema.Number)
        case "sum":
        case "min":
        case "max":
          return Schema.NullOr(kindSchema(field.valueType ?? "double"))
        case "ids":
          return Schema.Array(field.elementType === "long" ? Schema.Number : Schema.String)
      }
  }
}

/** The schema of an object of `fields`, keeping the `selection` (`true`: every field). */
export const fieldsSchema = (fields: ReadonlyArray<FieldPlan>, selection: true | Selection): ValueSchema => {
  const kept = selection === true ? fields.map((field) => [field, true] as const) : fields.flatMap((field) => {
    const inner = selection.get(field.name)
    return inner === undefined ? [] : [[field, inner] as const]
  })
  return Schema.Struct(Object.fromEntries(kept.map(([field, inner]) => [field.name, fieldSchema(field, inner)])))
}
