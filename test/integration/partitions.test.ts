/**
 * Partitioned tables, as a root and as a related table (a join and an aggregate), under
 * both kinds of publication: the one flusso manages (publishing via the partition root)
 * and one the user manages without it (each change named by its partition, mapped by
 * flusso). Every document is compared with one computed in SQL after live changes —
 * rows moving between partitions included — after a restart, and after partitions are
 * attached, detached, truncated and dropped while flusso runs or while it is down.
 */
import { Effect, Metric } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { t } from "flusso"
import * as Metrics from "../../src/status/metrics.js"
import { type Deployment, makeDeployment, type Running, waitFor } from "../support/deployment.js"
import { compareIndex, report } from "../support/differential/compare.js"
import { caughtUp, documents, settled } from "../support/differential/indexState.js"

let d: Deployment
beforeEach(async () => {
  d = await makeDeployment()
})
afterEach(async () => {
  await d.cleanup()
})

const DDL = `
  CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);
  CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, account_id bigint, title text NOT NULL, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
  CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  INSERT INTO accounts SELECT g, 'account ' || g FROM generate_series(1, 4) g;
  INSERT INTO events SELECT g, DATE '2024-03-01' + (g * 40), 1 + g % 4, 'event ' || g FROM generate_series(1, 12) g;
`

const INDEXES = {
  events: {
    table: "events",
    primaryKey: "id",
    fields: {
      id: t.long({ required: true }),
      at: t.date({ required: true }),
      title: t.text({ required: true }),
      account: t.belongsTo({ table: "accounts", primaryKey: "id", column: "account_id", fields: { name: t.text() } })
    }
  },
  accounts: {
    table: "accounts",
    primaryKey: "id",
    fields: {
      name: t.text({ required: true }),
      events: t.hasMany({ table: "events", primaryKey: "id", foreignKey: "account_id", orderBy: [{ column: "id" }], fields: { title: t.text() } }),
      eventCount: t.count({ table: "events", foreignKey: "account_id" })
    }
  }
}

/** Both indexes as SQL computes them, by document id. */
const expected = async (): Promise<Record<"events" | "accounts", Map<string, unknown>>> => {
  const events = await d.sql(`
    SELECT e.id::text AS id, json_build_object('id', e.id, 'at', e.at::text, 'title', e.title,
             'account', CASE WHEN a.id IS NULL THEN NULL ELSE json_build_object('name', a.name) END) AS doc
      FROM events e LEFT JOIN accounts a ON a.id = e.account_id`)
  const accounts = await d.sql(`
    SELECT a.id::text AS id, json_build_object('name', a.name,
             'events', coalesce((SELECT json_agg(json_build_object('title', e.title) ORDER BY e.id) FROM events e WHERE e.account_id = a.id), '[]'),
             'eventCount', (SELECT count(*) FROM events e WHERE e.account_id = a.id)) AS doc
      FROM accounts a`)
  const byId = (rows: ReadonlyArray<Record<string, unknown>>) => new Map(rows.map((r) => [String(r["id"]), r["doc"]]))
  return { events: byId(events), accounts: byId(accounts) }
}

/** Every document equals SQL's, nothing missing, nothing extra. */
const expectExact = async () => {
  const want = await expected()
  const comparisons = [
    compareIndex("events", want.events, await documents(d, "events")),
    compareIndex("accounts", want.accounts, await documents(d, "accounts"))
  ]
  expect(comparisons.flatMap((c) => c.mismatches), report(comparisons)).toEqual([])
}

/** Waits until every document equals SQL's (for changes no WAL position tells the end of). */
const eventuallyExact = (timeoutMs = 60_000) =>
  waitFor("the indexes to equal SQL", async () => {
    try {
      await expectExact()
      return true
    } catch {
      return undefined
    }
  }, timeoutMs).then(expectExact)

/** Inserts, updates, rows moving between partitions (the partition key changes), deletes, on both tables. */
const liveChanges = async () => {
  await d.sql("INSERT INTO events VALUES (100, '2024-06-01', 1, 'new in 2024'), (101, '2025-06-01', 2, 'new in 2025')")
  await d.sql("UPDATE events SET title = 'renamed' WHERE id = 3")
  await d.sql("UPDATE events SET at = '2025-02-02' WHERE id = 1") // 2024 → 2025: a delete and an insert
  await d.sql("UPDATE events SET at = '2024-02-02', account_id = 4 WHERE id = 9") // back, and to another account
  await d.sql("DELETE FROM events WHERE id = 2")
  await d.sql("UPDATE accounts SET name = 'renamed account' WHERE id = 1")
}

