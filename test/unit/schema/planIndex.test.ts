import { Schema } from "effect"
import { defineIndex, t } from "flusso"
import { describe, expect, it } from "vitest"
import { IndexConfig, type IndexConfigInput } from "../../../src/config/model.js"
import type { IndexPlan } from "../../../src/schema/IndexPlan.js"
import { planIndex } from "../../../src/schema/planIndex.js"

const plan = (input: IndexConfigInput, onError: "stop" | "skip" = "stop"): IndexPlan =>
  planIndex("users", Schema.decodeUnknownSync(IndexConfig)(input), onError)

const users = defineIndex({
  table: "users",
  primaryKey: ["id", "tenant_id"],
  softDelete: { field: "isDeleted", when: [{ column: "deleted_at", op: "isNotNull" }] },
  filters: [
    { raw: "kind <> 'bot'" },
    { column: "status", op: "in", value: ["active", "invited"] },
    { column: "age", op: "between", value: [18, 99] },
    { column: "email", op: "ilike", value: "%@%" },
    { column: "banned_at", op: "isNull" }
  ],
  fields: {
    fullName: t.text({ transforms: ["trim"] }),
    isDeleted: t.boolean({ column: "deleted" }),
    address: t.object({ fields: { streetName: t.text(), zipCode: t.keyword({ required: true }) } }),
    extraLabels: t.map({ values: "keyword" }),
    home: t.geo({ lat: "home_lat", lon: "home_lon", required: true }),
    office: t.geo({ column: "office_point" }),
    source: t.constant("crm"),
    company: t.belongsTo({ table: "companies", schema: "crm", column: ["company_id", "tenant_id"], primaryKey: ["id", "tenant_id"], required: true, fields: { name: t.text() } }),
    orders: t.hasMany({
      table: "orders",
      foreignKey: ["user_id", "tenant_id"],
      primaryKey: "id",
      orderBy: [{ column: "placed_at", direction: "desc" }, { column: "id" }],
      limit: 5,
      filters: [{ column: "total", op: "gt", value: 0 }],
      fields: {
        totalAmount: t.decimal(),
        items: t.hasMany({ table: "order_items", foreignKey: "order_id", primaryKey: ["order_id", "line"], fields: { sku: t.identifier() } })
      }
    }),
    tags: t.manyToMany({
      table: "tags",
      through: { table: "user_tags", leftKey: ["user_id", "tenant_id"], rightKey: "tag_id" },
      primaryKey: "id",
      fields: { name: t.keyword() }
    }),
    orderCount: t.count({ table: "orders", foreignKey: ["user_id", "tenant_id"] }),
    spent: t.sum({ table: "orders", foreignKey: ["user_id", "tenant_id"], column: "total", valueType: "decimal" }),
    tagIds: t.ids({ table: "tags", schema: "crm", through: { table: "user_tags", schema: "crm", leftKey: ["user_id", "tenant_id"], rightKey: "tag_id" }, elementType: "long", primaryKey: "id" })
  }
})

