/**
 * The deployment config as data: the `effect/Schema` that validates what a
 * `flusso.config.ts` exports, and the resolved types the rest of flusso reads.
 * Everything here is database-free; `load.ts` decodes with `onExcessProperty: "error"`
 * so an unknown key is an error with its path.
 */
import { Schema } from "effect"
import { keyHints } from "./keyHints.js"

/**
 * A name flusso gives things of its own — index and sink names, the slot, the publication:
 * lowercase, because an index name becomes an OpenSearch index name (which must be
 * lowercase) and a slot name may only hold lowercase letters, digits and underscores.
 */
export const Identifier = Schema.String.pipe(
  Schema.pattern(/^[a-z_][a-z0-9_]*$/, {
    message: () => "must match ^[a-z_][a-z0-9_]*$: flusso names OpenSearch indexes, slots and publications after it, which must be lowercase"
  }),
  Schema.maxLength(63, { message: () => "must be at most 63 characters" })
).annotations({
  identifier: "Identifier",
  description: "A name flusso gives things of its own (^[a-z_][a-z0-9_]*$, at most 63 characters): OpenSearch index names must be lowercase."
})

/**
 * A PostgreSQL identifier as the database spells it — `users`, `"User"`, `"createdAt"`,
 * `"order"` — written without quotes: flusso quotes every name in the SQL it runs. At most
 * 63 bytes (PostgreSQL cuts longer names short), no NUL.
 */
export const PgIdentifier = Schema.String.pipe(
  Schema.minLength(1, { message: () => "must not be empty" }),
  Schema.filter((name) => !name.includes("\u0000") || "must not contain a NUL character"),
  Schema.filter((name) => Buffer.byteLength(name) <= 63 || "must be at most 63 bytes: PostgreSQL cuts longer names short")
).annotations({
  identifier: "PgIdentifier",
  description: "A PostgreSQL table, column or schema name exactly as the database spells it (case kept, no quotes), at most 63 bytes."
})

/** Document keys keep their case. */
export const FieldName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    message: () => "must match ^[A-Za-z_][A-Za-z0-9_]*$"
  }),
  Schema.maxLength(63, { message: () => "must be at most 63 characters" })
).annotations({
  identifier: "FieldName",
  description: "A document key (^[A-Za-z_][A-Za-z0-9_]*$, at most 63 characters)."
})

/** `env("VAR")`: a value read from the environment at run time. */
export class EnvRef extends Schema.TaggedClass<EnvRef>()(
  "Env",
  { name: Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/)) },
  {
    title: "env(NAME)",
    description: 'A value read from the environment variable `name` at run time; `env("NAME")` in a .ts config, { "_tag": "Env", "name": "NAME" } in JSON.'
  }
) {}

export const Secret = Schema.Union(Schema.String, EnvRef).annotations({
  description: 'A literal string, or { "_tag": "Env", "name": "NAME" } to read it from the environment at run time.'
})
export type Secret = typeof Secret.Type

export const ScalarKind = Schema.Literal(
  "text",
  "identifier",
  "keyword",
  "enum",
  "uuid",
  "boolean",
  "short",
  "integer",
  "long",
  "float",
  "double",
  "decimal",
  "date",
  "timestamp",
  "binary",
  "json"
)
export type ScalarKind = typeof ScalarKind.Type

/** Every `kind` a field can have. */
export type FieldKind =
  | ScalarKind
  | "object"
  | "map"
  | "geo"
  | "constant"
  | "custom"
  | "belongsTo"
  | "hasOne"
  | "hasMany"
  | "manyToMany"
  | "count"
  | "sum"
  | "min"
  | "max"
  | "avg"
  | "ids"

export const Transform = Schema.Literal("lowercase", "trim")
export type Transform = typeof Transform.Type

export const ScalarValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean)
export type ScalarValue = typeof ScalarValue.Type

/** One column, or several for a composite key; planning turns both into a list. */
export const Key = Schema.Union(
  PgIdentifier,
  Schema.Array(PgIdentifier).pipe(Schema.minItems(1, { message: () => "must name at least one column" }))
).annotations({ description: "A column, or a list of columns for a composite key." })
export type Key = typeof Key.Type

