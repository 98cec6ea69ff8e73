/**
 * The document language end to end (schema.md), on real PostgreSQL and OpenSearch: one
 * test per field kind, per join kind and per aggregate, each asserting the exact
 * documents an index holds; then the change semantics — re-parenting, child deletes,
 * deleted belongsTo targets, junction rows, rows entering and leaving filtered sets, root
 * filters, three-level nesting — each run twice: with the related tables on the default
 * replica identity (old rows carry only the key) and with REPLICA IDENTITY FULL.
 *
 * Every test compares the *whole* index (`documentsObject`), so a stale or extra document
 * fails it. Rows inserted before `start` go through the backfill, rows after through the
 * live stream: both must yield the same documents.
 */
import { Buffer } from "node:buffer"
import { describe, expect, it } from "vitest"
import { t } from "flusso"
import { type Deployment, makeDeployment, type Running } from "../support/deployment.js"
import { caughtUp, documentsObject, settled } from "../support/differential/indexState.js"

/** One test's deployment and the helpers bound to it (tests run concurrently, each on its own). */
interface Harness {
  readonly d: Deployment
  /** Creates the tables, inserts the rows the backfill must find, starts flusso and waits until everything is indexed. */
  readonly begin: (setup: { readonly ddl: string; readonly before?: string; readonly indexes: Record<string, unknown> }) => Promise<void>
  /** One committed change (several statements = one transaction), then wait until flusso acknowledged it. */
  readonly step: (statements: string) => Promise<void>
  /** The whole index: `{ id: document }`. */
  readonly all: (index: string) => Promise<Record<string, unknown>>
  /** The `_source` text as OpenSearch stores it: for digits a JSON.parse would lose. */
  readonly rawSource: (index: string, id: string) => Promise<string>
  /** Ids of the documents a query finds, sorted. */
  readonly search: (index: string, query: unknown) => Promise<ReadonlyArray<string>>
  /** Stops flusso, commits `statements` while it is down, starts it again and waits until it caught up. */
  readonly restart: (statements: string) => Promise<void>
}

const makeHarness = (d: Deployment): Harness => {
  // The engine, so a wait fails with flusso's own error as soon as it stops.
  let running: Running | undefined
  let indexes: Record<string, unknown> = {}
  const commit = (statements: string) => d.sql(statements.includes(";") ? `BEGIN; ${statements}; COMMIT` : statements)
  return {
    d,
    begin: async (setup) => {
      await d.sql(setup.ddl)
      if (setup.before !== undefined) await d.sql(setup.before)
      indexes = setup.indexes
      running = await d.start(d.config(indexes))
      await settled(d, Object.keys(indexes).length, 60_000, running)
    },
    step: async (statements) => {
      await commit(statements)
      await caughtUp(d, 30_000, running)
    },
    restart: async (statements) => {
      await running?.stop()
      await commit(statements)
      running = await d.start(d.config(indexes))
      await caughtUp(d, 30_000, running)
    },
    all: (index) => documentsObject(d, index),
    rawSource: async (index, id) => (await d.raw("GET", `/${d.prefix}${index}/_source/${encodeURIComponent(id)}`)).text,
    search: async (index, query) => {
      await d.raw("POST", `/${d.prefix}${index}/_refresh`)
      const response = await d.raw("POST", `/${d.prefix}${index}/_search`, { query, size: 100 })
      const body: { hits: { hits: ReadonlyArray<{ _id: string }> } } = JSON.parse(response.text)
      return body.hits.hits.map((h) => h._id).sort()
    }
  }
}

/**
 * A test with its own deployment (fresh database, own index prefix), run concurrently
 * with the others of this file: most of each test is waiting on the services.
 */
const test = (name: string, body: (h: Harness) => Promise<void>) =>
  it.concurrent(name, async () => {
    const d = await makeDeployment()
    try {
      await body(makeHarness(d))
    } finally {
      await d.cleanup()
    }
  })

const P1 = "00000000-0000-0000-0000-000000000001"
const P2 = "00000000-0000-0000-0000-000000000002"

// ---------------------------------------------------------------------------------------
// Scalar kinds: row 1 (value) and row 3 (NULL) are seeded, row 2 (value) arrives live;
// then rows 2 and 3 swap value and NULL by UPDATE.
// ---------------------------------------------------------------------------------------

interface ScalarCase {
  readonly name: string
  readonly type: string
  readonly field: unknown
  /** A SQL expression for the value. */
  readonly value: string
  readonly expected: unknown
  /** What a NULL column renders (default null). */
  readonly whenNull?: unknown
  /** Digits the stored `_source` text must contain verbatim. */
  readonly rawContains?: string
  readonly ddl?: string
  /** Extra checks against the index once all three rows are in. */
  readonly check?: (h: Pick<Harness, "search">) => Promise<void>
}

const longBytes = "00ff10".repeat(40) // 120 bytes: PG's encode() would wrap the base64 at 76 chars

const SCALAR_CASES: ReadonlyArray<ScalarCase> = [
  {
    name: "text", type: "text", field: t.text(), value: "'Grüße, wide World'", expected: "Grüße, wide World",
    // flusso_text: lowercased and ASCII-folded ("Grüße" → "grusse").
    check: async ({ search }) => {
      for (const q of ["WORLD", "grusse"]) expect(await search("s", { match: { v: q } }), q).toEqual(["1", "2"])
    }
  },
  {
    name: "identifier", type: "text", field: t.identifier(), value: "'C-01234'", expected: "C-01234",
    check: async ({ search }) => {
      for (const q of ["c01234", "C-01234", "01234"]) expect(await search("s", { match: { v: q } }), q).toEqual(["1", "2"])
    }
  },
  {
    name: "keyword with transforms", type: "varchar(100)", field: t.keyword({ transforms: ["trim", "lowercase"] }),
    value: "'  Ada@Example.COM '", expected: "ada@example.com"
  },
  {
    name: "enum", type: "mood", ddl: "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    field: t.enum({ variants: ["sad", "ok", "happy"] }), value: "'ok'", expected: "ok"
  },
  {
    name: "uuid", type: "uuid", field: t.uuid(), value: "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
    expected: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
  },
  { name: "boolean with default", type: "boolean", field: t.boolean({ default: false }), value: "true", expected: true, whenNull: false },
  { name: "short", type: "smallint", field: t.short(), value: "-32768", expected: -32768 },
  { name: "integer", type: "integer", field: t.integer(), value: "2147483647", expected: 2147483647 },
  {
    name: "long", type: "bigint", field: t.long(), value: "9223372036854775807", expected: 9223372036854775807,
    rawContains: "9223372036854775807"
  },
  { name: "float", type: "real", field: t.float(), value: "0.1", expected: 0.1 },
  { name: "double", type: "double precision", field: t.double(), value: "0.30000000000000004", expected: 0.30000000000000004 },
  {
    name: "decimal", type: "numeric(30,10)", field: t.decimal(), value: "12345678901234567890.0123456789",
    expected: 12345678901234567890.0123456789, rawContains: "12345678901234567890.0123456789"
  },
  { name: "date", type: "date", field: t.date(), value: "'2024-02-29'", expected: "2024-02-29" },
  {
    name: "timestamp (timestamptz)", type: "timestamptz", field: t.timestamp(), value: "'2024-01-02 03:04:05.1+02'",
    expected: "2024-01-02T01:04:05.100000Z"
  },
  {
    name: "timestamp (timestamp without time zone)", type: "timestamp", field: t.timestamp(), value: "'2024-01-02 03:04:05.000001'",
    expected: "2024-01-02T03:04:05.000001"
  },
  {
    name: "binary", type: "bytea", field: t.binary(), value: `'\\x${longBytes}'::bytea`,
    expected: Buffer.from(longBytes, "hex").toString("base64")
  },
  {
    // (An array mixing types, such as [1, "x"], is something OpenSearch itself rejects.)
    name: "json (jsonb)", type: "jsonb", field: t.json(), value: `'{"a": [1, 2, 3], "b": {"c": null, "e": "x"}, "d": true}'`,
    expected: { a: [1, 2, 3], b: { c: null, e: "x" }, d: true }
  },
  { name: "json (json)", type: "json", field: t.json(), value: `'{"n": 1, "s": "two"}'`, expected: { n: 1, s: "two" } },
  {
    name: "map", type: "jsonb", field: t.map({ values: "keyword" }), value: `'{"color": "red", "size": "L"}'`,
    expected: { color: "red", size: "L" }
  },
  {
    name: "geo from a json column", type: "jsonb", field: t.geo({ column: "v" }), value: `'{"lat": 45.46, "lon": 9.19}'`,
    expected: { lat: 45.46, lon: 9.19 },
    check: async ({ search }) => {
      const near = { geo_distance: { distance: "1km", v: { lat: 45.4601, lon: 9.1901 } } }
      expect(await search("s", near)).toEqual(["1", "2"])
    }
  },
  { name: "geo from a text column", type: "text", field: t.geo({ column: "v" }), value: "'45.46,9.19'", expected: "45.46,9.19" }
]

