/**
 * `flusso migrate` (src/config/rs/migrate/emit.ts): the TypeScript written for the
 * fixture type-checks under the repository's strict settings (`tsc --noEmit`) and loads
 * back to the same planned config as the TOML.
 */
import { afterAll, describe, expect, it } from "vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { loadConfig } from "../../src/config/load.js"
import type { FlussoConfig } from "../../src/config/model.js"
import { loadRustConfig } from "../../src/config/rs/index.js"
import { emitConfigTs } from "../../src/config/rs/migrate/emit.js"
import { planIndex } from "../../src/schema/planIndex.js"
import { deployment } from "../fixtures/rs/harness.js"

const ROOT = path.resolve(import.meta.dirname, "../..")
const FIXTURE = path.join(ROOT, "test/fixtures/rs/flusso.toml")
mkdirSync(path.join(ROOT, "test/.tmp"), { recursive: true })
const dir = mkdtempSync(path.join(ROOT, "test/.tmp/rs-migrate-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const meaning = (config: FlussoConfig): unknown =>
  JSON.parse(JSON.stringify({ ...config, indexes: Object.entries(config.indexes).map(([name, index]) => planIndex(name, index, config.onError)) }))

const migrated = async (toml: string, name: string) => {
  const rust = await Effect.runPromise(loadRustConfig(toml))
  const file = path.join(dir, `${name}.config.ts`)
  writeFileSync(file, emitConfigTs(rust.input, "flusso.toml"))
  return { rust, file }
}

describe("flusso migrate", () => {
  it("writes a config that type-checks and loads back to the same config", async () => {
    const { rust, file } = await migrated(FIXTURE, "fixture")
    const tsconfig = path.join(dir, "tsconfig.json")
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: path.join(ROOT, "tsconfig.json"),
        compilerOptions: { noEmit: true, rootDir: ROOT, paths: { flusso: [path.join(ROOT, "src/index.ts")] } },
        include: [],
        files: [file]
      })
    )
    const tsc = path.join(ROOT, "node_modules/typescript/bin/tsc")
    const checked = await promisify(execFile)(process.execPath, [tsc, "-p", tsconfig]).then(
      () => "ok",
      (error: { stdout?: string }) => error.stdout ?? "tsc failed"
    )
    expect(checked).toBe("ok")
    const reloaded = await Effect.runPromise(loadConfig(file))
    expect(meaning(reloaded)).toEqual(meaning(rust.config))
  }, 120_000)

  it("writes env references as env(), parts as parts, and the Rust defaults that differ from ours", async () => {
    const toml = deployment(`[source]
type = "postgres"
connection_url = { host = "db", password = { env = "PGPASSWORD" }, database = "shop" }

[sinks.search]
type = "opensearch"
url = { env = "SEARCH_URL" }
`)
    const { rust, file } = await migrated(toml, "parts")
    const text = emitConfigTs(rust.input, "flusso.toml")
    expect(text).toContain('import { defineConfig, env } from "flusso"')
    expect(text).toContain('url: { host: "db", port: 5432, user: "postgres", password: env("PGPASSWORD"), database: "shop" }')
    expect(text).toContain('search: { type: "opensearch", url: env("SEARCH_URL"), maxRetries: 3, mappingStyle: "rust" }')
    expect(meaning(await Effect.runPromise(loadConfig(file)))).toEqual(meaning(rust.config))
  })

  it("names each index's const and DocumentOf type, and writes a column only where ours would differ", async () => {
    const { rust } = await migrated(FIXTURE, "names")
    const text = emitConfigTs(rust.input, "flusso.toml")
    expect(text).toContain("export const customers = defineIndex({")
    expect(text).toContain("export type CustomersDocument = DocumentOf<typeof customers>")
    expect(text).toContain('displayName: t.text({ column: "displayname" })')
    expect(text).toContain("full_name: t.text(),")
    expect(text).toContain('origin: t.constant("crm")')
    expect(text).toContain("indexes: { customers, orders }")
  })
})
