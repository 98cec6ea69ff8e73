/**
 * The source tables' own schema changing while flusso streams (postgres.md: the stream
 * carries each table's new shape before its next change): columns added, dropped and
 * retyped, indexes built, replica identity changed, all under steady inserts and updates
 * of the root and a child table — every document still equals the one computed in SQL.
 * A change that breaks the config (a column it reads renamed away) stops flusso with an
 * error naming it, nothing acknowledged past it; once the column is back a restart loses
 * nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Cause, Exit } from "effect"
import pg from "pg"
import { t } from "flusso"
import { type Deployment, makeDeployment, waitFor } from "../support/deployment.js"
import { caughtUp, documentsObject, seeded } from "../support/differential/indexState.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let d: Deployment
beforeEach(async () => {
  d = await makeDeployment()
  await d.sql(`
    CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, status int NOT NULL DEFAULT 0, legacy text);
    CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total int NOT NULL);
    INSERT INTO users (name, status) SELECT 'user ' || g, g % 3 FROM generate_series(1, 200) g;
    INSERT INTO orders (user_id, total) SELECT 1 + g % 200, g FROM generate_series(1, 400) g`)
})
afterEach(async () => {
  await d.cleanup()
})

const id = t.long({ required: true })
const indexes = {
  users: {
    table: "users",
    primaryKey: "id",
    fields: {
      id,
      name: t.text({ required: true }),
      status: t.long({ required: true }),
      orders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", orderBy: [{ column: "id" }], fields: { id, total: t.long({ required: true }) } }),
      orderCount: t.count({ table: "orders", foreignKey: "user_id" })
    }
  }
}

/** Every user's document as the config defines it, computed in SQL. */
const expected = async (): Promise<Record<string, unknown>> => {
  const rows = await d.sql(`
    SELECT u.id, u.name, u.status::bigint AS status,
           coalesce((SELECT json_agg(json_build_object('id', o.id, 'total', o.total::bigint) ORDER BY o.id) FROM orders o WHERE o.user_id = u.id), '[]') AS orders,
           (SELECT count(*)::int FROM orders o WHERE o.user_id = u.id) AS "orderCount"
    FROM users u ORDER BY u.id`)
  return Object.fromEntries(rows.map((row) => [String(row["id"]), {
    id: Number(row["id"]),
    name: row["name"],
    status: Number(row["status"]),
    orders: row["orders"],
    orderCount: row["orderCount"]
  }]))
}

/** Inserts users and orders, moves orders and updates users, on its own connection, until stopped. */
const startWriter = () => {
  let running = true
  let statements = 0
  let failure: unknown
  const done = (async () => {
    const client = new pg.Client({ connectionString: d.db.url })
    client.on("error", () => undefined)
    await client.connect()
    try {
      while (running) {
        await client.query("INSERT INTO users (name, status) VALUES ('live', 1)")
        await client.query("INSERT INTO orders (user_id, total) SELECT max(id), 5 FROM users")
        await client.query("UPDATE orders SET user_id = 1 + (random() * 199)::int WHERE id = 1 + (random() * 399)::int")
        await client.query("UPDATE users SET status = status + 1 WHERE id = 1 + (random() * 199)::int")
        statements += 4
        await sleep(10)
      }
    } finally {
      await client.end()
    }
  })().catch((error: unknown) => {
    failure = error
  })
  return {
    stop: async () => {
      running = false
      await done
      if (failure !== undefined) throw failure
      return statements
    }
  }
}

describe("source tables altered while flusso streams", () => {
  it("columns added, dropped and retyped, an index built and the replica identity changed under steady writes: every document equals SQL", async () => {
    const running = await d.start(d.config(indexes))
    await seeded(d, 1, 60_000, running)
    const writer = startWriter()
    const changes = [
      "ALTER TABLE users ADD COLUMN note text",
      "ALTER TABLE orders ADD COLUMN extra int NOT NULL DEFAULT 7",
      "UPDATE users SET note = 'n' WHERE id % 5 = 0",
      // Rewrites the table under an exclusive lock; the column the config reads changes type.
      "ALTER TABLE users ALTER COLUMN status TYPE bigint",
      "ALTER TABLE orders ALTER COLUMN total TYPE bigint",
      "ALTER TABLE orders DROP COLUMN extra",
      "ALTER TABLE users DROP COLUMN legacy",
      "CREATE INDEX orders_user_id ON orders (user_id)",
      "ALTER TABLE orders REPLICA IDENTITY FULL",
      "ALTER TABLE users ALTER COLUMN note TYPE varchar(20)"
    ]
    for (const ddl of changes) {
      await sleep(300)
      await d.sql(ddl)
    }
    await sleep(500)
    const statements = await writer.stop()
    expect(statements).toBeGreaterThan(0)
    await caughtUp(d, 60_000, running)
    expect(await documentsObject(d, "users")).toEqual(await expected())
    await running.stop()
  }, 120_000)

  it("a column the config reads renamed away stops flusso with its name, acknowledging nothing past it; renamed back, a restart loses nothing", async () => {
    const first = await d.start(d.config(indexes))
    await seeded(d, 1, 60_000, first)
    await d.sql("ALTER TABLE users RENAME COLUMN name TO full_name")
    await d.sql("INSERT INTO users (full_name, status) VALUES ('while broken', 2)")
    await d.sql("INSERT INTO orders (user_id, total) VALUES (3, 999)")
    const exit = await first.exit
    expect(Exit.isFailure(exit)).toBe(true)
    const reason = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
    expect(reason).toMatch(/column .*name.* does not exist/)
    expect(reason).toMatch(/check the table and column names in the config/)

    await d.sql("ALTER TABLE users RENAME COLUMN full_name TO name")
    const second = await d.start(d.config(indexes))
    await caughtUp(d, 60_000, second)
    await waitFor("the rows written while broken", async () => ((await d.doc("users", "201")) === undefined ? undefined : true))
    expect(await documentsObject(d, "users")).toEqual(await expected())
    await second.stop()
  }, 120_000)
})
