/**
 * The operations surface through the real CLI on real services: the public HTTP surface
 * (health, readiness, status, metrics), the private one behind HTTP Basic (indexes, a
 * reindex under live writes, the quarantine across a restart), the `indexes`, `reindex`
 * and `slot drop` commands, JSON logs, progress lines while seeding, waiting for a
 * database that is not there yet, a clean SIGTERM while connecting, and a password that
 * never reaches any output.
 */
import { createServer } from "node:http"
import { connect, createServer as createNetServer } from "node:net"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { t } from "flusso"
import { type Deployment, makeDeployment, waitFor } from "../support/deployment.js"
import { caughtUp, documentsObject } from "../support/differential/indexState.js"
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

const itemsIndex = {
  items: { table: "items", primaryKey: "id", fields: { id: t.integer({ required: true }), name: t.text(), payload: t.json() } }
}

interface Surfaces {
  readonly public: string
  readonly private: string
  readonly args: ReadonlyArray<string>
}

const surfaces = async (): Promise<Surfaces> => {
  const [pub, priv] = [await freePort(), await freePort()]
  return {
    public: `http://127.0.0.1:${pub}`,
    private: `http://127.0.0.1:${priv}`,
    args: ["--public-address", `127.0.0.1:${pub}`, "--private-address", `127.0.0.1:${priv}`]
  }
}

/** Every metric family the operations guide documents, with its type. */
const FAMILIES: ReadonlyArray<readonly [string, string]> = [
  ["flusso_changes_captured_total", "counter"],
  ["flusso_changes_committed_total", "counter"],
  ["flusso_documents_built_total", "counter"],
  ["flusso_documents_quarantined_total", "counter"],
  ["flusso_batches_total", "counter"],
  ["flusso_errors_total", "counter"],
  ["flusso_flush_duration_seconds", "histogram"],
  ["flusso_replication_slot_lag_bytes", "gauge"],
  ["flusso_changes_in_flight", "gauge"],
  ["flusso_backfill_rows_total", "counter"],
  ["flusso_end_to_end_latency_seconds", "histogram"]
]

const expectEveryFamily = (text: string) => {
  for (const [name, type] of FAMILIES) expect(text, name).toContain(`# TYPE ${name} ${type}\n`)
}

