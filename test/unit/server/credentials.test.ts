/** Which credentials the private surface may start with (server/credentials.ts). */
import { describe, expect, it } from "vitest"
import { credentialProblems, isLoopback } from "../../../src/server/credentials.js"

const at = (host: string) => ({ host, port: 9465 })

describe("private surface credentials", () => {
  it("knows loopback addresses", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"]) expect(isLoopback(host), host).toBe(true)
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "192.168.1.1", "example.com"]) expect(isLoopback(host), host).toBe(false)
  })

  it("refuses empty credentials anywhere", () => {
    expect(credentialProblems({ user: "admin", password: "" }, at("127.0.0.1"), false)).toEqual([
      "--admin-password (or FLUSSO_ADMIN_PASSWORD) is empty: an empty password lets anyone in; set one"
    ])
    expect(credentialProblems({ user: "", password: "x" }, at("127.0.0.1"), true)).toHaveLength(1)
  })

  it("refuses the defaults off loopback unless allowed explicitly", () => {
    const defaults = { user: "admin", password: "flusso" }
    expect(credentialProblems(defaults, at("127.0.0.1"), false)).toEqual([])
    const [problem] = credentialProblems(defaults, at("0.0.0.0"), false)
    expect(problem).toContain("would listen on 0.0.0.0:9465 with the default credentials admin/flusso")
    expect(problem).toContain("--allow-default-credentials (FLUSSO_ALLOW_DEFAULT_CREDENTIALS=true)")
    expect(credentialProblems(defaults, at("0.0.0.0"), true)).toEqual([])
    expect(credentialProblems({ user: "ops", password: "s3cret" }, at("0.0.0.0"), false)).toEqual([])
  })
})