describe("scalar field kinds", () => {
  for (const c of SCALAR_CASES) {
    test(`${c.name}: backfill and live give the same value; NULL renders ${JSON.stringify(c.whenNull ?? null)}`, async ({ begin, step, all, rawSource, search }) => {
      const whenNull = c.whenNull ?? null
      await begin({
        ddl: `${c.ddl === undefined ? "" : `${c.ddl}; `}CREATE TABLE s (id int PRIMARY KEY, v ${c.type})`,
        before: `INSERT INTO s VALUES (1, ${c.value}), (3, NULL)`,
        indexes: { s: { table: "s", primaryKey: "id", fields: { id: t.integer({ required: true }), v: c.field } } }
      })
      await step(`INSERT INTO s VALUES (2, ${c.value})`)
      expect(await all("s")).toEqual({
        "1": { id: 1, v: c.expected },
        "2": { id: 2, v: c.expected },
        "3": { id: 3, v: whenNull }
      })
      if (c.rawContains !== undefined) {
        expect(await rawSource("s", "1")).toContain(c.rawContains)
        expect(await rawSource("s", "2")).toContain(c.rawContains)
      }
      await c.check?.({ search })

      await step(`UPDATE s SET v = NULL WHERE id = 2; UPDATE s SET v = ${c.value} WHERE id = 3`)
      expect(await all("s")).toEqual({
        "1": { id: 1, v: c.expected },
        "2": { id: 2, v: whenNull },
        "3": { id: 3, v: c.expected }
      })
    })
  }

  test("object: same-row columns under one key, never null", async ({ begin, step, all, d }) => {
    await begin({
      ddl: "CREATE TABLE s (id int PRIMARY KEY, street text, addr_city text)",
      before: "INSERT INTO s VALUES (1, 'Via Roma 1', 'Milano'), (2, NULL, NULL)",
      indexes: {
        s: {
          table: "s",
          primaryKey: "id",
          fields: {
            id: t.integer({ required: true }),
            address: t.object({ fields: { street: t.text(), city: t.keyword({ column: "addr_city" }) } })
          }
        }
      }
    })
    await step("INSERT INTO s VALUES (3, 'Rue de la Paix 2', 'Paris')")
    expect(await all("s")).toEqual({
      "1": { id: 1, address: { street: "Via Roma 1", city: "Milano" } },
      "2": { id: 2, address: { street: null, city: null } },
      "3": { id: 3, address: { street: "Rue de la Paix 2", city: "Paris" } }
    })
    await step("UPDATE s SET addr_city = 'Torino' WHERE id = 1")
    expect(await d.doc("s", "1")).toEqual({ id: 1, address: { street: "Via Roma 1", city: "Torino" } })
  })

  test("geo from lat/lon columns: a missing coordinate makes the point null", async ({ begin, step, all, d, search }) => {
    await begin({
      ddl: "CREATE TABLE s (id int PRIMARY KEY, lat double precision, lon numeric)",
      before: "INSERT INTO s VALUES (1, 45.46, 9.19), (2, 45.46, NULL)",
      indexes: {
        s: { table: "s", primaryKey: "id", fields: { id: t.integer({ required: true }), at: t.geo({ lat: "lat", lon: "lon" }) } }
      }
    })
    await step("INSERT INTO s VALUES (3, -33.87, 151.21)")
    expect(await all("s")).toEqual({
      "1": { id: 1, at: { lat: 45.46, lon: 9.19 } },
      "2": { id: 2, at: null },
      "3": { id: 3, at: { lat: -33.87, lon: 151.21 } }
    })
    expect(await search("s", { geo_distance: { distance: "5km", at: { lat: -33.88, lon: 151.2 } } })).toEqual(["3"])
    await step("UPDATE s SET lon = 9.2 WHERE id = 2")
    expect(await d.doc("s", "2")).toEqual({ id: 2, at: { lat: 45.46, lon: 9.2 } })
  })

  test("constant: a fixed value in every document, null allowed", async ({ begin, step, all }) => {
    await begin({
      ddl: "CREATE TABLE s (id int PRIMARY KEY, name text)",
      before: "INSERT INTO s VALUES (1, 'a')",
      indexes: {
        s: {
          table: "s",
          primaryKey: "id",
          fields: { id: t.integer({ required: true }), source: t.constant("catalog-v1"), version: t.constant(42), nothing: t.constant(null) }
        }
      }
    })
    await step("INSERT INTO s VALUES (2, 'b')")
    const doc = (id: number) => ({ id, source: "catalog-v1", version: 42, nothing: null })
    expect(await all("s")).toEqual({ "1": doc(1), "2": doc(2) })
  })
})

describe("custom", () => {
  test("custom: a Postgres type flusso has no kind for, rendered by Postgres, mapped as configured", async ({ begin, step, all, search }) => {
    await begin({
      ddl: "CREATE TABLE hosts (id int PRIMARY KEY, addr inet, seen int4range)",
      before: "INSERT INTO hosts VALUES (1, '10.0.0.1', '[1,5)'), (2, NULL, NULL)",
      indexes: {
        hosts: {
          table: "hosts",
          primaryKey: "id",
          fields: {
            id: t.integer({ required: true }),
            addr: t.custom({ postgres: ["inet"], opensearch: "ip" }),
            seen: t.custom({ postgres: ["int4range"], opensearch: { type: "keyword" } })
          }
        }
      }
    })
    await step("INSERT INTO hosts VALUES (3, '192.168.1.7', '[2,3)')")
    expect(await all("hosts")).toEqual({
      "1": { id: 1, addr: "10.0.0.1", seen: "[1,5)" },
      "2": { id: 2, addr: null, seen: null },
      "3": { id: 3, addr: "192.168.1.7", seen: "[2,3)" }
    })
    // Mapped as an OpenSearch ip: a CIDR query finds the address.
    expect(await search("hosts", { term: { addr: "192.168.0.0/16" } })).toEqual(["3"])
  })
})

