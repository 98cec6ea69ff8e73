/**
 * `source.failover`: the slot a promoted standby keeps (PostgreSQL 17+). Through the real
 * CLI, on whatever server the harness gives (`.ci/run` runs this file on 15, 17 and 18):
 * on 17 and later the slot is created with `failover = true`, an existing one is made a
 * failover slot, and `/status` and `check` say so; before 17 the run stops at once with
 * the reason and the fix, having created nothing, and `check` reports the same.
 */
import { Schema } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { t } from "flusso"
import { freePort, runCli, startCli, type Running as Cli } from "../support/cli.js"
import { type Deployment, makeDeployment, waitFor } from "../support/deployment.js"

let d: Deployment
const clis: Array<Cli> = []
beforeEach(async () => {
  d = await makeDeployment()
})
afterEach(async () => {
  for (const cli of clis.splice(0)) await cli.stop("SIGKILL")
  await d.cleanup()
})

const INDEXES = { items: { table: "items", primaryKey: "id", fields: { name: t.text() } } }

const serverMajor = async (): Promise<number> => Math.floor(Number((await d.sql("SHOW server_version_num"))[0]?.["server_version_num"]) / 10000)

const slotFailover = async (): Promise<unknown> =>
  (await d.sql("SELECT to_jsonb(s) ->> 'failover' AS failover FROM pg_replication_slots s WHERE slot_name = $1", [d.db.name]))[0]?.["failover"]

/** `flusso run` on this deployment, its /status reachable; resolves once it is ready. */
const run = async (source: Record<string, unknown>) => {
  const port = await freePort()
  const config = d.config(INDEXES)
  const cli = startCli(["run", "--config", d.configFile({ ...config, source: { ...(config["source"] as object), ...source } }),
    "--public-address", `127.0.0.1:${port}`, "--private-address", `127.0.0.1:${await freePort()}`])
  clis.push(cli)
  return { cli, status: `http://127.0.0.1:${port}/status` }
}

const Status = Schema.Struct({ ready: Schema.Boolean, source: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown })) })
const statusOf = async (url: string) => Schema.decodeUnknownSync(Schema.parseJson(Status))(await (await fetch(url)).text())

/** Until the run's /status says ready (it fails at once when the run exits). */
const ready = (what: string, url: string) =>
  waitFor(what, async () => ((await statusOf(url).catch(() => undefined))?.ready === true ? true : undefined), 60_000)

describe("failover slots (source.failover)", () => {
  beforeEach(async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text)")
  })

  it("PostgreSQL 17+: created as a failover slot, an existing slot made one; /status and check say so — before 17, refused with nothing created", async () => {
    const major = await serverMajor()
    const check = (failover: boolean) => {
      const config = d.config(INDEXES)
      return runCli(["check", "--config", d.configFile({ ...config, source: { ...(config["source"] as object), failover } })])
    }
    if (major < 17) {
      const refused = await runCli(["run", "--config", d.configFile({ ...d.config(INDEXES), source: { ...(d.config(INDEXES)["source"] as object), failover: true } })])
      expect(refused.code).not.toBe(0)
      expect(refused.stderr).toContain(`source.failover needs PostgreSQL 17 or later (failover slots); this server is ${major}`)
      expect(refused.stderr).toContain("remove source.failover")
      expect(await d.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [d.db.name])).toEqual([])
      expect(await d.sql("SELECT 1 FROM pg_publication")).toEqual([])
      const checked = await check(true)
      expect(checked.code).not.toBe(0)
      expect(checked.stdout + checked.stderr).toContain("source.failover needs PostgreSQL 17 or later")
      return
    }

    // An existing slot without the flag (an earlier deployment), then the option turned on.
    const plain = await run({})
    await ready("the first run to be ready", plain.status)
    expect(await slotFailover()).toBe("false")
    expect((await statusOf(plain.status)).source).toMatchObject({ slot: d.db.name, failoverSlot: false })
    await plain.cli.stop()

    const failing = await run({ failover: true })
    await ready("the second run to be ready", failing.status)
    expect(await slotFailover()).toBe("true")
    expect((await statusOf(failing.status)).source).toMatchObject({ slot: d.db.name, failoverSlot: true, serverVersion: expect.stringMatching(/^1[7-9]/) })
    await failing.cli.stop()
    const checked = await check(true)
    expect(checked.stdout).toContain(`replication slot ${d.db.name} is a failover slot`)

    // A new slot is created with the flag.
    await d.sql("SELECT pg_drop_replication_slot($1)", [d.db.name])
    const fresh = await run({ failover: true })
    await ready("the third run to be ready", fresh.status)
    expect(await slotFailover()).toBe("true")
  })
})