/**
 * Any JSON value. The identifier makes JSONSchema.make emit its `$id: "/schemas/unknown"`
 * once, in `$defs`, not at every use (which JSON Schema validators refuse as a duplicate id).
 */
const AnyJson = Schema.Unknown.annotations({ identifier: "AnyJson", description: "Any JSON value." })

/** Extra OpenSearch mapping properties, merged over the derived ones. */
export const MappingOptions = Schema.Record({ key: Schema.String, value: AnyJson }).annotations({
  description: "Extra OpenSearch mapping properties, merged over the derived ones (and winning)."
})

// ---------------------------------------------------------------------------------------
// Filters (schema.md "Filters"): shapes only; arities are checked in validate.ts, where
// the message can say what the operator wants.
// ---------------------------------------------------------------------------------------

export const RawFilter = Schema.Struct({
  raw: Schema.String.pipe(Schema.minLength(1, { message: () => "must not be empty" }))
})
export const NullFilter = Schema.Struct({ column: PgIdentifier, op: Schema.Literal("isNull", "isNotNull") })
export const ComparisonOp = Schema.Literal("eq", "neq", "lt", "lte", "gt", "gte", "like", "ilike")
export const CompareFilter = Schema.Struct({ column: PgIdentifier, op: ComparisonOp, value: ScalarValue })
export const InFilter = Schema.Struct({ column: PgIdentifier, op: Schema.Literal("in", "notIn"), value: Schema.Array(ScalarValue) })
export const BetweenFilter = Schema.Struct({
  column: PgIdentifier,
  op: Schema.Literal("between"),
  value: Schema.Array(Schema.Union(Schema.String, Schema.Number))
})
export const Filter = Schema.Union(RawFilter, NullFilter, CompareFilter, InFilter, BetweenFilter)
export type Filter = typeof Filter.Type

const Filters = Schema.optional(Schema.Array(Filter))

export const OrderBy = Schema.Struct({ column: PgIdentifier, direction: Schema.optional(Schema.Literal("asc", "desc")) })
export type OrderBy = typeof OrderBy.Type

/** A junction table: `leftKey` points at the parent's key, `rightKey` at the related table's key. */
export const Through = Schema.Struct({
  table: PgIdentifier,
  schema: Schema.optional(PgIdentifier),
  leftKey: Key,
  rightKey: Key
}).annotations({
  description: "The junction table: leftKey points at the parent's key, rightKey at the related table's primaryKey."
})
export type Through = typeof Through.Type

// ---------------------------------------------------------------------------------------
// Fields (schema.md "Field kinds"). Every member has a literal `kind`, so decoding picks
// the one member a value names and reports that member's problems only.
// ---------------------------------------------------------------------------------------

const scalarProps = {
  column: Schema.optional(PgIdentifier),
  required: Schema.optional(Schema.Boolean),
  transforms: Schema.optional(Schema.Array(Transform)),
  default: Schema.optional(ScalarValue),
  variants: Schema.optional(Schema.Array(Schema.String)),
  options: Schema.optional(MappingOptions)
}

/** What each scalar kind is, for the JSON Schema of the config (editor hovers). */
const scalarDoc: Record<ScalarKind, string> = {
  text: "Full-text searchable string (analyzed), from one column.",
  identifier: 'A code such as "SO-00042", found by its parts ("so00042", "00042").',
  keyword: "An exact-match string (filters, sorting, aggregations).",
  enum: "A keyword with a fixed set of `variants`, sorted in the order they are listed.",
  uuid: "A uuid column, as a keyword.",
  boolean: "A boolean column.",
  short: "A 16-bit integer column.",
  integer: "A 32-bit integer column.",
  long: "A 64-bit integer column.",
  float: "A 32-bit floating point column.",
  double: "A 64-bit floating point column.",
  decimal: "A numeric column, indexed as a double.",
  date: "A date column.",
  timestamp: "A timestamp column.",
  binary: "A bytea column, base64-encoded.",
  json: "A json/jsonb column of any shape, mapped dynamically."
}

