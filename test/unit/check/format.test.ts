/**
 * The two renderings of a check report: human (plain text, grouped by index, errors
 * first, each fix under its finding, the mapping, a summary) and JSON (the report plus
 * `ok` and counts); `hasErrors` decides the exit code.
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { type CheckReport, finding, formatHuman, formatJson, hasErrors } from "../../../src/check/CheckReport.js"
import { t } from "../../../src/config/define.js"
import { IndexConfig } from "../../../src/config/model.js"
import { deriveMapping } from "../../../src/schema/mapping.js"
import { planIndex } from "../../../src/schema/planIndex.js"

const plan = planIndex(
  "users",
  Schema.decodeUnknownSync(IndexConfig)({ table: "users", primaryKey: "id", fields: { name: t.text(), age: t.integer() } }),
  "stop"
)
const options = { textAnalysis: "builtin", autoSubfields: true } as const

const report: CheckReport = {
  mode: "online",
  source: { host: "db.internal", port: 5432, database: "app", user: "flusso" },
  indexes: [
    { name: "users", table: "public.users", enabled: true, hash: plan.hash, mappingOptions: { ...options, sink: "primary" }, mapping: deriveMapping(plan, options) },
    { name: "quiet", table: "public.quiet", enabled: false, hash: "0badcafe", mappingOptions: options, mapping: { dynamic: "strict", properties: {} } }
  ],
  findings: [
    finding("warning", "t.text() is required, but column public.users.nick is nullable", { index: "users", table: "public.users", column: "nick", path: "indexes.users.fields.nick", fix: "ALTER TABLE public.users ALTER COLUMN nick SET NOT NULL;" }),
    finding("error", "t.integer() cannot read column public.users.age of type text; it accepts int2, int4", { index: "users", table: "public.users", column: "age", path: "indexes.users.fields.age", fix: "declare it as t.text()" }),
    finding("info", "replication slot flusso does not exist yet"),
    finding("error", "publication flusso lacks public.users (managePublication is off)", { table: "public.users", fix: 'run as the owner: ALTER PUBLICATION "flusso" ADD TABLE "public"."users";' })
  ]
}

describe("formatHuman", () => {
  const text = formatHuman(report)

  it("is plain text: no ANSI escapes", () => {
    expect(text).not.toMatch(/\u001b/)
  })

  it("names the source without a password, then one section per index", () => {
    expect(text.split("\n")[0]).toBe("flusso check (online: PostgreSQL flusso@db.internal:5432/app)")
    expect(text).toContain(`index users (table public.users, content hash ${plan.hash})`)
    expect(text).toContain("index quiet (table public.quiet, content hash 0badcafe, disabled)")
  })

  it("lists an index's errors before its warnings, each fix on its own line under it", () => {
    const section = text.slice(text.indexOf("index users"), text.indexOf("index quiet"))
    const lines = section.split("\n")
    expect(lines[1]).toBe("  error:   indexes.users.fields.age: t.integer() cannot read column public.users.age of type text; it accepts int2, int4")
    expect(lines[2]).toBe("           fix: declare it as t.text()")
    expect(lines[3]).toBe("  warning: indexes.users.fields.nick: t.text() is required, but column public.users.nick is nullable")
    expect(lines[4]).toBe("           fix: ALTER TABLE public.users ALTER COLUMN nick SET NOT NULL;")
  })

  it("prints each index's mapping only with --mappings: after the findings and the summary, as indented JSON, with where its options came from", () => {
    expect(text).not.toContain('"dynamic"')
    const withMappings = formatHuman(report, { mappings: true })
    const mappings = withMappings.slice(withMappings.indexOf("check failed"))
    expect(mappings).toContain("index users: mapping (sink primary: textAnalysis builtin, autoSubfields true)")
    expect(mappings).toContain('    "dynamic": "strict"')
    expect(mappings).toContain('      "age": {\n        "type": "integer"\n      }')
    expect(mappings).toContain("index quiet: mapping (defaults: textAnalysis builtin, autoSubfields true)")
  })

  it("puts database-wide findings in their own section, errors first, and ends with the summary", () => {
    const tail = text.slice(text.indexOf("\ndatabase and sinks\n"))
    expect(tail.split("\n").slice(1)).toEqual([
      "database and sinks",
      "  error:   public.users: publication flusso lacks public.users (managePublication is off)",
      '           fix: run as the owner: ALTER PUBLICATION "flusso" ADD TABLE "public"."users";',
      "  note:    replication slot flusso does not exist yet",
      "",
      "2 errors, 1 warning, 1 note: check failed",
      ""
    ])
  })

  it("an offline report says so, and passes without errors", () => {
    const offline: CheckReport = { mode: "offline", indexes: report.indexes, findings: [] }
    const out = formatHuman(offline)
    expect(out.split("\n")[0]).toBe("flusso check (offline: the config alone; the database and the sinks were not consulted)")
    expect(out.trimEnd().split("\n").at(-1)).toBe("0 errors, 0 warnings, 0 notes: check passed")
    expect(hasErrors(offline)).toBe(false)
  })
})

describe("formatJson", () => {
  const Parsed = Schema.parseJson(Schema.Struct({
    ok: Schema.Boolean,
    counts: Schema.Struct({ error: Schema.Number, warning: Schema.Number, note: Schema.Number }),
    mode: Schema.String,
    indexes: Schema.Array(Schema.Struct({ name: Schema.String, hash: Schema.String, mapping: Schema.Unknown })),
    findings: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.String }))
  }))

  it("is the report with ok and counts, in the human report's words (error, warning, note)", () => {
    const parsed = Schema.decodeUnknownSync(Parsed)(formatJson(report))
    expect(parsed.ok).toBe(false)
    expect(parsed.counts).toEqual({ error: 2, warning: 1, note: 1 })
    expect(parsed.indexes.map((i) => i.name)).toEqual(["users", "quiet"])
    expect(parsed.indexes[0]?.mapping).toEqual(deriveMapping(plan, options))
    expect(parsed.findings[1]).toEqual({
      severity: "error",
      index: "users",
      table: "public.users",
      column: "age",
      path: "indexes.users.fields.age",
      message: "t.integer() cannot read column public.users.age of type text; it accepts int2, int4",
      fix: "declare it as t.text()"
    })
  })

  it("leaves unset details out", () => {
    expect(Schema.decodeUnknownSync(Parsed)(formatJson(report)).findings[2]).toEqual({ severity: "note", message: "replication slot flusso does not exist yet" })
  })
})

describe("hasErrors", () => {
  it("is true only with an error finding", () => {
    expect(hasErrors(report)).toBe(true)
    expect(hasErrors({ ...report, findings: report.findings.filter((f) => f.severity !== "error") })).toBe(false)
  })
})
