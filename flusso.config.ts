/**
 * The example deployment (`npm run example` runs it against examples/seed.sql): a `users`
 * index with everything about a customer folded in — profile, addresses, the five most
 * recent orders with their items and products, tags — plus aggregates, and a flat
 * `products` index. DATABASE_URL names the database; PRIMARY_OPENSEARCH_URL, when set,
 * overrides the sink URL below.
 */
import { defineConfig, defineIndex, env, t, type DocumentOf } from "flusso"

const userTags = { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" } as const

export const users = defineIndex({
  table: "users",
  primaryKey: "id",
  softDelete: { column: "deleted" }, // deleted = true → removed from the index
  fields: {
    id: t.long({ required: true }),
    email: t.keyword({ required: true, transforms: ["lowercase", "trim"] }),
    fullName: t.text(), // column full_name
    active: t.boolean({ required: true }),
    createdAt: t.timestamp({ required: true }),

    // profiles.user_id → users.id: an object, null for a user without a profile
    profile: t.hasOne({
      table: "profiles",
      foreignKey: "user_id",
      primaryKey: "id",
      fields: { bio: t.text(), website: t.keyword(), birthday: t.date() }
    }),

    // addresses.user_id → users.id: a nested array, [] when there are none
    addresses: t.hasMany({
      table: "addresses",
      foreignKey: "user_id",
      primaryKey: "id",
      orderBy: [{ column: "is_primary", direction: "desc" }], // the primary one first
      fields: {
        kind: t.keyword({ required: true }),
        line1: t.text({ required: true }),
        city: t.text({ required: true }),
        postalCode: t.keyword(),
        country: t.keyword({ required: true }),
        isPrimary: t.boolean({ required: true })
      }
    }),

    // The five most recent orders, each with its items, each item with its product.
    recentOrders: t.hasMany({
      table: "orders",
      foreignKey: "user_id",
      primaryKey: "id",
      orderBy: [{ column: "placed_at", direction: "desc" }],
      limit: 5,
      fields: {
        id: t.long({ required: true }),
        number: t.identifier({ required: true }), // "SO-00042" is found by so00042 and 00042
        status: t.enum({
          required: true,
          variants: ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"] // sorts in this order
        }),
        placedAt: t.timestamp({ required: true }),
        total: t.decimal({ required: true }),
        items: t.hasMany({
          table: "items",
          foreignKey: "order_id",
          primaryKey: "id",
          fields: {
            quantity: t.integer({ required: true }),
            unitPrice: t.decimal({ required: true }),
            // items.product_id → products.id
            product: t.belongsTo({
              table: "products",
              column: "product_id",
              primaryKey: "id",
              fields: { id: t.uuid({ required: true }), sku: t.identifier({ required: true }), name: t.text({ required: true }) }
            })
          }
        })
      }
    }),

    // users ↔ tags through the junction user_tags
    tags: t.manyToMany({
      table: "tags",
      through: userTags,
      primaryKey: "id",
      orderBy: [{ column: "name", direction: "asc" }],
      fields: { name: t.keyword({ required: true }), color: t.keyword() }
    }),

    // Aggregates over all of a user's rows (not only the five nested orders).
    orderCount: t.count({ table: "orders", foreignKey: "user_id" }),
    totalSpent: t.sum({
      table: "orders",
      foreignKey: "user_id",
      column: "total",
      valueType: "decimal",
      filters: [{ column: "status", op: "notIn", value: ["cancelled", "refunded"] }]
    }),
    averageOrder: t.avg({ table: "orders", foreignKey: "user_id", column: "total" }),
    lastOrderAt: t.max({ table: "orders", foreignKey: "user_id", column: "placed_at", valueType: "timestamp" }),
    tagIds: t.ids({ table: "tags", through: userTags, elementType: "long" })
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
    price: t.decimal({ required: true }),
    unitsSold: t.sum({ table: "items", foreignKey: "product_id", column: "quantity", valueType: "long" })
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
