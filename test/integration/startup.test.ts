/**
 * What an operator meets at start, through the real CLI on the real services: `run`
 * stopping on what `check` calls an error before it creates anything, a refused login, a
 * slot another flusso holds, flags and private-surface credentials refused naming
 * themselves, `--help`, `check`'s layout and JSON words, and the fatal error as a JSON
 * line with JSON logs.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { t } from "flusso"
import { type Deployment, makeDeployment, waitFor } from "../support/deployment.js"
import { freePort, runCli, type Running, startCli } from "../support/cli.js"

let d: Deployment
const running: Array<Running> = []
beforeEach(async () => {
  d = await makeDeployment()
})
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop("SIGKILL")
  await d.cleanup()
})

const ports = async () => {
  const [pub, priv] = [await freePort(), await freePort()]
  return { pub, priv, args: ["--public-address", `127.0.0.1:${pub}`, "--private-address", `127.0.0.1:${priv}`] }
}

const ADMIN = { FLUSSO_ADMIN_USER: "ops", FLUSSO_ADMIN_PASSWORD: "0ps-s3cret" }

const itemsIndex = { items: { table: "items", primaryKey: "id", fields: { id: t.integer({ required: true }), name: t.text() } } }

const getJson = async (url: string) => JSON.parse(await (await fetch(url)).text()) as Record<string, unknown>

describe("run checks what check checks before it changes anything", () => {
  it("a join key of another type stops run at start with check's message; no slot, publication or index is made", async () => {
    await d.sql(`CREATE TABLE users (id bigint PRIMARY KEY, name text);
      CREATE TABLE orders (id int PRIMARY KEY, user_id text, total int);
      INSERT INTO users VALUES (1, 'a'); INSERT INTO orders VALUES (1, '1', 5)`)
    const file = d.configFile(d.config({
      users: {
        table: "users",
        primaryKey: "id",
        fields: { name: t.text(), orders: t.hasMany({ table: "orders", foreignKey: "user_id", primaryKey: "id", fields: { total: t.integer() } }) }
      }
    }))
    const { args } = await ports()
    const finished = await runCli(["run", "--config", file, ...args], ADMIN)
    expect(finished.code).not.toBe(0)
    expect(finished.stderr).toContain("flusso check finds an error; nothing was changed:")
    expect(finished.stderr).toContain(
      "indexes.users.fields.orders.foreignKey: join key public.orders.user_id is text but public.users.id is bigint: PostgreSQL cannot compare them"
    )
    expect(finished.stderr).toContain("fix: ALTER TABLE public.orders ALTER COLUMN user_id TYPE bigint USING user_id::bigint")
    expect(finished.stderr).not.toContain("operator does not exist")
    expect(await d.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [d.db.name])).toHaveLength(0)
    expect(await d.sql("SELECT 1 FROM pg_publication")).toHaveLength(0)
    expect((await d.raw("GET", `/_cat/indices/${d.prefix}*?h=index`)).text.trim()).toBe("")
  }, 60_000)

  it("a login PostgreSQL refuses says to check the credentials, in run and in check", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text)")
    const url = new URL(d.db.url)
    url.username = "nobody_here"
    url.password = "wrong"
    const file = d.configFile(d.config(itemsIndex, { source: { type: "postgres", url: url.toString(), slot: d.db.name } }))
    const { args } = await ports()
    const ran = await runCli(["run", "--config", file, ...args], ADMIN)
    expect(ran.code).not.toBe(0)
    expect(ran.stderr).toContain('PostgreSQL refused the login: role "nobody_here" does not exist')
    expect(ran.stderr).toContain("fix: check the user and password in source.url (or DATABASE_URL)")
    expect(ran.stderr).not.toContain("table and column names")
    const checked = await runCli(["check", "--config", file])
    expect(checked.code).not.toBe(0)
    expect(checked.stdout).toContain("fix: check the user and password in source.url (or DATABASE_URL)")
  }, 60_000)

  it("a slot another flusso streams from: the second one says so and waits, /status shows it", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text)")
    const file = d.configFile(d.config(itemsIndex))
    const first = await ports()
    const one = startCli(["run", "--config", file, ...first.args], ADMIN)
    running.push(one)
    await waitFor("the first flusso to stream", async () => {
      const rows = await d.sql("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [d.db.name])
      return rows[0]?.["active"] === true ? true : undefined
    }, 60_000)
    const second = await ports()
    const two = startCli(["run", "--config", file, ...second.args], ADMIN)
    running.push(two)
    await two.waitForOutput("the wait", new RegExp(`replication slot ${d.db.name} is in use by another flusso \\(walsender pid \\d+\\): waiting until it stops`), 60_000)
    expect(two.stderr()).not.toMatch(/PostgreSQL unavailable: replication connection/)
    const status = await getJson(`http://127.0.0.1:${second.pub}/status`)
    expect(status["phase"]).toBe("retrying")
    expect((status["lastError"] as { message: string }).message).toContain("is in use by another flusso")
  }, 90_000)
})

describe("the command line", () => {
  it("refuses a flag value naming the flag; --help is flusso's own", async () => {
    const level = await runCli(["run", "--log-level", "verbose"])
    expect(level.code).not.toBe(0)
    expect(level.stdout + level.stderr).toContain('--log-level (or FLUSSO_LOG_LEVEL): expected one of trace, debug, info, warn, warning, error, fatal, none, got "verbose"')
    const secs = await runCli(["run"], { FLUSSO_PROGRESS_SECS: "soon" })
    expect(secs.stdout + secs.stderr).toContain('--progress-secs (or FLUSSO_PROGRESS_SECS): expected a whole number, got "soon"')

    const help = await runCli(["run", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("Usage: flusso run [flags]")
    expect(help.stdout).toMatch(/^ {2}--admin-password P +password of the private HTTP surface.*\[default: flusso\] \[env: FLUSSO_ADMIN_PASSWORD\]$/m)
    for (const boilerplate of ["A user-defined piece of text.", "This setting is optional.", "--wizard", "--completions"]) expect(help.stdout).not.toContain(boilerplate)
    expect(help.stdout.match(/--log-level/g)).toHaveLength(1)
    expect(help.stdout.split("\n").length).toBeLessThan(40)
    const top = await runCli([])
    expect(top.stdout).toContain("Usage: flusso <command> [flags]")
  })

  it("with --log-format json, the error that ends the command is a JSON line too", async () => {
    const finished = await runCli(["run", "--config", "/nowhere/flusso.config.ts", "--log-format", "json"])
    expect(finished.code).not.toBe(0)
    const last = finished.stderr.trim().split("\n").at(-1) ?? ""
    expect(JSON.parse(last)).toMatchObject({ logLevel: "FATAL", message: expect.stringContaining("no such file: /nowhere/flusso.config.ts") })
  })

  it("check prints findings and the summary, mappings with --mappings, JSON in the same words", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name int)")
    const file = d.configFile(d.config(itemsIndex))
    const failed = await runCli(["check", "--config", file])
    expect(failed.code).not.toBe(0)
    const lines = failed.stdout.trimEnd().split("\n")
    expect(lines.at(-1)).toMatch(/^1 error, 0 warnings, \d+ notes?: check failed$/)
    expect(failed.stdout).toMatch(/error: +indexes\.items\.fields\.name: /)
    expect(failed.stdout).not.toContain('"dynamic": "strict"')
    const withMappings = await runCli(["check", "--config", file, "--mappings"])
    expect(withMappings.stdout.slice(withMappings.stdout.indexOf("check failed"))).toContain('"dynamic": "strict"')
    const json = JSON.parse((await runCli(["check", "--config", file, "--format", "json"])).stdout) as {
      counts: Record<string, number>
      findings: ReadonlyArray<{ severity: string }>
    }
    expect(Object.keys(json.counts)).toEqual(["error", "warning", "note"])
    expect(new Set(json.findings.map((f) => f.severity))).toEqual(new Set(["error", "note"]))
  })
})

describe("the private surface's credentials", () => {
  it("refuses empty ones, and the defaults on an address others can reach unless told explicitly", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text)")
    const file = d.configFile(d.config(itemsIndex))
    const { args } = await ports()
    const empty = await runCli(["run", "--config", file, ...args, "--admin-password", ""])
    expect(empty.code).not.toBe(0)
    expect(empty.stderr).toContain("--admin-password (or FLUSSO_ADMIN_PASSWORD) is empty")

    const exposed = await freePort()
    const refused = await runCli(["run", "--config", file, "--public-address", `127.0.0.1:${await freePort()}`, "--private-address", `0.0.0.0:${exposed}`])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain(`the private HTTP surface would listen on 0.0.0.0:${exposed} with the default credentials admin/flusso`)
    expect(refused.stderr).toContain("--allow-default-credentials")
    expect(await d.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [d.db.name])).toHaveLength(0)

    const pub = await freePort()
    const allowed = startCli(["run", "--config", file, "--public-address", `127.0.0.1:${pub}`, "--private-address", `0.0.0.0:${exposed}`, "--allow-default-credentials"])
    running.push(allowed)
    await waitFor("readyz", async () => {
      if (allowed.child.exitCode !== null) throw new Error(`flusso exited: ${allowed.stderr()}`)
      const answer = await fetch(`http://127.0.0.1:${pub}/readyz`).catch(() => undefined)
      return answer?.status === 200 ? true : undefined
    }, 60_000)
    const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` })
    expect((await fetch(`http://127.0.0.1:${exposed}/indexes`, { headers: basic("admin", "") })).status).toBe(401)
    expect((await fetch(`http://127.0.0.1:${exposed}/indexes`, { headers: basic("admin", "flusso") })).status).toBe(200)
  }, 90_000)
})
