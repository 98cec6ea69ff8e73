/**
 * The differential test's database and index configuration: a shop with users, profiles,
 * orders, items, products, tags and a user_tags junction — no foreign keys, so orphans,
 * rows that arrive before their parent and deleted belongsTo targets all happen — and
 * three indexes that between them read every table through every join and aggregate kind.
 *
 *   users    (root filters + soft delete)  hasOne profiles (filtered, ordered),
 *            hasMany orders (ordered, limited) → [count/max over items, hasMany items → belongsTo products],
 *            manyToMany tags (filtered, ordered), count/sum/avg/min/ids over orders, ids/count through user_tags
 *   orders   (root filter)  belongsTo users (filtered), hasMany items (ordered with ties) → belongsTo products,
 *            sum/ids over items
 *   products (uuid keys)  sum/count over items
 *
 * `oracle.ts` computes the same documents with hand-written SQL.
 */
import { t } from "flusso"
import type { Random } from "./prng.js"

export const TABLES = ["users", "profiles", "products", "orders", "items", "tags", "user_tags"] as const
export type Table = (typeof TABLES)[number]

export const DDL = `
CREATE TABLE users (
  id bigint PRIMARY KEY, email text NOT NULL, name text, status text NOT NULL, score int NOT NULL,
  deleted_at timestamptz, created_at timestamptz NOT NULL);
CREATE TABLE profiles (id bigint PRIMARY KEY, user_id bigint, bio text, birthday date, visible boolean NOT NULL);
CREATE TABLE products (id uuid PRIMARY KEY, sku text NOT NULL, name text NOT NULL, price numeric(10,2) NOT NULL);
CREATE TABLE orders (
  id bigint PRIMARY KEY, user_id bigint, status text NOT NULL, total numeric(12,2) NOT NULL,
  placed_at timestamptz NOT NULL, note text);
CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint, product_id uuid, qty int NOT NULL, price numeric(10,2));
CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL, hidden boolean NOT NULL);
CREATE TABLE user_tags (user_id bigint NOT NULL, tag_id bigint NOT NULL, PRIMARY KEY (user_id, tag_id));
`

/** Which tables get REPLICA IDENTITY FULL: none, all, or a per-table draw from the seed. */
export type IdentityMode = "default" | "full" | "mixed"

export const identityDdl = (mode: IdentityMode, random: Random): { readonly sql: string; readonly full: ReadonlyArray<Table> } => {
  const full = TABLES.filter(() => mode === "full" || (mode === "mixed" && random.chance(0.5)))
  return { sql: full.map((table) => `ALTER TABLE ${table} REPLICA IDENTITY FULL;`).join("\n"), full }
}

const id = t.long({ required: true })
const userTags = { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" } as const
const ordersOfUser = { table: "orders", foreignKey: "user_id" } as const
const itemsOfOrder = { table: "items", foreignKey: "order_id" } as const

export const INDEXES = {
  users: {
    table: "users",
    primaryKey: "id",
    softDelete: { column: "deleted_at" },
    filters: [{ column: "status", op: "in", value: ["active", "invited"] }],
    fields: {
      id,
      email: t.keyword({ required: true }),
      name: t.text(),
      status: t.keyword({ required: true }),
      score: t.integer({ required: true }),
      createdAt: t.timestamp({ required: true }),
      profile: t.hasOne({
        table: "profiles", foreignKey: "user_id", primaryKey: "id",
        filters: [{ column: "visible", op: "eq", value: true }],
        orderBy: [{ column: "id", direction: "desc" }],
        fields: { id, bio: t.text(), birthday: t.date() }
      }),
      recentOrders: t.hasMany({
        ...ordersOfUser, primaryKey: "id",
        orderBy: [{ column: "placed_at", direction: "desc" }],
        limit: 3,
        fields: {
          id,
          status: t.keyword({ required: true }),
          total: t.decimal({ required: true }),
          placedAt: t.timestamp({ required: true }),
          itemCount: t.count(itemsOfOrder),
          maxQty: t.max({ ...itemsOfOrder, column: "qty", valueType: "integer" }),
          items: t.hasMany({
            ...itemsOfOrder, primaryKey: "id",
            fields: {
              id,
              qty: t.integer({ required: true }),
              price: t.decimal(),
              product: t.belongsTo({
                table: "products", column: "product_id", primaryKey: "id",
                fields: { id: t.uuid({ required: true }), sku: t.keyword({ required: true }), name: t.text({ required: true }) }
              })
            }
          })
        }
      }),
      tags: t.manyToMany({
        table: "tags", through: userTags, primaryKey: "id",
        filters: [{ column: "hidden", op: "eq", value: false }],
        orderBy: [{ column: "name", direction: "asc" }],
        fields: { id, name: t.keyword({ required: true }) }
      }),
      orderCount: t.count(ordersOfUser),
      paidCount: t.count({ ...ordersOfUser, filters: [{ column: "status", op: "eq", value: "paid" }] }),
      totalSpent: t.sum({ ...ordersOfUser, column: "total", valueType: "decimal" }),
      avgTotal: t.avg({ ...ordersOfUser, column: "total" }),
      firstOrderAt: t.min({ ...ordersOfUser, column: "placed_at", valueType: "timestamp" }),
      orderIds: t.ids({ ...ordersOfUser, elementType: "long" }),
      tagIds: t.ids({ table: "tags", through: userTags, elementType: "long" }),
      visibleTagCount: t.count({ table: "tags", through: userTags, filters: [{ column: "hidden", op: "eq", value: false }] })
    }
  },
  orders: {
    table: "orders",
    primaryKey: "id",
    filters: [{ column: "status", op: "neq", value: "cancelled" }],
    fields: {
      id,
      status: t.keyword({ required: true }),
      total: t.decimal({ required: true }),
      placedAt: t.timestamp({ required: true }),
      note: t.text(),
      user: t.belongsTo({
        table: "users", column: "user_id", primaryKey: "id",
        filters: [{ column: "deleted_at", op: "isNull" }],
        fields: { id, email: t.keyword({ required: true }), name: t.text() }
      }),
      // qty has many ties: the related key breaks them.
      items: t.hasMany({
        ...itemsOfOrder, primaryKey: "id",
        orderBy: [{ column: "qty", direction: "desc" }],
        fields: {
          id,
          qty: t.integer({ required: true }),
          product: t.belongsTo({ table: "products", column: "product_id", primaryKey: "id", fields: { sku: t.keyword({ required: true }) } })
        }
      }),
      qtySum: t.sum({ ...itemsOfOrder, column: "qty", valueType: "long" }),
      itemIds: t.ids({ ...itemsOfOrder, elementType: "long" })
    }
  },
  products: {
    table: "products",
    primaryKey: "id",
    fields: {
      id: t.uuid({ required: true }),
      sku: t.keyword({ required: true }),
      name: t.text({ required: true }),
      price: t.decimal({ required: true }),
      unitsSold: t.sum({ table: "items", foreignKey: "product_id", column: "qty", valueType: "long" }),
      itemCount: t.count({ table: "items", foreignKey: "product_id" })
    }
  }
} as const

export type IndexName = keyof typeof INDEXES
export const INDEX_NAMES = Object.keys(INDEXES) as ReadonlyArray<IndexName>
