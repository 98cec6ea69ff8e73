/**
 * `flusso check`'s engine (`runCheck`) against the real PostgreSQL of the test harness:
 * a live catalog with a wrong type and a missing column, a publication lacking a table,
 * a junction without REPLICA IDENTITY FULL, a role without privileges, an unreachable
 * server, a correct setup, and offline mode without any database URL. Every online
 * check connects with a password in the URL (the test cluster trusts every connection,
 * so the server ignores it) and asserts neither rendering ever shows it.
 */
import { Effect, Either, Exit } from "effect"
import pg from "pg"
import { describe, expect, it } from "vitest"
import { type CheckReport, type Finding, formatHuman, formatJson, hasErrors } from "../../src/check/CheckReport.js"
import { runCheck } from "../../src/check/runCheck.js"
import { env, t } from "../../src/config/define.js"
import type { FlussoConfig } from "../../src/config/model.js"
import { validateConfig } from "../../src/config/validate.js"
import { type Deployment, withDeployment } from "../support/deployment.js"

const PASSWORD = "s3cret-Pa55"

/** The deployment's database URL with a password the server ignores (trust auth). */
const urlWithPassword = (d: Deployment, port?: number): string => {
  const url = new URL(d.db.url)
  url.password = PASSWORD
  if (port !== undefined) url.port = String(port)
  return url.toString()
}

const validated = (input: Record<string, unknown>): FlussoConfig => {
  const result = validateConfig(input)
  if (Either.isLeft(result)) throw new Error(`invalid test config:\n${result.left.join("\n")}`)
  return result.right
}

/** `d.config` with the password URL and any source options. */
const configOf = (d: Deployment, indexes: Record<string, unknown>, source: Record<string, unknown> = {}): FlussoConfig =>
  validated(d.config(indexes, { source: { type: "postgres", url: urlWithPassword(d), slot: d.db.name, ...source } }))

/** The online report, checked for the password in both renderings. */
const online = async (config: FlussoConfig): Promise<CheckReport> => {
  const report = await Effect.runPromise(runCheck(config, { offline: false, env: {} }))
  expect(formatHuman(report)).not.toContain(PASSWORD)
  expect(formatJson(report)).not.toContain(PASSWORD)
  return report
}

const bySeverity = (report: CheckReport, severity: Finding["severity"]) => report.findings.filter((f) => f.severity === severity)

