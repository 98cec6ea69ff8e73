/**
 * The config's JSON Schema (jsonSchema.ts) against a real JSON Schema validator: it
 * compiles, accepts what flusso accepts (the repository's example config written as JSON,
 * and a lock's fully defaulted config), and refuses the usual mistakes at their path.
 */
import { Ajv, type ErrorObject } from "ajv"
import { Effect, Either } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { configJsonSchema } from "../../../src/config/jsonSchema.js"
import { loadConfig } from "../../../src/config/load.js"
import { compileLock } from "../../../src/config/lock.js"
import { validateConfig } from "../../../src/config/validate.js"
import { requireBuiltFlusso, ROOT } from "./builtFlusso.js"



// JSONSchema.make puts numeric bounds beside a `$ref` to its integer type; valid JSON
// Schema, but Ajv's strictTypes wants `type` repeated there.
const ajv = new Ajv({ allErrors: true, strictTypes: false })
const validate = ajv.compile(configJsonSchema())

const errorsOf = (config: unknown): ReadonlyArray<ErrorObject> => (validate(config) ? [] : (validate.errors ?? []))

const userTags = { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" }

/** flusso.config.ts at the repository root, as a JSON config spells it. */
const exampleJson = {
  $schema: "./flusso.schema.json",
  source: { type: "postgres", url: { _tag: "Env", name: "DATABASE_URL" } },
  sinks: { primary: { type: "opensearch", url: "http://127.0.0.1:9200", numberOfReplicas: 0, refreshInterval: "1s" } },
  indexes: {
    users: {
      table: "users",
      primaryKey: "id",
      softDelete: { column: "deleted" },
      fields: {
        id: { kind: "long", required: true },
        email: { kind: "keyword", required: true, transforms: ["lowercase", "trim"] },
        fullName: { kind: "text" },
        active: { kind: "boolean", required: true },
        createdAt: { kind: "timestamp", required: true },
        profile: {
          kind: "hasOne",
          table: "profiles",
          foreignKey: "user_id",
          primaryKey: "id",
          fields: { bio: { kind: "text" }, website: { kind: "keyword" }, birthday: { kind: "date" } }
        },
        addresses: {
          kind: "hasMany",
          table: "addresses",
          foreignKey: "user_id",
          primaryKey: "id",
          orderBy: [{ column: "is_primary", direction: "desc" }],
          fields: {
            kind: { kind: "keyword", required: true },
            line1: { kind: "text", required: true },
            city: { kind: "text", required: true },
            postalCode: { kind: "keyword" },
            country: { kind: "keyword", required: true },
            isPrimary: { kind: "boolean", required: true }
          }
        },
        recentOrders: {
          kind: "hasMany",
          table: "orders",
          foreignKey: "user_id",
          primaryKey: "id",
          orderBy: [{ column: "placed_at", direction: "desc" }],
          limit: 5,
          fields: {
            id: { kind: "long", required: true },
            number: { kind: "identifier", required: true },
            status: {
              kind: "enum",
              required: true,
              variants: ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"]
            },
            placedAt: { kind: "timestamp", required: true },
            total: { kind: "decimal", required: true },
            items: {
              kind: "hasMany",
              table: "items",
              foreignKey: "order_id",
              primaryKey: "id",
              fields: {
                quantity: { kind: "integer", required: true },
                unitPrice: { kind: "decimal", required: true },
                product: {
                  kind: "belongsTo",
                  table: "products",
                  column: "product_id",
                  primaryKey: "id",
                  fields: {
                    id: { kind: "uuid", required: true },
                    sku: { kind: "identifier", required: true },
                    name: { kind: "text", required: true }
                  }
                }
              }
            }
          }
        },
        tags: {
          kind: "manyToMany",
          table: "tags",
          through: userTags,
          primaryKey: "id",
          orderBy: [{ column: "name", direction: "asc" }],
          fields: { name: { kind: "keyword", required: true }, color: { kind: "keyword" } }
        },
        orderCount: { kind: "count", table: "orders", foreignKey: "user_id" },
        totalSpent: {
          kind: "sum",
          table: "orders",
          foreignKey: "user_id",
          column: "total",
          valueType: "decimal",
          filters: [{ column: "status", op: "notIn", value: ["cancelled", "refunded"] }]
        },
        averageOrder: { kind: "avg", table: "orders", foreignKey: "user_id", column: "total" },
        lastOrderAt: { kind: "max", table: "orders", foreignKey: "user_id", column: "placed_at", valueType: "timestamp" },
        tagIds: { kind: "ids", table: "tags", through: userTags, elementType: "long" }
      }
    },
    products: {
      table: "products",
      primaryKey: "id",
      softDelete: { column: "deleted_at" },
      fields: {
        id: { kind: "uuid", required: true },
        sku: { kind: "identifier", required: true },
        name: { kind: "text", required: true },
        price: { kind: "decimal", required: true },
        unitsSold: { kind: "sum", table: "items", foreignKey: "product_id", column: "quantity", valueType: "long" }
      }
    }
  }
}

/** What the example does not show: every filter, the other field kinds, composite keys, the other sink, connection parts. */
const everythingElseJson = {
  source: {
    type: "postgres",
    url: { host: "db", port: 5433, user: "sync", password: { _tag: "Env", name: "PGPASSWORD" }, database: "shop" },
    managePublication: false,
    slot: "shop_sync"
  },
  sinks: {
    search: { type: "opensearch", url: { _tag: "Env", name: "SEARCH_URL" }, username: "admin", password: { _tag: "Env", name: "SEARCH_PASSWORD" } },
    debug: { type: "stdout", pretty: true }
  },
  prefix: "staging_",
  onError: "skip",
  batch: { maxChanges: 100 },
  indexes: {
    accounts: {
      table: "accounts",
      schema: "crm",
      primaryKey: ["tenant_id", "id"],
      filters: [{ raw: "tenant_id <> 0" }, { column: "kind", op: "in", value: ["business", "person"] }],
      softDelete: { field: "archived", when: [{ column: "archived_at", op: "isNotNull" }] },
      onError: "stop",
      fields: {
        archived: { kind: "boolean", default: false },
        name: { kind: "text", column: "display_name", options: { analyzer: "english" } },
        tier: { kind: "enum", variants: ["free", "pro"], default: "free" },
        labels: { kind: "map", values: "keyword" },
        location: { kind: "geo", lat: "lat", lon: "lon" },
        origin: { kind: "constant", value: { system: "crm", version: 2 } },
        network: { kind: "custom", postgres: ["inet"], opensearch: "ip" },
        address: { kind: "object", fields: { street: { kind: "text" }, zip: { kind: "keyword", column: "zip_code" } } },
        owner: {
          kind: "belongsTo",
          table: "users",
          column: ["tenant_id", "owner_id"],
          primaryKey: ["tenant_id", "id"],
          required: true,
          filters: [{ column: "active", op: "eq", value: true }],
          fields: { email: { kind: "keyword" } }
        },
        contract: {
          kind: "hasOne",
          table: "contracts",
          foreignKey: ["tenant_id", "account_id"],
          primaryKey: "id",
          orderBy: [{ column: "signed_at", direction: "desc" }],
          filters: [{ column: "signed_at", op: "between", value: ["2020-01-01", "2030-01-01"] }],
          fields: { signedAt: { kind: "date" } }
        },
        members: {
          kind: "manyToMany",
          table: "people",
          through: { table: "memberships", schema: "crm", leftKey: ["tenant_id", "account_id"], rightKey: "person_id" },
          primaryKey: "id",
          limit: 50,
          filters: [{ column: "name", op: "ilike", value: "%a%" }],
          fields: { name: { kind: "text" } }
        },
        openInvoices: {
          kind: "count",
          table: "invoices",
          foreignKey: ["tenant_id", "account_id"],
          filters: [{ column: "paid_at", op: "isNull" }, { column: "amount", op: "gt", value: 0 }]
        },
        firstInvoiceAt: { kind: "min", table: "invoices", foreignKey: ["tenant_id", "account_id"], column: "issued_at", valueType: "date" },
        memberIds: { kind: "ids", table: "people", through: { table: "memberships", leftKey: ["tenant_id", "account_id"], rightKey: "person_id" }, elementType: "keyword", primaryKey: "id" }
      }
    }
  }
}

describe("configJsonSchema", () => {
  beforeAll(() => requireBuiltFlusso())

  it("is draft-07 and compiles with Ajv", () => {
    expect(configJsonSchema()).toMatchObject({ $schema: "http://json-schema.org/draft-07/schema#", type: "object" })
    expect(typeof validate).toBe("function")
  })

  it("accepts the example config written as JSON, which validates to the same config as flusso.config.ts", async () => {
    expect(errorsOf(exampleJson)).toEqual([])
    const { $schema: _, ...json } = exampleJson
    const fromTs = await Effect.runPromise(loadConfig(path.join(ROOT, "flusso.config.ts")))
    expect(validateConfig(json)).toEqual(Either.right(fromTs))
  })

  it("accepts every other option, and a lock's fully defaulted config", () => {
    expect(errorsOf(everythingElseJson)).toEqual([])
    const validated = validateConfig(everythingElseJson)
    expect(Either.isRight(validated)).toBe(true)
    if (Either.isRight(validated)) expect(errorsOf(compileLock(validated.right).config)).toEqual([])
  })

  it("describes env references in the form a JSON config writes them", () => {
    const schema = JSON.stringify(configJsonSchema())
    expect(schema).toContain('"_tag":{"type":"string","enum":["Env"]}')
    expect(errorsOf({ source: { type: "postgres", url: { env: "DATABASE_URL" } } })).not.toEqual([])
  })

  it("refuses an unknown field kind, a string for a number and an unknown key, at their paths", () => {
    const withField = (field: unknown) => ({
      source: { type: "postgres" },
      indexes: { users: { table: "users", primaryKey: "id", fields: { email: field } } }
    })
    const paths = (config: unknown) => [...new Set(errorsOf(config).map((e) => e.instancePath))]

    expect(paths(withField({ kind: "txt" }))).toContain("/indexes/users/fields/email/kind")
    expect(paths({ source: { type: "postgres" }, sinks: { primary: { type: "opensearch", batchSize: "1000" } } })).toContain(
      "/sinks/primary/batchSize"
    )
    const unknownKey = errorsOf({ source: { type: "postgres" }, indexes: { users: { table: "users", primaryKy: "id", fields: {} } } })
    expect(unknownKey).toContainEqual(
      expect.objectContaining({ instancePath: "/indexes/users", keyword: "additionalProperties", params: { additionalProperty: "primaryKy" } })
    )
    expect(paths(withField({ kind: "keyword", requird: true }))).toContain("/indexes/users/fields/email")
    expect(paths({ source: { type: "postgres" }, indexes: { Users: { table: "users", primaryKey: "id", fields: {} } } })).toContain("/indexes")
    expect(paths({ source: { type: "mysql" } })).toContain("/source/type")
  })
})

describe("a .json config with $schema", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "flusso-json-schema-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("loads: the $schema key is for editors, not a setting", async () => {
    const file = path.join(dir, "flusso.json")
    writeFileSync(file, JSON.stringify({ $schema: "./flusso.schema.json", source: { type: "postgres" } }))
    const config = await Effect.runPromise(loadConfig(file))
    expect(config).not.toHaveProperty("$schema")
    expect(config.source.slot).toBe("flusso")
  })
})
