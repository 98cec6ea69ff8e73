/**
 * A flusso.toml deployment gets the same index shape from us as from the Rust flusso:
 * the real CLI runs each deployment of test/fixtures/rs-parity/ and what OpenSearch then
 * holds — mappings and analysis settings, as `GET _mapping` / `_settings` return them — is
 * compared with what the Rust binary 0.15.1 created from the same files (recorded beside
 * them, on the same OpenSearch version, before any document landed).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { Schema } from "effect"
import { type Deployment, makeDeployment, waitFor } from "../support/deployment.js"
import { freePort, type Running, startCli } from "../support/cli.js"

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/rs-parity")

const Recorded = Schema.parseJson(Schema.Struct({ mappings: Schema.Unknown, analysis: Schema.Unknown }))
const Mappings = Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.Struct({ mappings: Schema.Unknown }) }))
const Settings = Schema.parseJson(
  Schema.Record({ key: Schema.String, value: Schema.Struct({ settings: Schema.Struct({ index: Schema.Struct({ analysis: Schema.Unknown }) }) }) })
)

let d: Deployment
const running: Array<Running> = []
beforeEach(async () => {
  d = await makeDeployment()
})
afterEach(async () => {
  for (const cli of running.splice(0)) await cli.stop("SIGKILL")
  await d.cleanup()
})

/** What OpenSearch holds for index `name` (through its alias): one physical index. */
const shape = async (name: string) => {
  const mappings = Object.values(Schema.decodeUnknownSync(Mappings)((await d.raw("GET", `/${d.prefix}${name}/_mapping`)).text))
  const settings = Object.values(Schema.decodeUnknownSync(Settings)((await d.raw("GET", `/${d.prefix}${name}/_settings`)).text))
  expect(mappings).toHaveLength(1)
  return { mappings: mappings[0]?.mappings, analysis: settings[0]?.settings.index.analysis }
}

const runDeployment = async (dir: string, indexes: ReadonlyArray<string>) => {
  await d.sql(readFileSync(path.join(FIXTURES, dir, "schema.sql"), "utf8"))
  const cli = startCli(
    ["run", "--config", path.join(FIXTURES, dir, "flusso.toml"), "--slot", d.db.name, "--publication", d.db.name, "--index-prefix", d.prefix,
      "--public-address", `127.0.0.1:${await freePort()}`, "--private-address", `127.0.0.1:${await freePort()}`],
    { DATABASE_URL: d.db.url, PRIMARY_OPENSEARCH_URL: d.opensearchUrl, FLUSSO_ADMIN_PASSWORD: "parity-test" }
  )
  running.push(cli)
  await waitFor("the indexes", async () => {
    if (cli.child.exitCode !== null) throw new Error(`flusso exited: ${cli.stderr()}`)
    const answers = await Promise.all(indexes.map((name) => d.raw("GET", `/${d.prefix}${name}/_mapping`)))
    return answers.every((a) => a.status === 200) ? true : undefined
  }, 60_000)
}

const recorded = (dir: string, name: string) =>
  Schema.decodeUnknownSync(Recorded)(readFileSync(path.join(FIXTURES, dir, "rust-flusso-0.15.1", `${name}.json`), "utf8"))

describe("mappings of flusso.toml deployments, as the Rust flusso derives them", () => {
  it("the Rust flusso's own dev deployment: users, products, orders", async () => {
    const names = ["users", "products", "orders"]
    await runDeployment("dev", names)
    for (const name of names) expect(await shape(name), name).toEqual(recorded("dev", name))
  }, 90_000)

  it("every other kind of field; a json field stays dynamic (the Rust flusso's strict one refuses any value with a key)", async () => {
    await runDeployment("kinds", ["things"])
    const rust = recorded("kinds", "things")
    const mappings = rust.mappings as { properties: Record<string, Record<string, unknown>> }
    const expected = { ...rust, mappings: { ...mappings, properties: { ...mappings.properties, prefs: { type: "object", dynamic: "true" } } } }
    expect(await shape("things")).toEqual(expected)
  }, 90_000)
})