describe("flusso check against a live catalog", () => {
  it("a wrong type and a missing column are errors naming table, column and fix", () =>
    withDeployment(async (d) => {
      await d.sql(`CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, e_mail text, age text)`)
      const report = await online(configOf(d, {
        users: { table: "users", primaryKey: "id", fields: { fullName: t.text(), email: t.keyword(), age: t.integer() } }
      }))
      expect(hasErrors(report)).toBe(true)
      expect(bySeverity(report, "error")).toEqual([
        {
          severity: "error",
          index: "users",
          table: "public.users",
          column: "email",
          path: "indexes.users.fields.email",
          message: "column public.users.email does not exist; did you mean e_mail?",
          fix: 'set column: "e_mail"'
        },
        {
          severity: "error",
          index: "users",
          table: "public.users",
          column: "age",
          path: "indexes.users.fields.age",
          message: "t.integer() cannot read column public.users.age of type text; it accepts int2, int4",
          fix: "declare it as t.text(), t.identifier(), t.keyword() or t.enum(), or set column: to a column of type int2 / int4"
        }
      ])
      const text = formatHuman(report)
      expect(text).toContain("error:   indexes.users.fields.email: column public.users.email does not exist; did you mean e_mail?")
      expect(text).toContain('fix: set column: "e_mail"')
      expect(text).toContain(`flusso check (online: PostgreSQL postgres@127.0.0.1:`)
      expect(text).toMatch(/check failed\n$/)
    }))

  it("a table missing from an existing publication gets the exact ALTER PUBLICATION", () =>
    withDeployment(async (d) => {
      await d.sql(`CREATE TABLE users (id bigint PRIMARY KEY, name text);
        CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, total numeric);
        ALTER TABLE orders REPLICA IDENTITY FULL;
        CREATE PUBLICATION flusso FOR TABLE users`)
      const indexes = {
        users: {
          table: "users",
          primaryKey: "id",
          fields: { name: t.text(), orders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", fields: { total: t.decimal() } }) }
        }
      }
      const unmanaged = await online(configOf(d, indexes, { managePublication: false }))
      expect(bySeverity(unmanaged, "error")).toEqual([
        {
          severity: "error",
          table: "public.orders",
          message: "publication flusso lacks public.orders (managePublication is off): their changes are not streamed",
          fix: 'run as the owner: ALTER PUBLICATION "flusso" ADD TABLE "public"."orders";'
        }
      ])
      // Managed by a role that may alter it: flusso will add the table itself.
      const managed = await online(configOf(d, indexes))
      expect(hasErrors(managed)).toBe(false)
      expect(bySeverity(managed, "warning")).toEqual([
        {
          severity: "warning",
          table: "public.orders",
          message: "publication flusso lacks public.orders: flusso will add it on start",
          fix: 'ALTER PUBLICATION "flusso" ADD TABLE "public"."orders"; (or let flusso run it)'
        }
      ])
    }))

  it("a junction table without REPLICA IDENTITY FULL is a warning with the fix", () =>
    withDeployment(async (d) => {
      await d.sql(`CREATE TABLE users (id bigint PRIMARY KEY, name text);
        CREATE TABLE tags (id bigint PRIMARY KEY, label text);
        CREATE TABLE user_tags (id bigserial PRIMARY KEY, user_id bigint NOT NULL, tag_id bigint NOT NULL)`)
      const report = await online(configOf(d, {
        users: {
          table: "users",
          primaryKey: "id",
          fields: {
            tags: t.manyToMany({ table: "tags", primaryKey: "id", through: { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" }, fields: { label: t.keyword() } })
          }
        }
      }))
      expect(hasErrors(report)).toBe(false)
      expect(bySeverity(report, "warning")).toEqual([
        {
          severity: "warning",
          index: "users",
          table: "public.user_tags",
          path: "indexes.users.fields.tags.through",
          message: "deletes in junction public.user_tags carry no user_id: documents keep removed links until rebuilt",
          fix: "ALTER TABLE public.user_tags REPLICA IDENTITY FULL;"
        }
      ])
    }))

  it("everything right gives no errors and no warnings", () =>
    withDeployment(async (d) => {
      await d.sql(`CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, email text, created_at timestamptz NOT NULL);
        CREATE TABLE orders (id bigint PRIMARY KEY, user_id integer NOT NULL REFERENCES users, total numeric(10, 2) NOT NULL);
        ALTER TABLE orders REPLICA IDENTITY FULL;
        CREATE PUBLICATION flusso FOR TABLE users, orders`)
      const report = await online(configOf(d, {
        users: {
          table: "users",
          primaryKey: "id",
          fields: {
            fullName: t.text({ required: true }),
            email: t.keyword(),
            createdAt: t.timestamp({ required: true }),
            orders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", fields: { total: t.decimal({ required: true }) } }),
            totalSpent: t.sum({ table: "orders", foreignKey: "user_id", column: "total", valueType: "decimal" })
          }
        }
      }))
      expect(bySeverity(report, "error")).toEqual([])
      expect(bySeverity(report, "warning")).toEqual([])
      expect(report.findings).toEqual([
        { severity: "info", message: `replication slot ${d.db.name} does not exist yet: flusso creates it on start and seeds every index` },
        { severity: "info", path: "sinks.primary", message: expect.stringMatching(/^OpenSearch 2\.\d+\.\d+ at http:\/\/127\.0\.0\.1:\d+ answers$/) },
        {
          severity: "info",
          path: "sinks.primary",
          message: `it lets this user create indexes and accepts every index's settings and mapping (probed with an index under prefix "${d.prefix}", deleted at once)`
        }
      ])
      expect(formatHuman(report)).toMatch(/0 errors, 0 warnings, 3 notes: check passed\n$/)
      // The probe index is gone.
      expect((await d.raw("GET", `/_cat/indices/${d.prefix}flusso_check_*?h=index`)).text.trim()).toBe("")
    }))

  it("a role without privileges gets REPLICATION, SELECT and ownership findings with their SQL", async () => {
    const role = `r_${Math.random().toString(16).slice(2, 10)}`
    try {
      await withDeployment(async (d) => {
        await d.sql(`CREATE ROLE ${role} LOGIN;
          CREATE TABLE users (id bigint PRIMARY KEY, name text);
          CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL);
          ALTER TABLE orders REPLICA IDENTITY FULL;
          GRANT SELECT ON users TO ${role};
          CREATE PUBLICATION flusso FOR TABLE users`)
        const url = new URL(urlWithPassword(d))
        url.username = role
        const report = await online(validated(d.config({
          users: { table: "users", primaryKey: "id", fields: { name: t.text(), orderCount: t.count({ table: "orders", foreignKey: "user_id" }) } }
        }, { source: { type: "postgres", url: url.toString(), slot: d.db.name } })))
        expect(bySeverity(report, "error").map((f) => [f.message, f.fix])).toEqual([
          [`role ${role} has neither REPLICATION nor SUPERUSER: it can neither create the replication slot nor stream changes`, `ALTER ROLE "${role}" REPLICATION;`],
          [`role ${role} has no SELECT on public.orders: flusso cannot seed or build its documents`, `GRANT SELECT ON "public"."orders" TO "${role}";`],
          [
            `publication flusso lacks public.orders, and role ${role} may not add them: it does not own publication flusso (owner postgres) and does not own public.orders (owner postgres); their changes are not streamed`,
            'run as the owner: ALTER PUBLICATION "flusso" ADD TABLE "public"."orders";'
          ]
        ])
      })
    } finally {
      const client = new pg.Client({ connectionString: process.env["FLUSSO_TEST_DATABASE_URL"] })
      await client.connect()
      await client.query(`DROP ROLE IF EXISTS ${role}`).finally(() => client.end())
    }
  })

  it("an unreachable database is an error naming host and port, never the password", () =>
    withDeployment(async (d) => {
      const report = await online(validated(d.config({ users: { table: "users", primaryKey: "id", fields: { name: t.text() } } }, {
        source: { type: "postgres", url: urlWithPassword(d, 1), slot: d.db.name }
      })))
      const [error] = bySeverity(report, "error")
      expect(error?.message).toMatch(/^cannot connect to PostgreSQL at 127\.0\.0\.1:1 \(database t_[0-9a-f]+, user postgres\): /)
      expect(error?.path).toBe("source.url")
      expect(error?.fix).toContain("check source.url (or DATABASE_URL)")
      // The mapping is still there: the offline part never depends on the database.
      expect(formatHuman(report, { mappings: true })).toContain('"name": {')
    }))
})

describe("flusso check probes every OpenSearch sink", () => {
  it("an OpenSearch that cannot be reached is an error naming the sink and the variable that sets its URL", () =>
    withDeployment(async (d) => {
      await d.sql(`CREATE TABLE users (id bigint PRIMARY KEY, name text)`)
      const config = validated(d.config({ users: { table: "users", primaryKey: "id", fields: { name: t.text() } } }, {
        source: { type: "postgres", url: urlWithPassword(d), slot: d.db.name },
        sinks: { primary: { type: "opensearch", url: "http://127.0.0.1:1" } }
      }))
      const report = await online(config)
      expect(hasErrors(report)).toBe(true)
      expect(bySeverity(report, "error")).toEqual([{
        severity: "error",
        path: "sinks.primary.url",
        message: expect.stringMatching(/^cannot reach OpenSearch sink primary at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/),
        fix: "check sinks.primary.url (or PRIMARY_OPENSEARCH_URL) and that OpenSearch runs and accepts connections from here"
      }])
    }))

  it("a mapping the cluster refuses (an ICU analyzer without the plugin, a bad option) is an error on that index", () =>
    withDeployment(async (d) => {
      await d.sql(`CREATE TABLE users (id bigint PRIMARY KEY, name text)`)
      const config = validated(d.config({ users: { table: "users", primaryKey: "id", fields: { name: t.text({ options: { analyzer: "no_such_analyzer" } }) } } }, {
        source: { type: "postgres", url: urlWithPassword(d), slot: d.db.name }
      }))
      const [error] = bySeverity(await online(config), "error")
      expect(error).toMatchObject({ severity: "error", index: "users", path: "sinks.primary" })
      expect(error?.message).toMatch(/^OpenSearch sink primary refused to create index users: .*no_such_analyzer/)
      expect((await d.raw("GET", `/_cat/indices/${d.prefix}flusso_check_*?h=index`)).text.trim()).toBe("")
    }))
})

describe("flusso check on partitioned tables", () => {
  const PARTITIONED = `
    CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, title text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');`
  const indexes = { events: { table: "events", primaryKey: "id", fields: { title: t.text() } } }

  it("a publication of the partitioned table without publish_via_partition_root carries it (its partitions are listed) and says what mapping costs", () =>
    withDeployment(async (d) => {
      await d.sql(PARTITIONED)
      await d.sql("ALTER TABLE events REPLICA IDENTITY FULL")
      await d.sql("CREATE PUBLICATION mine FOR TABLE events")
      const report = await online(configOf(d, indexes, { publication: "mine", managePublication: false }))
      expect(bySeverity(report, "error").map((f) => f.message)).toEqual([])
      const messages = report.findings.map((f) => f.message)
      expect(messages.some((m) => m.includes("lacks"))).toBe(false)
      expect(messages).toContainEqual(expect.stringContaining("publication mine names the changes of public.events by partition"))
      expect(messages).toContainEqual(expect.stringContaining("table public.events is partitioned"))
      expect(report.findings).toContainEqual(expect.objectContaining({
        severity: "warning",
        message: expect.stringContaining("partitions public.events_2024, public.events_2025 of public.events have a weaker REPLICA IDENTITY"),
        fix: expect.stringContaining("ALTER TABLE public.events_2024 REPLICA IDENTITY FULL;")
      }))
    }))

  it("a publication listing only one partition lacks the table; a managed one is created via the root", () =>
    withDeployment(async (d) => {
      await d.sql(PARTITIONED)
      await d.sql("CREATE PUBLICATION partial FOR TABLE events_2024")
      const partial = await online(configOf(d, indexes, { publication: "partial", managePublication: false }))
      expect(bySeverity(partial, "error").map((f) => f.message)).toContainEqual(expect.stringContaining("publication partial lacks public.events"))
      const managed = await online(configOf(d, indexes))
      expect(managed.findings).toContainEqual(expect.objectContaining({
        severity: "info",
        message: expect.stringContaining("WITH (publish_via_partition_root = true)")
      }))
    }))
})

describe("flusso check --offline", () => {
  const config = validated({
    source: { type: "postgres", url: env("DATABASE_URL") },
    sinks: { primary: { type: "opensearch", url: env("SEARCH_URL"), password: env("SEARCH_PASSWORD"), textAnalysis: "icu" } },
    indexes: { users: { table: "users", primaryKey: "id", fields: { name: t.text(), age: t.integer() } } }
  })

  it("needs no DATABASE_URL nor any other secret, and prints the mappings", async () => {
    const report = await Effect.runPromise(runCheck(config, { offline: true, env: {} }))
    expect(report.mode).toBe("offline")
    expect(hasErrors(report)).toBe(false)
    expect(report.indexes[0]?.mappingOptions).toEqual({ textAnalysis: "icu", autoSubfields: true, style: "flusso", sink: "primary" })
    const text = formatHuman(report, { mappings: true })
    expect(text).toContain("index users (table public.users, content hash")
    expect(text).toContain('"age": {\n        "type": "integer"\n      }')
    expect(formatJson(report)).toContain('"dynamic": "strict"')
  })

  it("online, the same config fails with ConfigInvalid naming what is unset", async () => {
    const exit = await Effect.runPromiseExit(runCheck(config, { offline: false, env: {}, file: "flusso.config.ts" }))
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isFailure(exit)) {
      expect(String(exit.cause)).toContain("environment variable DATABASE_URL is not set")
    }
  })
})
