import { describe, expect, it } from "vitest"
import { formatLsn, parseLsn } from "../../../src/source/postgres/lsn.js"

describe("LSN", () => {
  it("reads Postgres's X/Y form as one 64-bit number", () => {
    expect(parseLsn("0/0")).toBe(0n)
    expect(parseLsn("0/16B3748")).toBe(0x16b3748n)
    expect(parseLsn("1/0")).toBe(1n << 32n)
    expect(parseLsn("AB/CDEF0123")).toBe((0xabn << 32n) + 0xcdef0123n)
    expect(parseLsn("ab/cdef0123")).toBe(parseLsn("AB/CDEF0123"))
    expect(parseLsn("FFFFFFFF/FFFFFFFF")).toBe((1n << 64n) - 1n)
  })

  it("orders positions across the halves, as Postgres does", () => {
    expect(parseLsn("0/FFFFFFFF") < parseLsn("1/0")).toBe(true)
    expect(parseLsn("1/0") - parseLsn("0/FFFFFFFF")).toBe(1n)
  })

  it("prints what it reads, the way Postgres prints it (upper case, no padding)", () => {
    for (const text of ["0/0", "0/16B3748", "1/0", "AB/CDEF0123", "FFFFFFFF/FFFFFFFF"]) expect(formatLsn(parseLsn(text))).toBe(text)
    expect(formatLsn(parseLsn("0/00000A"))).toBe("0/A")
  })

  it("refuses what is not an LSN", () => {
    for (const text of ["", "0", "0/", "/0", "0/G", "0/1/2", "-1/0", " 0/1", "1/123456789"]) expect(() => parseLsn(text)).toThrow(/not an LSN/)
  })
})
