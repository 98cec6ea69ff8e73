/**
 * `{ env = "VAR" }` and the reserved variables for a flusso.toml, resolved at run/check
 * time by the resolution every config gets (resolve.ts): the Rust precedence — an
 * explicit reference, then DATABASE_URL / `<SINK>_OPENSEARCH_*`, then the literal — and
 * secrets that never reach a message.
 */
import { describe, expect, it } from "vitest"
import { Effect, Either, Redacted } from "effect"
import { resolveConfig } from "../../src/config/resolve.js"
import { deployment, loaded } from "../fixtures/rs/harness.js"

const toml = (url: string) => `[source]
type = "postgres"
connection_url = ${url}

[sinks.primary]
type = "opensearch"
url = "http://literal:9200"
username = "admin"
password = "Lit3ralSecret"
`

describe("env references in flusso.toml", () => {
  it("an explicit reference wins over DATABASE_URL; DATABASE_URL over a literal", async () => {
    const explicit = await loaded(deployment(toml(`{ env = "SHOP_DB" }`)))
    const resolved = await Effect.runPromise(resolveConfig(explicit, { SHOP_DB: "postgres://a@x/1", DATABASE_URL: "postgres://b@y/2" }))
    expect(Redacted.value(resolved.source.url)).toBe("postgres://a@x/1")
    const literal = await loaded(deployment(toml(`"postgres://c@z/3"`)))
    const overridden = await Effect.runPromise(resolveConfig(literal, { DATABASE_URL: "postgres://b@y/2" }))
    expect(Redacted.value(overridden.source.url)).toBe("postgres://b@y/2")
    const kept = await Effect.runPromise(resolveConfig(literal, {}))
    expect(Redacted.value(kept.source.url)).toBe("postgres://c@z/3")
  })

  it("builds the URL from parts, the password from its reference", async () => {
    const parts = await loaded(deployment(toml(`{ host = "db", user = "app", password = { env = "PGPASS" }, database = "shop" }`)))
    const resolved = await Effect.runPromise(resolveConfig(parts, { PGPASS: "p@ss" }))
    expect(Redacted.value(resolved.source.url)).toBe("postgres://app:p%40ss@db:5432/shop")
  })

  it("lets <SINK>_OPENSEARCH_URL|USERNAME|PASSWORD override the sink's literals", async () => {
    const config = await loaded(deployment(toml(`"postgres://c@z/3"`)))
    const resolved = await Effect.runPromise(
      resolveConfig(config, { PRIMARY_OPENSEARCH_URL: "http://env:9200", PRIMARY_OPENSEARCH_USERNAME: "ops", PRIMARY_OPENSEARCH_PASSWORD: "EnvSecret" })
    )
    const [sink] = resolved.sinks
    expect(sink).toMatchObject({ url: "http://env:9200", username: "ops" })
    expect(sink?.type === "opensearch" && sink.password !== undefined ? Redacted.value(sink.password) : undefined).toBe("EnvSecret")
    expect(JSON.stringify(resolved)).not.toContain("EnvSecret")
  })

  it("names an unset variable at resolution, never at load", async () => {
    const config = await loaded(deployment(toml(`{ env = "SHOP_DB" }`)))
    const failed = await Effect.runPromise(Effect.either(resolveConfig(config, {}, "flusso.toml")))
    expect(Either.isLeft(failed) && failed.left.issues).toEqual([expect.stringContaining("environment variable SHOP_DB is not set")])
  })
})
