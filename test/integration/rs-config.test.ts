/**
 * The Rust flusso's config on real services: the same deployment declared as
 * flusso.toml + *.schema.yml (test/fixtures/rs), as a hand-written .ts config, and as
 * the .ts `flusso migrate` writes, each run by the real CLI on one database (slots and
 * index prefixes of their own). All three must build identical documents — seeded and
 * after live changes — and derive identical mappings.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { execFile } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { Schema } from "effect"
import { type Deployment, makeDeployment, waitFor } from "../support/deployment.js"
import { runCli, type Running, startCli } from "../support/cli.js"

const ROOT = path.resolve(import.meta.dirname, "../..")
const TOML = path.join(ROOT, "test/fixtures/rs/flusso.toml")
const EQUIVALENT = path.join(ROOT, "test/fixtures/rs/equivalent.config.ts")

const SCHEMA = `
create table regions (id int primary key, name text not null);
create table customers (
  id bigint primary key, email text, full_name text, displayname text, code text not null, status text not null,
  external_id uuid, active boolean, age smallint, score integer, points bigint, rating real, balance double precision,
  credit numeric(12,2), birthday date, created_at timestamptz not null, avatar bytea, prefs jsonb, ip inet, labels jsonb,
  lat double precision, lon double precision, home jsonb, phone text, city text, region_id int references regions,
  deleted boolean not null default false);
create table profiles (id int primary key, customer_id bigint not null, bio text);
create table orders (id int primary key, customer_id bigint not null references customers, number text not null,
  status text not null, total numeric(12,2) not null, placed_at timestamp not null);
create table tags (id int primary key, name text not null);
create table customer_tags (customer_id bigint not null, tag_id int not null, primary key (customer_id, tag_id));
insert into regions values (1, 'North'), (2, 'South');
insert into customers values
  (1, '  Ada@Example.COM ', 'Ada Lovelace', 'Ada', 'C-00001', 'active', '6f1c1d5e-8a39-4c1e-9a53-0b7c0f0e1a11', true, 36, 42,
   9007199254740993, 4.5, 1234.5678, 99999.99, '1815-12-10', '2024-01-02 03:04:05.123456+00', '\\x0102ff',
   '{"theme": "dark", "n": [1, 2]}', '10.0.0.1', '{"tier": "gold", "lang": "en"}', 51.5, -0.12,
   '{"lat": 40.7, "lon": -74.0}', '+44 1', 'London', 1, false),
  (2, 'grace@example.com', null, null, 'C-00002', 'new', null, null, null, null, null, null, null, null, null,
   '2024-02-03 00:00:00+00', null, null, null, null, null, null, null, null, null, null, false),
  (3, 'gone@example.com', 'Gone', null, 'C-00003', 'churned', null, null, null, null, null, null, null, null, null,
   '2024-03-04 00:00:00+00', null, null, null, null, null, null, null, null, null, 2, true),
  (4, null, 'No Email', null, 'C-00004', 'new', null, null, null, null, null, null, null, null, null,
   '2024-03-04 00:00:00+00', null, null, null, null, null, null, null, null, null, 2, false);
insert into profiles values (1, 1, 'first'), (2, 1, 'second');
insert into orders values
  (10, 1, 'SO-00010', 'paid', 10.50, '2024-01-05 10:00:00'),
  (11, 1, 'SO-00011', 'shipped', 200.25, '2024-01-06 10:00:00'),
  (12, 1, 'SO-00012', 'cancelled', 5.00, '2024-01-07 10:00:00'),
  (13, 1, 'SO-00013', ' pending ', 7.75, '2024-01-08 10:00:00'),
  (14, 1, 'SO-00014', 'paid', 1.00, '2024-01-01 10:00:00'),
  (15, 2, 'SO-00015', 'paid', -1.00, '2024-01-01 10:00:00');
insert into tags values (1, 'vip'), (2, 'beta');
insert into customer_tags values (1, 1), (1, 2), (2, 2);
`

const Hits = Schema.parseJson(Schema.Struct({ hits: Schema.Struct({ hits: Schema.Array(Schema.Struct({ _id: Schema.String, _source: Schema.Unknown })) }) }))
const Count = Schema.parseJson(Schema.Struct({ count: Schema.Number }))
const Mapping = Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Struct({ mappings: Schema.Unknown }) }))

let d: Deployment
const running: Array<Running> = []
beforeEach(async () => {
  d = await makeDeployment()
  await d.sql(SCHEMA)
})
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop("SIGKILL")
  await d.cleanup()
})

const documents = async (prefix: string, index: string): Promise<Record<string, unknown>> => {
  await d.raw("POST", `/${prefix}${index}/_refresh`)
  const response = await d.raw("POST", `/${prefix}${index}/_search`, { size: 100, query: { match_all: {} }, sort: ["_doc"] })
  const hits = Schema.decodeUnknownSync(Hits)(response.text).hits.hits
  return Object.fromEntries([...hits].sort((a, b) => a._id.localeCompare(b._id)).map((hit) => [hit._id, hit._source]))
}

const count = async (prefix: string, index: string): Promise<number | undefined> => {
  await d.raw("POST", `/${prefix}${index}/_refresh`)
  const response = await d.raw("GET", `/${prefix}${index}/_count`)
  return response.status === 200 ? Schema.decodeUnknownSync(Count)(response.text).count : undefined
}

const mapping = async (prefix: string, index: string): Promise<unknown> => {
  const response = await d.raw("GET", `/${prefix}${index}/_mapping`)
  return Object.values(Schema.decodeUnknownSync(Mapping)(response.text))[0]?.mappings
}

/** `flusso run` on `config` under a slot and an index prefix of its own. */
const run = (config: string, tag: string): string => {
  const prefix = `${d.prefix}${tag}_`
  const cli = startCli(["run", "--config", config, "--slot", `${d.db.name}_${tag}`, "--index-prefix", prefix], {
    DATABASE_URL: d.db.url,
    // The TOML's and the .ts's sink URL is a literal; the reserved variable overrides both.
    PRIMARY_OPENSEARCH_URL: d.opensearchUrl,
    FLUSSO_PUBLIC_ADDRESS: "127.0.0.1:0",
    FLUSSO_PRIVATE_ADDRESS: "127.0.0.1:0",
    FLUSSO_LOG_LEVEL: "warn"
  })
  running.push(cli)
  return prefix
}

