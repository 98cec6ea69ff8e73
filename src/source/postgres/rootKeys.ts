/**
 * Root keys of an index that are documents, in key order, in a range: the statement
 * seeding enumerates with (`ChangeSource.snapshotKeys`) and a runner of a cluster reads
 * a seeding chunk's range with (`DocumentBuilder.keys`).
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import type { SourceError } from "../../errors.js"
import type { KeyValues } from "../../schema/documentId.js"
import type { IndexPlan } from "../../schema/IndexPlan.js"
import type { KeyRange } from "../ChangeSource.js"
import { type Catalog, lastKeyStatement, snapshotStatement } from "./documentSql.js"
import { queryRows } from "./sqlErrors.js"

const KeyRow = Schema.Record({ key: Schema.String, value: Schema.String })

const keysOf = (sql: SqlClient, plan: IndexPlan, what: string, text: string, params: ReadonlyArray<unknown>) =>
  queryRows(sql, `${what} of ${plan.qualifiedTable}`, text, params, KeyRow).pipe(
    Effect.map((rows) => rows.map((row): KeyValues => plan.primaryKey.map((_, i) => row[`k${i}`] ?? "")))
  )

export const snapshotKeys = (sql: SqlClient, catalog: Catalog) => (plan: IndexPlan, range: KeyRange): Effect.Effect<ReadonlyArray<KeyValues>, SourceError> => {
  const statement = snapshotStatement(plan, catalog, { after: range.after !== null, upTo: range.upTo !== null })
  return keysOf(sql, plan, "enumerating keys", statement.sql, [...(range.after ?? []), ...(range.upTo ?? []), range.limit, ...statement.constants])
}

export const lastKey = (sql: SqlClient) => (plan: IndexPlan): Effect.Effect<KeyValues | null, SourceError> =>
  keysOf(sql, plan, "reading the last key", lastKeyStatement(plan), []).pipe(Effect.map((keys) => keys[0] ?? null))