describe("planIndex", () => {
  it("plans the root: qualified table, keys as lists, onError falling back to the global policy", () => {
    const planned = plan(users, "skip")
    expect(planned).toMatchObject({
      name: "users",
      schema: "public",
      table: "users",
      qualifiedTable: "public.users",
      primaryKey: ["id", "tenant_id"],
      enabled: true,
      onError: "skip"
    })
    expect(plan({ ...users, primaryKey: "id", onError: "stop" }, "skip")).toMatchObject({ primaryKey: ["id"], onError: "stop" })
    expect(planned.hash).toMatch(/^[0-9a-f]{8}$/)
  })

  it("plans filters and soft delete, resolving softDelete.field to its column", () => {
    const planned = plan(users)
    expect(planned.filters).toEqual([
      { _tag: "Raw", sql: "kind <> 'bot'" },
      { _tag: "In", column: "status", op: "in", values: ["active", "invited"] },
      { _tag: "Between", column: "age", low: 18, high: 99 },
      { _tag: "Compare", column: "email", op: "ilike", value: "%@%" },
      { _tag: "Null", column: "banned_at", op: "isNull" }
    ])
    expect(planned.softDelete).toEqual({ column: "deleted", when: [{ _tag: "Null", column: "deleted_at", op: "isNotNull" }] })
    expect(plan({ ...users, softDelete: { field: "fullName" } }).softDelete).toEqual({ column: "full_name", when: [] })
    expect(plan({ ...users, softDelete: { column: "removed" } }).softDelete).toEqual({ column: "removed", when: [] })
    expect(plan({ ...users, softDelete: undefined, filters: undefined })).toMatchObject({ softDelete: undefined, filters: [] })
  })

  it("plans same-row fields with snake_case columns", () => {
    const [fullName, isDeleted, address, extraLabels, home, office, source] = plan(users).fields
    expect(fullName).toEqual({
      _tag: "Scalar",
      name: "fullName",
      kind: "text",
      column: "full_name",
      required: false,
      transforms: ["trim"],
      default: undefined,
      variants: undefined,
      options: undefined
    })
    expect(isDeleted).toMatchObject({ _tag: "Scalar", column: "deleted" })
    expect(address).toMatchObject({
      _tag: "Object",
      name: "address",
      fields: [
        { _tag: "Scalar", name: "streetName", column: "street_name", required: false },
        { _tag: "Scalar", name: "zipCode", column: "zip_code", required: true }
      ]
    })
    expect(extraLabels).toEqual({ _tag: "Map", name: "extraLabels", column: "extra_labels", values: "keyword", required: false, options: undefined })
    expect(home).toEqual({ _tag: "Geo", name: "home", source: { _tag: "LatLon", lat: "home_lat", lon: "home_lon" }, required: true, options: undefined })
    expect(office).toMatchObject({ _tag: "Geo", source: { _tag: "Column", column: "office_point" }, required: false })
    expect(source).toEqual({ _tag: "Constant", name: "source", value: "crm", options: undefined })
  })

  it("plans joins as a tree, with schemas, keys and orderBy defaulted", () => {
    const fields = plan(users).fields
    const byName = (name: string) => fields.find((f) => f.name === name)
    expect(byName("company")).toEqual({
      _tag: "Join",
      name: "company",
      relation: "belongsTo",
      table: { schema: "crm", table: "companies" },
      primaryKey: ["id", "tenant_id"],
      column: ["company_id", "tenant_id"],
      foreignKey: undefined,
      through: undefined,
      filters: [],
      orderBy: [],
      limit: undefined,
      required: true,
      fields: [expect.objectContaining({ _tag: "Scalar", name: "name", column: "name" })],
      options: undefined
    })
    expect(byName("orders")).toMatchObject({
      relation: "hasMany",
      table: { schema: "public", table: "orders" },
      primaryKey: ["id"],
      foreignKey: ["user_id", "tenant_id"],
      column: undefined,
      filters: [{ _tag: "Compare", column: "total", op: "gt", value: 0 }],
      orderBy: [
        { column: "placed_at", direction: "desc" },
        { column: "id", direction: "asc" }
      ],
      limit: 5,
      required: false,
      fields: [
        { _tag: "Scalar", name: "totalAmount", column: "total_amount" },
        {
          _tag: "Join",
          relation: "hasMany",
          table: { schema: "public", table: "order_items" },
          foreignKey: ["order_id"],
          primaryKey: ["order_id", "line"],
          fields: [{ _tag: "Scalar", name: "sku", kind: "identifier" }]
        }
      ]
    })
    expect(byName("tags")).toMatchObject({
      relation: "manyToMany",
      foreignKey: undefined,
      through: { table: { schema: "public", table: "user_tags" }, leftKey: ["user_id", "tenant_id"], rightKey: ["tag_id"] },
      orderBy: []
    })
  })

  it("plans aggregates", () => {
    const fields = plan(users).fields
    const byName = (name: string) => fields.find((f) => f.name === name)
    expect(byName("orderCount")).toEqual({
      _tag: "Aggregate",
      name: "orderCount",
      fn: "count",
      table: { schema: "public", table: "orders" },
      primaryKey: undefined,
      foreignKey: ["user_id", "tenant_id"],
      through: undefined,
      column: undefined,
      valueType: undefined,
      elementType: undefined,
      filters: [],
      options: undefined
    })
    expect(byName("spent")).toMatchObject({ fn: "sum", column: "total", valueType: "decimal" })
    expect(byName("tagIds")).toMatchObject({
      fn: "ids",
      table: { schema: "crm", table: "tags" },
      primaryKey: ["id"],
      foreignKey: undefined,
      through: { table: { schema: "crm", table: "user_tags" }, leftKey: ["user_id", "tenant_id"], rightKey: ["tag_id"] },
      elementType: "long"
    })
  })

  it("hashes what shapes the document and mapping, not enabled or onError", () => {
    const base = plan(users).hash
    expect(plan({ ...users, enabled: false, onError: "skip" }, "skip").hash).toBe(base)
    expect(plan({ ...users, primaryKey: ["tenant_id", "id"] }).hash).not.toBe(base)
    expect(plan({ ...users, filters: [] }).hash).not.toBe(base)
    expect(plan({ ...users, softDelete: { column: "deleted" } }).hash).not.toBe(base)
    const deeper = { ...users.fields, orders: { ...users.fields.orders, limit: 6 } }
    expect(plan({ ...users, fields: deeper }).hash).not.toBe(base)
    // Defaults and their explicit spelling are the same shape.
    const explicit = { ...users.fields, fullName: t.text({ transforms: ["trim"], column: "full_name", required: false }) }
    expect(plan({ ...users, fields: explicit }).hash).toBe(base)
  })
})

describe("names as applications' schemas spell them", () => {
  const prisma = defineIndex({
    table: "User",
    primaryKey: "id",
    columnNames: "field",
    softDelete: { field: "deletedAt" },
    fields: {
      createdAt: t.timestamp(),
      deletedAt: t.boolean(),
      displayName: t.text({ column: "name" }),
      posts: t.hasMany({ table: "Post", foreignKey: "authorId", primaryKey: "id", fields: { publishedAt: t.timestamp() } })
    }
  })

  it("accepts mixed-case tables and columns, and with columnNames: field reads the field's own name at every level", () => {
    const planned = plan(prisma)
    expect(planned.qualifiedTable).toBe("public.User")
    expect(planned.softDelete?.column).toBe("deletedAt")
    expect(planned.fields.map((f) => (f._tag === "Scalar" ? f.column : f.name))).toEqual(["createdAt", "deletedAt", "name", "posts"])
    const posts = planned.fields[3]
    expect(posts?._tag === "Join" && posts.fields.map((f) => (f._tag === "Scalar" ? f.column : ""))).toEqual(["publishedAt"])
  })

  it("snake_case stays the default, and the choice does not change the content hash when the columns are the same", () => {
    const snake = plan({ ...prisma, columnNames: "snake_case" })
    expect(snake.fields[0]?._tag === "Scalar" && snake.fields[0].column).toBe("created_at")
    const explicit = plan({ table: "t", primaryKey: "id", fields: { createdAt: t.timestamp({ column: "createdAt" }) } })
    const byOption = plan({ table: "t", primaryKey: "id", columnNames: "field", fields: { createdAt: t.timestamp() } })
    expect(byOption.hash).toBe(explicit.hash)
  })
})
