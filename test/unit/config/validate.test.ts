import { describe, expect, it } from "vitest"
import { validateConfig } from "../../../src/config/validate.js"

const source = { type: "postgres", url: "postgres://localhost/app" }

/** The issue lines of an index `users` (key `id` unless given) with these fields and root options. */
const issuesOf = (fields: Record<string, unknown>, root: Record<string, unknown> = {}): ReadonlyArray<string> => {
  const result = validateConfig({ source, indexes: { users: { table: "users", primaryKey: "id", fields, ...root } } })
  return result._tag === "Left" ? result.left : []
}

const join = (kind: string, options: Record<string, unknown>) => ({ kind, fields: {}, primaryKey: "id", ...options })

describe("decoding the document language", () => {
  it("follows nesting in error paths and explains a join given another verb's key", () => {
    expect(
      issuesOf({
        orders: join("hasMany", {
          table: "orders",
          foreignKey: "user_id",
          fields: {
            items: join("hasMany", { table: "order_items", column: "order_id" }),
            customer: join("belongsTo", { table: "customers", foreignKey: "customer_id" }),
            tags: join("manyToMany", { table: "tags", leftKey: "order_id", rightKey: "tag_id" }),
            profile: join("hasOne", { table: "profiles", through: { table: "x", leftKey: "a", rightKey: "b" } })
          }
        })
      })
    ).toEqual([
      "indexes.users.fields.orders.fields.items.column: hasMany takes foreignKey (the column on order_items pointing back at orders), not column",
      "indexes.users.fields.orders.fields.customer.foreignKey: belongsTo takes column (the column on orders pointing at the primaryKey of customers), not foreignKey",
      "indexes.users.fields.orders.fields.tags.leftKey: leftKey belongs inside through: { table, leftKey, rightKey }",
      "indexes.users.fields.orders.fields.tags.rightKey: rightKey belongs inside through: { table, leftKey, rightKey }",
      "indexes.users.fields.orders.fields.profile.through: hasOne takes foreignKey (the column on profiles pointing back at orders), not through; a junction table needs t.manyToMany"
    ])
  })

  it("names the parent of a join inside an object as the row the object belongs to", () => {
    expect(
      issuesOf({ address: { kind: "object", fields: { country: join("hasOne", { table: "countries", column: "code" }) } } })
    ).toEqual([
      "indexes.users.fields.address.fields.country.column: hasOne takes foreignKey (the column on countries pointing back at users), not column"
    ])
  })

  it("refuses options a kind does not take, saying why", () => {
    expect(
      issuesOf({
        orders: join("hasMany", { table: "orders", foreignKey: "user_id", required: true }),
        tags: join("manyToMany", { table: "tags", through: { table: "t", leftKey: "a", rightKey: "b" }, required: false }),
        company: join("belongsTo", { table: "companies", column: "company_id", orderBy: [], limit: 1 }),
        profile: join("hasOne", { table: "profiles", foreignKey: "user_id", limit: 1 }),
        n: { kind: "count", table: "orders", foreignKey: "user_id", column: "id", required: true },
        ids: { kind: "ids", table: "orders", foreignKey: "user_id", column: "id", valueType: "long" },
        a: { kind: "avg", table: "orders", foreignKey: "user_id", column: "x", valueType: "double" },
        address: { kind: "object", column: "address", fields: {} }
      })
    ).toEqual([
      "indexes.users.fields.orders.required: hasMany takes no required: a to-many join is never null (no rows render [])",
      "indexes.users.fields.tags.required: manyToMany takes no required: a to-many join is never null (no rows render [])",
      "indexes.users.fields.company.orderBy: belongsTo takes no orderBy: it reads the one companies row its column points at",
      "indexes.users.fields.company.limit: belongsTo takes no limit: it reads the one companies row its column points at",
      "indexes.users.fields.profile.limit: hasOne takes no limit: it folds in one row (orderBy picks which); use t.hasMany for a list",
      "indexes.users.fields.n.column: count takes no column: it counts the orders rows reached by foreignKey (the column on orders pointing back at users) or through (a junction table)",
      "indexes.users.fields.n.required: count takes no required: it is never null",
      "indexes.users.fields.ids.column: ids takes no column: it collects the key of the orders rows (primaryKey chooses its columns)",
      'indexes.users.fields.ids.valueType: ids takes elementType ("long" | "keyword"), not valueType',
      "indexes.users.fields.a.valueType: avg takes no valueType: an average is always a double",
      "indexes.users.fields.address.column: object takes no column: its fields read columns of the same row (a json column is t.map or t.json)"
    ])
  })

  it("reports only the member a kind names, with did-you-mean for keys and kinds", () => {
    expect(
      issuesOf({
        orders: join("hasMany", {
          table: "orders",
          foriegnKey: "user_id",
          fields: { total: { kind: "decimel" }, status: { kind: "keyword", colum: "state" }, note: { column: "note" } }
        }),
        email: "keyword"
      })
    ).toEqual([
      "indexes.users.fields.orders.foriegnKey: unknown key, did you mean `foreignKey`?",
      "indexes.users.fields.orders.foreignKey: is missing",
      expect.stringMatching(/^indexes\.users\.fields\.orders\.fields\.total\.kind: Expected "text" \| .* "ids", actual "decimel"; did you mean "decimal"\?$/),
      "indexes.users.fields.orders.fields.status.colum: unknown key, did you mean `column`?",
      "indexes.users.fields.orders.fields.note.kind: is missing",
      'indexes.users.fields.email: Expected an object, actual "keyword"'
    ])
  })

  it("checks identifiers, keys, limits and orderBy by shape", () => {
    expect(
      issuesOf(
        {
          orders: join("hasMany", {
            table: "O".repeat(64),
            foreignKey: [],
            orderBy: [{ column: "placed_at", direction: "up" }],
            limit: 0
          })
        },
        { primaryKey: ["id", 5] }
      )
    ).toEqual([
      "indexes.users.primaryKey[1]: Expected a string, actual 5",
      "indexes.users.fields.orders.table: must be at most 63 bytes: PostgreSQL cuts longer names short",
      "indexes.users.fields.orders.foreignKey: must name at least one column",
      'indexes.users.fields.orders.orderBy[0].direction: Expected "asc" | "desc", actual "up"',
      "indexes.users.fields.orders.limit: must be a positive integer"
    ])
  })

  it("explains a filter by the operator it names", () => {
    expect(
      issuesOf(
        {},
        {
          filters: [
            { column: "a", op: "equals", value: 1 },
            { column: "a", op: "eq" },
            { column: "a", op: "in", value: 3 },
            { column: "a", op: "between", value: [1, true] },
            { raw: "" },
            { raw: "x > 1", column: "x" }
          ]
        }
      )
    ).toEqual([
      'indexes.users.filters[0].op: Expected "between" | "isNull" | "isNotNull" | "eq" | "neq" | "lt" | "lte" | "gt" | "gte" | "like" | "ilike" | "in" | "notIn", actual "equals"',
      "indexes.users.filters[1].value: is missing",
      "indexes.users.filters[2].value: Expected a list, actual 3",
      "indexes.users.filters[3].value[1]: Expected a string | a number, actual true",
      "indexes.users.filters[4].raw: must not be empty",
      "indexes.users.filters[5].column: unknown key; expected one of `raw`"
    ])
  })
})

