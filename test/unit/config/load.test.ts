/**
 * Loading config files (load.ts) — TypeScript, JavaScript and JSON, in ESM and CommonJS
 * packages, from source and through the built loader the CLI runs — and the messages
 * for what a config gets wrong, down to values that are not plain data.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { editDistance } from "../../../src/config/issues.js"
import { loadConfig } from "../../../src/config/load.js"
import { EnvRef } from "../../../src/config/model.js"
import { validateConfig } from "../../../src/config/validate.js"
import { requireBuiltFlusso, ROOT } from "./builtFlusso.js"

const temporary: Array<string> = []
afterAll(() => temporary.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/**
 * A project directory: its package.json (none for a bare directory, which Node treats as
 * CommonJS), with flusso installed (node_modules/flusso → this repository, so dist/) or not.
 */
const project = (packageJson: object | undefined, installed = true) => {
  const dir = mkdtempSync(path.join(tmpdir(), "flusso-config-"))
  temporary.push(dir)
  if (packageJson !== undefined) writeFileSync(path.join(dir, "package.json"), JSON.stringify(packageJson))
  if (installed) {
    mkdirSync(path.join(dir, "node_modules"))
    symlinkSync(ROOT, path.join(dir, "node_modules", "flusso"), "dir")
  }
  return {
    dir,
    write: (name: string, text: string): string => {
      const file = path.join(dir, name)
      writeFileSync(file, text)
      return file
    }
  }
}

const { dir, write } = project(undefined)
beforeAll(() => requireBuiltFlusso())

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
      expect(noDefault).toEqual(["the module has no default export; end it with `export default defineConfig({ ... })`"])
      // A misspelt field kind: where it is in the file, and the kind meant.
      const typo = write(
        "typo.config.ts",
        `import { defineConfig, t } from "flusso"\nexport default defineConfig({\n  source: { type: "postgres" },\n  indexes: { u: { table: "u", primaryKey: "id", fields: { id: t.lng() } } }\n})\n`
      )
      expect(yield* issuesOf(typo)).toEqual([`cannot import the config module: ${typo}:4:63: t.lng is not a function; did you mean t.long()?`])
      const throwing = yield* issuesOf(write("throws.config.mjs", `throw new Error("boom")\n`))
      expect(throwing[0]).toMatch(/cannot import the config module: \S*throws.config.mjs:1:\d+: boom/)
      const badJson = yield* issuesOf(write("bad.json", `{ "source": `))
      expect(badJson[0]).toMatch(/cannot parse JSON/)
      const toml = yield* issuesOf(write("flusso.yaml", ""))
      expect(toml[0]).toMatch(/unsupported config file extension ".yaml"/)
    }))

  it("says a whole number past 2^53 is too large rather than not an integer", () => {
    expect(issuesOfValue({ source, batch: { maxChanges: 1e300 } })).toEqual([
      "batch.maxChanges: is too large: 1e+300; expected a whole number of at most 9007199254740991"
    ])
    expect(issuesOfValue({ source, batch: { maxChanges: 1.5 } })).toEqual(["batch.maxChanges: Expected an integer, actual 1.5"])
  })

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
        "sinks.Primary: invalid name: must match ^[a-z_][a-z0-9_]*$: flusso names OpenSearch indexes, slots and publications after it, which must be lowercase",
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

/** A config importing flusso by package name, as in a user's project, in ESM syntax (TypeScript unless `js`). */
const esmConfig = (prefix: string, js = false) => `import { defineConfig, defineIndex, env, t${js ? "" : ", type DocumentOf"} } from "flusso"
const users = defineIndex({ table: "users", primaryKey: "id", fields: { id: t.long({ required: true }), name: t.text() } })
${js ? "" : "export type User = DocumentOf<typeof users>"}
export default defineConfig({ source: { type: "postgres", url: env("DB") }, prefix: "${prefix}", indexes: { users } })
`

const commonJsConfig = (prefix: string) => `const { defineConfig, env, t } = require("flusso")
module.exports = defineConfig({
  source: { type: "postgres", url: env("DB") },
  prefix: "${prefix}",
  indexes: { users: { table: "users", primaryKey: "id", fields: { id: t.long({ required: true }), name: t.text() } } }
})
`

const expectLoaded = (config: { readonly prefix: string; readonly source: { readonly url?: unknown }; readonly indexes: object }, prefix: string) => {
  expect(config.prefix).toBe(prefix)
  expect(config.source.url).toEqual(new EnvRef({ name: "DB" }))
  expect(config.indexes).toEqual({
    users: { table: "users", schema: "public", primaryKey: "id", enabled: true, fields: { id: { kind: "long", required: true }, name: { kind: "text" } } }
  })
}