describe("partitioned tables", () => {
  it("as root and related table under the publication flusso manages (via the partition root): seeding, live, restart", async () => {
    await d.sql(DDL)
    // FULL on the partitioned table only: its partitions keep DEFAULT, so a delete carries
    // the key and NULLs for the rest — which must not pass for the old row.
    await d.sql("ALTER TABLE events REPLICA IDENTITY FULL")
    let running: Running = await d.start(d.config(INDEXES))
    await settled(d, 2, 60_000, running)
    await expectExact()
    const [publication] = await d.sql("SELECT pubviaroot FROM pg_publication WHERE pubname = 'flusso'")
    expect(publication?.["pubviaroot"]).toBe(true)

    await liveChanges()
    await caughtUp(d, 60_000, running)
    await expectExact()

    // A restart finds the publication whole (it lists the root, not partitions) and goes on.
    await running.stop()
    await d.sql("INSERT INTO events VALUES (102, '2024-12-31', 3, 'while stopped')")
    await d.sql("DELETE FROM events WHERE id = 5")
    running = await d.start(d.config(INDEXES))
    await caughtUp(d, 60_000, running)
    await expectExact()
  })

  it("under a publication the user manages without publish_via_partition_root: partitions map to their table; unread tables are counted", async () => {
    await d.sql(DDL)
    const unread = `audit_${d.db.name}`
    await d.sql(`CREATE TABLE ${unread} (id int PRIMARY KEY, what text)`)
    await d.sql(`CREATE PUBLICATION mine FOR TABLE accounts, events, ${unread}`)
    const config = d.config(INDEXES)
    const source = { ...(config["source"] as Record<string, unknown>), publication: "mine", managePublication: false }
    let running: Running = await d.start({ ...config, source })
    await settled(d, 2, 60_000, running)
    const [publication] = await d.sql("SELECT pubviaroot FROM pg_publication WHERE pubname = 'mine'")
    expect(publication?.["pubviaroot"]).toBe(false)

    await liveChanges()
    await d.sql(`INSERT INTO ${unread} VALUES (1, 'a'), (2, 'b')`)
    await caughtUp(d, 60_000, running)
    await expectExact()
    const ignored = await Effect.runPromise(Metric.value(Metric.tagged(Metrics.changesIgnored, "table", `public.${unread}`)))
    expect(ignored.count).toBe(2)

    await running.stop()
    await d.sql("UPDATE events SET at = '2025-07-07' WHERE id = 4")
    running = await d.start({ ...config, source })
    await caughtUp(d, 60_000, running)
    await expectExact()
  })

  it("partitions attached with rows, detached, truncated and dropped while running", async () => {
    await d.sql(DDL)
    const running = await d.start(d.config(INDEXES))
    await settled(d, 2, 60_000, running)

    // A table filled on its own, then attached: its rows appear in both indexes.
    await d.sql("CREATE TABLE events_2023 (LIKE events INCLUDING ALL)")
    await d.sql("INSERT INTO events_2023 VALUES (200, '2023-05-05', 1, 'attached'), (201, '2023-06-06', 2, 'attached too')")
    await d.sql("ALTER TABLE events ATTACH PARTITION events_2023 FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')")
    await eventuallyExact()
    expect(await d.doc("events", "200")).toMatchObject({ title: "attached" })

    // Live changes keep flowing meanwhile, into the new partition too.
    await d.sql("INSERT INTO events VALUES (202, '2023-07-07', 3, 'inserted after attach')")
    await caughtUp(d, 60_000, running)

    await d.sql("ALTER TABLE events DETACH PARTITION events_2024")
    await eventuallyExact()
    expect(await d.doc("events", "1")).toBeUndefined()

    await d.sql("TRUNCATE events_2023")
    await eventuallyExact()
    expect(await d.doc("events", "200")).toBeUndefined()

    await d.sql("DROP TABLE events_2025")
    await eventuallyExact()
    expect(await d.count("events")).toBe(0)
  })

  it("a partition detached while flusso is down is found at the next start", async () => {
    await d.sql(DDL)
    let running: Running = await d.start(d.config(INDEXES))
    await settled(d, 2, 60_000, running)
    await running.stop()
    await d.sql("ALTER TABLE events DETACH PARTITION events_2025")
    running = await d.start(d.config(INDEXES))
    await eventuallyExact()
    await running.stop()
  })
})