const until = (what: string, probe: () => Promise<boolean>) => waitFor(what, async () => ((await probe()) ? true : undefined), 90_000)

describe("the Rust flusso's config", () => {
  it("gives the same documents and mappings as .ts, hand-written or migrated", async () => {
    const dir = path.join(ROOT, "test/.tmp", `${d.db.name}_rs`)
    mkdirSync(dir, { recursive: true })
    const migratedFile = path.join(dir, "flusso.config.ts")
    const migrated = await runCli(["migrate", "--config", TOML, "-o", migratedFile])
    expect(migrated.stderr).toBe("")
    expect(migrated.code).toBe(0)

    // The migrated file type-checks on its own.
    const tsconfig = path.join(dir, "tsconfig.json")
    writeFileSync(tsconfig, JSON.stringify({ extends: path.join(ROOT, "tsconfig.json"), compilerOptions: { noEmit: true, rootDir: ROOT }, include: [], files: [migratedFile] }))
    await promisify(execFile)(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", tsconfig])

    const offline = await runCli(["check", "--offline", "--config", TOML])
    expect(offline.code).toBe(0)

    const prefixes = [run(TOML, "toml"), run(EQUIVALENT, "ts"), run(migratedFile, "migrated")]
    const settled = (customers: number, orders: number) =>
      until(`${customers} customers and ${orders} orders in every index`, async () => {
        for (const prefix of prefixes) {
          if ((await count(prefix, "customers")) !== customers || (await count(prefix, "orders")) !== orders) return false
        }
        return true
      })
    await settled(2, 5)
    const [toml, ...others] = prefixes
    if (toml === undefined) throw new Error("no TOML run")
    const seeded = await documents(toml, "customers")
    expect(Object.keys(seeded)).toEqual(["1", "2"])
    expect(seeded["1"]).toMatchObject({
      email: "ada@example.com",
      displayName: "Ada",
      origin: "crm",
      labels: { tier: "gold", lang: "en" },
      order_count: 5,
      tag_ids: [1, 2],
      region: { name: "North" },
      profile: { bio: "second" }
    })
    expect(seeded["2"]).toMatchObject({ active: false, age: 0, orders: [expect.objectContaining({ number: "SO-00015" })], tags: [{ name: "beta" }] })
    for (const prefix of others) {
      for (const index of ["customers", "orders"]) {
        expect(await documents(prefix, index)).toEqual(await documents(toml, index))
        expect(await mapping(prefix, index)).toEqual(await mapping(toml, index))
      }
    }

    // Live: a related row moves to another parent, a soft delete is cleared, a root filter is entered.
    await d.sql("update orders set customer_id = 2 where id = 11")
    await d.sql("update customers set deleted = false where id = 3")
    await d.sql("update customers set email = 'late@example.com' where id = 4")
    await settled(4, 5)
    await until("order 11 under customer 2 everywhere", async () => {
      for (const prefix of prefixes) {
        const docs = await documents(prefix, "customers")
        const two = docs["2"]
        if (typeof two !== "object" || two === null || !JSON.stringify(two).includes("SO-00011")) return false
        if (JSON.stringify(docs["1"]).includes("SO-00011")) return false
      }
      return true
    })
    for (const prefix of others) {
      for (const index of ["customers", "orders"]) expect(await documents(prefix, index)).toEqual(await documents(toml, index))
    }
  }, 240_000)

  it("reports a broken schema file through the CLI with its file, line and column", async () => {
    const dir = path.join(ROOT, "test/.tmp", `${d.db.name}_broken`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, "flusso.toml"), `[source]\ntype = "postgres"\n\n[[index]]\nname = "users"\nschema = "users.schema.yml"\nenabled = true\n`)
    writeFileSync(path.join(dir, "users.schema.yml"), `version: 1\ntable: users\nprimary_key: id\nfields:\n  - has_many: orders\n    table: orders\n    column: user_id\n    primary_key: id\n    fields: []\n`)
    const checked = await runCli(["check", "--offline", "--config", path.join(dir, "flusso.toml")])
    expect(checked.code).not.toBe(0)
    expect(checked.stderr).toContain(
      `failed to convert schema \`users\` from \`${path.join(dir, "users.schema.yml")}\`: \`has_many\` field \`orders\`: \`has_many\` join does not take \`column\`; it takes \`foreign_key\``
    )
    expect(checked.stderr).toContain("(line 7, column 5)")
  })
})
