/**
 * The cases flusso exists for, end to end through the real engine on real PostgreSQL
 * (logical replication) and real OpenSearch: live round-trips per key type, soft delete,
 * backfill, restart without re-seeding.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { t } from "flusso"
import type { ScalarField } from "../../src/config/model.js"
import { type Deployment, makeDeployment } from "../support/deployment.js"

let d: Deployment
beforeEach(async () => {
  d = await makeDeployment()
})
afterEach(async () => {
  await d.cleanup()
})

interface KeyCase {
  readonly name: string
  readonly type: string
  readonly id: string
  readonly newId: string
  /** How the key appears in the document. */
  readonly field: ScalarField
  readonly docId: (id: string) => unknown
}

const KEY_CASES: ReadonlyArray<KeyCase> = [
  {
    name: "k_uuid", type: "uuid", id: "6F9619FF-8B86-D011-B42D-00C04FC964FF", newId: "00000000-0000-0000-0000-00000000000a",
    field: t.uuid({ required: true }), docId: (id) => id.toLowerCase()
  },
  { name: "k_int", type: "int", id: "42", newId: "43", field: t.integer({ required: true }), docId: Number },
  { name: "k_bigint", type: "bigint", id: "9007199254740993", newId: "-9007199254740993", field: t.long({ required: true }), docId: (id) => id },
  { name: "k_text", type: "text", id: "Alpha/Beta gamma", newId: "δέλτα", field: t.keyword({ required: true }), docId: (id) => id },
  {
    name: "k_ts", type: "timestamptz", id: "2024-02-29 23:59:59.000001+00", newId: "1999-12-31 00:00:00+00",
    field: t.timestamp({ required: true }), docId: () => undefined
  }
]

describe("live sync", () => {
  it("round-trips insert → update → key change → delete for uuid, int, bigint, text and timestamptz keys", async () => {
    for (const k of KEY_CASES) {
      await d.sql(`CREATE TABLE ${k.name} (id ${k.type} PRIMARY KEY, name text NOT NULL, n int)`)
    }
    const indexes = Object.fromEntries(KEY_CASES.map((k) => [k.name, {
      table: k.name,
      primaryKey: "id",
      fields: { id: k.field, name: t.text({ required: true }), n: t.integer() }
    }]))
    await d.start(d.config(indexes))
    await d.caughtUp()

    // The document id is the key's canonical text form: what Postgres prints.
    const canonical = async (k: KeyCase, id: string) =>
      String((await d.sql(`SELECT $1::${k.type}::text AS id`, [id]))[0]?.["id"])

    for (const k of KEY_CASES) await d.sql(`INSERT INTO ${k.name} VALUES ($1, 'first', 1)`, [k.id])
    await d.caughtUp()
    for (const k of KEY_CASES) {
      const doc = await d.doc(k.name, await canonical(k, k.id))
      expect(doc, k.name).toMatchObject({ name: "first", n: 1 })
    }

    // An UPDATE of a non-key column updates the document — it must never delete it.
    for (const k of KEY_CASES) await d.sql(`UPDATE ${k.name} SET name = 'second', n = NULL WHERE id = $1`, [k.id])
    await d.caughtUp()
    for (const k of KEY_CASES) {
      expect(await d.doc(k.name, await canonical(k, k.id)), k.name).toMatchObject({ name: "second", n: null })
    }

    // A key change moves the document.
    for (const k of KEY_CASES) await d.sql(`UPDATE ${k.name} SET id = $2 WHERE id = $1`, [k.id, k.newId])
    await d.caughtUp()
    for (const k of KEY_CASES) {
      expect(await d.doc(k.name, await canonical(k, k.id)), k.name).toBeUndefined()
      expect(await d.doc(k.name, await canonical(k, k.newId)), k.name).toMatchObject({ name: "second" })
    }

    for (const k of KEY_CASES) await d.sql(`DELETE FROM ${k.name} WHERE id = $1`, [k.newId])
    await d.caughtUp()
    for (const k of KEY_CASES) {
      expect(await d.doc(k.name, await canonical(k, k.newId)), k.name).toBeUndefined()
      expect(await d.count(k.name), k.name).toBe(0)
    }
  })

  it("keeps exact values: int8, numeric, microsecond timestamps, dates, bytea, json, transforms", async () => {
    await d.sql(`CREATE TABLE vals (
      id int PRIMARY KEY, big bigint, amount numeric(30,10), at timestamptz, local timestamp, day date,
      blob bytea, payload jsonb, email text, ratio double precision, flag boolean)`)
    await d.start(d.config({
      vals: {
        table: "vals",
        primaryKey: "id",
        fields: {
          id: t.integer({ required: true }),
          big: t.long(),
          amount: t.decimal(),
          at: t.timestamp(),
          local: t.timestamp(),
          day: t.date(),
          blob: t.binary(),
          payload: t.json(),
          email: t.keyword({ transforms: ["trim", "lowercase"] }),
          ratio: t.double(),
          flag: t.boolean({ default: false })
        }
      }
    }))
    await d.caughtUp()
    await d.sql(`INSERT INTO vals VALUES (1, 9223372036854775807, 12345678901234567890.0123456789,
      '2024-01-02 03:04:05.1+00', '2024-01-02 03:04:05', '2024-02-29', '\\x00ff10', '{"a":[1,2]}',
      '  Ada@Example.COM ', 0.1, NULL)`)
    await d.caughtUp()
    const response = await d.raw("GET", `/${d.prefix}vals/_doc/1?_source=true`)
    // Raw text, not JSON.parse: 64-bit and numeric values must keep every digit.
    expect(response.text).toContain("9223372036854775807")
    expect(response.text).toContain("12345678901234567890.0123456789")
    expect(await d.doc("vals", "1")).toMatchObject({
      at: "2024-01-02T03:04:05.100000Z",
      local: "2024-01-02T03:04:05.000000",
      day: "2024-02-29",
      blob: "AP8Q",
      payload: { a: [1, 2] },
      email: "ada@example.com",
      ratio: 0.1,
      flag: false
    })
  })
})

