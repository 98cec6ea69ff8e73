/**
 * The deployment `npm run bench` runs (bench/README.md). Two indexes over the bench
 * dataset: `bench_users`, nested (orders with their items, tags many-to-many, a count and
 * a sum), and `bench_users_flat` (the users row alone). BENCH_INDEXES chooses which are
 * enabled in a run, so each backfill figure is measured alone; the bench passes the
 * database (DATABASE_URL), the sink (PRIMARY_OPENSEARCH_URL), slot, publication and
 * prefix on the command line / environment.
 */
import { defineConfig, defineIndex, env, t } from "flusso"

const enabled = (process.env["BENCH_INDEXES"] ?? "bench_users,bench_users_flat").split(",")

const userFields = {
  id: t.long({ required: true }),
  name: t.text({ required: true }),
  email: t.keyword({ required: true }),
  createdAt: t.timestamp({ required: true }),
  score: t.integer({ required: true }),
  // Set by the latency load generator: a commit shows up in OpenSearch when this does.
  marker: t.long()
}

export const benchUsers = defineIndex({
  table: "users",
  primaryKey: "id",
  enabled: enabled.includes("bench_users"),
  fields: {
    ...userFields,
    orders: t.hasMany({
      table: "orders",
      foreignKey: "user_id",
      primaryKey: "id",
      // Lean on purpose: the document stays near issue 10's size (json_build_object's
      // `"key" : value` spacing makes every field cost more than it looks).
      fields: {
        status: t.keyword({ required: true }),
        total: t.decimal({ required: true }),
        items: t.hasMany({
          table: "items",
          foreignKey: "order_id",
          primaryKey: "id",
          fields: {
            sku: t.keyword({ required: true }),
            quantity: t.integer({ required: true })
          }
        })
      }
    }),
    tags: t.manyToMany({
      table: "tags",
      through: { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" },
      primaryKey: "id",
      fields: { name: t.keyword({ required: true }) }
    }),
    orderCount: t.count({ table: "orders", foreignKey: "user_id" }),
    orderTotal: t.sum({ table: "orders", foreignKey: "user_id", column: "total", valueType: "decimal" })
  }
})

export const benchUsersFlat = defineIndex({
  table: "users",
  primaryKey: "id",
  enabled: enabled.includes("bench_users_flat"),
  fields: userFields
})

export default defineConfig({
  source: { type: "postgres", url: env("DATABASE_URL") },
  sinks: {
    primary: {
      type: "opensearch",
      url: env("PRIMARY_OPENSEARCH_URL"),
      numberOfReplicas: 0, // one local node
      refreshInterval: "1s"
    }
  },
  indexes: { bench_users: benchUsers, bench_users_flat: benchUsersFlat }
})
