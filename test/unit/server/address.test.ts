import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { formatAddress, parseAddress } from "../../../src/server/address.js"

describe("listen addresses", () => {
  it("reads host:port, [v6]:port and :port", () => {
    expect(parseAddress("127.0.0.1:9464")).toEqual(Either.right({ host: "127.0.0.1", port: 9464 }))
    expect(parseAddress("[::1]:9465")).toEqual(Either.right({ host: "::1", port: 9465 }))
    expect(parseAddress(":9464")).toEqual(Either.right({ host: "0.0.0.0", port: 9464 }))
    expect(parseAddress("localhost:0")).toEqual(Either.right({ host: "localhost", port: 0 }))
  })

  it("refuses anything else with the form to write", () => {
    for (const bad of ["9464", "host", "host:99999", "host:-1", "a:b:1", "[::1]"]) {
      const parsed = parseAddress(bad)
      expect(Either.isLeft(parsed), bad).toBe(true)
      if (Either.isLeft(parsed)) expect(parsed.left).toContain("host:port")
    }
  })

  it("formats v6 hosts in brackets", () => {
    expect(formatAddress({ host: "::1", port: 1 })).toBe("[::1]:1")
    expect(formatAddress({ host: "0.0.0.0", port: 9464 })).toBe("0.0.0.0:9464")
  })
})