// ---------------------------------------------------------------------------------------
// Join kinds.
// ---------------------------------------------------------------------------------------

describe("joins", () => {
  test("belongsTo: the target's object (single and composite key), null when the column is null or the target absent", async ({ begin, step, all }) => {
    await begin({
      ddl: `CREATE TABLE products (id uuid PRIMARY KEY, name text NOT NULL, price numeric(10,2));
            CREATE TABLE variants (tenant text, code text, label text, PRIMARY KEY (tenant, code));
            CREATE TABLE items (id bigint PRIMARY KEY, product_id uuid, tenant text, variant_code text, qty int NOT NULL)`,
      before: `INSERT INTO products VALUES ('${P1}', 'Lamp', 29.90);
               INSERT INTO items VALUES (1, '${P1}', 'acme', 'red', 2), (2, NULL, NULL, NULL, 1)`,
      indexes: {
        items: {
          table: "items",
          primaryKey: "id",
          fields: {
            id: t.long({ required: true }),
            qty: t.integer({ required: true }),
            product: t.belongsTo({
              table: "products", column: "product_id", primaryKey: "id",
              fields: { id: t.uuid({ required: true }), name: t.text({ required: true }), price: t.decimal() }
            }),
            variant: t.belongsTo({
              table: "variants", column: ["tenant", "variant_code"], primaryKey: ["tenant", "code"],
              fields: { code: t.keyword({ required: true }), label: t.text() }
            })
          }
        }
      }
    })
    const lamp = { id: P1, name: "Lamp", price: 29.9 }
    expect(await all("items")).toEqual({
      "1": { id: 1, qty: 2, product: lamp, variant: null },
      "2": { id: 2, qty: 1, product: null, variant: null }
    })

    // The target arrives after its referrer.
    await step("INSERT INTO variants VALUES ('acme', 'red', 'Red')")
    await step(`INSERT INTO items VALUES (3, '${P1}', 'acme', 'blue', 5)`)
    expect(await all("items")).toEqual({
      "1": { id: 1, qty: 2, product: lamp, variant: { code: "red", label: "Red" } },
      "2": { id: 2, qty: 1, product: null, variant: null },
      "3": { id: 3, qty: 5, product: lamp, variant: null }
    })

    // A change to the target rebuilds every referrer; a referrer switching targets rebuilds itself.
    await step("UPDATE products SET name = 'Desk lamp' WHERE id = '" + P1 + "'")
    await step(`UPDATE items SET product_id = '${P1}', tenant = 'acme', variant_code = 'red' WHERE id = 2`)
    const deskLamp = { id: P1, name: "Desk lamp", price: 29.9 }
    expect(await all("items")).toEqual({
      "1": { id: 1, qty: 2, product: deskLamp, variant: { code: "red", label: "Red" } },
      "2": { id: 2, qty: 1, product: deskLamp, variant: { code: "red", label: "Red" } },
      "3": { id: 3, qty: 5, product: deskLamp, variant: null }
    })
  })

  test("hasOne: the related row orderBy picks, null when there is none", async ({ begin, step, all, d }) => {
    await begin({
      ddl: `CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);
            CREATE TABLE profiles (id bigint PRIMARY KEY, user_id bigint, bio text, updated_at timestamptz NOT NULL)`,
      before: `INSERT INTO users VALUES (1, 'ann'), (2, 'bob');
               INSERT INTO profiles VALUES (10, 1, 'old', '2024-01-01'), (11, 1, 'new', '2024-02-01')`,
      indexes: {
        users: {
          table: "users",
          primaryKey: "id",
          fields: {
            id: t.long({ required: true }),
            profile: t.hasOne({
              table: "profiles", foreignKey: "user_id", primaryKey: "id",
              orderBy: [{ column: "updated_at", direction: "desc" }],
              fields: { id: t.long({ required: true }), bio: t.text() }
            })
          }
        }
      }
    })
    expect(await all("users")).toEqual({
      "1": { id: 1, profile: { id: 11, bio: "new" } },
      "2": { id: 2, profile: null }
    })
    await step("UPDATE profiles SET updated_at = '2024-03-01' WHERE id = 10")
    await step("INSERT INTO profiles VALUES (12, 2, NULL, '2024-01-01')")
    expect(await all("users")).toEqual({
      "1": { id: 1, profile: { id: 10, bio: "old" } },
      "2": { id: 2, profile: { id: 12, bio: null } }
    })
    await step("DELETE FROM profiles WHERE id = 10")
    expect(await d.doc("users", "1")).toEqual({ id: 1, profile: { id: 11, bio: "new" } })
  })

  test("hasMany: ordered by orderBy (else the related key), limited, [] when empty", async ({ begin, step, all }) => {
    await begin({
      ddl: `CREATE TABLE users (id bigint PRIMARY KEY);
            CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, placed_at timestamptz NOT NULL, total numeric(10,2) NOT NULL)`,
      // Inserted out of key order: the document order must not depend on physical order.
      before: `INSERT INTO users VALUES (1), (2), (3);
               INSERT INTO orders VALUES (12, 1, '2024-02-01Z', 1.25), (10, 1, '2024-01-01Z', 5.00),
                                         (11, 1, '2024-03-01Z', 7.50), (13, 2, '2024-01-01Z', 3.00)`,
      indexes: {
        users: {
          table: "users",
          primaryKey: "id",
          fields: {
            id: t.long({ required: true }),
            recent: t.hasMany({
              table: "orders", foreignKey: "user_id", primaryKey: "id",
              orderBy: [{ column: "placed_at", direction: "desc" }], limit: 2,
              fields: { id: t.long({ required: true }), placedAt: t.timestamp({ required: true }) }
            }),
            orders: t.hasMany({
              table: "orders", foreignKey: "user_id", primaryKey: "id",
              fields: { id: t.long({ required: true }), total: t.decimal({ required: true }) }
            })
          }
        }
      }
    })
    const at = (day: string) => `${day}T00:00:00.000000Z`
    expect(await all("users")).toEqual({
      "1": {
        id: 1,
        recent: [{ id: 11, placedAt: at("2024-03-01") }, { id: 12, placedAt: at("2024-02-01") }],
        orders: [{ id: 10, total: 5 }, { id: 11, total: 7.5 }, { id: 12, total: 1.25 }]
      },
      "2": { id: 2, recent: [{ id: 13, placedAt: at("2024-01-01") }], orders: [{ id: 13, total: 3 }] },
      "3": { id: 3, recent: [], orders: [] }
    })
    // An order climbing into the top two by its ordering column; a first order for user 3.
    await step("UPDATE orders SET placed_at = '2024-04-01Z' WHERE id = 10")
    await step("INSERT INTO orders VALUES (9, 3, '2024-01-05Z', 0.10)")
    expect(await all("users")).toEqual({
      "1": {
        id: 1,
        recent: [{ id: 10, placedAt: at("2024-04-01") }, { id: 11, placedAt: at("2024-03-01") }],
        orders: [{ id: 10, total: 5 }, { id: 11, total: 7.5 }, { id: 12, total: 1.25 }]
      },
      "2": { id: 2, recent: [{ id: 13, placedAt: at("2024-01-01") }], orders: [{ id: 13, total: 3 }] },
      "3": { id: 3, recent: [{ id: 9, placedAt: at("2024-01-05") }], orders: [{ id: 9, total: 0.1 }] }
    })
  })

  test("manyToMany: through the junction, ordered and limited, [] when empty; far-table rename and delete", async ({ begin, step, all }) => {
    await begin({
      ddl: `CREATE TABLE users (id bigint PRIMARY KEY);
            CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL);
            CREATE TABLE user_tags (user_id bigint, tag_id bigint, PRIMARY KEY (user_id, tag_id))`,
      before: `INSERT INTO users VALUES (1), (2);
               INSERT INTO tags VALUES (1, 'zeta'), (2, 'alpha'), (3, 'mid');
               INSERT INTO user_tags VALUES (1, 3), (1, 1), (1, 2)`,
      indexes: {
        users: {
          table: "users",
          primaryKey: "id",
          fields: {
            id: t.long({ required: true }),
            tags: t.manyToMany({
              table: "tags", through: { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" }, primaryKey: "id",
              orderBy: [{ column: "name", direction: "asc" }],
              fields: { id: t.long({ required: true }), name: t.keyword({ required: true }) }
            }),
            firstTwo: t.manyToMany({
              table: "tags", through: { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" }, primaryKey: "id",
              limit: 2,
              fields: { id: t.long({ required: true }) }
            })
          }
        }
      }
    })
    expect(await all("users")).toEqual({
      "1": {
        id: 1,
        tags: [{ id: 2, name: "alpha" }, { id: 3, name: "mid" }, { id: 1, name: "zeta" }],
        firstTwo: [{ id: 1 }, { id: 2 }]
      },
      "2": { id: 2, tags: [], firstTwo: [] }
    })
    await step("INSERT INTO user_tags VALUES (2, 3)")
    await step("UPDATE tags SET name = 'aaa' WHERE id = 3")
    expect(await all("users")).toEqual({
      "1": {
        id: 1,
        tags: [{ id: 3, name: "aaa" }, { id: 2, name: "alpha" }, { id: 1, name: "zeta" }],
        firstTwo: [{ id: 1 }, { id: 2 }]
      },
      "2": { id: 2, tags: [{ id: 3, name: "aaa" }], firstTwo: [{ id: 3 }] }
    })
    // The far row goes; its junction rows stay behind, pointing at nothing.
    await step("DELETE FROM tags WHERE id = 3")
    await step("DELETE FROM tags WHERE id = 1")
    expect(await all("users")).toEqual({
      "1": { id: 1, tags: [{ id: 2, name: "alpha" }], firstTwo: [{ id: 2 }] },
      "2": { id: 2, tags: [], firstTwo: [] }
    })
  })
})

// ---------------------------------------------------------------------------------------
// Aggregates: over users ← orders (foreignKey) and users ↔ tags (through).
// ---------------------------------------------------------------------------------------

const AGG_DDL = `CREATE TABLE users (id bigint PRIMARY KEY);
  CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, status text NOT NULL, qty int NOT NULL,
    total numeric(12,2) NOT NULL, weight double precision, placed_at timestamptz NOT NULL, day date NOT NULL);
  CREATE TABLE coupons (id uuid PRIMARY KEY, user_id bigint);
  CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL);
  CREATE TABLE user_tags (user_id bigint, tag_id bigint, PRIMARY KEY (user_id, tag_id))`

const AGG_BEFORE = `INSERT INTO users VALUES (1), (2);
  INSERT INTO orders VALUES
    (10, 1, 'paid',    1, 10.10, 0.5,  '2024-01-01 10:00:00+00', '2024-01-01'),
    (11, 1, 'pending', 2, 20.20, NULL, '2024-03-01 10:00:00.5+00', '2023-12-31'),
    (12, 1, 'paid',    4, 0.01,  1.25, '2024-02-01 10:00:00+00', '2024-02-01');
  INSERT INTO tags VALUES (100, 'red'), (101, 'blue');
  INSERT INTO user_tags VALUES (1, 101), (1, 100)`

const aggregateIndex = (fields: Record<string, unknown>) => ({
  users: { table: "users", primaryKey: "id", fields: { id: t.long({ required: true }), ...fields } }
})

const orders = { table: "orders", foreignKey: "user_id" } as const
const userTags = { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" } as const

describe("aggregates", () => {
  test("count: by foreignKey, with filters, through a junction; 0 over no rows", async ({ begin, step, all }) => {
    await begin({
      ddl: AGG_DDL,
      before: AGG_BEFORE,
      indexes: aggregateIndex({
        orderCount: t.count(orders),
        paidCount: t.count({ ...orders, filters: [{ column: "status", op: "eq", value: "paid" }] }),
        tagCount: t.count({ table: "tags", through: userTags })
      })
    })
    expect(await all("users")).toEqual({
      "1": { id: 1, orderCount: 3, paidCount: 2, tagCount: 2 },
      "2": { id: 2, orderCount: 0, paidCount: 0, tagCount: 0 }
    })
    await step("UPDATE orders SET status = 'paid' WHERE id = 11; INSERT INTO user_tags VALUES (2, 100)")
    await step("DELETE FROM orders WHERE id = 10")
    expect(await all("users")).toEqual({
      "1": { id: 1, orderCount: 2, paidCount: 2, tagCount: 2 },
      "2": { id: 2, orderCount: 0, paidCount: 0, tagCount: 1 }
    })
  })

  test("sum: long, decimal and double value types; null over no rows", async ({ begin, step, all, rawSource }) => {
    await begin({
      ddl: AGG_DDL,
      before: AGG_BEFORE,
      indexes: aggregateIndex({
        qty: t.sum({ ...orders, column: "qty", valueType: "long" }),
        total: t.sum({ ...orders, column: "total", valueType: "decimal" }),
        weight: t.sum({ ...orders, column: "weight", valueType: "double" }),
        paidTotal: t.sum({ ...orders, column: "total", valueType: "decimal", filters: [{ column: "status", op: "eq", value: "paid" }] })
      })
    })
    expect(await all("users")).toEqual({
      "1": { id: 1, qty: 7, total: 30.31, weight: 1.75, paidTotal: 10.11 },
      "2": { id: 2, qty: null, total: null, weight: null, paidTotal: null }
    })
    expect(await rawSource("users", "1")).toMatch(/"total"\s*:\s*30\.31\b/)
    await step("INSERT INTO orders VALUES (20, 2, 'pending', 3, 99999999.99, NULL, '2024-01-01', '2024-01-01')")
    await step("UPDATE orders SET qty = 10 WHERE id = 10")
    expect(await all("users")).toEqual({
      "1": { id: 1, qty: 16, total: 30.31, weight: 1.75, paidTotal: 10.11 },
      "2": { id: 2, qty: 3, total: 99999999.99, weight: null, paidTotal: null }
    })
  })

  test("min / max: decimal, timestamp, date and keyword value types; null over no rows", async ({ begin, step, all, d }) => {
    await begin({
      ddl: AGG_DDL,
      before: AGG_BEFORE,
      indexes: aggregateIndex({
        smallest: t.min({ ...orders, column: "total", valueType: "decimal" }),
        lastAt: t.max({ ...orders, column: "placed_at", valueType: "timestamp" }),
        firstDay: t.min({ ...orders, column: "day", valueType: "date" }),
        maxStatus: t.max({ ...orders, column: "status", valueType: "keyword" })
      })
    })
    expect(await all("users")).toEqual({
      "1": { id: 1, smallest: 0.01, lastAt: "2024-03-01T10:00:00.500000Z", firstDay: "2023-12-31", maxStatus: "pending" },
      "2": { id: 2, smallest: null, lastAt: null, firstDay: null, maxStatus: null }
    })
    await step("DELETE FROM orders WHERE id = 11")
    expect(await d.doc("users", "1")).toEqual({
      id: 1, smallest: 0.01, lastAt: "2024-02-01T10:00:00.000000Z", firstDay: "2024-01-01", maxStatus: "paid"
    })
  })

  test("avg: a double; null over no rows", async ({ begin, step, all }) => {
    await begin({
      ddl: AGG_DDL,
      before: AGG_BEFORE,
      indexes: aggregateIndex({
        avgQty: t.avg({ ...orders, column: "qty" }),
        avgWeight: t.avg({ ...orders, column: "weight" }),
        avgPaidTotal: t.avg({ ...orders, column: "total", filters: [{ column: "status", op: "eq", value: "paid" }] })
      })
    })
    expect(await all("users")).toEqual({
      "1": { id: 1, avgQty: 7 / 3, avgWeight: 0.875, avgPaidTotal: 5.055 },
      "2": { id: 2, avgQty: null, avgWeight: null, avgPaidTotal: null }
    })
    await step("INSERT INTO orders VALUES (20, 2, 'paid', 3, 1.50, 2, '2024-01-01', '2024-01-01')")
    await step("UPDATE orders SET qty = 3 WHERE id = 10")
    expect(await all("users")).toEqual({
      "1": { id: 1, avgQty: 3, avgWeight: 0.875, avgPaidTotal: 5.055 },
      "2": { id: 2, avgQty: 3, avgWeight: 2, avgPaidTotal: 1.5 }
    })
  })

  test("ids: long and keyword keys in key order, by foreignKey and through a junction; [] when none", async ({ begin, step, all }) => {
    const c1 = "0a000000-0000-0000-0000-000000000000"
    const c2 = "B0000000-0000-0000-0000-000000000000"
    await begin({
      ddl: AGG_DDL,
      before: `${AGG_BEFORE}; INSERT INTO coupons VALUES ('${c2}', 1), ('${c1}', 1)`,
      indexes: aggregateIndex({
        orderIds: t.ids({ ...orders, elementType: "long" }),
        couponIds: t.ids({ table: "coupons", foreignKey: "user_id", elementType: "keyword" }),
        tagIds: t.ids({ table: "tags", through: userTags, elementType: "long" })
      })
    })
    expect(await all("users")).toEqual({
      "1": { id: 1, orderIds: [10, 11, 12], couponIds: [c1, c2.toLowerCase()], tagIds: [100, 101] },
      "2": { id: 2, orderIds: [], couponIds: [], tagIds: [] }
    })
    await step(`UPDATE orders SET user_id = 2 WHERE id = 11; UPDATE coupons SET user_id = 2 WHERE id = '${c1}'`)
    await step("DELETE FROM user_tags WHERE user_id = 1 AND tag_id = 100")
    expect(await all("users")).toEqual({
      "1": { id: 1, orderIds: [10, 12], couponIds: [c2.toLowerCase()], tagIds: [101] },
      "2": { id: 2, orderIds: [11], couponIds: [c1], tagIds: [] }
    })
  })
})

// ---------------------------------------------------------------------------------------
// Soft delete variants (root rows); the boolean/timestamp markers are in sync.test.ts.
// ---------------------------------------------------------------------------------------

describe("soft delete", () => {
  test("{ field }: the marker is the column of that field; with `when`, the filters decide instead of truthiness", async ({ begin, step, all }) => {
    await begin({
      ddl: "CREATE TABLE a (id int PRIMARY KEY, archived boolean); CREATE TABLE b (id int PRIMARY KEY, state text NOT NULL)",
      before: "INSERT INTO a VALUES (1, false), (2, true), (3, NULL); INSERT INTO b VALUES (1, 'live'), (2, 'deleted')",
      indexes: {
        a: {
          table: "a", primaryKey: "id", softDelete: { field: "isArchived" },
          fields: { id: t.integer({ required: true }), isArchived: t.boolean({ column: "archived" }) }
        },
        b: {
          table: "b", primaryKey: "id",
          // `state` is never null, so plain truthiness would delete every row.
          softDelete: { column: "state", when: [{ column: "state", op: "in", value: ["deleted", "purged"] }] },
          fields: { id: t.integer({ required: true }), state: t.keyword({ required: true }) }
        }
      }
    })
    expect(await all("a")).toEqual({ "1": { id: 1, isArchived: false }, "3": { id: 3, isArchived: null } })
    expect(await all("b")).toEqual({ "1": { id: 1, state: "live" } })
    await step("UPDATE a SET archived = true WHERE id = 1; UPDATE a SET archived = false WHERE id = 2")
    await step("UPDATE b SET state = 'purged' WHERE id = 1; UPDATE b SET state = 'restored' WHERE id = 2")
    expect(await all("a")).toEqual({ "2": { id: 2, isArchived: false }, "3": { id: 3, isArchived: null } })
    expect(await all("b")).toEqual({ "2": { id: 2, state: "restored" } })
  })
})

// ---------------------------------------------------------------------------------------
// Change semantics (schema.md "Change semantics"), with and without REPLICA IDENTITY FULL.
// ---------------------------------------------------------------------------------------

const SHOP_DDL = `CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, status text NOT NULL DEFAULT 'active', score int NOT NULL DEFAULT 0);
  CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, status text NOT NULL DEFAULT 'pending',
    total numeric(10,2) NOT NULL DEFAULT 0, placed_at timestamptz NOT NULL DEFAULT '2024-01-01');
  CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint, product_id uuid, qty int NOT NULL DEFAULT 1);
  CREATE TABLE products (id uuid PRIMARY KEY, name text NOT NULL);
  CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL);
  CREATE TABLE user_tags (user_id bigint NOT NULL, tag_id bigint NOT NULL, PRIMARY KEY (user_id, tag_id))`

const SHOP_TABLES = ["users", "orders", "items", "products", "tags", "user_tags"]

const IDENTITIES = [
  { name: "default replica identity", ddl: "" },
  { name: "REPLICA IDENTITY FULL", ddl: SHOP_TABLES.map((table) => `ALTER TABLE ${table} REPLICA IDENTITY FULL`).join("; ") }
] as const

const id = t.long({ required: true })

describe.each(IDENTITIES)("change semantics, $name", (identity) => {
  const shop = (begin: Harness["begin"], before: string, indexes: Record<string, unknown>) =>
    begin({ ddl: `${SHOP_DDL};${identity.ddl === "" ? "" : ` ${identity.ddl};`}`, before, indexes })

  const usersWithOrders = {
    users: {
      table: "users",
      primaryKey: "id",
      fields: {
        id,
        name: t.text({ required: true }),
        orders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", fields: { id, total: t.decimal({ required: true }) } }),
        orderCount: t.count({ table: "orders", foreignKey: "user_id" }),
        totalSum: t.sum({ table: "orders", foreignKey: "user_id", column: "total", valueType: "decimal" })
      }
    }
  }
  const user = (uid: number, name: string, orderList: ReadonlyArray<readonly [number, number]>) => ({
    id: uid,
    name,
    orders: orderList.map(([oid, total]) => ({ id: oid, total })),
    orderCount: orderList.length,
    totalSum: orderList.length === 0 ? null : orderList.reduce((s, [, total]) => s + total, 0)
  })
  const SHOP_BEFORE = `INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob');
    INSERT INTO orders (id, user_id, total) VALUES (10, 1, 5.00), (11, 1, 7.00), (12, 2, 1.50)`

  test("re-parenting: an order moved from user A to user B rebuilds both", async ({ begin, step, all }) => {
    await shop(begin, SHOP_BEFORE, usersWithOrders)
    expect(await all("users")).toEqual({ "1": user(1, "ann", [[10, 5], [11, 7]]), "2": user(2, "bob", [[12, 1.5]]) })

    await step("UPDATE orders SET user_id = 2 WHERE id = 10")
    expect(await all("users")).toEqual({ "1": user(1, "ann", [[11, 7]]), "2": user(2, "bob", [[10, 5], [12, 1.5]]) })

    // To a parent that is no document, and to no parent at all.
    await step("UPDATE orders SET user_id = 99 WHERE id = 11")
    await step("UPDATE orders SET user_id = NULL WHERE id = 12")
    expect(await all("users")).toEqual({ "1": user(1, "ann", []), "2": user(2, "bob", [[10, 5]]) })

    // Back again, a swap in one transaction, and a moved order whose key changes too.
    await step("UPDATE orders SET user_id = 1 WHERE id IN (11, 12)")
    await step("UPDATE orders SET user_id = 2 WHERE id = 11; UPDATE orders SET user_id = 1 WHERE id = 10")
    expect(await all("users")).toEqual({ "1": user(1, "ann", [[10, 5], [12, 1.5]]), "2": user(2, "bob", [[11, 7]]) })
    await step("UPDATE orders SET id = 20, user_id = 2, total = 2.25 WHERE id = 12")
    expect(await all("users")).toEqual({ "1": user(1, "ann", [[10, 5]]), "2": user(2, "bob", [[11, 7], [20, 2.25]]) })
  })

  test("a move and a delete committed while flusso is stopped reach the old parent after a restart", async ({ begin, step, all, restart }) => {
    await shop(begin, SHOP_BEFORE, usersWithOrders)
    // Processed live: user 2's document now reads order 10…
    await step("UPDATE orders SET user_id = 2 WHERE id = 10")
    expect(await all("users")).toEqual({ "1": user(1, "ann", [[11, 7]]), "2": user(2, "bob", [[10, 5], [12, 1.5]]) })
    // …and while flusso is down, order 10 moves back: user 2 must lose it.
    await restart("UPDATE orders SET user_id = 1 WHERE id = 10")
    expect(await all("users")).toEqual({ "1": user(1, "ann", [[10, 5], [11, 7]]), "2": user(2, "bob", [[12, 1.5]]) })
    await restart("DELETE FROM orders WHERE id = 12")
    expect(await all("users")).toEqual({ "1": user(1, "ann", [[10, 5], [11, 7]]), "2": user(2, "bob", []) })
  })

  test("child delete: deleting an order updates its user's nested list and aggregates", async ({ begin, step, all }) => {
    await shop(begin, SHOP_BEFORE, usersWithOrders)
    await step("DELETE FROM orders WHERE id = 10")
    expect(await all("users")).toEqual({ "1": user(1, "ann", [[11, 7]]), "2": user(2, "bob", [[12, 1.5]]) })
    await step("DELETE FROM orders WHERE user_id = 1")
    expect(await all("users")).toEqual({ "1": user(1, "ann", []), "2": user(2, "bob", [[12, 1.5]]) })
    // Delete and insert for the same parent in one transaction.
    await step("DELETE FROM orders WHERE id = 12; INSERT INTO orders (id, user_id, total) VALUES (13, 2, 2.00)")
    expect(await all("users")).toEqual({ "1": user(1, "ann", []), "2": user(2, "bob", [[13, 2]]) })
  })

  test("deleting a belongsTo target rebuilds its referrers with null", async ({ begin, step, all, d }) => {
    await shop(begin, 
      `${SHOP_BEFORE}; INSERT INTO orders (id, user_id) VALUES (13, NULL)`,
      {
        orders: {
          table: "orders",
          primaryKey: "id",
          fields: { id, user: t.belongsTo({ table: "users", column: "user_id", primaryKey: "id", fields: { id, name: t.text() } }) }
        }
      }
    )
    const ann = { id: 1, name: "ann" }
    const bob = { id: 2, name: "bob" }
    expect(await all("orders")).toEqual({
      "10": { id: 10, user: ann }, "11": { id: 11, user: ann }, "12": { id: 12, user: bob }, "13": { id: 13, user: null }
    })
    await step("DELETE FROM users WHERE id = 1")
    expect(await all("orders")).toEqual({
      "10": { id: 10, user: null }, "11": { id: 11, user: null }, "12": { id: 12, user: bob }, "13": { id: 13, user: null }
    })
    await step("INSERT INTO users (id, name) VALUES (1, 'ann again')")
    // The target's key changes: its old referrers lose it.
    await step("UPDATE users SET id = 3 WHERE id = 2")
    expect(await all("orders")).toEqual({
      "10": { id: 10, user: { id: 1, name: "ann again" } }, "11": { id: 11, user: { id: 1, name: "ann again" } },
      "12": { id: 12, user: null }, "13": { id: 13, user: null }
    })
    await step("UPDATE orders SET user_id = 3 WHERE id = 12")
    expect(await d.doc("orders", "12")).toEqual({ id: 12, user: { id: 3, name: "bob" } })
  })

  test("junction rows: insert, delete and move rebuild the users they link", async ({ begin, step, all }) => {
    await shop(begin, 
      `INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob');
       INSERT INTO tags VALUES (100, 'red'), (101, 'blue');
       INSERT INTO user_tags VALUES (1, 100)`,
      {
        users: {
          table: "users",
          primaryKey: "id",
          fields: {
            id,
            tags: t.manyToMany({
              table: "tags", through: userTags, primaryKey: "id", orderBy: [{ column: "name", direction: "asc" }],
              fields: { id, name: t.keyword({ required: true }) }
            }),
            tagIds: t.ids({ table: "tags", through: userTags, elementType: "long" }),
            tagCount: t.count({ table: "tags", through: userTags })
          }
        }
      }
    )
    const red = { id: 100, name: "red" }
    const blue = { id: 101, name: "blue" }
    const doc = (uid: number, tags: ReadonlyArray<{ id: number; name: string }>) => ({
      id: uid, tags, tagIds: tags.map((tag) => tag.id).sort((a, b) => a - b), tagCount: tags.length
    })
    expect(await all("users")).toEqual({ "1": doc(1, [red]), "2": doc(2, []) })
    await step("INSERT INTO user_tags VALUES (1, 101), (2, 100)")
    expect(await all("users")).toEqual({ "1": doc(1, [blue, red]), "2": doc(2, [red]) })
    await step("DELETE FROM user_tags WHERE user_id = 1 AND tag_id = 100")
    expect(await all("users")).toEqual({ "1": doc(1, [blue]), "2": doc(2, [red]) })
    await step("UPDATE user_tags SET user_id = 2 WHERE user_id = 1 AND tag_id = 101")
    expect(await all("users")).toEqual({ "1": doc(1, []), "2": doc(2, [blue, red]) })
    await step("UPDATE tags SET name = 'azure' WHERE id = 101")
    await step("DELETE FROM user_tags WHERE tag_id = 100; DELETE FROM tags WHERE id = 100")
    expect(await all("users")).toEqual({ "1": doc(1, []), "2": doc(2, [{ id: 101, name: "azure" }]) })
  })

  test("related rows entering and leaving a join's filtered set", async ({ begin, step, all }) => {
    const paid = [{ column: "status", op: "eq", value: "paid" }] as const
    await shop(begin, 
      `INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob');
       INSERT INTO orders (id, user_id, status, placed_at) VALUES
         (10, 1, 'pending', '2024-01-01'), (11, 1, 'paid', '2024-02-01'), (12, 2, 'paid', '2024-03-01')`,
      {
        users: {
          table: "users",
          primaryKey: "id",
          fields: {
            id,
            paidOrders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", filters: paid, fields: { id } }),
            paidCount: t.count({ table: "orders", foreignKey: "user_id", filters: paid }),
            latestPaid: t.hasOne({
              table: "orders", foreignKey: "user_id", primaryKey: "id", filters: paid,
              orderBy: [{ column: "placed_at", direction: "desc" }], fields: { id }
            })
          }
        },
        orders: {
          table: "orders",
          primaryKey: "id",
          fields: {
            id,
            user: t.belongsTo({
              table: "users", column: "user_id", primaryKey: "id",
              filters: [{ column: "status", op: "eq", value: "active" }], fields: { id }
            })
          }
        }
      }
    )
    const u = (uid: number, ids: ReadonlyArray<number>, latest: number | null) => ({
      id: uid, paidOrders: ids.map((oid) => ({ id: oid })), paidCount: ids.length, latestPaid: latest === null ? null : { id: latest }
    })
    const o = (oid: number, uid: number | null) => ({ id: oid, user: uid === null ? null : { id: uid } })
    expect(await all("users")).toEqual({ "1": u(1, [11], 11), "2": u(2, [12], 12) })

    await step("UPDATE orders SET status = 'paid' WHERE id = 10") // enters
    expect(await all("users")).toEqual({ "1": u(1, [10, 11], 11), "2": u(2, [12], 12) })
    await step("UPDATE orders SET status = 'refunded' WHERE id = 11") // leaves
    expect(await all("users")).toEqual({ "1": u(1, [10], 10), "2": u(2, [12], 12) })
    await step("UPDATE orders SET status = 'pending', user_id = 1 WHERE id = 12") // moves while leaving
    expect(await all("users")).toEqual({ "1": u(1, [10], 10), "2": u(2, [], null) })
    await step("UPDATE orders SET status = 'paid' WHERE id = 12") // enters at its new parent
    expect(await all("users")).toEqual({ "1": u(1, [10, 12], 12), "2": u(2, [], null) })

    // A belongsTo target leaving and re-entering its filter.
    expect(await all("orders")).toEqual({ "10": o(10, 1), "11": o(11, 1), "12": o(12, 1) })
    await step("UPDATE users SET status = 'banned' WHERE id = 1")
    expect(await all("orders")).toEqual({ "10": o(10, null), "11": o(11, null), "12": o(12, null) })
    await step("UPDATE users SET status = 'active' WHERE id = 1")
    expect(await all("orders")).toEqual({ "10": o(10, 1), "11": o(11, 1), "12": o(12, 1) })
  })

  test("root rows entering and leaving the root filters", async ({ begin, step, all }) => {
    await shop(begin, 
      `INSERT INTO users (id, name, status, score) VALUES (1, 'ann', 'active', 10), (2, 'bob', 'banned', 50), (3, 'cy', 'active', 5)`,
      {
        users: {
          table: "users",
          primaryKey: "id",
          filters: [
            { column: "status", op: "in", value: ["active", "invited"] },
            { column: "score", op: "gte", value: 10 }
          ],
          fields: { id, name: t.text(), orderCount: t.count({ table: "orders", foreignKey: "user_id" }) }
        }
      }
    )
    const u = (uid: number, name: string, orderCount = 0) => ({ id: uid, name, orderCount })
    expect(await all("users")).toEqual({ "1": u(1, "ann") })
    await step("UPDATE users SET status = 'active' WHERE id = 2")
    await step("UPDATE users SET score = 20 WHERE id = 3")
    expect(await all("users")).toEqual({ "1": u(1, "ann"), "2": u(2, "bob"), "3": u(3, "cy") })
    await step("UPDATE users SET status = 'banned' WHERE id = 1")
    await step("INSERT INTO users (id, name, status, score) VALUES (4, 'di', 'invited', 100), (5, 'ed', 'banned', 100)")
    expect(await all("users")).toEqual({ "2": u(2, "bob"), "3": u(3, "cy"), "4": u(4, "di") })
    // A related change never brings back a filtered-out root row.
    await step("INSERT INTO orders (id, user_id) VALUES (10, 1), (11, 2), (12, 5)")
    expect(await all("users")).toEqual({ "2": u(2, "bob", 1), "3": u(3, "cy"), "4": u(4, "di") })
    await step("UPDATE users SET score = 9 WHERE id = 3; DELETE FROM users WHERE id = 2")
    expect(await all("users")).toEqual({ "4": u(4, "di") })
  })

  test("three levels (users → orders → items → product) changed at the deepest level", async ({ begin, step, all }) => {
    await shop(begin, 
      `INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob');
       INSERT INTO products VALUES ('${P1}', 'lamp'), ('${P2}', 'desk');
       INSERT INTO orders (id, user_id) VALUES (10, 1), (20, 2);
       INSERT INTO items VALUES (100, 10, '${P1}', 1), (101, 10, '${P2}', 2), (200, 20, '${P1}', 3)`,
      {
        users: {
          table: "users",
          primaryKey: "id",
          fields: {
            id,
            orders: t.hasMany({
              table: "orders", foreignKey: "user_id", primaryKey: "id",
              fields: {
                id,
                qty: t.sum({ table: "items", foreignKey: "order_id", column: "qty", valueType: "long" }),
                items: t.hasMany({
                  table: "items", foreignKey: "order_id", primaryKey: "id",
                  fields: {
                    id,
                    qty: t.integer({ required: true }),
                    product: t.belongsTo({ table: "products", column: "product_id", primaryKey: "id", fields: { name: t.text() } })
                  }
                })
              }
            })
          }
        }
      }
    )
    type Item = readonly [id: number, qty: number, product: string | null]
    const order = (oid: number, items: ReadonlyArray<Item>) => ({
      id: oid,
      qty: items.length === 0 ? null : items.reduce((s, [, qty]) => s + qty, 0),
      items: items.map(([iid, qty, product]) => ({ id: iid, qty, product: product === null ? null : { name: product } }))
    })
    const user = (uid: number, orderList: ReadonlyArray<ReturnType<typeof order>>) => ({ id: uid, orders: orderList })
    expect(await all("users")).toEqual({
      "1": user(1, [order(10, [[100, 1, "lamp"], [101, 2, "desk"]])]),
      "2": user(2, [order(20, [[200, 3, "lamp"]])])
    })

    await step("UPDATE items SET qty = 5 WHERE id = 101")
    expect(await all("users")).toEqual({
      "1": user(1, [order(10, [[100, 1, "lamp"], [101, 5, "desk"]])]),
      "2": user(2, [order(20, [[200, 3, "lamp"]])])
    })
    await step("UPDATE items SET order_id = 20 WHERE id = 100") // moves across users
    expect(await all("users")).toEqual({
      "1": user(1, [order(10, [[101, 5, "desk"]])]),
      "2": user(2, [order(20, [[100, 1, "lamp"], [200, 3, "lamp"]])])
    })
    await step("DELETE FROM items WHERE id = 101")
    expect(await all("users")).toEqual({
      "1": user(1, [order(10, [])]),
      "2": user(2, [order(20, [[100, 1, "lamp"], [200, 3, "lamp"]])])
    })
    await step(`UPDATE products SET name = 'LAMP' WHERE id = '${P1}'`)
    await step(`INSERT INTO items VALUES (102, 10, '${P1}', 7)`)
    expect(await all("users")).toEqual({
      "1": user(1, [order(10, [[102, 7, "LAMP"]])]),
      "2": user(2, [order(20, [[100, 1, "LAMP"], [200, 3, "LAMP"]])])
    })
    await step(`DELETE FROM products WHERE id = '${P1}'`)
    expect(await all("users")).toEqual({
      "1": user(1, [order(10, [[102, 7, null]])]),
      "2": user(2, [order(20, [[100, 1, null], [200, 3, null]])])
    })
    await step("UPDATE orders SET user_id = 2 WHERE id = 10") // the middle level moves, items along
    expect(await all("users")).toEqual({
      "1": user(1, []),
      "2": user(2, [order(10, [[102, 7, null]]), order(20, [[100, 1, null], [200, 3, null]])])
    })
  })

  test("one change reaching many parents at once, some of which link to no grandparent (a NULL in a composite key)", async ({ begin, step, all }) => {
    // Parent keys are (tenant, id): a NULL user_id leaves an order without a user while
    // its tenant is set, so the orders' links sort as (a,1) (a,2) (a,NULL) (b,1) (b,NULL) (c,1) (c,NULL).
    const tables = ["t_users", "t_orders", "t_items"]
    await shop(begin, 
      `CREATE TABLE t_users (tenant text, id int, PRIMARY KEY (tenant, id));
       CREATE TABLE t_orders (id bigint PRIMARY KEY, tenant text NOT NULL, user_id int);
       CREATE TABLE t_items (id bigint PRIMARY KEY, order_id bigint, qty int NOT NULL);
       ${identity.ddl === "" ? "" : tables.map((table) => `ALTER TABLE ${table} REPLICA IDENTITY FULL;`).join(" ")}
       INSERT INTO t_users VALUES ('a', 1), ('a', 2), ('b', 1), ('c', 1);
       INSERT INTO t_orders VALUES (10, 'a', 1), (11, 'a', NULL), (12, 'a', 2), (13, 'b', NULL), (14, 'b', 1), (15, 'c', 1), (16, 'c', NULL);
       INSERT INTO t_items SELECT 100 + id, id, 1 FROM t_orders`,
      {
        users: {
          table: "t_users",
          primaryKey: ["tenant", "id"],
          fields: {
            tenant: t.keyword({ required: true }),
            id: t.integer({ required: true }),
            orders: t.hasMany({
              table: "t_orders", foreignKey: ["tenant", "user_id"], primaryKey: "id",
              fields: { id, items: t.hasMany({ table: "t_items", foreignKey: "order_id", primaryKey: "id", fields: { id, qty: t.integer() } }) }
            })
          }
        }
      }
    )
    const expected = (qty: number) =>
      Object.fromEntries(([["a", 1, 10], ["a", 2, 12], ["b", 1, 14], ["c", 1, 15]] as const).map(([tenant, uid, oid]) => [
        JSON.stringify([tenant, String(uid)]),
        { tenant, id: uid, orders: [{ id: oid, items: [{ id: 100 + oid, qty }] }] }
      ]))
    expect(await all("users")).toEqual(expected(1))
    // One statement, every item: the batch reaches every order, then ascends to the users.
    await step("UPDATE t_items SET qty = 2")
    expect(await all("users")).toEqual(expected(2))
    await step("DELETE FROM t_items")
    expect(await all("users")).toEqual(
      Object.fromEntries(Object.entries(expected(0)).map(([docId, doc]) => [docId, { ...doc, orders: doc.orders.map((o) => ({ ...o, items: [] })) }]))
    )
  })
})

describe("fan-out of one change", () => {
  test("one renamed belongsTo target rebuilds its 4,500 referrers (more than one build chunk)", async ({ begin, step, d }) => {
    await begin({
      ddl: `CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL);
            CREATE TABLE items (id int PRIMARY KEY, product_id int, qty int NOT NULL)`,
      before: `INSERT INTO products VALUES (1, 'old'), (2, 'other');
               INSERT INTO items SELECT i, CASE WHEN i <= 4500 THEN 1 ELSE 2 END, i FROM generate_series(1, 4600) AS i`,
      indexes: {
        items: {
          table: "items",
          primaryKey: "id",
          fields: {
            qty: t.integer({ required: true }),
            product: t.belongsTo({ table: "products", column: "product_id", primaryKey: "id", fields: { name: t.text({ required: true }) } })
          }
        }
      }
    })
    await step("UPDATE products SET name = 'renamed' WHERE id = 1")
    const count = async (name: string) => {
      await d.raw("POST", `/${d.prefix}items/_refresh`)
      const response = await d.raw("POST", `/${d.prefix}items/_count`, { query: { term: { "product.name.keyword": name } } })
      const body: { count: number } = JSON.parse(response.text)
      return body.count
    }
    expect(await count("renamed")).toBe(4500)
    expect(await count("old")).toBe(0)
    expect(await count("other")).toBe(100)
  })
})

describe("truncate", () => {
  test("TRUNCATE of a related table rebuilds the documents that read it", async ({ begin, step, all }) => {
    await begin({
      ddl: SHOP_DDL,
      before: `INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob');
               INSERT INTO orders (id, user_id, total) VALUES (10, 1, 5.00), (11, 2, 1.50)`,
      indexes: {
        users: {
          table: "users",
          primaryKey: "id",
          fields: {
            id,
            orders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", fields: { id } }),
            orderCount: t.count({ table: "orders", foreignKey: "user_id" })
          }
        }
      }
    })
    expect(await all("users")).toEqual({
      "1": { id: 1, orders: [{ id: 10 }], orderCount: 1 },
      "2": { id: 2, orders: [{ id: 11 }], orderCount: 1 }
    })
    await step("TRUNCATE orders")
    expect(await all("users")).toEqual({
      "1": { id: 1, orders: [], orderCount: 0 },
      "2": { id: 2, orders: [], orderCount: 0 }
    })
  })
})
