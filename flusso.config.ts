/**
 * The example deployment (`npm run example` runs it against examples/seed.sql):
 * two root-table indexes with soft delete. DATABASE_URL names the database;
 * PRIMARY_OPENSEARCH_URL, when set, overrides the sink URL below.
 */
import { defineConfig, defineIndex, env, t, type DocumentOf } from "flusso"

export const users = defineIndex({
  table: "users",
  primaryKey: "id",
  softDelete: { column: "deleted" }, // deleted = true → removed from the index
  fields: {
    id: t.long({ required: true }),
    email: t.keyword({ required: true, transforms: ["lowercase", "trim"] }),
    fullName: t.text(), // column full_name
    active: t.boolean({ required: true }),
    createdAt: t.timestamp({ required: true })
  }
})
export type User = DocumentOf<typeof users>

export const products = defineIndex({
  table: "products",
  primaryKey: "id",
  softDelete: { column: "deleted_at" }, // any non-null deleted_at → removed
  fields: {
    id: t.uuid({ required: true }),
    sku: t.identifier({ required: true }), // "KB-1001" is found by kb1001, KB-1001 and 1001
    name: t.text({ required: true }),
    price: t.decimal({ required: true })
  }
})
export type Product = DocumentOf<typeof products>

export default defineConfig({
  source: { type: "postgres", url: env("DATABASE_URL") },
  sinks: {
    primary: {
      type: "opensearch",
      url: "http://127.0.0.1:9200",
      numberOfReplicas: 0, // a single local node
      refreshInterval: "1s" // so a change is searchable about a second after commit
    }
  },
  indexes: { users, products }
})
