/**
 * Which Postgres failures are worth retrying. Connection-class errors, shutdowns and
 * resource exhaustion pass; anything about the statement or the catalog will fail the
 * same way again and is reported instead.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Schema } from "effect"
import { SourceMisconfigured, SourceUnavailable } from "../../errors.js"
import { fixForCode } from "./fixes.js"

const TRANSIENT_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"])

const codeOf = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null || !("code" in cause)) return undefined
  return typeof cause.code === "string" ? cause.code : undefined
}

const messageOf = (cause: unknown): string =>
  cause instanceof Error ? cause.message : typeof cause === "string" ? cause : JSON.stringify(cause)

export const isTransient = (cause: unknown): boolean => {
  const code = codeOf(cause)
  if (code === undefined) {
    // pg reports a dropped socket as a plain Error without a code.
    return /Connection terminated|connection.*(closed|ended)|timeout|Client has encountered a connection error/i.test(messageOf(cause))
  }
  return TRANSIENT_NODE_CODES.has(code) || code.startsWith("08") || code.startsWith("53") || code === "57P01" ||
    code === "57P02" || code === "57P03" || code === "55006" || code === "40001" || code === "40P01"
}

/** Unwraps an SqlError to the pg error underneath. */
export const rootCause = (error: unknown): unknown => (error instanceof SqlError ? error.cause : error)

/** Maps a failed query to a typed source error. */
export const classify = (what: string, error: unknown): SourceUnavailable | SourceMisconfigured => {
  const cause = rootCause(error)
  return isTransient(cause)
    ? new SourceUnavailable({ reason: `${what}: ${messageOf(cause)}`, cause })
    : new SourceMisconfigured({
      // A refused login is the connection's, whatever statement met it first.
      reason: `${codeOf(cause)?.startsWith("28") ? "PostgreSQL refused the login" : `${what} failed`}: ${messageOf(cause)}${codeOf(cause) ? ` (SQLSTATE ${codeOf(cause)})` : ""}`,
      fix: fixForCode(codeOf(cause)) ?? "check the table and column names in the config against the database, and the role's privileges"
    })
}

/** A query's rows decoded with `row`; any failure classified, `what` naming it. */
export const queryRows = <A, I>(sql: SqlClient, what: string, text: string, params: ReadonlyArray<unknown>, row: Schema.Schema<A, I>) =>
  sql.unsafe(text, params).pipe(
    Effect.flatMap((rows) => Schema.decodeUnknown(Schema.Array(row))(rows)),
    Effect.mapError((e) => classify(what, e))
  )