describe("soft delete", () => {
  it("removes a document while its boolean or timestamptz marker is set, and restores it when cleared", async () => {
    await d.sql("CREATE TABLE by_flag (id int PRIMARY KEY, name text, deleted boolean NOT NULL DEFAULT false)")
    await d.sql("CREATE TABLE by_time (id int PRIMARY KEY, name text, deleted_at timestamptz)")
    const fields = { id: t.integer({ required: true }), name: t.text() }
    await d.start(d.config({
      by_flag: { table: "by_flag", primaryKey: "id", softDelete: { column: "deleted" }, fields },
      by_time: { table: "by_time", primaryKey: "id", softDelete: { column: "deleted_at" }, fields }
    }))
    await d.caughtUp()
    await d.sql("INSERT INTO by_flag VALUES (1, 'a', false), (2, 'b', true)")
    await d.sql("INSERT INTO by_time VALUES (1, 'a', NULL), (2, 'b', now())")
    await d.caughtUp()
    for (const index of ["by_flag", "by_time"]) {
      expect(await d.doc(index, "1"), index).toMatchObject({ name: "a" })
      expect(await d.doc(index, "2"), index).toBeUndefined()
    }

    await d.sql("UPDATE by_flag SET deleted = true WHERE id = 1")
    await d.sql("UPDATE by_time SET deleted_at = now() WHERE id = 1")
    await d.caughtUp()
    for (const index of ["by_flag", "by_time"]) expect(await d.doc(index, "1"), index).toBeUndefined()
    // The rows remain: only the documents left.
    expect(await d.sql("SELECT count(*)::int AS n FROM by_flag")).toEqual([{ n: 2 }])

    await d.sql("UPDATE by_flag SET deleted = false, name = 'back' WHERE id = 1")
    await d.sql("UPDATE by_time SET deleted_at = NULL, name = 'back' WHERE id = 1")
    await d.caughtUp()
    for (const index of ["by_flag", "by_time"]) expect(await d.doc(index, "1"), index).toMatchObject({ name: "back" })
  })
})

describe("backfill", () => {
  const usersIndex = {
    users: {
      table: "users",
      primaryKey: ["tenant", "id"],
      softDelete: { column: "deleted" },
      fields: { tenant: t.keyword({ required: true }), id: t.integer({ required: true }), name: t.text() }
    }
  }

  it("indexes rows that predate the start, never soft-deleted ones, then marks the index seeded", async () => {
    await d.sql("CREATE TABLE users (tenant text, id int, name text, deleted boolean NOT NULL DEFAULT false, PRIMARY KEY (tenant, id))")
    await d.sql(`INSERT INTO users SELECT t, i, 'user ' || i, i % 10 = 0
                   FROM unnest(ARRAY['acme', 'globex']) AS t, generate_series(1, 1500) AS i`)
    const running = await d.start(d.config(usersIndex))
    const meta = async () => {
      await d.raw("POST", `/${d.prefix}flusso_meta/_refresh`)
      const response = await d.raw("GET", `/${d.prefix}flusso_meta/_search`)
      return response.text
    }
    await waitForSeeded(meta)
    expect(await d.count("users")).toBe(2700)
    expect(await d.doc("users", JSON.stringify(["acme", "7"]))).toEqual({ tenant: "acme", id: 7, name: "user 7" })
    expect(await d.doc("users", JSON.stringify(["globex", "10"]))).toBeUndefined()

    // Restart: changes made while stopped land, and nothing is seeded again — a document
    // removed behind flusso's back for an unchanged row stays removed.
    await running.stop()
    await d.raw("DELETE", `/${d.prefix}users/_doc/${encodeURIComponent(JSON.stringify(["acme", "1"]))}?refresh=true`)
    await d.sql("UPDATE users SET name = 'renamed' WHERE tenant = 'acme' AND id = 2")
    await d.sql("DELETE FROM users WHERE tenant = 'acme' AND id = 3")
    await d.sql("INSERT INTO users VALUES ('initech', 1, 'new', false)")
    await d.sql("UPDATE users SET deleted = true WHERE tenant = 'acme' AND id = 4")
    await d.start(d.config(usersIndex))
    await d.caughtUp()
    expect(await d.doc("users", JSON.stringify(["acme", "2"]))).toMatchObject({ name: "renamed" })
    expect(await d.doc("users", JSON.stringify(["acme", "3"]))).toBeUndefined()
    expect(await d.doc("users", JSON.stringify(["initech", "1"]))).toMatchObject({ name: "new" })
    expect(await d.doc("users", JSON.stringify(["acme", "4"]))).toBeUndefined()
    expect(await d.doc("users", JSON.stringify(["acme", "1"]))).toBeUndefined()
    expect(await d.count("users")).toBe(2700 - 1 - 1 + 1 - 1)
  })
})

const waitForSeeded = async (meta: () => Promise<string>) => {
  const deadline = Date.now() + 60_000
  for (;;) {
    const text = await meta()
    if (/"seeded"\s*:\s*true/.test(text)) return
    if (Date.now() > deadline) throw new Error(`index never marked seeded: ${text}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
