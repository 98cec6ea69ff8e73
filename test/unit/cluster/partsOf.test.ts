/**
 * How a live batch's documents of one index are cut into parts (protocol.ts `partsOf`):
 * every document in exactly one part, few parts for a small batch, never more than
 * BUILD_SLOTS, and consecutive batches on different entities.
 */
import { describe, expect, it } from "vitest"
import { BUILD_SLOTS, PART_DOCUMENTS, partsOf } from "../../../src/cluster/protocol.js"

const ids = (n: number) => new Set(Array.from({ length: n }, (_, i) => `u${i}`))

describe("partsOf", () => {
  it("puts every document in exactly one part", () => {
    const documents = ids(5000)
    const parts = partsOf("users", 7, documents)
    const all = parts.flatMap((p) => p.ids)
    expect(all.length).toBe(documents.size)
    expect(new Set(all)).toEqual(documents)
  })

  it("sends a batch below PART_DOCUMENTS whole, and never more than BUILD_SLOTS parts", () => {
    expect(partsOf("users", 1, ids(PART_DOCUMENTS - 1))).toHaveLength(1)
    expect(partsOf("users", 1, ids(3 * PART_DOCUMENTS)).length).toBeLessThanOrEqual(3)
    expect(partsOf("users", 1, ids(100 * PART_DOCUMENTS)).length).toBeLessThanOrEqual(BUILD_SLOTS)
    expect(partsOf("users", 1, new Set())).toEqual([])
  })

  it("sends consecutive batches to different entities of the index", () => {
    const entities = Array.from({ length: 4 }, (_, batch) => partsOf("users", batch, ids(10)).map((p) => p.entity))
    expect(new Set(entities.flat()).size).toBe(4)
    for (const entity of entities.flat()) expect(entity).toMatch(/^users\/\d+$/)
  })

  it("cuts the same documents the same way every time (a resend keeps its parts)", () => {
    expect(partsOf("users", 3, ids(2000))).toEqual(partsOf("users", 3, ids(2000)))
  })
})
