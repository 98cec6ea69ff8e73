import { SqlError } from "@effect/sql/SqlError"
import { describe, expect, it } from "vitest"
import { classify, isTransient } from "../../../src/source/postgres/sqlErrors.js"

/** A pg error as node-postgres raises it: an Error with the SQLSTATE in `code`. */
const pgError = (code: string, message = `error ${code}`) => Object.assign(new Error(message), { code })

describe("which Postgres failures are waited out", () => {
  it("connection-class, shutdown, resource and conflict SQLSTATEs are transient", () => {
    for (const code of ["08000", "08003", "08006", "08P01", "53100", "53200", "53300", "57P01", "57P02", "57P03", "55006", "40001", "40P01"]) {
      expect(isTransient(pgError(code)), code).toBe(true)
    }
  })

  it("socket errors of node are transient, and so is pg's dropped connection without a code", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]) {
      expect(isTransient(pgError(code)), code).toBe(true)
    }
    expect(isTransient(new Error("Connection terminated unexpectedly"))).toBe(true)
    expect(isTransient(new Error("Client has encountered a connection error and is not queryable"))).toBe(true)
    expect(isTransient(new Error("timeout exceeded when trying to connect"))).toBe(true)
  })

  it("statement and catalog errors are not: they would fail the same way again", () => {
    // undefined column, undefined table, insufficient privilege, syntax, statement timeout, division by zero
    for (const code of ["42703", "42P01", "42501", "42601", "57014", "22012"]) expect(isTransient(pgError(code)), code).toBe(false)
    expect(isTransient(new Error("something else"))).toBe(false)
    expect(isTransient("a string")).toBe(false)
    expect(isTransient(null)).toBe(false)
  })
})

describe("classify", () => {
  it("a transient failure is SourceUnavailable naming what was being done", () => {
    const error = classify("reading the catalog of public.users", new SqlError({ cause: pgError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1") }))
    expect(error._tag).toBe("SourceUnavailable")
    expect(error.message).toContain("reading the catalog of public.users: connect ECONNREFUSED 127.0.0.1:1")
  })

  it("anything else is SourceMisconfigured with its SQLSTATE and a fix", () => {
    const error = classify("building documents of index users", pgError("42703", 'column r.name does not exist'))
    expect(error._tag).toBe("SourceMisconfigured")
    expect(error.message).toContain("building documents of index users failed: column r.name does not exist (SQLSTATE 42703)")
    expect(error.message).toContain("check the table and column names")
  })
})
