/**
 * The DocumentBuilder backed by Postgres: resolves changes to document ids and builds
 * the current state of a set of documents with one statement per index.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Either, Layer, Schema } from "effect"
import type { KeyValues } from "../../schema/documentId.js"
import { decodeDocumentId, encodeDocumentId } from "../../schema/documentId.js"
import type { IndexPlan } from "../../schema/IndexPlan.js"
import type { Change, RowValues } from "../ChangeSource.js"
import { type BuiltDocument, type DocumentBuilder, DocumentBuilderTag } from "../DocumentBuilder.js"
import { documentStatement } from "./documentSql.js"
import { loadTables } from "./PgDatabase.js"
import { classify } from "./sqlErrors.js"

const keyOf = (plan: IndexPlan, row: RowValues | null): KeyValues | undefined => {
  if (row === null) return undefined
  const key: Array<string> = []
  for (const column of plan.primaryKey) {
    const value = row[column]
    if (typeof value !== "string") return undefined
    key.push(value)
  }
  return key
}

const DocumentRow = Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.String) })

export const make = (plans: ReadonlyArray<IndexPlan>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const enabled = plans.filter((p) => p.enabled)
    const tables = yield* loadTables(sql, enabled)
    const statements = new Map(enabled.flatMap((plan) => {
      const table = tables.get(plan.name)
      return table ? [[plan.name, documentStatement(plan, table)] as const] : []
    }))

    const resolve: DocumentBuilder["resolve"] = (changes) =>
      Effect.gen(function*() {
        const affected = new Map<string, Set<string>>()
        const add = (plan: IndexPlan, key: KeyValues | undefined) => {
          if (key === undefined) return
          let ids = affected.get(plan.name)
          if (ids === undefined) affected.set(plan.name, ids = new Set())
          ids.add(encodeDocumentId(key))
        }
        for (const change of changes) {
          if (change._tag === "TableTruncated") {
            for (const plan of enabled.filter((p) => change.tables.includes(p.qualifiedTable))) {
              yield* Effect.logError(
                `TRUNCATE of ${plan.qualifiedTable}: index ${plan.name} still holds the removed documents; reindex it to drop them`
              )
            }
            continue
          }
          for (const plan of enabled) {
            if (plan.qualifiedTable !== change.table) continue
            // The new key (insert, update) and the old one (delete, or an update that changed the key).
            add(plan, keyOf(plan, change.new))
            add(plan, keyOf(plan, change.old))
          }
        }
        return affected
      })

    const build: DocumentBuilder["build"] = (plan, ids) =>
      Effect.gen(function*() {
        const statement = statements.get(plan.name)
        if (statement === undefined || ids.length === 0) return ids.map((id) => ({ id, json: null }))
        const columns: Array<Array<string>> = plan.primaryKey.map(() => [])
        for (const id of ids) {
          const key = decodeDocumentId(id, plan.primaryKey.length)
          if (Either.isLeft(key)) return yield* Effect.die(new Error(key.left))
          key.right.forEach((value, i) => columns[i]?.push(value))
        }
        const rows = yield* sql.unsafe(statement.sql, [...columns, ...statement.constants]).pipe(
          Effect.flatMap((result) => Schema.decodeUnknown(Schema.Array(DocumentRow))(result)),
          Effect.mapError((e) => classify(`building documents of index ${plan.name}`, e))
        )
        const found = new Map<string, string>()
        for (const row of rows) {
          const key = plan.primaryKey.map((_, i) => row[`k${i}`] ?? "")
          const doc = row["doc"]
          if (typeof doc === "string") found.set(encodeDocumentId(key), doc)
        }
        return ids.map((id): BuiltDocument => ({ id, json: found.get(id) ?? null }))
      })

    const builder: DocumentBuilder = { resolve, build }
    return builder
  })

/** Requires the read pool (`PgDatabase.layer`). */
export const layer = (plans: ReadonlyArray<IndexPlan>) => Layer.effect(DocumentBuilderTag, make(plans))