// Options a kind does not take are rejected by validate.ts (variants, transforms), so one
// shape serves every scalar kind and its messages can name the kind.
const scalarMembers = ScalarKind.literals.map((kind) =>
  Schema.Struct({ kind: Schema.Literal(kind), ...scalarProps }).annotations({
    ...keyHints(kind),
    title: kind,
    description: scalarDoc[kind]
  })
)

/** A field read from one column of the row it belongs to. */
export const ScalarField = Schema.Union(...scalarMembers)
export type ScalarField = typeof ScalarField.Type

/** The fields of a document, an object or a join, nested to any depth. */
// The identifier names the recursion for JSONSchema.make (`$ref: "#/$defs/Field"`).
const Fields = Schema.Record({
  key: FieldName,
  value: Schema.suspend((): Schema.Schema<Field> => Field).annotations({ identifier: "Field" })
}).annotations({
  description: 'The document\'s keys, each with its field: t.<kind>({ ... }) in a .ts config, { "kind": "<kind>", ... } in JSON.'
})

const objectProps = {
  kind: Schema.Literal("object"),
  options: Schema.optional(MappingOptions)
}
/** Same-row columns nested under one key; never null. */
export interface ObjectField extends Schema.Struct.Type<typeof objectProps> {
  readonly fields: { readonly [name: string]: Field }
}
const ObjectField = Schema.Struct({ ...objectProps, fields: Fields }).annotations({
  ...keyHints("object"),
  title: "object",
  description: "Same-row columns nested under one key; never null."
})

/** A json/jsonb column with open keys; `values` must be a leaf kind (validate.ts). */
const MapField = Schema.Struct({
  kind: Schema.Literal("map"),
  values: ScalarKind,
  column: Schema.optional(PgIdentifier),
  required: Schema.optional(Schema.Boolean),
  options: Schema.optional(MappingOptions)
}).annotations({
  ...keyHints("map"),
  title: "map",
  description: "A json/jsonb column with open keys whose values share one leaf kind."
})
export type MapField = typeof MapField.Type

/** `lat` + `lon` (two numeric columns) or `column` (json / text); which one is checked in validate.ts. */
const GeoField = Schema.Struct({
  kind: Schema.Literal("geo"),
  lat: Schema.optional(PgIdentifier),
  lon: Schema.optional(PgIdentifier),
  column: Schema.optional(PgIdentifier),
  required: Schema.optional(Schema.Boolean),
  options: Schema.optional(MappingOptions)
}).annotations({
  ...keyHints("geo"),
  title: "geo",
  description: "A geo_point from `lat` + `lon` columns, or from one json / text `column`."
})
export type GeoField = typeof GeoField.Type

/** A fixed value; JSON-compatibility (and presence: null is a value) is checked in validate.ts. */
const ConstantField = Schema.Struct({
  kind: Schema.Literal("constant"),
  value: AnyJson,
  options: Schema.optional(MappingOptions)
}).annotations({
  ...keyHints("constant"),
  title: "constant",
  description: "A fixed value (null allowed)."
})
export type ConstantField = typeof ConstantField.Type

/** A column of a type flusso does not know, read as Postgres renders it to JSON, mapped as the user says. */
const CustomField = Schema.Struct({
  kind: Schema.Literal("custom"),
  /** Postgres type names accepted (`typname` or `format_type`, e.g. "inet", "ltree", "int4range"). */
  postgres: Schema.NonEmptyArray(Schema.String),
  /** The OpenSearch type name, or a whole mapping property. */
  opensearch: Schema.Union(Schema.String, MappingOptions),
  column: Schema.optional(PgIdentifier),
  required: Schema.optional(Schema.Boolean),
  options: Schema.optional(MappingOptions)
}).annotations({
  ...keyHints("custom"),
  title: "custom",
  description: "A column of another Postgres type, as Postgres renders it to JSON, mapped as given."
})
export type CustomField = typeof CustomField.Type

const relatedTable = {
  table: PgIdentifier,
  /** Default "public". */
  schema: Schema.optional(PgIdentifier)
}

