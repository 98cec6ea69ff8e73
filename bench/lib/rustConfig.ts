/**
 * The Rust flusso's configuration equivalent to bench/flusso.bench.config.ts, written into a
 * directory of its own per deployment: `flusso.toml` (its prefix, the sink with the same
 * settings, which of the two indexes is enabled) and one type-first schema file per index.
 * The Rust format has no camelCase rule: a field named `createdAt` reads the column
 * `createdat` unless it says `column: created_at`, so every such field says it.
 * Keep this in step with the TypeScript config; the bench compares documents of both.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"

const USER_FIELDS = `  - long: id
    required: true
  - text: name
    required: true
  - keyword: email
    required: true
  - timestamp: createdAt
    column: created_at
    required: true
  - integer: score
    required: true
  # Set by the latency load generator: a commit shows up in OpenSearch when this does.
  - long: marker
    required: false
`

/** bench_users: orders hasMany (their items hasMany), tags manyToMany, a count and a sum. */
export const NESTED_SCHEMA = `# bench_users (bench/flusso.bench.config.ts): the users row, its orders with their items,
# its tags, the number of its orders and their total.
version: 1
table: users
primary_key: id
fields:
${USER_FIELDS}  - has_many: orders
    table: orders
    foreign_key: user_id
    primary_key: id
    order_by:
      - column: id
    fields:
      - keyword: status
        required: true
      - decimal: total
        required: true
      - has_many: items
        table: items
        foreign_key: order_id
        primary_key: id
        order_by:
          - column: id
        fields:
          - keyword: sku
            required: true
          - integer: quantity
            required: true
  - many_to_many: tags
    table: tags
    primary_key: id
    through:
      table: user_tags
      left_key: user_id
      right_key: tag_id
    order_by:
      - column: id
    fields:
      - keyword: name
        required: true
  - count: orderCount
    table: orders
    foreign_key: user_id
  - sum: orderTotal
    table: orders
    foreign_key: user_id
    column: total
    value_type: decimal
`

/** bench_users_flat: the users row alone. */
export const FLAT_SCHEMA = `# bench_users_flat (bench/flusso.bench.config.ts): the users row alone.
version: 1
table: users
primary_key: id
fields:
${USER_FIELDS}`

/** flusso.toml: the database and OpenSearch from DATABASE_URL / PRIMARY_OPENSEARCH_URL, as the TypeScript config takes them. */
export const toml = (prefix: string, enabled: ReadonlyArray<string>): string => `# Written by npm run bench: the Rust flusso's equivalent of bench/flusso.bench.config.ts.
# Slot and publication are given on the command line (--slot, --publication).
prefix = "${prefix}"

[source]
type = "postgres"
connection_url = { env = "DATABASE_URL" }

[sinks.primary]
type = "opensearch"
url = { env = "PRIMARY_OPENSEARCH_URL" }
number_of_shards = 1
number_of_replicas = 0   # one local node
refresh_interval = "1s"

[[index]]
name = "bench_users"
schema = "bench_users.schema.yml"
enabled = ${enabled.includes("bench_users")}

[[index]]
name = "bench_users_flat"
schema = "bench_users_flat.schema.yml"
enabled = ${enabled.includes("bench_users_flat")}
`

/** Writes the deployment's files into `dir`; the path of its flusso.toml. */
export const writeRustConfig = (dir: string, prefix: string, enabled: ReadonlyArray<string>): string => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, "bench_users.schema.yml"), NESTED_SCHEMA)
  writeFileSync(path.join(dir, "bench_users_flat.schema.yml"), FLAT_SCHEMA)
  const file = path.join(dir, "flusso.toml")
  writeFileSync(file, toml(prefix, enabled))
  return file
}
