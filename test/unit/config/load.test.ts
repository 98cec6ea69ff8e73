import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { editDistance } from "../../../src/config/issues.js"
import { loadConfig } from "../../../src/config/load.js"
import { EnvRef } from "../../../src/config/model.js"
import { validateConfig } from "../../../src/config/validate.js"

const dir = mkdtempSync(path.join(tmpdir(), "flusso-config-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const write = (name: string, text: string): string => {
  const file = path.join(dir, name)
  writeFileSync(file, text)
  return file
}

/** The issue lines of a load that must fail. */
const issuesOf = (file: string) =>
  loadConfig(file).pipe(
    Effect.flip,
    Effect.map((error) => error.issues)
  )

const issuesOfValue = (value: unknown): ReadonlyArray<string> => {
  const result = validateConfig(value)
  return result._tag === "Left" ? result.left : []
}

const source = { type: "postgres", url: "postgres://localhost/app" }
const withFields = (fields: Record<string, unknown>, primaryKey: unknown = "id") => ({
  source,
  indexes: { users: { table: "users", primaryKey, fields } }
})

describe("loadConfig", () => {
  it.effect("loads a TypeScript config that imports flusso", () =>
    Effect.gen(function* () {
      const file = write(
        "flusso.config.ts",
        `import { defineConfig, defineIndex, env, t, type DocumentOf } from "flusso"
        export const users = defineIndex({
          table: "users",
          primaryKey: "id",
          fields: { id: t.long({ required: true }), email: t.keyword({ transforms: ["lowercase"] }), fullName: t.text() }
        })
        export type User = DocumentOf<typeof users>
        export default defineConfig({
          source: { type: "postgres", url: env("APP_DATABASE_URL") },
          sinks: { primary: { type: "opensearch", url: "http://127.0.0.1:9200", password: env("OS_PASSWORD") } },
          indexes: { users },
        })`
      )
      const config = yield* loadConfig(file)
      expect(config.source.url).toBeInstanceOf(EnvRef)
      expect(config.source.slot).toBe("flusso")
      expect(config.sinks.primary).toMatchObject({ type: "opensearch", batchSize: 1000, password: new EnvRef({ name: "OS_PASSWORD" }) })
      expect(config.indexes.users?.schema).toBe("public")
      expect(config.indexes.users?.fields.email).toEqual({ kind: "keyword", transforms: ["lowercase"] })
      expect(config.onError).toBe("stop")
    }))

  it.effect("loads the repository's example flusso.config.ts", () =>
    Effect.gen(function* () {
      const config = yield* loadConfig(path.resolve(import.meta.dirname, "../../../flusso.config.ts"))
      expect(Object.keys(config.indexes).length).toBeGreaterThan(0)
    }))

  it.effect("loads JSON, with env refs written as tagged objects", () =>
    Effect.gen(function* () {
      const file = write(
        "flusso.json",
        JSON.stringify({ source: { type: "postgres", url: { _tag: "Env", name: "DB" } }, prefix: "dev_" })
      )
      const config = yield* loadConfig(file)
      expect(config.source.url).toEqual(new EnvRef({ name: "DB" }))
      expect(config.prefix).toBe("dev_")
    }))

  it.effect("reports a missing file, a module without default export, an import error and bad JSON", () =>
    Effect.gen(function* () {
      expect(yield* issuesOf(path.join(dir, "absent.config.ts"))).toEqual([
        `no such file: ${path.join(dir, "absent.config.ts")}`
      ])
      const noDefault = yield* issuesOf(write("nodefault.config.ts", `export const x = 1\n`))
      expect(noDefault[0]).toMatch(/no default export/)
      const throwing = yield* issuesOf(write("throws.config.mjs", `throw new Error("boom")\n`))
      expect(throwing[0]).toMatch(/cannot import the config module: boom/)
      const badJson = yield* issuesOf(write("bad.json", `{ "source": `))
      expect(badJson[0]).toMatch(/cannot parse JSON/)
      const toml = yield* issuesOf(write("flusso.yaml", ""))
      expect(toml[0]).toMatch(/unsupported config file extension ".yaml"/)
    }))

  it.effect("names every problem with its full path, with did-you-mean for unknown keys", () =>
    Effect.gen(function* () {
      const file = write(
        "typos.config.ts",
        `export default {
          source: { type: "postgres", url: { host: "db", databse: "app" } },
          sinks: { Primary: { type: "stdout" }, search: { type: "opensearch", usrname: "x" } },
          indexes: { users: { table: "users", primaryKy: "id", fields: { email: { kind: "txt" }, name: { kind: "text", colum: "x" } } } },
          onErorr: "skip"
        }`
      )
      const error = yield* Effect.flip(loadConfig(file))
      expect(error.file).toBe(file)
      expect(error.issues).toEqual([
        "onErorr: unknown key, did you mean `onError`?",
        "source.url.databse: unknown key, did you mean `database`?",
        "source.url.database: is missing",
        "sinks.Primary: invalid name: must match ^[a-z_][a-z0-9_]*$ (lowercase Postgres identifier)",
        "sinks.search.usrname: unknown key, did you mean `username`?",
        "indexes.users.primaryKy: unknown key, did you mean `primaryKey`?",
        "indexes.users.primaryKey: is missing",
        expect.stringMatching(/^indexes\.users\.fields\.email\.kind: Expected "text" \| .*, actual "txt"; did you mean "text"\?$/),
        "indexes.users.fields.name.colum: unknown key, did you mean `column`?"
      ])
      expect(error.message).toContain(`invalid config ${file}:`)
    }))
})

describe("validateConfig", () => {
  it("lists the known keys when nothing is close", () => {
    expect(issuesOfValue({ source, extra: 1 })).toEqual([
      "extra: unknown key; expected one of `source`, `sinks`, `indexes`, `onError`, `prefix`, `server`, `batch`"
    ])
  })

  it("explains a union by the member the value was meant as", () => {
    expect(issuesOfValue({ source: { type: "postgres", url: 5 } })).toEqual([
      "source.url: Expected a string | Env | an object, actual 5"
    ])
    expect(issuesOfValue({ source: { type: "postgres", url: { _tag: "Env", nmae: "X" } } })).toEqual([
      "source.url.nmae: unknown key, did you mean `name`?",
      "source.url.name: is missing"
    ])
    expect(issuesOfValue({ source, sinks: { s: { type: "opensearch", batchSize: -1 } } })).toEqual([
      "sinks.s.batchSize: Expected a positive number, actual -1"
    ])
  })

  it("checks enum variants, transforms and defaults against the field kind", () => {
    expect(
      issuesOfValue(
        withFields({
          tag: { kind: "keyword", variants: ["a"] },
          empty: { kind: "enum", variants: [] },
          tier: { kind: "enum", variants: ["free", "free", "a=>b", "x\ny"], default: "gold" },
          count: { kind: "integer", transforms: ["trim"], default: 1.5 },
          active: { kind: "boolean", default: "yes" },
          data: { kind: "json", default: 3 },
          score: { kind: "double", default: 0.5 }
        })
      )
    ).toEqual([
      "indexes.users.fields.tag.variants: only enum fields take variants, this field is keyword",
      "indexes.users.fields.empty.variants: must not be empty",
      'indexes.users.fields.tier.variants: "free" is listed twice',
      'indexes.users.fields.tier.variants[2]: must not contain "=>" or a line break',
      'indexes.users.fields.tier.variants[3]: must not contain "=>" or a line break',
      'indexes.users.fields.tier.default: must be one of the variants "free", "free", "a=>b", "x\\ny"',
      "indexes.users.fields.count.transforms: only text, identifier, keyword, enum and uuid fields take transforms",
      "indexes.users.fields.count.default: must be an integer, as the field is integer",
      "indexes.users.fields.active.default: must be a boolean"
    ])
  })

  it("refuses a non-scalar default and a repeated primary key column", () => {
    expect(issuesOfValue(withFields({ id: { kind: "long", default: { a: 1 } } }))).toEqual([
      "indexes.users.fields.id.default: Expected a string | a number | a boolean, actual {\"a\":1}"
    ])
    expect(issuesOfValue(withFields({ id: { kind: "long" } }, ["id", "tenant", "id"]))).toEqual([
      'indexes.users.primaryKey: column "id" is listed twice'
    ])
  })

  it("never echoes a password value and wants an object at the top", () => {
    expect(issuesOfValue({ source: { type: "postgres", url: { database: "app", password: 1234 } } })).toEqual([
      "source.url.password: Expected a string | Env"
    ])
    expect(issuesOfValue(null)).toEqual(["the config must be an object, got null"])
  })

  it("measures edit distance with transpositions", () => {
    expect(editDistance("primaryKy", "primaryKey")).toBe(1)
    expect(editDistance("colmun", "column")).toBe(1)
    expect(editDistance("abc", "xyz")).toBe(3)
  })
})