const belongsToProps = {
  kind: Schema.Literal("belongsTo"),
  ...relatedTable,
  column: Key,
  primaryKey: Key,
  filters: Filters,
  required: Schema.optional(Schema.Boolean),
  options: Schema.optional(MappingOptions)
}
export interface BelongsToField extends Schema.Struct.Type<typeof belongsToProps> {
  readonly fields: { readonly [name: string]: Field }
}
const BelongsToField = Schema.Struct({ ...belongsToProps, fields: Fields }).annotations({
  ...keyHints("belongsTo"),
  title: "belongsTo",
  description: "The row this row's `column` points at: an object, null when absent unless `required`."
})

const hasOneProps = {
  kind: Schema.Literal("hasOne"),
  ...relatedTable,
  foreignKey: Key,
  primaryKey: Key,
  filters: Filters,
  orderBy: Schema.optional(Schema.Array(OrderBy)),
  required: Schema.optional(Schema.Boolean),
  options: Schema.optional(MappingOptions)
}
export interface HasOneField extends Schema.Struct.Type<typeof hasOneProps> {
  readonly fields: { readonly [name: string]: Field }
}
const HasOneField = Schema.Struct({ ...hasOneProps, fields: Fields }).annotations({
  ...keyHints("hasOne"),
  title: "hasOne",
  description: "One related row pointing back by `foreignKey` (`orderBy` picks which): nullable unless `required`."
})

const Limit = Schema.optional(Schema.Int.pipe(Schema.positive({ message: () => "must be a positive integer" })))

const hasManyProps = {
  kind: Schema.Literal("hasMany"),
  ...relatedTable,
  foreignKey: Key,
  primaryKey: Key,
  filters: Filters,
  orderBy: Schema.optional(Schema.Array(OrderBy)),
  limit: Limit,
  options: Schema.optional(MappingOptions)
}
export interface HasManyField extends Schema.Struct.Type<typeof hasManyProps> {
  readonly fields: { readonly [name: string]: Field }
}
const HasManyField = Schema.Struct({ ...hasManyProps, fields: Fields }).annotations({
  ...keyHints("hasMany"),
  title: "hasMany",
  description: "Related rows pointing back by `foreignKey`: a nested array, never null."
})

const manyToManyProps = {
  kind: Schema.Literal("manyToMany"),
  ...relatedTable,
  through: Through,
  primaryKey: Key,
  filters: Filters,
  orderBy: Schema.optional(Schema.Array(OrderBy)),
  limit: Limit,
  options: Schema.optional(MappingOptions)
}
export interface ManyToManyField extends Schema.Struct.Type<typeof manyToManyProps> {
  readonly fields: { readonly [name: string]: Field }
}
const ManyToManyField = Schema.Struct({ ...manyToManyProps, fields: Fields }).annotations({
  ...keyHints("manyToMany"),
  title: "manyToMany",
  description: "Related rows linked through a junction table: a nested array, never null."
})

export type JoinField = BelongsToField | HasOneField | HasManyField | ManyToManyField

/** Every aggregate reads related rows by `foreignKey` xor `through` (checked in validate.ts). */
const aggregateProps = {
  ...relatedTable,
  foreignKey: Schema.optional(Key),
  through: Schema.optional(Through),
  filters: Filters,
  options: Schema.optional(MappingOptions)
}

const CountField = Schema.Struct({ kind: Schema.Literal("count"), ...aggregateProps }).annotations({
  ...keyHints("count"),
  title: "count",
  description: "How many related rows: a non-null long."
})

const valueAggregateDoc = {
  sum: "Sum of a related column: its value type, null when no rows match.",
  min: "Least value of a related column: its value type, null when no rows match.",
  max: "Greatest value of a related column: its value type, null when no rows match."
}

// `column` and `valueType` are optional here so validate.ts can say what they are for.
const valueAggregate = <K extends "sum" | "min" | "max">(kind: K) =>
  Schema.Struct({
    kind: Schema.Literal(kind),
    ...aggregateProps,
    column: Schema.optional(PgIdentifier),
    valueType: Schema.optional(ScalarKind)
  }).annotations({ ...keyHints(kind), title: kind, description: valueAggregateDoc[kind] })
