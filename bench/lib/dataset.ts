/**
 * The bench dataset in its own database `flusso_bench`: users → orders (3 each) → items
 * (2 each), tags (50) with ~2 per user through user_tags, every foreign key indexed.
 * Built with generate_series in a few statements. Kept between runs when the size is the
 * same (what a previous run's live phases added or changed is undone); rebuilt when the
 * size differs or `--fresh` asks.
 */
import pg from "pg"
import { log } from "./util.js"

export const DATABASE = "flusso_bench"
/** Bumped when the schema or the generated data change, so an old dataset is rebuilt. */
const DATASET_VERSION = 2

export const databaseUrl = (adminUrl: string): string => {
  const url = new URL(adminUrl)
  url.pathname = `/${DATABASE}`
  return url.toString()
}

export interface Dataset {
  readonly url: string
  readonly users: number
  readonly orders: number
  readonly items: number
  readonly userTags: number
  readonly rebuilt: boolean
  readonly buildSeconds: number | null
}

const SCHEMA = `
CREATE TABLE users (
  id bigint NOT NULL, name text NOT NULL, email text NOT NULL, created_at timestamptz NOT NULL,
  score int NOT NULL, marker bigint
);
CREATE TABLE orders (
  id bigint NOT NULL, user_id bigint NOT NULL, status text NOT NULL, total numeric(12,2) NOT NULL,
  placed_at timestamptz NOT NULL
);
CREATE TABLE items (
  id bigint NOT NULL, order_id bigint NOT NULL, sku text NOT NULL, quantity int NOT NULL,
  unit_price numeric(10,2) NOT NULL
);
CREATE TABLE tags (id int NOT NULL, name text NOT NULL);
CREATE TABLE user_tags (user_id bigint NOT NULL, tag_id int NOT NULL);
CREATE TABLE bench_meta (users int NOT NULL, version int NOT NULL, built_at timestamptz NOT NULL DEFAULT now());
`

const FIRST_NAMES = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus", "Radia", "Tony"]
const LAST_NAMES = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth", "Perlman", "Hoare"]
const STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]

const arrayLiteral = (values: ReadonlyArray<string>) => `ARRAY[${values.map((v) => `'${v}'`).join(",")}]`

const load = (n: number) => [
  `INSERT INTO tags SELECT g, 'tag-' || g FROM generate_series(1, 50) g`,
  `INSERT INTO users
     SELECT g,
            (${arrayLiteral(FIRST_NAMES)})[1 + g % 12] || ' ' || (${arrayLiteral(LAST_NAMES)})[1 + (g / 12) % 12] || ' ' || g,
            'user' || g || '@example.com',
            timestamptz '2020-01-01 00:00:00+00' + g * interval '17 minutes',
            (g * 7919) % 1000,
            NULL
       FROM generate_series(1::bigint, ${n}) g`,
  `INSERT INTO orders
     SELECT o, (o - 1) / 3 + 1,
            (${arrayLiteral(STATUSES)})[1 + o % 5],
            ((o * 3779) % 100000) / 100.0,
            timestamptz '2023-01-01 00:00:00+00' + o * interval '1 minute'
       FROM generate_series(1::bigint, ${3 * n}) o`,
  `INSERT INTO items
     SELECT i, (i - 1) / 2 + 1,
            'SKU-' || lpad(((i * 131) % 100000)::text, 5, '0'),
            1 + i % 5,
            ((i * 53) % 10000) / 100.0
       FROM generate_series(1::bigint, ${6 * n}) i`,
  // Two distinct tags per user: t1 = u % 50 + 1, t2 = t1 shifted by 1..49.
  `INSERT INTO user_tags
     SELECT u, t FROM generate_series(1, ${n}) u,
            LATERAL (VALUES (u % 50 + 1), ((u % 50 + 1 + (u / 50) % 49) % 50 + 1)) AS v(t)`,
  `ALTER TABLE users ADD PRIMARY KEY (id)`,
  `ALTER TABLE orders ADD PRIMARY KEY (id)`,
  `ALTER TABLE items ADD PRIMARY KEY (id)`,
  `ALTER TABLE tags ADD PRIMARY KEY (id)`,
  `ALTER TABLE user_tags ADD PRIMARY KEY (user_id, tag_id)`,
  `ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id)`,
  `ALTER TABLE items ADD FOREIGN KEY (order_id) REFERENCES orders (id)`,
  `ALTER TABLE user_tags ADD FOREIGN KEY (user_id) REFERENCES users (id)`,
  `ALTER TABLE user_tags ADD FOREIGN KEY (tag_id) REFERENCES tags (id)`,
  `CREATE INDEX orders_user_id ON orders (user_id)`,
  `CREATE INDEX items_order_id ON items (order_id)`,
  `CREATE INDEX user_tags_tag_id ON user_tags (tag_id)`,
  `INSERT INTO bench_meta (users, version) VALUES (${n}, ${DATASET_VERSION})`
]

