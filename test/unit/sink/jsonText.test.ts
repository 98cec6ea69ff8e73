import { describe, expect, it } from "vitest"
import { reindent, singleLine, topLevelKeyCount } from "../../../src/sink/jsonText.js"

describe("jsonText", () => {
  it("puts JSON on one line without touching values", () => {
    const text = `{\n  "a": 9007199254740993,\r\n  "b": "x\\ny"\n}`
    expect(singleLine(text)).toBe(`{   "a": 9007199254740993,    "b": "x\\ny" }`)
    expect(singleLine(`{"a":1}`)).toBe(`{"a":1}`)
  })

  it("counts top-level keys by structure only", () => {
    expect(topLevelKeyCount(`{}`)).toBe(0)
    expect(topLevelKeyCount(`{"a":1}`)).toBe(1)
    expect(topLevelKeyCount(`{"a":[1,2,{"x":1,"y":2}],"b":"c,d","c":{"e":"}"}}`)).toBe(3)
    expect(topLevelKeyCount(`{"a\\"b":1, "c":2}`)).toBe(2)
    expect(topLevelKeyCount(`[1,2]`)).toBe(0)
  })

  it("re-indents without re-serializing numbers or strings", () => {
    expect(reindent(`{"a":12345678901234567890.123,"b":[],"c":{"d":"x, y: {z}"},"e":[1,2]}`)).toBe(
      [
        "{",
        `  "a": 12345678901234567890.123,`,
        `  "b": [],`,
        `  "c": {`,
        `    "d": "x, y: {z}"`,
        "  },",
        `  "e": [`,
        "    1,",
        "    2",
        "  ]",
        "}"
      ].join("\n")
    )
  })
})
