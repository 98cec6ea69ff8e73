/**
 * flusso.toml (src/config/rs/toml.ts, env.ts): every key onto our model, the Rust
 * defaults that differ from ours, and each message of the format with its line and column.
 */
import { describe, expect, it } from "vitest"
import * as path from "node:path"
import { EnvRef } from "../../src/config/model.js"
import { deployment, issues, loaded, SOURCE } from "../fixtures/rs/harness.js"

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/rs/flusso.toml")

describe("flusso.toml", () => {
  it("maps every key of the fixture onto the model", async () => {
    const config = await loaded(FIXTURE)
    expect(config.source).toEqual({ type: "postgres", url: new EnvRef({ name: "DATABASE_URL" }), managePublication: true, failover: false, slot: "flusso", publication: "flusso" })
    expect(config.prefix).toBe("rsfixture_")
    expect(config.onError).toBe("stop")
    expect(config.server).toEqual({ publicAddress: "127.0.0.1:9464", privateAddress: "127.0.0.1:9465" })
    expect(config.sinks["primary"]).toEqual({
      type: "opensearch",
      url: "http://127.0.0.1:9200",
      tlsVerify: true,
      batchSize: 500,
      maxBytes: 5242880,
      timeoutSeconds: 20,
      maxRetries: 2,
      numberOfShards: 1,
      numberOfReplicas: 0,
      refreshInterval: "1s",
      textAnalysis: "builtin",
      autoSubfields: true,
      mappingStyle: "rust",
      keepPreviousGenerations: 0
    })
    expect(Object.keys(config.indexes)).toEqual(["customers", "orders"])
    expect(config.indexes["orders"]?.onError).toBe("skip")
    expect(config.indexes["customers"]?.enabled).toBe(true)
  })

  it("keeps the Rust defaults: max_retries 3, and stdout sinks, parts and literals", async () => {
    const config = await loaded(
      deployment(`prefix = ""
[source]
type = "postgres"
connection_url = { host = "db", port = 6543, password = { env = "PGPASS" }, database = "shop" }
manage_publication = false

[sinks.search]
type = "opensearch"
url = "https://os:9200"
username = "admin"
password = { env = "OS_PASSWORD" }
pipeline = "ingest"
text_analysis = "icu"

[sinks.debug]
type = "stdout"
pretty = true
`)
    )
    expect(config.source.url).toEqual({ host: "db", port: 6543, user: "postgres", password: new EnvRef({ name: "PGPASS" }), database: "shop" })
    expect(config.source.managePublication).toBe(false)
    expect(config.sinks["search"]).toMatchObject({ maxRetries: 3, username: "admin", password: new EnvRef({ name: "OS_PASSWORD" }), pipeline: "ingest", textAnalysis: "icu" })
    expect(config.sinks["debug"]).toEqual({ type: "stdout", pretty: true })
    expect(config.indexes).toEqual({})
  })

  it("reports unknown keys with did-you-mean, line and column", async () => {
    const file = deployment(`${SOURCE}manage_publicaton = true\n\n[sinks.main]\ntype = "opensearch"\nurl = "http://os"\nbatch_sise = 5\n\n[serve]\n`)
    expect(await issues(file)).toEqual([
      "failed to parse config `flusso.toml`: unknown key `serve` — did you mean `server`? expected one of `source`, `prefix`, `on_error`, `server`, `sinks`, `index` (line 10, column 1)",
      "failed to parse config `flusso.toml`: unknown key `manage_publicaton` — did you mean `manage_publication`? expected one of `type`, `connection_url`, `manage_publication`, `ssl_mode`, `ssl_root_cert`, `ssl_cert`, `ssl_key`, `ssl_sni_hostname` (line 3, column 1)",
      "failed to parse config `flusso.toml`: unknown key `batch_sise` — did you mean `batch_size`? expected one of `type`, `url`, `username`, `password`, `tls_verify`, `batch_size`, `max_bytes`, `timeout_secs`, `max_retries`, `pipeline`, `number_of_shards`, `number_of_replicas`, `refresh_interval`, `text_analysis`, `auto_subfields` (line 8, column 1)"
    ])
  })

  it("says what an env reference and a connection URL look like", async () => {
    const file = deployment(`[source]
type = "postgres"
connection_url = 5432

[sinks.a]
type = "opensearch"
url = { env = "OS_URL", default = "http://x" }
username = { name = "OS_USER" }
password = ["p"]
`)
    const found = await issues(file)
    expect(found.map((issue) => issue.replace(/^failed to parse config `[^`]+`: /, ""))).toEqual([
      'expected a connection URL string, an env reference `{ env = "VAR" }`, or a connection-parts table `{ host, port, user, password, database }`, found an integer (line 3, column 1)',
      'unexpected key `default` in env reference — write it as `{ env = "VAR" }` (line 7, column 25)',
      "unknown key `name` — expected `env` (line 8, column 14)",
      'expected a string value or an env reference `{ env = "VAR" }` (line 9, column 1)'
    ])
  })

  it("refuses what the format refuses: missing keys, bad variants, duplicate indexes, host names as addresses", async () => {
    const file = deployment(`on_error = "ignore"
[source]
type = "mysql"
connection_url = { host = "db" }

[server]
public_address = "localhost:9464"

[sinks.a]
type = "opensearch"

[sinks.b]
type = "kafka"

[[index]]
name = "users"
schema = "users.schema.yml"

[[index]]
name = "users"
schema = "users.schema.yml"
enabled = true

[[index]]
name = "users"
schema = "users.schema.yml"
enabled = true
`)
    const found = (await issues(file)).map((issue) => issue.replace(/^failed to parse config `[^`]+`: /, ""))
    expect(found).toEqual([
      "unknown variant `mysql`, expected `postgres` (line 3, column 1)",
      "missing key `database` (line 4, column 1)",
      "unknown variant `ignore`, expected `stop` or `skip` (line 1, column 1)",
      "invalid socket address syntax (line 7, column 1)",
      "missing key `url` (line 9, column 1)",
      "unknown variant `kafka`, expected `opensearch` or `stdout` (line 13, column 1)",
      "missing key `enabled` (line 15, column 1)",
      "duplicate index name `users` (line 25, column 1)",
      expect.stringMatching(/^failed to read schema `users` from `.*users\.schema\.yml`: ENOENT/)
    ])
  })

  it("refuses the later TLS keys, pointing at the URL's query parameters", async () => {
    const found = await issues(deployment(`${SOURCE}connection_url = "postgres://db/x"\nssl_mode = "require"\n`))
    expect(found).toEqual([expect.stringMatching(/`ssl_mode` is not supported here: put it in `connection_url` as a query parameter .* \(line 4, column 1\)$/)])
  })

  it("passes a TOML syntax error through with smol-toml's caret snippet", async () => {
    const [issue] = await issues(deployment(`${SOURCE}prefix = = "x"\n`))
    expect(issue).toMatch(/^failed to parse config `.*flusso\.toml`: Invalid TOML document: .*\n[\s\S]*\^ \(line 3, column 10\)$/)
  })

  it("places validation problems (ours, shared with .ts configs) at their TOML key", async () => {
    const found = await issues(deployment(`prefix = "Bad Prefix"\n${SOURCE}\n[sinks.a]\ntype = "opensearch"\nurl = "http://os"\nbatch_size = 0\n`))
    expect(found.map((issue) => issue.replace(/^failed to parse config `[^`]+`: /, ""))).toEqual([
      "sinks.a.batch_size: Expected a positive number, actual 0 (line 8, column 1)",
      expect.stringMatching(/^prefix: must be lowercase.* \(line 1, column 1\)$/)
    ])
  })

  it("never echoes a password in a message", async () => {
    const found = await issues(deployment(`${SOURCE}connection_url = "postgres://u:Sup3rSecret@db/x"\n\n[sinks.a]\ntype = "opensearch"\nurl = "http://os"\npassword = { env = 5 }\nusername = true\n`))
    expect(found.join("\n")).not.toContain("Sup3rSecret")
    expect(found).toHaveLength(2)
  })
})