const SumField = valueAggregate("sum")
const MinField = valueAggregate("min")
const MaxField = valueAggregate("max")

const AvgField = Schema.Struct({
  kind: Schema.Literal("avg"),
  ...aggregateProps,
  column: Schema.optional(PgIdentifier)
}).annotations({
  ...keyHints("avg"),
  title: "avg",
  description: "Average of a related column: a double, null when no rows match."
})

const IdsField = Schema.Struct({
  kind: Schema.Literal("ids"),
  ...aggregateProps,
  elementType: Schema.optional(Schema.Literal("long", "keyword")),
  /** The related key `ids` collects; default: the catalog's primary key. */
  primaryKey: Schema.optional(Key)
}).annotations({
  ...keyHints("ids"),
  title: "ids",
  description: "The related rows' keys (`primaryKey`, default the table's): a non-null array."
})

export type AggregateField =
  | typeof CountField.Type
  | typeof SumField.Type
  | typeof MinField.Type
  | typeof MaxField.Type
  | typeof AvgField.Type
  | typeof IdsField.Type

export type Field =
  | ScalarField
  | ObjectField
  | MapField
  | GeoField
  | ConstantField
  | CustomField
  | JoinField
  | AggregateField


// Flat, not nested unions: a nested union has no literal `kind` of its own, so decoding
// would try all of its members instead of the one the value names.
export const Field: Schema.Schema<Field> = Schema.Union(
  ...scalarMembers,
  ObjectField,
  MapField,
  GeoField,
  ConstantField,
  CustomField,
  BelongsToField,
  HasOneField,
  HasManyField,
  ManyToManyField,
  CountField,
  SumField,
  MinField,
  MaxField,
  AvgField,
  IdsField
)

/** `{ column }` or `{ field }` (validate.ts checks it is exactly one), with optional `when` filters. */
export const SoftDelete = Schema.Struct({
  column: Schema.optional(PgIdentifier),
  field: Schema.optional(FieldName),
  when: Filters
}).annotations({
  description: "Which rows count as deleted: the marker `column` (or scalar `field`) is true, or matches the `when` filters."
})
export type SoftDelete = typeof SoftDelete.Type

/** How a field that names no `column` finds it: `snake_case` of its name, or the name as it is. */
export const ColumnNames = Schema.Literal("snake_case", "field").annotations({
  description: 'The column a field reads when it names none: "snake_case" of its name (createdAt reads created_at; the default) or "field", the name as it is (createdAt reads "createdAt", as Prisma and TypeORM name columns).'
})

export const IndexConfig = Schema.Struct({
  table: PgIdentifier,
  schema: Schema.optionalWith(PgIdentifier, { default: () => "public" }),
  primaryKey: Key,
  columnNames: Schema.optional(ColumnNames),
  softDelete: Schema.optional(SoftDelete),
  filters: Filters,
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  onError: Schema.optional(Schema.Literal("stop", "skip")),
  fields: Fields
}).annotations({ title: "index", description: "One search index: its root table, key and document fields." })
export type IndexConfig = typeof IndexConfig.Type
export type IndexConfigInput = typeof IndexConfig.Encoded

export const ConnectionParts = Schema.Struct({
  host: Schema.optionalWith(Schema.String, { default: () => "127.0.0.1" }),
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => 5432 }),
  user: Schema.optionalWith(Schema.String, { default: () => "postgres" }),
  password: Schema.optional(Secret),
  database: Schema.String
}).annotations({ description: "The connection, part by part." })

export const PostgresSource = Schema.Struct({
  type: Schema.Literal("postgres"),
  url: Schema.optional(Schema.Union(Secret, ConnectionParts)),
  managePublication: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  slot: Schema.optionalWith(Identifier, { default: () => "flusso" }),
  publication: Schema.optionalWith(Identifier, { default: () => "flusso" }),
  failover: Schema.optionalWith(Schema.Boolean, { default: () => false }).annotations({
    description: "Make the slot a failover slot (PostgreSQL 17+), which a promoted standby keeps: set it on managed, highly available PostgreSQL (Patroni, CloudNativePG, RDS)."
  })
}).annotations({
  title: "postgres",
  description: "The PostgreSQL database to follow; `url` may be left out for DATABASE_URL."
})
export type PostgresSourceConfig = typeof PostgresSource.Type

