/**
 * The harness itself: the services the integration tests rely on are the real ones, with
 * the properties flusso needs, and per-test isolation works.
 */
import { describe, expect, it } from "vitest"
import pg from "pg"
import { createTestDatabase, deleteIndexesWithPrefix, resolveServices, uniquePrefix } from "../support/services.js"

const query = async (url: string, sql: string, params: unknown[] = []) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql, params)).rows
  } finally {
    await client.end()
  }
}

const os = async (base: string, method: string, p: string, body?: unknown) => {
  const res = await fetch(`${base}${p}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  })
  return { status: res.status, body: (await res.json()) as any }
}

describe("test services", () => {
  it("are handed to workers through the environment by globalSetup", async () => {
    const urls = await resolveServices()
    expect(process.env.FLUSSO_TEST_DATABASE_URL).toBe(urls.databaseUrl)
    expect(process.env.FLUSSO_TEST_OPENSEARCH_URL).toBe(urls.opensearchUrl)
  })

  it("PostgreSQL runs with wal_level=logical and room for replication slots", async () => {
    const { databaseUrl } = await resolveServices()
    const [wal] = await query(databaseUrl, "show wal_level")
    expect(wal.wal_level).toBe("logical")
    const [slots] = await query(databaseUrl, "show max_replication_slots")
    expect(Number(slots.max_replication_slots)).toBeGreaterThanOrEqual(10)
  })

  // A version matrix run (FLUSSO_PG_VERSION=N, .ci/run) must not silently test another
  // server: the one answering is of that major. Unset, it is one flusso supports.
  it("PostgreSQL is the major version FLUSSO_PG_VERSION names (a supported one, 14–18, when unset)", async () => {
    const { databaseUrl } = await resolveServices()
    const [row] = await query(databaseUrl, "select current_setting('server_version_num')::int / 10000 as major")
    const wanted = process.env["FLUSSO_PG_VERSION"]
    if (wanted !== undefined && wanted !== "") expect(row.major).toBe(Number(wanted))
    else expect([14, 15, 16, 17, 18]).toContain(row.major)
  })

  it("OpenSearch is a 2.19.x node", async () => {
    const { opensearchUrl } = await resolveServices()
    const root = await os(opensearchUrl, "GET", "/")
    expect(root.status).toBe(200)
    expect(root.body.version.distribution).toBe("opensearch")
    expect(root.body.version.number).toMatch(/^2\.19\.\d+$/)
  })

  it("creates a fresh database and drops it with its replication slots and connections", async () => {
    const { databaseUrl } = await resolveServices()
    const db = await createTestDatabase(databaseUrl)
    expect(db.name).toMatch(/^t_[0-9a-f]+$/)
    const [here] = await query(db.url, "select current_database() as name")
    expect(here.name).toBe(db.name)

    // A slot and an open connection would each block a plain DROP DATABASE.
    await query(db.url, "select pg_create_logical_replication_slot($1, 'pgoutput')", [`${db.name}_slot`])
    const lingering = new pg.Client({ connectionString: db.url })
    lingering.on("error", () => undefined) // it is terminated on purpose
    await lingering.connect()

    await db.drop()
    await lingering.end().catch(() => undefined)
    expect(await query(databaseUrl, "select 1 from pg_database where datname = $1", [db.name])).toHaveLength(0)
    expect(await query(databaseUrl, "select 1 from pg_replication_slots where database = $1", [db.name])).toHaveLength(0)
  })

  it("gives unique prefixes and deletes only the indexes and aliases carrying one", async () => {
    const { opensearchUrl } = await resolveServices()
    const prefix = uniquePrefix()
    const other = uniquePrefix()
    expect(prefix).toMatch(/^t[0-9a-f]+_$/)
    expect(prefix).not.toBe(other)

    for (const name of [`${prefix}users_1`, `${prefix}products_1`, `${other}users_1`]) {
      expect((await os(opensearchUrl, "PUT", `/${name}`, { settings: { number_of_replicas: 0 } })).status).toBe(200)
    }
    await os(opensearchUrl, "POST", "/_aliases", {
      actions: [
        { add: { index: `${prefix}users_1`, alias: `${prefix}users` } },
        // an alias with the prefix on an index without it
        { add: { index: `${other}users_1`, alias: `${prefix}others` } }
      ]
    })

    await deleteIndexesWithPrefix(opensearchUrl, prefix)

    expect((await os(opensearchUrl, "GET", `/${prefix}*?expand_wildcards=all`)).body).toEqual({})
    expect((await os(opensearchUrl, "GET", `/_alias/${prefix}*`)).body).toEqual({})
    expect((await os(opensearchUrl, "GET", `/${other}users_1`)).status).toBe(200)

    await deleteIndexesWithPrefix(opensearchUrl, other)
    expect((await os(opensearchUrl, "GET", `/${other}users_1`)).status).toBe(404)
    await expect(deleteIndexesWithPrefix(opensearchUrl, "")).rejects.toThrow(/refusing/)
    await expect(deleteIndexesWithPrefix(opensearchUrl, "*")).rejects.toThrow(/refusing/)
  })
})