const withClient = async <A>(url: string, body: (c: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  client.on("error", () => undefined)
  await client.connect()
  try {
    return await body(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Drops the inactive replication slots of the bench database (left by an interrupted run); refuses active ones. */
export const dropLeftoverSlots = (adminUrl: string): Promise<ReadonlyArray<string>> =>
  withClient(adminUrl, async (c) => {
    const rows = (await c.query<{ slot_name: string; active: boolean }>(
      "SELECT slot_name, active FROM pg_replication_slots WHERE database = $1",
      [DATABASE]
    )).rows
    const active = rows.filter((r) => r.active).map((r) => r.slot_name)
    if (active.length > 0) {
      throw new Error(`replication slots ${active.join(", ")} of database ${DATABASE} are in use: is another bench running? Stop it first`)
    }
    for (const r of rows) await c.query("SELECT pg_drop_replication_slot($1)", [r.slot_name])
    return rows.map((r) => r.slot_name)
  })

/**
 * The native test cluster runs with `synchronous_commit=off` (tests want speed): a commit
 * then reaches the WAL, and the replication stream, only at the WAL writer's next round
 * (up to `wal_writer_delay`, 200 ms) — a delay of the cluster's, not of flusso's, that
 * would be half of every latency figure. The bench database commits as production does.
 */
const asProduction = (adminUrl: string) =>
  withClient(adminUrl, (c) => c.query(`ALTER DATABASE ${DATABASE} SET synchronous_commit = on`))

export const prepareDataset = async (adminUrl: string, n: number, fresh: boolean): Promise<Dataset> => {
  const dataset = await prepareRows(adminUrl, n, fresh)
  await asProduction(adminUrl)
  return dataset
}

const prepareRows = async (adminUrl: string, n: number, fresh: boolean): Promise<Dataset> => {
  const url = databaseUrl(adminUrl)
  const leftovers = await dropLeftoverSlots(adminUrl)
  if (leftovers.length > 0) log(`dropped replication slots left by an earlier run: ${leftovers.join(", ")}`)
  const exists = await withClient(adminUrl, async (c) => (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE])).rowCount === 1)
  let reuse = false
  if (exists && !fresh) {
    reuse = await withClient(url, async (c) => {
      const meta = await c.query<{ users: number; version: number }>("SELECT users, version FROM bench_meta").catch(() => undefined)
      const row = meta?.rows[0]
      return row !== undefined && row.users === n && row.version === DATASET_VERSION
    })
  }
  if (reuse) {
    log(`reusing database ${DATABASE} (${n} users); undoing what earlier live phases changed`)
    await withClient(url, async (c) => {
      const extra = await c.query(`DELETE FROM orders WHERE id > ${3 * n}`)
      const marked = await c.query("UPDATE users SET marker = NULL WHERE marker IS NOT NULL")
      // Publications of earlier runs (an interrupted one leaves its own).
      const pubs = (await c.query<{ pubname: string }>("SELECT pubname FROM pg_publication WHERE pubname LIKE 'bench\\_%'")).rows
      for (const p of pubs) await c.query(`DROP PUBLICATION IF EXISTS "${p.pubname}"`)
      if ((extra.rowCount ?? 0) > 0 || (marked.rowCount ?? 0) > 0) await c.query("VACUUM (ANALYZE) users, orders")
    })
    return { url, users: n, orders: 3 * n, items: 6 * n, userTags: 2 * n, rebuilt: false, buildSeconds: null }
  }
  log(`${exists ? "recreating" : "creating"} database ${DATABASE} with ${n} users, ${3 * n} orders, ${6 * n} items`)
  const started = Date.now()
  await withClient(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`)
    await c.query(`CREATE DATABASE ${DATABASE}`)
  })
  await withClient(url, async (c) => {
    await c.query(SCHEMA)
    for (const statement of load(n)) await c.query(statement)
    await c.query("VACUUM (ANALYZE)")
  })
  const buildSeconds = (Date.now() - started) / 1000
  log(`dataset built in ${buildSeconds.toFixed(1)} s`)
  return { url, users: n, orders: 3 * n, items: 6 * n, userTags: 2 * n, rebuilt: true, buildSeconds }
}

/** Drops the given publications in the bench database (flusso creates them; they hold no WAL, but tidy up). */
export const dropPublications = (url: string, names: ReadonlyArray<string>): Promise<void> =>
  withClient(url, async (c) => {
    for (const name of names) await c.query(`DROP PUBLICATION IF EXISTS "${name.replaceAll("\"", "\"\"")}"`)
  })

/** Whether a replication slot is there, and streaming. */
export const slotState = (url: string, slot: string): Promise<"absent" | "active" | "inactive"> =>
  withClient(url, async (c) => {
    const row = (await c.query<{ active: boolean }>("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [slot])).rows[0]
    return row === undefined ? "absent" : row.active ? "active" : "inactive"
  })

/**
 * Undoes what one tool's live phases changed, before the next tool runs on the same data:
 * the inserted orders deleted, the markers cleared (score increments stay: any score is
 * as good as another). Run when no slot of the run exists, so no tool sees these changes.
 */
export const undoLiveChanges = (url: string, users: number): Promise<{ ordersDeleted: number; markersCleared: number }> =>
  withClient(url, async (c) => {
    const extra = await c.query(`DELETE FROM orders WHERE id > ${3 * users}`)
    const marked = await c.query("UPDATE users SET marker = NULL WHERE marker IS NOT NULL")
    if ((extra.rowCount ?? 0) > 0 || (marked.rowCount ?? 0) > 0) await c.query("VACUUM (ANALYZE) users, orders")
    return { ordersDeleted: extra.rowCount ?? 0, markersCleared: marked.rowCount ?? 0 }
  })

/** Drops a replication slot directly (the fallback when `flusso slot drop` could not). */
export const dropSlotSql = (adminUrl: string, slot: string): Promise<boolean> =>
  withClient(adminUrl, async (c) => {
    const r = await c.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", [slot])
    return (r.rowCount ?? 0) > 0
  })
