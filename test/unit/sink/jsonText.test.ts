import { describe, expect, it } from "vitest"
import { reindent, singleLine, takeTopLevelMember, topLevelKeyCount } from "../../../src/sink/jsonText.js"

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

  it("takes one top-level member out, leaving every other byte as it was", () => {
    const refs = `["public.a:1","x,]}\\\"y"]`
    const take = (json: string) => takeTopLevelMember(json, "_flusso_refs")
    // Last, first, middle and only member; nested members of the same name stay.
    expect(take(`{"id":9007199254740993,"p":1.10,"_flusso_refs":${refs}}`)).toEqual({
      rest: `{"id":9007199254740993,"p":1.10}`,
      value: refs
    })
    expect(take(`{"_flusso_refs":${refs},"id":1}`)).toEqual({ rest: `{"id":1}`, value: refs })
    expect(take(`{"a":{"_flusso_refs":[1]},"_flusso_refs":[],"b":"_flusso_refs"}`)).toEqual({
      rest: `{"a":{"_flusso_refs":[1]},"b":"_flusso_refs"}`,
      value: "[]"
    })
    expect(take(`{"_flusso_refs":[]}`)).toEqual({ rest: `{}`, value: "[]" })
    expect(take(`{ "a" : 1 ,\n "_flusso_refs" : [ "x" ] \n}`)).toEqual({ rest: `{ "a" : 1  \n}`, value: `[ "x" ]` })
    // An escaped key is the same key.
    expect(take(`{"a":true,"\\u005fflusso_refs":null}`)).toEqual({ rest: `{"a":true}`, value: "null" })
    // Absent, or not an object: unchanged.
    expect(take(`{"a":{"_flusso_refs":1}}`)).toEqual({ rest: `{"a":{"_flusso_refs":1}}`, value: undefined })
    expect(take(`{}`)).toEqual({ rest: `{}`, value: undefined })
    expect(take(`[1]`)).toEqual({ rest: `[1]`, value: undefined })
  })
})
