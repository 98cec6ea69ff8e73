import { describe, expect, it } from "vitest"
import { fullXid, parseSnapshot, visibleIn } from "../../../src/source/postgres/visibility.js"

const EPOCH = 1n << 32n

describe("parseSnapshot", () => {
  it("reads xmin, xmax and the in-progress list of pg_current_snapshot()::text", () => {
    expect(parseSnapshot("740:752:740,745")).toEqual({ xmin: 740n, xmax: 752n, inProgress: new Set([740n, 745n]) })
    expect(parseSnapshot("752:752:")).toEqual({ xmin: 752n, xmax: 752n, inProgress: new Set() })
    expect(parseSnapshot("4294967300:4294967310:4294967305\n").inProgress).toEqual(new Set([4294967305n]))
  })

  it("refuses anything else", () => {
    expect(() => parseSnapshot("")).toThrow(/not a pg_snapshot/)
    expect(() => parseSnapshot("1:2")).toThrow(/not a pg_snapshot/)
  })
})

describe("fullXid", () => {
  it("puts an xid in the epoch of the snapshot's xmax", () => {
    expect(fullXid(745, 752n)).toBe(745n)
    expect(fullXid(5, 3n * EPOCH + 10n)).toBe(3n * EPOCH + 5n)
  })

  it("an xid a little above xmax (committed, not yet left the proc array) is not pushed back an epoch", () => {
    // xmax is the latest *completed* xid + 1: a transaction streamed as committed may be at or above it.
    expect(fullXid(752, 752n)).toBe(752n)
    expect(fullXid(760, 3n * EPOCH + 752n)).toBe(3n * EPOCH + 760n)
  })

  it("crosses an epoch boundary both ways", () => {
    // xmax just after a wraparound, xid just before it.
    expect(fullXid(4294967290, 3n * EPOCH + 7n)).toBe(3n * EPOCH - 6n)
    // xmax just before a wraparound, xid just after it (still running).
    expect(fullXid(3, 3n * EPOCH - 2n)).toBe(3n * EPOCH + 3n)
  })
})

describe("visibleIn (pg_visible_in_snapshot)", () => {
  const snapshot = parseSnapshot("740:752:740,745")

  it("below xmin: visible", () => {
    expect(visibleIn(snapshot, 700)).toBe(true)
  })

  it("between xmin and xmax: visible unless in progress", () => {
    expect(visibleIn(snapshot, 741)).toBe(true)
    expect(visibleIn(snapshot, 745)).toBe(false)
    expect(visibleIn(snapshot, 740)).toBe(false)
  })

  it("at or above xmax: not yet visible", () => {
    expect(visibleIn(snapshot, 752)).toBe(false)
    expect(visibleIn(snapshot, 753)).toBe(false)
  })

  it("in a later epoch, by the low 32 bits", () => {
    const later = parseSnapshot(`${5n * EPOCH + 740n}:${5n * EPOCH + 752n}:${5n * EPOCH + 745n}`)
    expect(visibleIn(later, 745)).toBe(false)
    expect(visibleIn(later, 746)).toBe(true)
    expect(visibleIn(later, 752)).toBe(false)
  })
})
