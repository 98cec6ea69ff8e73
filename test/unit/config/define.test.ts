import { Schema } from "effect"
import { defineConfig, defineIndex, type DocumentOf, env, t } from "flusso"
import { describe, expect, expectTypeOf, it } from "vitest"
import { EnvRef, Field, FlussoConfig } from "../../../src/config/model.js"
import { validateConfig } from "../../../src/config/validate.js"

const users = defineIndex({
  table: "users",
  primaryKey: "id",
  fields: {
    id: t.long({ required: true }),
    email: t.keyword({ required: true, transforms: ["lowercase", "trim"] }),
    fullName: t.text(),
    handle: t.identifier({ column: "user_handle" }),
    tier: t.enum({ variants: ["free", "pro"], required: true }),
    mood: t.enum(),
    externalId: t.uuid(),
    active: t.boolean({ default: true }),
    age: t.short(),
    score: t.integer(),
    rating: t.float(),
    ratio: t.double(),
    balance: t.decimal({ required: true }),
    birthday: t.date(),
    createdAt: t.timestamp({ required: true }),
    avatar: t.binary(),
    settings: t.json({ options: { enabled: false } })
  }
})

/** Three levels (users → orders → items), with every structural, join and aggregate kind. */
const customers = defineIndex({
  table: "users",
  primaryKey: ["id", "tenant_id"],
  softDelete: { field: "deleted", when: [{ column: "deleted_at", op: "isNotNull" }] },
  filters: [{ column: "kind", op: "in", value: ["person", "company"] }],
  fields: {
    id: t.long({ required: true }),
    deleted: t.boolean(),
    address: t.object({ fields: { street: t.text(), city: t.keyword({ required: true }) } }),
    labels: t.map({ values: "keyword" }),
    scores: t.map({ values: "double", column: "score_map", required: true }),
    home: t.geo({ lat: "home_lat", lon: "home_lon" }),
    office: t.geo({ column: "office_point", required: true }),
    source: t.constant("crm"),
    version: t.constant(2),
    nothing: t.constant(null),
    meta: t.constant({ tags: ["a", "b"] }, { options: { enabled: false } }),
    company: t.belongsTo({
      table: "companies",
      column: ["company_id", "tenant_id"],
      primaryKey: ["id", "tenant_id"],
      fields: { name: t.text({ required: true }) }
    }),
    manager: t.belongsTo({ table: "users", column: "manager_id", primaryKey: "id", required: true, fields: { email: t.keyword() } }),
    profile: t.hasOne({
      table: "profiles",
      schema: "crm",
      foreignKey: ["user_id", "tenant_id"],
      primaryKey: "id",
      orderBy: [{ column: "updated_at", direction: "desc" }],
      fields: { bio: t.text() }
    }),
    orders: t.hasMany({
      table: "orders",
      foreignKey: ["user_id", "tenant_id"],
      primaryKey: "id",
      filters: [{ column: "status", op: "neq", value: "draft" }, { raw: "amount > 0" }],
      orderBy: [{ column: "placed_at", direction: "desc" }, { column: "id" }],
      limit: 10,
      fields: {
        number: t.identifier({ required: true }),
        status: t.enum({ variants: ["open", "shipped"] }),
        items: t.hasMany({
          table: "order_items",
          foreignKey: "order_id",
          primaryKey: ["order_id", "line"],
          fields: {
            quantity: t.integer({ required: true }),
            product: t.belongsTo({ table: "products", column: "product_id", primaryKey: "id", fields: { sku: t.identifier() } })
          }
        }),
        itemCount: t.count({ table: "order_items", foreignKey: "order_id" }),
        lineTotal: t.sum({ table: "order_items", foreignKey: "order_id", column: "amount", valueType: "decimal" })
      }
    }),
    tags: t.manyToMany({
      table: "tags",
      through: { table: "user_tags", leftKey: ["user_id", "tenant_id"], rightKey: "tag_id" },
      primaryKey: "id",
      orderBy: [{ column: "name" }],
      fields: { name: t.keyword({ required: true }) }
    }),
    orderCount: t.count({ table: "orders", foreignKey: ["user_id", "tenant_id"], filters: [{ column: "amount", op: "between", value: [1, 100] }] }),
    spent: t.sum({ table: "orders", foreignKey: ["user_id", "tenant_id"], column: "amount", valueType: "decimal" }),
    averageOrder: t.avg({ table: "orders", foreignKey: ["user_id", "tenant_id"], column: "amount" }),
    firstOrder: t.min({ table: "orders", foreignKey: ["user_id", "tenant_id"], column: "placed_at", valueType: "timestamp" }),
    largestOrder: t.max({ table: "orders", foreignKey: ["user_id", "tenant_id"], column: "items", valueType: "integer" }),
    orderIds: t.ids({ table: "orders", foreignKey: ["user_id", "tenant_id"], elementType: "long" }),
    tagNames: t.ids({
      table: "tags",
      through: { table: "user_tags", leftKey: ["user_id", "tenant_id"], rightKey: "tag_name" },
      elementType: "keyword",
      primaryKey: "name"
    })
  }
})

