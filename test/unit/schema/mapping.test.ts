import { describe, expect, it } from "vitest"
import type { IndexConfig } from "../../../src/config/model.js"
import { planIndex } from "../../../src/schema/IndexPlan.js"
import { deriveMapping, enumSortNormalizerName, indexSettings } from "../../../src/schema/mapping.js"

const plan = (fields: IndexConfig["fields"]) =>
  planIndex("items", { table: "items", schema: "public", primaryKey: "id", enabled: true, fields }, "stop")

const builtin = { textAnalysis: "builtin", autoSubfields: true } as const

describe("deriveMapping", () => {
  it("is strict with one property per field, typed by kind", () => {
    const mapping = deriveMapping(
      plan({
        id: { kind: "long" },
        small: { kind: "short" },
        count: { kind: "integer" },
        ratio: { kind: "float" },
        score: { kind: "double" },
        price: { kind: "decimal" },
        active: { kind: "boolean" },
        ref: { kind: "uuid" },
        born: { kind: "date" },
        seen: { kind: "timestamp" },
        blob: { kind: "binary" },
        extra: { kind: "json" }
      }),
      builtin
    )
    expect(mapping.dynamic).toBe("strict")
    expect(mapping.properties).toEqual({
      id: { type: "long" },
      small: { type: "short" },
      count: { type: "integer" },
      ratio: { type: "float" },
      score: { type: "double" },
      price: { type: "double" },
      active: { type: "boolean" },
      ref: { type: "keyword" },
      born: { type: "date", format: expect.stringContaining("strict_date_optional_time") },
      seen: { type: "date", format: expect.stringContaining("strict_date_optional_time") },
      blob: { type: "binary" },
      extra: { type: "object", dynamic: true }
    })
  })

  it("gives text and keyword their auto subfields", () => {
    const { properties } = deriveMapping(
      plan({ title: { kind: "text" }, code: { kind: "identifier" }, tag: { kind: "keyword" } }),
      builtin
    )
    expect(properties["title"]).toEqual({
      type: "text",
      analyzer: "flusso_text",
      fields: {
        keyword: { type: "keyword", ignore_above: 256 },
        keyword_lowercase: { type: "keyword", normalizer: "flusso_lowercase", ignore_above: 256 }
      }
    })
    expect(properties["code"]).toMatchObject({ type: "text", analyzer: "flusso_code" })
    expect(properties["tag"]).toEqual({
      type: "keyword",
      fields: {
        text: { type: "text", analyzer: "flusso_code" },
        keyword_lowercase: { type: "keyword", normalizer: "flusso_lowercase", ignore_above: 256 }
      }
    })
  })

  it("leaves subfields out without autoSubfields", () => {
    const { properties } = deriveMapping(plan({ title: { kind: "text" }, tag: { kind: "keyword" } }), {
      textAnalysis: "builtin",
      autoSubfields: false
    })
    expect(properties).toEqual({ title: { type: "text", analyzer: "flusso_text" }, tag: { type: "keyword" } })
  })

  it("gives an enum with variants a .sort subfield with its own normalizer", () => {
    const { properties } = deriveMapping(plan({ status: { kind: "enum", variants: ["new", "open", "done"] } }), builtin)
    expect(properties["status"]).toEqual({
      type: "keyword",
      fields: { sort: { type: "keyword", normalizer: enumSortNormalizerName("status") } }
    })
    const plain = deriveMapping(plan({ status: { kind: "enum" } }), builtin)
    expect(plain.properties["status"]).toEqual({ type: "keyword" })
  })

  it("merges options over the derived mapping, options winning", () => {
    const { properties } = deriveMapping(
      plan({
        title: { kind: "text", options: { analyzer: "english", fields: {} } },
        n: { kind: "long", options: { index: false } }
      }),
      builtin
    )
    expect(properties["title"]).toEqual({ type: "text", analyzer: "english", fields: {} })
    expect(properties["n"]).toEqual({ type: "long", index: false })
  })
})

describe("indexSettings", () => {
  it("defines the flusso analyzers and normalizer", () => {
    const { analysis } = indexSettings(plan({ title: { kind: "text" } }), builtin)
    expect(analysis.analyzer["flusso_text"]).toEqual({
      type: "custom",
      tokenizer: "standard",
      filter: ["lowercase", "asciifolding"]
    })
    expect(analysis.analyzer["flusso_code"]).toEqual({
      type: "custom",
      tokenizer: "whitespace",
      filter: ["flusso_word_delimiter", "flatten_graph", "lowercase", "asciifolding"]
    })
    expect(analysis.filter["flusso_word_delimiter"]).toEqual({
      type: "word_delimiter_graph",
      catenate_all: true,
      preserve_original: true
    })
    expect(analysis.normalizer["flusso_lowercase"]).toEqual({ type: "custom", filter: ["lowercase"] })
  })

  it("swaps to ICU tokenizing and folding with textAnalysis icu", () => {
    const { analysis } = indexSettings(plan({ title: { kind: "text" } }), { textAnalysis: "icu", autoSubfields: true })
    expect(analysis.analyzer["flusso_text"]).toEqual({ type: "custom", tokenizer: "icu_tokenizer", filter: ["icu_folding"] })
    expect(analysis.analyzer["flusso_code"]).toMatchObject({ filter: ["flusso_word_delimiter", "flatten_graph", "icu_folding"] })
  })

  it("maps each enum variant to its zero-padded rank, anchored and escaped", () => {
    const { analysis } = indexSettings(plan({ status: { kind: "enum", variants: ["low", "a.b", "high"] } }), builtin)
    const normalizer = analysis.normalizer[enumSortNormalizerName("status")]
    expect(normalizer).toEqual({
      type: "custom",
      char_filter: ["flusso_enum_status_0", "flusso_enum_status_1", "flusso_enum_status_2"],
      filter: []
    })
    expect(analysis.char_filter["flusso_enum_status_0"]).toEqual({
      type: "pattern_replace",
      pattern: "^low$",
      replacement: "\u00010000"
    })
    expect(analysis.char_filter["flusso_enum_status_1"]).toMatchObject({ pattern: "^a\\.b$", replacement: "\u00010001" })
    expect(analysis.char_filter["flusso_enum_status_2"]).toMatchObject({ pattern: "^high$", replacement: "\u00010002" })
  })

  it("sorts enum ranks as text in declared order (zero padding)", () => {
    const variants = Array.from({ length: 12 }, (_, i) => `v${i}`)
    const { analysis } = indexSettings(plan({ s: { kind: "enum", variants } }), builtin)
    const ranks = variants.map((_, i) => String(analysis.char_filter[`flusso_enum_s_${i}`]?.["replacement"]))
    expect([...ranks].sort()).toEqual(ranks)
  })

  it("is deterministic", () => {
    const p = plan({ status: { kind: "enum", variants: ["a", "b"] }, title: { kind: "text" } })
    expect(JSON.stringify(indexSettings(p, builtin))).toBe(JSON.stringify(indexSettings(p, builtin)))
    expect(JSON.stringify(deriveMapping(p, builtin))).toBe(JSON.stringify(deriveMapping(p, builtin)))
  })
})