describe("validation rules", () => {
  it("checks filter arities wherever filters appear", () => {
    expect(
      issuesOf(
        {
          orders: join("hasMany", {
            table: "orders",
            foreignKey: "user_id",
            filters: [{ column: "status", op: "in", value: [] }],
            fields: { n: { kind: "count", table: "items", foreignKey: "order_id", filters: [{ column: "q", op: "between", value: [1, 2, 3] }] } }
          })
        },
        {
          filters: [{ column: "a", op: "between", value: [1] }, { column: "name", op: "like", value: 3 }, { column: "b", op: "notIn", value: [1] }],
          softDelete: { column: "deleted", when: [{ column: "c", op: "notIn", value: [] }] }
        }
      )
    ).toEqual([
      "indexes.users.filters[0].value: between takes exactly two values [low, high], got 1",
      "indexes.users.filters[1].value: like takes a string pattern",
      "indexes.users.softDelete.when[0].value: notIn needs a non-empty list of values",
      "indexes.users.fields.orders.filters[0].value: in needs a non-empty list of values",
      "indexes.users.fields.orders.fields.n.filters[0].value: between takes exactly two values [low, high], got 3"
    ])
  })

  it("checks join key arity against the key each points at, at any depth", () => {
    expect(
      issuesOf(
        {
          orders: join("hasMany", {
            table: "orders",
            foreignKey: "user_id",
            primaryKey: ["id", "region"],
            fields: {
              customer: join("belongsTo", { table: "customers", column: "customer_id", primaryKey: ["id", "x"] }),
              tags: join("manyToMany", { table: "tags", through: { table: "order_tags", leftKey: "order_id", rightKey: ["t", "u"] } }),
              shipment: join("hasOne", { table: "shipments", foreignKey: ["order_id", "region"] }),
              info: { kind: "object", fields: { note: join("hasOne", { table: "notes", foreignKey: "order_id" }) } }
            }
          }),
          dup: join("hasMany", { table: "x", foreignKey: ["a", "a"] })
        },
        { primaryKey: ["id", "tenant_id"] }
      )
    ).toEqual([
      "indexes.users.fields.orders.foreignKey: has 1 column (user_id) but the key of users it points back at has 2 (id, tenant_id)",
      "indexes.users.fields.orders.fields.customer.column: has 1 column (customer_id) but the primaryKey of customers it points at has 2 (id, x)",
      "indexes.users.fields.orders.fields.tags.through.leftKey: has 1 column (order_id) but the key of orders it points at has 2 (id, region)",
      "indexes.users.fields.orders.fields.tags.through.rightKey: has 2 columns (t, u) but the primaryKey of tags it points at has 1 (id)",
      "indexes.users.fields.orders.fields.info.fields.note.foreignKey: has 1 column (order_id) but the key of orders it points back at has 2 (id, region)",
      'indexes.users.fields.dup.foreignKey: column "a" is listed twice'
    ])
  })

  it("checks aggregates: foreignKey xor through, what each function needs, and key arity", () => {
    const through = { table: "user_tags", leftKey: "user_id", rightKey: ["a", "b"] }
    expect(
      issuesOf({
        none: { kind: "count", table: "orders" },
        both: { kind: "count", table: "orders", foreignKey: "user_id", through },
        sum: { kind: "sum", table: "orders", foreignKey: "user_id" },
        min: { kind: "min", table: "orders", foreignKey: "user_id", column: "paid", valueType: "boolean" },
        sumText: { kind: "sum", table: "orders", foreignKey: "user_id", column: "note", valueType: "text" },
        max: { kind: "max", table: "orders", foreignKey: "user_id", column: "placed_at", valueType: "timestamp" },
        avg: { kind: "avg", table: "orders", foreignKey: ["user_id", "x"] },
        ids: { kind: "ids", table: "tags", through, primaryKey: "id" }
      })
    ).toEqual([
      "indexes.users.fields.none: count needs foreignKey (the column on orders pointing back at users) or through (a junction table)",
      "indexes.users.fields.both: count takes foreignKey or through, not both",
      "indexes.users.fields.sum.column: is missing; sum needs the column of orders it reads",
      "indexes.users.fields.sum.valueType: is missing; sum needs the kind of its value (one of short, integer, long, float, double, decimal)",
      "indexes.users.fields.min.valueType: min takes one of short, integer, long, float, double, decimal, date, timestamp, text, identifier, keyword, enum, not boolean",
      "indexes.users.fields.sumText.valueType: sum takes one of short, integer, long, float, double, decimal, not text",
      "indexes.users.fields.avg.foreignKey: has 2 columns (user_id, x) but the key of users it points back at has 1 (id)",
      "indexes.users.fields.avg.column: is missing; avg needs the column of orders to average",
      "indexes.users.fields.ids.through.rightKey: has 2 columns (a, b) but the primaryKey of tags it points at has 1 (id)",
      'indexes.users.fields.ids.elementType: is missing; ids needs "long" or "keyword"'
    ])
  })

  it("checks geo, map and constant fields", () => {
    expect(
      issuesOf({
        a: { kind: "geo", lat: "lat" },
        b: { kind: "geo", lat: "lat", lon: "lon", column: "point" },
        c: { kind: "geo" },
        ok: { kind: "geo", column: "point" },
        tags: { kind: "map", values: "boolean" },
        labels: { kind: "map", values: "keyword" },
        missing: { kind: "constant" },
        date: { kind: "constant", value: new Date(0) },
        nan: { kind: "constant", value: [1, Number.NaN] },
        nothing: { kind: "constant", value: null }
      })
    ).toEqual([
      "indexes.users.fields.a.lon: is missing; a point from two columns needs both lat and lon",
      "indexes.users.fields.b: geo takes lat and lon (two numeric columns) or column (one json or text column), not both",
      "indexes.users.fields.c: geo needs lat and lon (two numeric columns) or column (one json or text column)",
      "indexes.users.fields.tags.values: map values must be a leaf kind (text, identifier, keyword, enum, uuid, short, integer, long, float, double, decimal, date, timestamp), not boolean",
      "indexes.users.fields.missing.value: is missing (for no value, t.constant(null))",
      "indexes.users.fields.date.value: must be JSON: null, a boolean, a finite number, a string, or a list or plain object of those",
      "indexes.users.fields.nan.value: must be JSON: null, a boolean, a finite number, a string, or a list or plain object of those"
    ])
  })

  it("checks softDelete: column xor field, the field a root scalar", () => {
    const fields = { deleted: { kind: "boolean" }, orders: join("hasMany", { table: "orders", foreignKey: "user_id" }) }
    expect(issuesOf(fields, { softDelete: { column: "deleted", field: "deleted" } })).toEqual([
      "indexes.users.softDelete: takes column or field, not both"
    ])
    expect(issuesOf(fields, { softDelete: {} })).toEqual([
      "indexes.users.softDelete: needs column (the marker column of users) or field (a scalar field of this index)"
    ])
    expect(issuesOf(fields, { softDelete: { field: "deleetd" } })).toEqual([
      'indexes.users.softDelete.field: no field "deleetd" in this index; did you mean "deleted"?'
    ])
    expect(issuesOf(fields, { softDelete: { field: "orders" } })).toEqual([
      'indexes.users.softDelete.field: "orders" is a hasMany field; softDelete.field must name a scalar field (or use column)'
    ])
    expect(issuesOf(fields, { softDelete: { field: "deleted", when: [{ column: "deleted", op: "eq", value: true }] } })).toEqual([])
  })
})