describe("define", () => {
  it("infers the document type of scalar fields exactly", () => {
    expectTypeOf<DocumentOf<typeof users>>().toEqualTypeOf<{
      id: number
      email: string
      fullName: string | null
      handle: string | null
      tier: "free" | "pro"
      mood: string | null
      externalId: string | null
      active: boolean
      age: number | null
      score: number | null
      rating: number | null
      ratio: number | null
      balance: number
      birthday: string | null
      createdAt: string
      avatar: string | null
      settings: unknown
    }>()
  })

  it("infers nested documents, joins and aggregates with their nullability", () => {
    expectTypeOf<DocumentOf<typeof customers>>().toEqualTypeOf<{
      id: number
      deleted: boolean | null
      address: { street: string | null; city: string }
      labels: Record<string, string | null> | null
      scores: Record<string, number | null>
      home: { lat: number; lon: number } | null
      office: { lat: number; lon: number }
      source: "crm"
      version: 2
      nothing: null
      meta: { readonly tags: readonly ["a", "b"] }
      company: { name: string } | null
      manager: { email: string | null }
      profile: { bio: string | null } | null
      orders: Array<{
        number: string
        status: "open" | "shipped" | null
        items: Array<{ quantity: number; product: { sku: string | null } | null }>
        itemCount: number
        lineTotal: number | null
      }>
      tags: Array<{ name: string }>
      orderCount: number
      spent: number | null
      averageOrder: number | null
      firstOrder: string | null
      largestOrder: number | null
      orderIds: Array<number>
      tagNames: Array<string>
    }>()
  })

  it("rejects unknown options and wrongly typed defaults at compile time", () => {
    // @ts-expect-error misspelt option
    t.text({ requird: true })
    // @ts-expect-error variants belong to enums
    t.keyword({ variants: ["a"] })
    // @ts-expect-error transforms apply to strings
    t.integer({ transforms: ["trim"] })
    // @ts-expect-error a number field takes a number default
    t.integer({ default: "0" })
  })

  it("rejects keys and options a structure, join or aggregate does not take at compile time", () => {
    const fields = { id: t.long() }
    // @ts-expect-error hasMany takes foreignKey, not column
    t.hasMany({ table: "orders", column: "user_id", primaryKey: "id", fields })
    // @ts-expect-error a to-many join is never null
    t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", required: true, fields })
    // @ts-expect-error belongsTo reads one row: no orderBy
    t.belongsTo({ table: "companies", column: "company_id", primaryKey: "id", orderBy: [{ column: "id" }], fields })
    // @ts-expect-error hasOne takes no limit
    t.hasOne({ table: "profiles", foreignKey: "user_id", primaryKey: "id", limit: 1, fields })
    // @ts-expect-error manyToMany needs a junction table
    t.manyToMany({ table: "tags", foreignKey: "user_id", primaryKey: "id", fields })
    // @ts-expect-error aggregates take foreignKey or through, not both
    t.count({ table: "orders", foreignKey: "user_id", through: { table: "j", leftKey: "a", rightKey: "b" } })
    // @ts-expect-error aggregates need foreignKey or through
    t.count({ table: "orders" })
    // @ts-expect-error ids takes no column
    t.ids({ table: "orders", foreignKey: "user_id", elementType: "long", column: "id" })
    // @ts-expect-error sum adds numbers
    t.sum({ table: "orders", foreignKey: "user_id", column: "note", valueType: "text" })
    // @ts-expect-error avg is always a double
    t.avg({ table: "orders", foreignKey: "user_id", column: "amount", valueType: "double" })
    // @ts-expect-error map values are leaf kinds
    t.map({ values: "boolean" })
    // @ts-expect-error a point is lat + lon or column, not both
    t.geo({ lat: "a", lon: "b", column: "c" })
    // @ts-expect-error a point from two columns needs both
    t.geo({ lat: "a" })
    // @ts-expect-error an object has no column of its own
    t.object({ column: "address", fields })
  })

  it("builds plain data the config schema decodes unchanged", () => {
    expect(t.keyword({ required: true, transforms: ["trim"] })).toEqual({
      kind: "keyword",
      required: true,
      transforms: ["trim"]
    })
    expect(t.text()).toEqual({ kind: "text" })
    expect(t.constant(null)).toEqual({ kind: "constant", value: null })
    expect(t.count({ table: "orders", foreignKey: "user_id" })).toEqual({ kind: "count", table: "orders", foreignKey: "user_id" })
    const decodeField = Schema.decodeUnknownSync(Field, { onExcessProperty: "error" })
    for (const field of [...Object.values(users.fields), ...Object.values(customers.fields)]) {
      expect(decodeField(field)).toEqual(field)
    }
    const config = defineConfig({
      source: { type: "postgres", url: env("DATABASE_URL") },
      indexes: { users, customers }
    })
    const decoded = Schema.decodeUnknownSync(FlussoConfig, { onExcessProperty: "error" })(config)
    expect(decoded.source.url).toBeInstanceOf(EnvRef)
    expect(decoded.indexes.users?.fields.tier).toEqual({ kind: "enum", variants: ["free", "pro"], required: true })
    expect(decoded.indexes.customers?.fields).toEqual(customers.fields)
  })

  it("builds configs that pass validation", () => {
    const result = validateConfig(defineConfig({ source: { type: "postgres" }, indexes: { users, customers } }))
    expect(result._tag === "Left" ? result.left : []).toEqual([])
  })
})