export const OpenSearchSink = Schema.Struct({
  type: Schema.Literal("opensearch"),
  url: Schema.optional(Secret),
  username: Schema.optional(Secret),
  password: Schema.optional(Secret),
  tlsVerify: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  batchSize: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1000 }),
  maxBytes: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 10 * 1024 * 1024 }),
  timeoutSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { default: () => 30 }),
  maxRetries: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 5 }),
  pipeline: Schema.optional(Schema.String),
  numberOfShards: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1 }),
  numberOfReplicas: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 1 }),
  refreshInterval: Schema.optionalWith(Schema.String, { default: () => "10s" }),
  textAnalysis: Schema.optionalWith(Schema.Literal("builtin", "icu"), { default: () => "builtin" as const }),
  autoSubfields: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Whose rules derive the mappings: ours, or the Rust flusso's (set for a flusso.toml; schema/rustMapping.ts). */
  mappingStyle: Schema.optionalWith(Schema.Literal("flusso", "rust"), { default: () => "flusso" as const }),
  /** Superseded generations kept (newest first) when a new one starts serving; the rest are deleted. */
  keepPreviousGenerations: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 })
}).annotations({
  title: "opensearch",
  description: "An OpenSearch cluster; url, username and password may come from <SINK>_OPENSEARCH_URL etc."
})
export type OpenSearchSinkConfig = typeof OpenSearchSink.Type

export const StdoutSink = Schema.Struct({
  type: Schema.Literal("stdout"),
  pretty: Schema.optionalWith(Schema.Boolean, { default: () => false })
}).annotations({ title: "stdout", description: "Writes each document change to standard output as one JSON line." })
export type StdoutSinkConfig = typeof StdoutSink.Type

export const SinkConfig = Schema.Union(OpenSearchSink, StdoutSink)
export type SinkConfig = typeof SinkConfig.Type

export const Prefix = Schema.String.pipe(
  Schema.pattern(/^$|^[a-z0-9][^A-Z ,:"*+/\\|?#<>]*$/, {
    message: () => "must be lowercase, start with a letter or digit and contain none of  ,:\"*+/\\|?#<>"
  }),
  Schema.filter((s) => Buffer.byteLength(s) <= 50 || "must be at most 50 bytes")
)

export const BatchConfig = Schema.Struct({
  maxChanges: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1024 }),
  maxDelayMs: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 50 })
})

export const ServerConfig = Schema.Struct({
  publicAddress: Schema.optionalWith(Schema.String, { default: () => "127.0.0.1:9464" }),
  privateAddress: Schema.optionalWith(Schema.String, { default: () => "127.0.0.1:9465" })
})

export const FlussoConfig = Schema.Struct({
  source: PostgresSource,
  sinks: Schema.optionalWith(Schema.Record({ key: Identifier, value: SinkConfig }), { default: () => ({}) }),
  indexes: Schema.optionalWith(Schema.Record({ key: Identifier, value: IndexConfig }), { default: () => ({}) }),
  onError: Schema.optionalWith(Schema.Literal("stop", "skip"), { default: () => "stop" as const }),
  prefix: Schema.optionalWith(Prefix, { default: () => "" }),
  // Left out whole: the defaults of each key, stated once above.
  server: Schema.optionalWith(ServerConfig, { default: () => Schema.decodeSync(ServerConfig)({}) }),
  batch: Schema.optionalWith(BatchConfig, { default: () => Schema.decodeSync(BatchConfig)({}) })
}).annotations({
  title: "flusso config",
  description: "A flusso deployment: the PostgreSQL source, the sinks and the indexes kept in step."
})
/** A config as validated from the user's module; secrets not yet resolved. */
export type FlussoConfig = typeof FlussoConfig.Type
export type FlussoConfigInput = typeof FlussoConfig.Encoded
