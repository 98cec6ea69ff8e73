/**
 * Every rule of `flusso check`'s catalog half on hand-made catalogs: missing tables and
 * columns with did-you-mean, the kind/type compatibility table (checked against the
 * engine's own start-up check so the two never disagree), nullability, join key types,
 * replica identity, refs tracing and junction deletes (checked against resolution.ts).
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  checkCatalog,
  checkIndexCatalog,
  checkPublishedTables,
  fittingKinds,
  scalarCompatibility
} from "../../../src/check/catalogChecks.js"
import type { Finding } from "../../../src/check/CheckReport.js"
import { t } from "../../../src/config/define.js"
import { IndexConfig, type IndexConfigInput, ScalarKind } from "../../../src/config/model.js"
import type { IndexPlan } from "../../../src/schema/IndexPlan.js"
import { planIndex } from "../../../src/schema/planIndex.js"
import { checkIndexAgainstCatalog, type ColumnInfo, type TableInfo } from "../../../src/source/postgres/catalog.js"
import { Catalog } from "../../../src/source/postgres/documentSql.js"
import { compile } from "../../../src/source/postgres/resolution.js"

const FORMAT: Readonly<Record<string, string>> = {
  int2: "smallint",
  int4: "integer",
  int8: "bigint",
  float4: "real",
  float8: "double precision",
  bool: "boolean",
  varchar: "character varying",
  bpchar: "character",
  timestamptz: "timestamp with time zone",
  timestamp: "timestamp without time zone",
  time: "time without time zone"
}

const col = (name: string, typeName: string, opts: { nullable?: boolean; typeType?: string } = {}): ColumnInfo => ({
  name,
  type: FORMAT[typeName] ?? typeName,
  typeName,
  typeType: opts.typeType ?? "b",
  nullable: opts.nullable ?? false
})

const table = (qualified: string, columns: ReadonlyArray<ColumnInfo>, primaryKey: ReadonlyArray<string> = ["id"], replicaIdentity = "d"): TableInfo => ({
  qualifiedTable: qualified,
  columns: new Map(columns.map((c) => [c.name, c])),
  primaryKey,
  replicaIdentity,
  partitioned: false,
  partition: false,
  weakerPartitions: []
})

const catalog = (...tables: ReadonlyArray<TableInfo>): ReadonlyMap<string, TableInfo> => new Map(tables.map((t) => [t.qualifiedTable, t]))

const plan = (input: IndexConfigInput, name = "users"): IndexPlan => planIndex(name, Schema.decodeUnknownSync(IndexConfig)(input), "stop")

const check = (p: IndexPlan, tables: ReadonlyMap<string, TableInfo>, refsKept = true) =>
  checkIndexCatalog(p, tables, { refsKept, knownTables: [...tables.keys()] })

const errors = (findings: ReadonlyArray<Finding>) => findings.filter((f) => f.severity === "error")
const warnings = (findings: ReadonlyArray<Finding>) => findings.filter((f) => f.severity === "warning")

const users = table("public.users", [col("id", "int8"), col("name", "text"), col("e_mail", "text", { nullable: true }), col("active", "bool")])

describe("the scalar compatibility table", () => {
  // Every kind with the base types it reads (catalog.ts ACCEPTED, the engine's own table).
  const KINDS: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    ["text", ["text", "varchar", "bpchar", "citext", "name"]],
    ["identifier", ["text", "varchar", "bpchar", "citext", "name"]],
    ["keyword", ["text", "varchar", "bpchar", "citext", "name", "<enum>"]],
    ["enum", ["text", "varchar", "bpchar", "citext", "name", "<enum>"]],
    ["uuid", ["uuid"]],
    ["boolean", ["bool"]],
    ["short", ["int2"]],
    ["integer", ["int2", "int4"]],
    ["long", ["int2", "int4", "int8"]],
    ["float", ["float4"]],
    ["double", ["float4", "float8"]],
    ["decimal", ["numeric", "money"]],
    ["date", ["date"]],
    ["timestamp", ["timestamp", "timestamptz", "time"]],
    ["binary", ["bytea"]],
    ["json", ["json", "jsonb"]]
  ]
  const TYPES = [
    "text", "varchar", "bpchar", "citext", "name", "<enum>", "uuid", "bool", "int2", "int4", "int8", "float4", "float8",
    "numeric", "money", "date", "timestamp", "timestamptz", "time", "bytea", "json", "jsonb", "inet", "int4range"
  ]
  const column = (type: string) => (type === "<enum>" ? col("c", "mood", { typeType: "e" }) : col("c", type))

  it("covers every kind", () => {
    expect(KINDS.map(([kind]) => kind)).toEqual(ScalarKind.literals)
  })

  for (const [kind, accepted] of KINDS) {
    it(`t.${kind}() reads ${accepted.join(", ")} and nothing else`, () => {
      for (const type of TYPES) {
        const result = scalarCompatibility(kind as ScalarKind, column(type))
        expect({ type, tag: result._tag }).toEqual({ type, tag: accepted.includes(type) ? "Accepted" : "Refused" })
      }
    })
  }

  it("agrees with the engine's start-up check for every kind and type", () => {
    for (const kind of ScalarKind.literals) {
      for (const type of TYPES) {
        const p = plan({ table: "things", primaryKey: "id", fields: { value: { kind, column: "c" } } }, "things")
        const tables = catalog(table("public.things", [col("id", "int8"), column(type)]))
        const engineRefuses = checkIndexAgainstCatalog(p, tables).length > 0
        const checkRefuses = errors(check(p, tables)).length > 0
        expect({ kind, type, refused: checkRefuses }).toEqual({ kind, type, refused: engineRefuses })
      }
    }
  })

  it("names the kinds that would fit", () => {
    expect(fittingKinds(col("c", "text"))).toEqual(["text", "identifier", "keyword", "enum"])
    expect(fittingKinds(col("c", "int4"))).toEqual(["integer", "long"])
    expect(fittingKinds(col("c", "float8"))).toEqual(["double"])
    expect(fittingKinds(col("c", "mood", { typeType: "e" }))).toEqual(["keyword", "enum"])
    expect(fittingKinds(col("c", "inet"))).toEqual([])
  })
})

describe("missing tables and columns", () => {
  it("reports a missing root table with did-you-mean", () => {
    const p = plan({ table: "userz", primaryKey: "id", fields: { name: t.text() } })
    const findings = checkIndexCatalog(p, catalog(), { refsKept: true, knownTables: ["public.users", "public.orders"] })
    expect(findings).toEqual([
      {
        severity: "error",
        index: "users",
        table: "public.userz",
        path: "indexes.users.table",
        message: "table public.userz does not exist (or the role cannot see it); did you mean public.users?",
        fix: 'set table: "users"'
      }
    ])
  })

  it("suggests the schema too when the near table lives in another one", () => {
    const p = plan({ table: "users", primaryKey: "id", fields: {} })
    const [f] = checkIndexCatalog(p, catalog(), { refsKept: true, knownTables: ["crm.users"] })
    expect(f?.fix).toBe('set table: "users" and schema: "crm"')
  })

  it("reports a missing column with did-you-mean and the fix", () => {
    const p = plan({ table: "users", primaryKey: "id", fields: { email: t.keyword() } })
    expect(check(p, catalog(users))).toEqual([
      {
        severity: "error",
        index: "users",
        table: "public.users",
        column: "email",
        path: "indexes.users.fields.email",
        message: "column public.users.email does not exist; did you mean e_mail?",
        fix: 'set column: "e_mail"'
      }
    ])
  })

  it("lists the columns when nothing is near", () => {
    const p = plan({ table: "users", primaryKey: "id", fields: { birthday: t.date() } })
    const [f] = check(p, catalog(users))
    expect(f?.message).toBe("column public.users.birthday does not exist")
    expect(f?.fix).toBe("set column to a column of public.users (id, name, e_mail, active), or add column birthday to it")
  })

  it("checks keys, filters, soft delete, orderBy and nested fields with their paths", () => {
    const orders = table("public.orders", [col("id", "int8"), col("user_id", "int8"), col("total", "numeric")])
    const p = plan({
      table: "users",
      primaryKey: "uid",
      softDelete: { column: "deleted" },
      filters: [{ column: "actve", op: "eq", value: true }],
      fields: {
        profile: t.object({ fields: { nick: t.text() } }),
        orders: t.hasMany({
          table: "orders",
          foreignKey: "usr_id",
          primaryKey: "id",
          orderBy: [{ column: "placed_at" }],
          filters: [{ column: "totl", op: "gt", value: 0 }],
          fields: { amount: t.decimal({ column: "total" }) }
        })
      }
    })
    const paths = check(p, catalog(users, orders)).filter((f) => f.severity === "error").map((f) => [f.path, f.column])
    expect(paths).toEqual([
      ["indexes.users.primaryKey", "uid"],
      ["indexes.users.softDelete.column", "deleted"],
      ["indexes.users.filters[0].column", "actve"],
      ["indexes.users.fields.profile.fields.nick", "nick"],
      ["indexes.users.fields.orders.foreignKey", "usr_id"],
      ["indexes.users.fields.orders.filters[0].column", "totl"],
      ["indexes.users.fields.orders.orderBy[0].column", "placed_at"]
    ])
  })

  it("reports a missing related table and junction", () => {
    const p = plan({
      table: "users",
      primaryKey: "id",
      fields: {
        tags: t.manyToMany({ table: "tags", primaryKey: "id", through: { table: "user_tag", leftKey: "user_id", rightKey: "tag_id" }, fields: {} })
      }
    })
    const findings = checkIndexCatalog(p, catalog(users), { refsKept: true, knownTables: ["public.users", "public.user_tags"] })
    expect(findings.map((f) => [f.path, f.table, f.fix])).toEqual([
      ["indexes.users.fields.tags.table", "public.tags", "create table public.tags, or set table to an existing one"],
      ["indexes.users.fields.tags.through.table", "public.user_tag", 'set table: "user_tags"']
    ])
  })
})

describe("declared kinds against column types", () => {
  const things = table("public.things", [
    col("id", "int8"),
    col("title", "text"),
    col("count", "int4"),
    col("price", "float8"),
    col("flag", "bool"),
    col("attrs", "jsonb"),
    col("addr", "inet"),
    col("lat", "float8"),
    col("lon", "text")
  ])
  const only = (fields: IndexConfigInput["fields"]) => check(plan({ table: "things", primaryKey: "id", fields }, "things"), catalog(things))

  it("t.integer() on text is an error naming table, column, accepted types and the kinds that fit", () => {
    expect(only({ title: t.integer() })).toEqual([
      {
        severity: "error",
        index: "things",
        table: "public.things",
        column: "title",
        path: "indexes.things.fields.title",
        message: "t.integer() cannot read column public.things.title of type text; it accepts int2, int4",
        fix: "declare it as t.text(), t.identifier(), t.keyword() or t.enum(), or set column: to a column of type int2 / int4"
      }
    ])
  })

  it("t.boolean() on int4, t.timestamp() on text, t.decimal() on float8, t.text() on int4 are errors", () => {
    const cases = only({
      a: t.boolean({ column: "count" }),
      b: t.timestamp({ column: "title" }),
      c: t.decimal({ column: "price" }),
      d: t.text({ column: "count" })
    })
    expect(cases.map((f) => [f.severity, f.column, f.message])).toEqual([
      ["error", "count", "t.boolean() cannot read column public.things.count of type integer; it accepts bool"],
      ["error", "title", "t.timestamp() cannot read column public.things.title of type text; it accepts timestamp, timestamptz, time"],
      ["error", "price", "t.decimal() cannot read column public.things.price of type double precision; it accepts numeric, money"],
      ["error", "count", "t.text() cannot read column public.things.count of type integer; it accepts text, varchar, bpchar, citext, name"]
    ])
    expect(cases[2]?.fix).toBe("declare it as t.double(), or set column: to a column of type numeric / money")
  })

  it("a type no kind reads points at t.custom", () => {
    const [f] = only({ addr: t.keyword() })
    expect(f?.fix).toBe('declare it as t.custom({ postgres: ["inet"], opensearch: … }), or set column: to a column of type text / varchar / bpchar / citext / name')
  })

  it("accepted combinations give nothing", () => {
    expect(only({ title: t.text(), count: t.long(), price: t.double(), flag: t.boolean(), attrs: t.json() })).toEqual([])
  })

  it("map, geo and custom fields check their column types", () => {
    const findings = only({
      m: t.map({ values: "keyword", column: "title" }),
      g: t.geo({ lat: "lat", lon: "lon" }),
      c: t.custom({ postgres: ["ltree"], opensearch: "keyword", column: "addr" }),
      ok: t.custom({ postgres: ["inet"], opensearch: "ip", column: "addr" })
    })
    expect(findings.map((f) => [f.severity, f.path, f.message])).toEqual([
      ["error", "indexes.things.fields.m", "t.map() needs a json or jsonb column, public.things.title is text"],
      ["error", "indexes.things.fields.g.lon", "t.geo() needs numeric lat/lon columns, public.things.lon is text"],
      ["error", "indexes.things.fields.c.postgres", "t.custom() accepts ltree, column public.things.addr is inet"]
    ])
  })
})

describe("nullability", () => {
  it("a required field on a nullable column is a warning", () => {
    const p = plan({ table: "users", primaryKey: "id", fields: { email: t.keyword({ column: "e_mail", required: true }) } })
    expect(check(p, catalog(users))).toEqual([
      {
        severity: "warning",
        index: "users",
        table: "public.users",
        column: "e_mail",
        path: "indexes.users.fields.email",
        message: "t.keyword() is required, but column public.users.e_mail is nullable: documents get null where the row holds none",
        fix: "ALTER TABLE public.users ALTER COLUMN e_mail SET NOT NULL; or give the field a default, or drop required"
      }
    ])
  })

  it("no warning with a default, without required, or on a NOT NULL column", () => {
    const p = plan({
      table: "users",
      primaryKey: "id",
      fields: {
        a: t.keyword({ column: "e_mail", required: true, default: "none" }),
        b: t.keyword({ column: "e_mail" }),
        c: t.text({ column: "name", required: true })
      }
    })
    expect(check(p, catalog(users))).toEqual([])
  })

  it("a required belongsTo over a nullable link column is a warning", () => {
    const orders = table("public.orders", [col("id", "int8"), col("user_id", "int8", { nullable: true })])
    const p = plan({
      table: "orders",
      primaryKey: "id",
      fields: { user: t.belongsTo({ table: "users", column: "user_id", primaryKey: "id", required: true, fields: { name: t.text() } }) }
    }, "orders")
    expect(warnings(check(p, catalog(orders, users))).map((f) => [f.path, f.column])).toEqual([["indexes.orders.fields.user.column", "user_id"]])
  })
})

describe("join key types", () => {
  const withOrders = (userIdType: string) => table("public.orders", [col("id", "int8"), col("user_id", userIdType)], ["id"], "f")
  const hasMany = plan({ table: "users", primaryKey: "id", fields: { orders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", fields: {} }) } })

  it("int4 against int8 is fine", () => {
    expect(check(hasMany, catalog(users, withOrders("int4")))).toEqual([])
  })

  it("text against int8 is an error naming both columns and the fix", () => {
    expect(check(hasMany, catalog(users, withOrders("text")))).toEqual([
      {
        severity: "error",
        index: "users",
        table: "public.orders",
        column: "user_id",
        path: "indexes.users.fields.orders.foreignKey",
        message: "join key public.orders.user_id is text but public.users.id is bigint: PostgreSQL cannot compare them, so every document query fails",
        fix: "ALTER TABLE public.orders ALTER COLUMN user_id TYPE bigint USING user_id::bigint; or join on columns of the same type"
      }
    ])
  })

  it("floating point against an integer key is a warning", () => {
    expect(check(hasMany, catalog(users, withOrders("float8"))).map((f) => f.severity)).toEqual(["warning"])
  })

  it("belongsTo compares its column with the related primary key; manyToMany both junction keys", () => {
    const orders = table("public.orders", [col("id", "int8"), col("user_id", "uuid")])
    const tags = table("public.tags", [col("id", "int4"), col("label", "text")])
    const userTags = table("public.user_tags", [col("user_id", "int8"), col("tag_id", "text")], ["user_id", "tag_id"])
    const p = plan({
      table: "orders",
      primaryKey: "id",
      fields: {
        user: t.belongsTo({
          table: "users",
          column: "user_id",
          primaryKey: "id",
          fields: {
            tags: t.manyToMany({ table: "tags", primaryKey: "id", through: { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" }, fields: {} })
          }
        })
      }
    }, "orders")
    expect(errors(check(p, catalog(orders, users, tags, userTags))).map((f) => [f.path, `${f.table}.${f.column}`])).toEqual([
      ["indexes.orders.fields.user.column", "public.orders.user_id"],
      ["indexes.orders.fields.user.fields.tags.through.rightKey", "public.user_tags.tag_id"]
    ])
  })

  it("aggregates compare their links too", () => {
    const p = plan({ table: "users", primaryKey: "id", fields: { orderCount: t.count({ table: "orders", foreignKey: "user_id" }) } })
    expect(errors(check(p, catalog(users, withOrders("text")))).map((f) => f.path)).toEqual(["indexes.users.fields.orderCount.foreignKey"])
  })
})

describe("aggregates", () => {
  const orders = table("public.orders", [col("id", "int8"), col("user_id", "int8"), col("note", "text"), col("placed_at", "timestamptz"), col("qty", "int4"), col("ref", "uuid")], ["id"], "f")
  const only = (fields: IndexConfigInput["fields"]) => check(plan({ table: "users", primaryKey: "id", fields }), catalog(users, orders))

  it("sum and avg need a numeric column", () => {
    expect(only({ s: t.sum({ table: "orders", foreignKey: "user_id", column: "note", valueType: "double" }) }).map((f) => [f.severity, f.message])).toEqual([
      ["error", "t.sum() needs a numeric column, public.orders.note is text: PostgreSQL cannot add it up"]
    ])
  })

  it("a valueType that does not fit the column is a warning naming the one that does", () => {
    const [f] = only({ last: t.max({ table: "orders", foreignKey: "user_id", column: "placed_at", valueType: "double" }) })
    expect(f).toMatchObject({
      severity: "warning",
      path: "indexes.users.fields.last.valueType",
      message: "t.max() is mapped as double but reads public.orders.placed_at of type timestamp with time zone: OpenSearch may reject or coerce its values",
      fix: 'set valueType: "timestamp"'
    })
  })

  it("an integral sum of any width is fine", () => {
    expect(only({ q: t.sum({ table: "orders", foreignKey: "user_id", column: "qty", valueType: "long" }) })).toEqual([])
  })
})

describe("replica identity", () => {
  const p = plan({ table: "users", primaryKey: "id", fields: { name: t.text() } })

  it("a root table with REPLICA IDENTITY NOTHING is an error (PostgresChangeSource's words)", () => {
    expect(check(p, catalog(table("public.users", [...users.columns.values()], ["id"], "n")))).toEqual([
      {
        severity: "error",
        index: "users",
        table: "public.users",
        path: "indexes.users.table",
        message: "table public.users has REPLICA IDENTITY NOTHING: its deletes carry no key, so index users could never drop them",
        fix: "ALTER TABLE public.users REPLICA IDENTITY DEFAULT;"
      }
    ])
  })

  it("an index keyed by columns outside the primary key needs FULL", () => {
    const keyed = plan({ table: "users", primaryKey: "name", fields: {} })
    expect(check(keyed, catalog(users)).map((f) => [f.severity, f.path, f.fix])).toEqual([
      ["error", "indexes.users.primaryKey", "ALTER TABLE public.users REPLICA IDENTITY FULL;"]
    ])
  })

  it("every published table without a primary key, and every related one with NOTHING, is an error once", () => {
    const orders = table("public.orders", [col("id", "int8"), col("user_id", "int8")], [], "d")
    const tags = table("public.tags", [col("id", "int8")], ["id"], "n")
    const a = plan({ table: "users", primaryKey: "id", fields: { orders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", fields: {} }) } })
    const b = plan({ table: "users", primaryKey: "id", fields: { orderCount: t.count({ table: "orders", foreignKey: "user_id" }), tags: t.hasMany({ table: "tags", foreignKey: "id", primaryKey: "id", fields: {} }) } }, "b")
    expect(checkPublishedTables([a, b], catalog(users, orders, tags))).toEqual([
      {
        severity: "error",
        table: "public.orders",
        message: "table public.orders has no primary key: once published, PostgreSQL refuses its UPDATEs and DELETEs",
        fix: "add a primary key, or ALTER TABLE public.orders REPLICA IDENTITY FULL;"
      },
      {
        severity: "error",
        table: "public.tags",
        message: "table public.tags has REPLICA IDENTITY NOTHING: once published, PostgreSQL refuses its UPDATEs and DELETEs",
        fix: "ALTER TABLE public.tags REPLICA IDENTITY DEFAULT;"
      }
    ])
  })

  it("a disabled index is only noted", () => {
    const disabled = plan({ table: "nowhere", primaryKey: "id", enabled: false, fields: {} })
    expect(checkCatalog([disabled], catalog(), { refsKept: true })).toEqual([
      expect.objectContaining({ severity: "info", index: "users", path: "indexes.users.enabled" })
    ])
  })
})

describe("deletes of related rows", () => {
  const orders = (identity: string, primaryKey: ReadonlyArray<string> = ["id"]) =>
    table("public.orders", [col("id", "int8"), col("user_id", "int8")], primaryKey, identity)
  const p = plan({
    table: "users",
    primaryKey: "id",
    fields: {
      orders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", fields: {} }),
      orderCount: t.count({ table: "orders", foreignKey: "user_id" })
    }
  })

  it("a foreign key outside the replica identity is traced through refs: one note per table", () => {
    const tables = catalog(users, orders("d"))
    expect(check(p, tables)).toEqual([
      {
        severity: "info",
        index: "users",
        table: "public.orders",
        path: "indexes.users.fields.orders.foreignKey",
        message: "deletes and moves in public.orders are traced through the index (it lacks REPLICA IDENTITY FULL and user_id is not in its primary key)",
        fix: "nothing needed; to save the refs and their searches: ALTER TABLE public.orders REPLICA IDENTITY FULL;"
      }
    ])
    // The same tables resolution.ts traces through refs.
    expect([...compile(p, new Catalog(tables)).refsTables]).toEqual(["public.orders"])
  })

  it("without an OpenSearch sink to keep the refs it is a warning", () => {
    expect(check(p, catalog(users, orders("d")), false).map((f) => [f.severity, f.fix])).toEqual([
      ["warning", "ALTER TABLE public.orders REPLICA IDENTITY FULL;"]
    ])
  })

  it("nothing to say with REPLICA IDENTITY FULL or a link inside the key", () => {
    for (const tables of [catalog(users, orders("f")), catalog(users, orders("d", ["id", "user_id"]))]) {
      expect(check(p, tables)).toEqual([])
      expect(compile(p, new Catalog(tables)).refsTables.size).toBe(0)
    }
  })

  const tags = table("public.tags", [col("id", "int8")])
  const junction = (primaryKey: ReadonlyArray<string>, identity = "d") =>
    table("public.user_tags", [col("id", "int8"), col("user_id", "int8"), col("tag_id", "int8")], primaryKey, identity)
  const m2m = plan({
    table: "users",
    primaryKey: "id",
    fields: { tags: t.manyToMany({ table: "tags", primaryKey: "id", through: { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" }, fields: {} }) }
  })

  it("a junction whose deletes carry no left key is a warning with the ALTER TABLE fix (resolution.ts's diagnostic)", () => {
    const tables = catalog(users, tags, junction(["id"]))
    expect(check(m2m, tables)).toEqual([
      {
        severity: "warning",
        index: "users",
        table: "public.user_tags",
        path: "indexes.users.fields.tags.through",
        message: "deletes in junction public.user_tags carry no user_id: documents keep removed links until rebuilt",
        fix: "ALTER TABLE public.user_tags REPLICA IDENTITY FULL;"
      }
    ])
    expect(compile(m2m, new Catalog(tables)).diagnostics).toHaveLength(1)
  })

  it("a junction keyed by its links, or FULL, is fine", () => {
    for (const tables of [catalog(users, tags, junction(["user_id", "tag_id"])), catalog(users, tags, junction(["id"], "f"))]) {
      expect(check(m2m, tables)).toEqual([])
      expect(compile(m2m, new Catalog(tables)).diagnostics).toHaveLength(0)
    }
  })
})