describe("loadConfig in a CommonJS package (package.json without \"type\": \"module\")", () => {
  const cjs = project({ name: "x" })

  it.effect("loads .ts, .mts, .js and .mjs configs in ESM syntax that import flusso", () =>
    Effect.gen(function* () {
      for (const name of ["flusso.config.ts", "flusso.config.mts", "flusso.config.js", "flusso.config.mjs"]) {
        const prefix = name.replaceAll(".", "_")
        expectLoaded(yield* loadConfig(cjs.write(name, esmConfig(prefix, /\.m?js$/.test(name)))), prefix)
      }
    }))

  it.effect("loads a config written as CommonJS, and one importing a module of its own", () =>
    Effect.gen(function* () {
      expectLoaded(yield* loadConfig(cjs.write("required.config.js", commonJsConfig("cjs_"))), "cjs_")
      cjs.write("indexes.ts", `import { t } from "flusso"\nexport const users = { table: "users", primaryKey: "id", fields: { id: t.long({ required: true }), name: t.text() } }\n`)
      const file = cjs.write(
        "split.config.ts",
        `import { defineConfig, env } from "flusso"\nimport { users } from "./indexes"\nexport default defineConfig({ source: { type: "postgres", url: env("DB") }, prefix: "split", indexes: { users } })\n`
      )
      expectLoaded(yield* loadConfig(file), "split")
    }))

  it.effect("reads the file again on each load", () =>
    Effect.gen(function* () {
      for (const [name, text] of [["again.config.ts", esmConfig], ["again.config.js", commonJsConfig]] as const) {
        const file = cjs.write(name, text("first"))
        expect((yield* loadConfig(file)).prefix).toBe("first")
        cjs.write(name, text("second"))
        expect((yield* loadConfig(file)).prefix).toBe("second")
      }
    }))
})

describe("loadConfig in an ESM package", () => {
  const esm = project({ name: "y", type: "module" })

  it.effect("loads .ts and .js configs that import flusso", () =>
    Effect.gen(function* () {
      expectLoaded(yield* loadConfig(esm.write("flusso.config.ts", esmConfig("ts"))), "ts")
      expectLoaded(yield* loadConfig(esm.write("flusso.config.js", esmConfig("js", true))), "js")
    }))

  it.effect("names the problem of CommonJS syntax in an ES module", () =>
    Effect.gen(function* () {
      const [issue] = yield* issuesOf(esm.write("required.config.js", commonJsConfig("x")))
      expect(issue).toMatch(/^cannot import the config module: \S*required.config.js:\d+:\d+: require is not defined in ES module scope/)
      expect(issue).not.toMatch(/namespace=|flusso-load=/)
    }))
})

describe("the built loader (dist/, as the CLI runs it)", () => {
  const execFileAsync = promisify(execFile)

  /** Loads each file in a fresh node through dist/config/load.js; per file its prefix and whether its flusso is the running one. */
  const loadBuilt = async (files: ReadonlyArray<string>): Promise<Record<string, unknown>> => {
    const script = `
      import { Effect } from "effect"
      const { loadConfig } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/config/load.js")).href)})
      const flusso = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href)})
      const results = {}
      for (const file of JSON.parse(process.env.FILES)) {
        globalThis.seen = undefined
        const result = await Effect.runPromise(Effect.either(loadConfig(file)))
        results[file] = result._tag === "Right" ? { prefix: result.right.prefix, running: globalThis.seen === flusso.env } : result.left.issues
      }
      console.log(JSON.stringify(results))`
    const { stdout } = await execFileAsync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      env: { ...process.env, FILES: JSON.stringify(files) },
      timeout: 60_000
    })
    return JSON.parse(stdout)
  }

  /** Records which `env` the config got from "flusso". */
  const seen = (config: string) => config.replace(/^(.*\n)/, `$1;(globalThis as { seen?: unknown }).seen = env\n`)

  it("resolves flusso to the running one in either package type, also where the project has none installed", async () => {
    requireBuiltFlusso({ current: true })
    const files: Array<string> = []
    for (const packageJson of [{ name: "x" }, { name: "y", type: "module" }]) {
      for (const installed of [true, false]) {
        const { write } = project(packageJson, installed)
        files.push(write("flusso.config.ts", seen(esmConfig("a"))), write("flusso.config.mts", seen(esmConfig("b"))))
        if (packageJson.type === undefined) {
          files.push(write("esm.config.js", seen(esmConfig("c", true)).replace(" as { seen?: unknown }", "")))
          files.push(write("cjs.config.js", commonJsConfig("d").replace(/\n/, "\nglobalThis.seen = env\n")))
        }
      }
    }
    const results = await loadBuilt(files)
    for (const file of files) {
      expect(results[file], file).toEqual({ prefix: expect.any(String), running: true })
    }
  })
})

