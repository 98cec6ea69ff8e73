/**
 * The deployment config as data: the `effect/Schema` that validates what a
 * `flusso.config.ts` exports, and the resolved types the rest of flusso reads.
 * Everything here is database-free; `load.ts` decodes with `onExcessProperty: "error"`
 * so an unknown key is an error with its path.
 */
import { Schema } from "effect"

/** Postgres identifiers flusso accepts for tables, columns, schemas, index and sink names. */
export const Identifier = Schema.String.pipe(
  Schema.pattern(/^[a-z_][a-z0-9_]*$/, {
    message: () => "must match ^[a-z_][a-z0-9_]*$ (lowercase Postgres identifier)"
  }),
  Schema.maxLength(63, { message: () => "must be at most 63 characters" })
)

/** Document keys keep their case. */
export const FieldName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    message: () => "must match ^[A-Za-z_][A-Za-z0-9_]*$"
  }),
  Schema.maxLength(63, { message: () => "must be at most 63 characters" })
)

/** `env("VAR")`: a value read from the environment at run time. */
export class EnvRef extends Schema.TaggedClass<EnvRef>()("Env", {
  name: Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/))
}) {}

export const Secret = Schema.Union(Schema.String, EnvRef)
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

export const Transform = Schema.Literal("lowercase", "trim")
export type Transform = typeof Transform.Type

export const ScalarValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean)

/** A field read from one column of the row it belongs to. */
export const ScalarField = Schema.Struct({
  kind: ScalarKind,
  column: Schema.optional(Identifier),
  required: Schema.optional(Schema.Boolean),
  transforms: Schema.optional(Schema.Array(Transform)),
  default: Schema.optional(ScalarValue),
  variants: Schema.optional(Schema.Array(Schema.String)),
  options: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
export type ScalarField = typeof ScalarField.Type

export const Field = ScalarField
export type Field = typeof Field.Type

export const SoftDelete = Schema.Struct({ column: Identifier })
export type SoftDelete = typeof SoftDelete.Type

export const IndexConfig = Schema.Struct({
  table: Identifier,
  schema: Schema.optionalWith(Identifier, { default: () => "public" }),
  primaryKey: Schema.Union(Identifier, Schema.NonEmptyArray(Identifier)),
  softDelete: Schema.optional(SoftDelete),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  onError: Schema.optional(Schema.Literal("stop", "skip")),
  fields: Schema.Record({ key: FieldName, value: Field })
})
export type IndexConfig = typeof IndexConfig.Type
export type IndexConfigInput = typeof IndexConfig.Encoded

export const ConnectionParts = Schema.Struct({
  host: Schema.optionalWith(Schema.String, { default: () => "127.0.0.1" }),
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => 5432 }),
  user: Schema.optionalWith(Schema.String, { default: () => "postgres" }),
  password: Schema.optional(Secret),
  database: Schema.String
})

export const PostgresSource = Schema.Struct({
  type: Schema.Literal("postgres"),
  url: Schema.optional(Schema.Union(Secret, ConnectionParts)),
  managePublication: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  slot: Schema.optionalWith(Identifier, { default: () => "flusso" }),
  publication: Schema.optionalWith(Identifier, { default: () => "flusso" })
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
  autoSubfields: Schema.optionalWith(Schema.Boolean, { default: () => true })
})
export type OpenSearchSinkConfig = typeof OpenSearchSink.Type

export const StdoutSink = Schema.Struct({
  type: Schema.Literal("stdout"),
  pretty: Schema.optionalWith(Schema.Boolean, { default: () => false })
})
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
  maxChanges: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 256 }),
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
  server: Schema.optionalWith(ServerConfig, { default: () => ({ publicAddress: "127.0.0.1:9464", privateAddress: "127.0.0.1:9465" }) }),
  batch: Schema.optionalWith(BatchConfig, { default: () => ({ maxChanges: 256, maxDelayMs: 50 }) })
})
/** A config as validated from the user's module; secrets not yet resolved. */
export type FlussoConfig = typeof FlussoConfig.Type
export type FlussoConfigInput = typeof FlussoConfig.Encoded
