import { describe, expect, it } from "vitest"
import { chunkActions, encodeAction } from "../../../src/sink/opensearch/bulk.js"
import type { BulkAction } from "../../../src/sink/opensearch/bulk.js"

const upsert = (id: string, json: string, version = 7n): BulkAction => ({ operation: { _tag: "Upsert", index: "i", id, json, version }, target: "g_1" })
const del = (id: string, version = 7n): BulkAction => ({ operation: { _tag: "Delete", index: "i", id, version }, target: "g_1" })

describe("bulk encoding", () => {
  it("writes the document text verbatim on one NDJSON line, with its external version", () => {
    const encoded = encodeAction(upsert("a\"1", `{"n":9007199254740993,\n"s":"é"}`))
    expect(encoded.ndjson).toBe(
      `{"index":{"_index":"g_1","_id":"a\\"1","version":7,"version_type":"external_gte"}}\n{"n":9007199254740993, "s":"é"}\n`
    )
    expect(encoded.bytes).toBe(Buffer.byteLength(encoded.ndjson))
    expect(encodeAction(del("7")).ndjson).toBe(`{"delete":{"_index":"g_1","_id":"7","version":7,"version_type":"external_gte"}}\n`)
  })

  it("keeps every digit of a version above 2^53", () => {
    const version = (1n << 60n) + 1n
    expect(encodeAction(del("x", version)).ndjson).toContain(`"version":${version.toString()},`)
    expect(JSON.parse(encodeAction(del("x", version)).ndjson.replace(/"version":(\d+)/, "\"version\":\"$1\"")).delete.version).toBe("1152921504606846977")
  })
})

describe("chunkActions", () => {
  const ids = (chunks: ReadonlyArray<ReadonlyArray<{ action: BulkAction }>>) =>
    chunks.map((c) => c.map((a) => a.action.operation.id))

  it("splits at batchSize actions", () => {
    const actions = ["1", "2", "3", "4", "5"].map((id) => encodeAction(del(id)))
    expect(ids(chunkActions(actions, { batchSize: 2, maxBytes: 1_000_000 }))).toEqual([["1", "2"], ["3", "4"], ["5"]])
  })

  it("splits at maxBytes, and sends a larger action alone", () => {
    const small = (id: string) => encodeAction(upsert(id, `{"x":1}`))
    const big = encodeAction(upsert("big", `{"x":"${"y".repeat(500)}"}`))
    const limit = small("1").bytes * 2
    const chunks = chunkActions([small("1"), small("2"), small("3"), big, small("4")], { batchSize: 100, maxBytes: limit })
    expect(ids(chunks)).toEqual([["1", "2"], ["3"], ["big"], ["4"]])
    for (const chunk of chunks) {
      if (chunk.length > 1) expect(chunk.reduce((n, a) => n + a.bytes, 0)).toBeLessThanOrEqual(limit)
    }
  })

  it("keeps order and loses nothing", () => {
    const actions = Array.from({ length: 50 }, (_, i) => encodeAction(upsert(String(i), `{"i":${i}}`)))
    const chunks = chunkActions(actions, { batchSize: 7, maxBytes: 300 })
    expect(chunks.flat()).toEqual(actions)
    expect(chunkActions([], { batchSize: 7, maxBytes: 300 })).toEqual([])
  })
})