describe("values that are not plain data", () => {
  const users = (fields: object) => ({ source, indexes: { users: { table: "users", primaryKey: "id", fields } } })

  it("names the path of a cycle, a BigInt and a throwing getter", () => {
    const x = { kind: "object", fields: {} as Record<string, unknown> }
    x.fields["self"] = x
    expect(issuesOfValue(users({ x }))).toEqual([
      "indexes.users.fields.x.fields.self: is circular: it refers back to indexes.users.fields.x; a config must be a tree of plain values"
    ])
    const root: Record<string, unknown> = { source }
    root["again"] = root
    expect(issuesOfValue(root)).toEqual(["again: is circular: it refers back to the config itself; a config must be a tree of plain values"])
    expect(issuesOfValue(users({ id: { kind: "long", default: 10n } }))).toEqual([
      "indexes.users.fields.id.default: is a BigInt (10n), which a config cannot hold; write it as a number (or a string)"
    ])
    const fields = Object.defineProperty({}, "x", { enumerable: true, get: () => { throw new Error("not yet") } })
    expect(issuesOfValue(users(fields))).toEqual(["indexes.users.fields.x: reading it threw: not yet"])
    const keys = new Proxy({}, { ownKeys: () => { throw new Error("no keys") } })
    expect(issuesOfValue(users({ x: keys }))).toEqual(["indexes.users.fields.x: cannot be read: no keys"])
    expect(issuesOfValue(10n)).toEqual(["the config must be an object, got 10n"])
  })

  it("reads each value once and accepts shared, non-circular values", () => {
    let reads = 0
    const name = Object.defineProperty({}, "kind", { enumerable: true, get: () => (++reads === 1 ? "text" : "bogus") })
    const shared = { table: "user_tags", leftKey: "user_id", rightKey: "tag_id" }
    expect(
      issuesOfValue(
        users({
          name,
          tagIds: { kind: "ids", table: "tags", through: shared, elementType: "long" },
          tagCount: { kind: "count", table: "tags", through: shared }
        })
      )
    ).toEqual([])
    expect(reads).toBe(1)
  })

  it("wants mapping options to be JSON, as they are sent to OpenSearch and written to the lock", () => {
    expect(
      issuesOfValue(
        users({
          a: { kind: "text", options: { analyzer: "english", unset: undefined } },
          b: { kind: "text", options: { at: new Date(0) } },
          c: { kind: "custom", postgres: ["inet"], opensearch: { type: "ip", f: () => 1 } }
        })
      )
    ).toEqual([
      "indexes.users.fields.b.options: must be JSON (null, booleans, finite numbers, strings, and lists and plain objects of those)",
      "indexes.users.fields.c.opensearch: must be a type name or JSON (null, booleans, finite numbers, strings, and lists and plain objects of those)"
    ])
  })

  it.effect("gives a ConfigInvalid naming the path for such values exported by a module", () =>
    Effect.gen(function* () {
      const circular = write(
        "circular.config.ts",
        `const x: { kind: string; fields: Record<string, unknown> } = { kind: "object", fields: {} }
        x.fields.self = x
        export default { source: { type: "postgres" }, indexes: { users: { table: "users", primaryKey: "id", fields: { x } } } }`
      )
      expect(yield* issuesOf(circular)).toEqual([
        "indexes.users.fields.x.fields.self: is circular: it refers back to indexes.users.fields.x; a config must be a tree of plain values"
      ])
      const bigint = write(
        "bigint.config.ts",
        `export default { source: { type: "postgres" }, indexes: { users: { table: "users", primaryKey: "id", fields: { id: { kind: "long", default: 10n } } } } }`
      )
      expect(yield* issuesOf(bigint)).toEqual([
        "indexes.users.fields.id.default: is a BigInt (10n), which a config cannot hold; write it as a number (or a string)"
      ])
      const getter = write(
        "getter.config.mjs",
        `export default { source: { type: "postgres" }, indexes: { users: { table: "users", primaryKey: "id", fields: { get x() { throw new Error("not yet") } } } } }`
      )
      expect(yield* issuesOf(getter)).toEqual(["indexes.users.fields.x: reading it threw: not yet"])
      const throwingDefault = write(
        "default.config.js",
        `Object.defineProperty(module.exports, "__esModule", { value: true })\nObject.defineProperty(module.exports, "default", { enumerable: true, get() { throw new Error("later") } })\n`
      )
      expect((yield* issuesOf(throwingDefault))[0]).toMatch(/^cannot (import the config module|read the default export): later/)
    }))
})