/** The value of one series of the Prometheus text, e.g. `flusso_errors_total` or `flusso_documents_built_total{index="items"}`. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const ADMIN = { FLUSSO_ADMIN_USER: "ops", FLUSSO_ADMIN_PASSWORD: "0ps-s3cret" }
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`

const get = async (url: string, headers: Record<string, string> = {}, method = "GET") => {
  const response = await fetch(url, { method, headers })
  return { status: response.status, headers: response.headers, text: await response.text() }
}
const getJson = async (url: string, headers: Record<string, string> = {}, method = "GET") => {
  const response = await get(url, headers, method)
  return { ...response, body: JSON.parse(response.text) as Record<string, unknown> }
}

const run = (config: Record<string, unknown>, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}) => {
  const cli = startCli(["run", "--config", d.configFile(config), ...args], { FLUSSO_LOG_FORMAT: "json", ...env })
  running.push(cli)
  return cli
}

const ready = (s: Surfaces, cli: Running) =>
  waitFor("readyz 200", async () => {
    if (cli.child.exitCode !== null) throw new Error(`flusso exited: ${cli.stderr()}`)
    const answer = await get(`${s.public}/readyz`).catch(() => undefined)
    return answer?.status === 200 ? true : undefined
  }, 60_000)

describe("operations surface (real CLI)", () => {
  it("serves health, readiness, status and metrics; indexes, reindex and quarantine behind HTTP Basic; JSON logs", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, payload jsonb)")
    await d.sql("INSERT INTO items SELECT g, 'row ' || g, NULL FROM generate_series(1, 500) g")
    const s = await surfaces()
    const config = { ...d.config(itemsIndex), onError: "skip" }
    let cli = run(config, s.args, ADMIN)
    await ready(s, cli)
    // Every family from the start, labelled ones for the index, before anything was quarantined or failed.
    const early = await get(`${s.public}/metrics`)
    expectEveryFamily(early.text)
    expect(sample(early.text, `flusso_documents_quarantined_total{index="items"}`)).toBe(0)
    expect(sample(early.text, "flusso_errors_total")).toBe(0)
    await waitFor("the index to be live", async () => {
      const body = (await getJson(`${s.public}/status`)).body
      return (body["indexes"] as Array<{ state: string }>)[0]?.state === "live" ? true : undefined
    })

    expect((await getJson(`${s.public}/healthz`)).body).toEqual({ status: "ok" })
    await d.sql("UPDATE items SET name = 'changed' WHERE id = 1")
    await caughtUp(d)
    const status = await getJson(`${s.public}/status`)
    expect(status.status).toBe(200)
    expect(status.body).toMatchObject({ phase: "live", ready: true })
    for (const key of ["uptimeSeconds", "changesCaptured", "changesCommitted", "changesInFlight", "documentsBuilt", "documentsQuarantined", "batches", "lastFlushMs", "slotLagBytes", "lastAckedLsn", "errors", "lastError"]) {
      expect(status.body, key).toHaveProperty(key)
    }
    expect(Number(status.body["changesCommitted"])).toBeGreaterThanOrEqual(1)
    const metrics = await get(`${s.public}/metrics`)
    expect(metrics.headers.get("content-type")).toContain("text/plain")
    for (const name of ["flusso_changes_captured_total", "flusso_changes_committed_total", "flusso_documents_built_total", "flusso_batches_total", "flusso_flush_duration_seconds_bucket", "flusso_end_to_end_latency_seconds_bucket", "flusso_backfill_rows_total"]) {
      expect(metrics.text, name).toContain(name)
    }

    // Private: refused without the right credentials, with the challenge.
    const refused = await get(`${s.private}/indexes`)
    expect(refused.status).toBe(401)
    expect(refused.headers.get("www-authenticate")).toBe(`Basic realm="flusso"`)
    expect((await get(`${s.private}/indexes`, { authorization: basic("ops", "wrong") })).status).toBe(401)
    const auth = { authorization: basic("ops", "0ps-s3cret") }
    const indexes = await getJson(`${s.private}/indexes`, auth)
    expect(indexes.body["indexes"]).toMatchObject([{ name: "items", table: "public.items", state: "live", backfill: null }])

    // A reindex under live writes, through the private surface; then through the CLI client.
    let writing = true
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await d.sql("INSERT INTO items (id, name) VALUES ($1, 'live')", [10_000 + i])
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    const accepted = await getJson(`${s.private}/reindex?index=items`, auth, "POST")
    expect(accepted.status).toBe(202)
    expect(accepted.body).toMatchObject({ index: "items", status: "reindexing" })
    const [generation] = accepted.body["generations"] as Array<string>
    expect(generation).toMatch(/_2$/)
    expect((await getJson(`${s.private}/reindex?index=nope`, auth, "POST")).status).toBe(404)
    await waitFor("the new generation to serve", async () => {
      const list = await getJson(`${s.private}/indexes`, auth)
      const serving = (list.body["indexes"] as Array<{ generations: Array<{ generation: string; serving: boolean }> }>)[0]?.generations
      return serving?.some((g) => g.generation === generation && g.serving) ? true : undefined
    }, 60_000)
    const listed = await runCli(["indexes", "--server", s.private, "--format", "json"], ADMIN)
    expect(JSON.parse(listed.stdout)).toMatchObject({ indexes: [{ name: "items" }] })
    const viaCli = await runCli(["reindex", "items", "--wait", "--server", s.private], ADMIN)
    expect(viaCli.code, viaCli.stderr).toBe(0)
    expect(viaCli.stdout).toMatch(/reindexing items into .*_3/)
    expect(viaCli.stdout).toMatch(/_3 serves items/)
    const human = await runCli(["indexes", "--server", s.private], ADMIN)
    expect(human.stdout).toMatch(/^items \(public\.items\): live\n {2}primary: .*_3 serving, seeded/m)
    const unauthorized = await runCli(["indexes", "--server", s.private], { FLUSSO_ADMIN_PASSWORD: "nope" })
    expect(unauthorized.code).not.toBe(0)
    expect(unauthorized.stderr).toContain("refused the credentials")
    writing = false
    await writer

    // A document OpenSearch refuses, skipped: listed in the quarantine, also after a restart.
    await d.sql(`UPDATE items SET payload = '"not an object"'::jsonb WHERE id = 7`)
    await d.sql(`UPDATE items SET payload = '{"ok": true}'::jsonb WHERE id = 8`)
    await caughtUp(d)
    const quarantined = await getJson(`${s.private}/quarantine`, auth)
    expect(quarantined.body["documents"]).toMatchObject([{ sink: "primary", index: "items", id: "7" }])
    const first = await cli.stop()
    cli = run(config, s.args, ADMIN)
    await ready(s, cli)
    expect((await getJson(`${s.private}/quarantine`, auth)).body["documents"]).toMatchObject([{ index: "items", id: "7" }])
    expect(await documentsObject(d, "items")).toMatchObject({ "8": { id: 8, payload: { ok: true } } })

    // Every log line is one JSON object.
    const finished = await cli.stop()
    expect(finished.code).toBe(0)
    const lines = `${first.stderr}\n${finished.stderr}`.trim().split("\n").filter((line) => line.length > 0)
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow()
    expect(lines.some((line) => (JSON.parse(line) as { annotations?: { index?: string } }).annotations?.index === "items")).toBe(true)
  }, 180_000)

  it("prints progress lines while seeding 200,000 rows: the estimate at the start, a line a second in (rows done, rate, ETA)", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, payload jsonb)")
    await d.sql("INSERT INTO items SELECT g, 'row ' || g, NULL FROM generate_series(1, 200000) g")
    await d.sql("ANALYZE items")
    const s = await surfaces()
    // The default --progress-secs (10): the first line does not wait for it.
    const cli = run(d.config(itemsIndex), s.args)
    await cli.waitForOutput("the pass's start with its estimate", /"seeding up to key 200000, ~200,000 rows estimated"/, 60_000)
    const [line] = await cli.waitForOutput("a progress line", /^.*"seeding: [0-9,]+ \/ ~200,000 rows.*$/m, 60_000)
    const parsed = JSON.parse(line) as { message: string; annotations: { index: string } }
    expect(parsed.annotations.index).toBe("items")
    expect(parsed.message).toMatch(/^seeding: [0-9,]+ \/ ~200,000 rows \(\d+%\), [0-9,]+ rows\/s(, ETA .+)?$/)
    const status = await getJson(`${s.public}/status`)
    const progress = (status.body["indexes"] as Array<{ backfill: unknown }>)[0]?.backfill
    if (progress !== null) {
      expect(progress).toMatchObject({ rowsEstimated: 200_000 })
      expect((status.body["indexes"] as Array<{ state: string }>)[0]?.state).toBe("seeding")
    }
  }, 120_000)

  it("waits for a PostgreSQL that is not there (readyz 503) and stops at once on SIGTERM, exit code 0", async () => {
    const s = await surfaces()
    const closed = await freePort()
    const config = { ...d.config(itemsIndex), source: { type: "postgres", url: `postgres://postgres:hunter2pass@127.0.0.1:${closed}/nowhere`, slot: d.db.name } }
    const cli = run(config, s.args, { FLUSSO_LOG_FORMAT: "human" })
    await cli.waitForOutput("the wait to be logged", /waiting for PostgreSQL/)
    const readyz = await getJson(`${s.public}/readyz`)
    expect(readyz.status).toBe(503)
    expect(readyz.body).toEqual({ ready: false, phase: "retrying" })
    // The outage is visible: the phase, the last error, the failed attempts counted.
    const status = await getJson(`${s.public}/status`)
    expect(status.body).toMatchObject({ phase: "retrying", indexes: [{ name: "items", state: "starting" }] })
    expect(Number(status.body["errors"])).toBeGreaterThanOrEqual(1)
    expect((status.body["lastError"] as { message: string }).message).toMatch(/^connecting to PostgreSQL: .*ECONNREFUSED/)
    const metrics = await get(`${s.public}/metrics`)
    expectEveryFamily(metrics.text)
    expect(sample(metrics.text, "flusso_errors_total")).toBeGreaterThanOrEqual(1)
    const finished = await cli.stop("SIGTERM")
    expect(finished.code).toBe(0)
    expect(finished.stderr).toContain("stopped on request while still connecting")
    expect(finished.stderr + finished.stdout).not.toContain("hunter2pass")
  }, 60_000)

  it("never shows the database password: logs, errors, check, status", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, payload jsonb)")
    // The test cluster trusts local connections: the password is never checked, only carried.
    // DATABASE_URL outranks the config's literal URL.
    const url = d.db.url.replace("postgres@", "postgres:Sup3rSecretPw@")
    const config = d.config(itemsIndex)
    const s = await surfaces()
    const outputs: Array<string> = []
    const env = { DATABASE_URL: url, FLUSSO_LOG_LEVEL: "debug" }
    const cli = run(config, s.args, env)
    await ready(s, cli)
    outputs.push((await get(`${s.public}/status`)).text, (await get(`${s.public}/metrics`)).text)
    const stopped = await cli.stop()
    expect(stopped.stderr).toContain("environment overrides: DATABASE_URL")
    outputs.push(stopped.stdout, stopped.stderr)
    const checked = await runCli(["check", "--config", d.configFile(config), "--format", "json"], env)
    outputs.push(checked.stdout, checked.stderr)
    const bad = await runCli(["run", "--config", d.configFile(config)], { DATABASE_URL: "mysql://root:Sup3rSecretPw@db/x" })
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain("must be a postgres:// or postgresql:// URL, got mysql://root:***@db/x")
    outputs.push(bad.stdout, bad.stderr)
    for (const output of outputs) expect(output).not.toContain("Sup3rSecretPw")
  }, 120_000)

  it("slot drop refuses while flusso streams from the slot, drops it once stopped", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, payload jsonb)")
    const s = await surfaces()
    const file = d.configFile(d.config(itemsIndex))
    const cli = run(d.config(itemsIndex), s.args)
    await ready(s, cli)
    const busy = await runCli(["slot", "drop", "--config", file])
    expect(busy.code).not.toBe(0)
    expect(busy.stderr).toMatch(new RegExp(`replication slot ${d.db.name} is in use`))
    await cli.stop()
    await waitFor("the walsender to go", async () => {
      const [row] = await d.sql("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [d.db.name])
      return row?.["active"] === false ? true : undefined
    })
    const dropped = await runCli(["slot", "drop", "--config", file])
    expect(dropped.code, dropped.stderr).toBe(0)
    expect(dropped.stdout).toContain(`dropped replication slot ${d.db.name}`)
    expect(await d.sql("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [d.db.name])).toHaveLength(0)
    const again = await runCli(["slot", "drop", "--config", file])
    expect(again.stdout).toContain("nothing to drop")
  }, 90_000)

  it("build compiles a lock that run --lock runs; --locked refuses a config that changed; check and schema", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, payload jsonb)")
    await d.sql("INSERT INTO items VALUES (1, 'one', NULL)")
    const file = d.configFile(d.config(itemsIndex))
    const lock = file.replace(/\.config\.ts$/, ".lock.json")
    const built = await runCli(["build", "--config", file, "-o", lock])
    expect(built.code, built.stderr).toBe(0)
    expect(built.stdout).toContain(`${lock}: 1 index(es)`)
    const checked = await runCli(["check", "--lock", lock, "--offline"])
    expect(checked.code, checked.stderr).toBe(0)
    expect(checked.stdout).toContain("index items")

    const s = await surfaces()
    const cli = startCli(["run", "--lock", lock, ...s.args])
    running.push(cli)
    await ready(s, cli)
    await caughtUp(d)
    expect(await documentsObject(d, "items")).toEqual({ "1": { id: 1, name: "one", payload: null } })
    await cli.stop()

    const changed = d.configFile({ ...d.config(itemsIndex), prefix: `${d.prefix}x` })
    const refused = await runCli(["run", "--config", changed, "--locked", "--lock", lock])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/the lock is out of date/)

    // A wrong type against the live catalog: a non-zero exit naming table, column and fix.
    const wrong = d.configFile(d.config({ items: { ...itemsIndex.items, fields: { ...itemsIndex.items.fields, name: t.integer() } } }))
    const failed = await runCli(["check", "--config", wrong])
    expect(failed.code).not.toBe(0)
    expect(failed.stdout).toMatch(/public\.items\.name/)
    expect(failed.stdout).toMatch(/fix:/)
    expect(failed.stderr).toContain("check found 1 error")

    const jsonSchema = await runCli(["schema"])
    expect(jsonSchema.code).toBe(0)
    expect(JSON.parse(jsonSchema.stdout)).toHaveProperty("$schema")
  }, 120_000)

  it("pushes the metrics over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, payload jsonb)")
    await d.sql("INSERT INTO items VALUES (1, 'one', NULL)")
    // A collector of our own: records what flusso posts.
    const received: Array<{ path: string; body: string }> = []
    const port = await freePort()
    const collector = createServer((request, response) => {
      let body = ""
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
      request.on("end", () => {
        received.push({ path: request.url ?? "", body })
        response.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    await new Promise<void>((resolve) => collector.listen(port, "127.0.0.1", resolve))
    try {
      const s = await surfaces()
      const cli = run(d.config(itemsIndex), s.args, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` })
      await ready(s, cli)
      await d.sql("UPDATE items SET name = 'uno' WHERE id = 1")
      const posted = await waitFor("an OTLP export with flusso's metrics", async () =>
        received.find((r) => r.path === "/v1/metrics" && r.body.includes("flusso_changes_captured_total")), 40_000)
      const parsed = JSON.parse(posted.body) as { resourceMetrics: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> } }> }
      expect(parsed.resourceMetrics[0]?.resource.attributes).toContainEqual({ key: "service.name", value: { stringValue: "flusso" } })
    } finally {
      await new Promise<void>((resolve) => collector.close(() => resolve()))
    }
  }, 90_000)

  it("waits for an OpenSearch that is not there yet, then syncs once it answers", async () => {
    await d.sql("CREATE TABLE items (id int PRIMARY KEY, name text, payload jsonb)")
    await d.sql("INSERT INTO items VALUES (1, 'one', NULL)")
    const port = await freePort()
    const config = d.config(itemsIndex)
    const sinks = config["sinks"] as { primary: Record<string, unknown> }
    const s = await surfaces()
    const cli = run({ ...config, sinks: { primary: { ...sinks.primary, url: `http://127.0.0.1:${port}` } } }, s.args, { FLUSSO_LOG_FORMAT: "human" })
    await cli.waitForOutput("the wait to be logged", /preparing the indexes failed, retrying: sink primary unavailable/)
    expect((await get(`${s.public}/readyz`)).status).toBe(503)
    const waiting = await getJson(`${s.public}/status`)
    expect(waiting.body).toMatchObject({ phase: "retrying", indexes: [{ name: "items", state: "starting" }] })
    expect((waiting.body["lastError"] as { message: string }).message).toMatch(/sink primary unavailable/)
    // Every failed request is counted, as it is logged.
    expect(sample((await get(`${s.public}/metrics`)).text, "flusso_errors_total")).toBeGreaterThanOrEqual(2)
    // OpenSearch comes up on that port: a plain TCP relay to the real one, which can be cut.
    const upstream = new URL(d.opensearchUrl)
    const sockets = new Set<import("node:net").Socket>()
    const relay = createNetServer((socket) => {
      const to = connect(Number(upstream.port), upstream.hostname)
      sockets.add(socket).add(to)
      socket.on("error", () => to.destroy())
      to.on("error", () => socket.destroy())
      socket.pipe(to).pipe(socket)
    })
    const listen = () => new Promise<void>((resolve) => relay.listen(port, "127.0.0.1", resolve))
    const cut = () =>
      new Promise<void>((resolve) => {
        relay.close(() => resolve())
        for (const socket of sockets) socket.destroy()
        sockets.clear()
      })
    await listen()
    try {
      await ready(s, cli)
      await caughtUp(d)
      await waitFor("seeded", async () => ((await d.doc("items", "1")) === undefined ? undefined : true), 30_000)
      expect(await d.doc("items", "1")).toEqual({ id: 1, name: "one", payload: null })
      const statusOf = async () => (await getJson(`${s.public}/status`)).body
      await waitFor("live", async () => ((await statusOf())["phase"] === "live" ? true : undefined))
      const errorsBefore = Number((await statusOf())["errors"])

      // OpenSearch goes away while live: a change cannot be written, and that shows until it is.
      await cut()
      await d.sql("UPDATE items SET name = 'uno' WHERE id = 1")
      const outage = await waitFor("the outage in /status", async () => {
        const body = await statusOf()
        return body["phase"] === "retrying" ? body : undefined
      })
      expect(Number(outage["errors"])).toBeGreaterThan(errorsBefore)
      expect((outage["lastError"] as { message: string }).message).toMatch(/sink primary unavailable/)
      await listen()
      await caughtUp(d)
      expect(await d.doc("items", "1")).toEqual({ id: 1, name: "uno", payload: null })
      await waitFor("live again", async () => ((await statusOf())["phase"] === "live" ? true : undefined))
    } finally {
      await cli.stop()
      await cut()
    }
  }, 90_000)
})
