import { describe, expect, it } from "vitest"
import { authorized, CHALLENGE, parseBasic } from "../../../src/server/basicAuth.js"

const header = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`

describe("HTTP Basic", () => {
  it("parses user and password; a password may hold colons", () => {
    expect(parseBasic(header("admin", "a:b:c"))).toEqual({ user: "admin", password: "a:b:c" })
    expect(parseBasic("basic " + Buffer.from("u:").toString("base64"))).toEqual({ user: "u", password: "" })
  })

  it("refuses what is not Basic credentials", () => {
    expect(parseBasic(undefined)).toBeUndefined()
    expect(parseBasic("Bearer abc")).toBeUndefined()
    expect(parseBasic(`Basic ${Buffer.from("no-colon").toString("base64")}`)).toBeUndefined()
  })

  it("authorizes exactly the expected pair", () => {
    const expected = { user: "ops", password: "s3cret" }
    expect(authorized(header("ops", "s3cret"), expected)).toBe(true)
    expect(authorized(header("ops", "s3cret "), expected)).toBe(false)
    expect(authorized(header("Ops", "s3cret"), expected)).toBe(false)
    expect(authorized(header("ops", ""), expected)).toBe(false)
    expect(authorized(undefined, expected)).toBe(false)
    // An empty expected password still needs the header.
    expect(authorized(undefined, { user: "", password: "" })).toBe(false)
  })

  it("challenges with the flusso realm", () => {
    expect(CHALLENGE).toBe(`Basic realm="flusso"`)
  })
})
