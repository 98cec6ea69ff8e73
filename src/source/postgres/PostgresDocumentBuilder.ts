/**
 * The DocumentBuilder backed by Postgres: resolves changes to document ids (resolution.ts)
 * and builds the current state of a set of documents with one statement per index
 * (documentSql.ts).
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Either, Layer, Schema } from "effect"
import type { SourceError } from "../../errors.js"
import { decodeDocumentId, encodeDocumentId } from "../../schema/documentId.js"
import type { IndexPlan } from "../../schema/IndexPlan.js"
import { type BuiltDocument, DocumentBuilder } from "../DocumentBuilder.js"
import { documentStatement } from "./documentSql.js"
import { PgCatalog } from "./PgDatabase.js"
import { compile, resolve as resolveChanges } from "./resolution.js"
import * as RootKeys from "./rootKeys.js"
import { classify } from "./sqlErrors.js"
import { awaitVisible } from "./visibility.js"

const DocumentRow = Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.String) })

export const make = (plans: ReadonlyArray<IndexPlan>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const enabled = plans.filter((p) => p.enabled)
    const catalog = yield* PgCatalog
    const resolutions = enabled.map((plan) => compile(plan, catalog))
    const statements = new Map(resolutions.map(({ plan, refsTables }) => [plan.name, documentStatement(plan, catalog, refsTables)]))
    for (const { plan, refsTables, diagnostics } of resolutions) {
      for (const diagnostic of diagnostics) yield* Effect.logWarning(diagnostic).pipe(Effect.annotateLogs("index", plan.name))
      if (refsTables.size > 0) {
        yield* Effect.logInfo(
          `deletes and moves in ${[...refsTables].join(", ")} are traced through the index (they lack REPLICA IDENTITY FULL)`
        ).pipe(Effect.annotateLogs("index", plan.name))
      }
    }

    const resolve: DocumentBuilder["resolve"] = (changes) => resolveChanges(sql, resolutions, changes)

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
        const found = new Map<string, BuiltDocument>()
        for (const row of rows) {
          const key = plan.primaryKey.map((_, i) => row[`k${i}`] ?? "")
          const doc = row["doc"]
          const id = encodeDocumentId(key)
          if (typeof doc === "string") found.set(id, { id, json: doc, refs: row["refs"] ?? undefined })
        }
        return ids.map((id): BuiltDocument => found.get(id) ?? { id, json: null })
      })

    const builder: DocumentBuilder = { awaitVisible: (xids) => awaitVisible(sql, xids), resolve, build, keys: RootKeys.snapshotKeys(sql, catalog) }
    return builder
  })

export const layer = (plans: ReadonlyArray<IndexPlan>): Layer.Layer<DocumentBuilder, SourceError, SqlClient | PgCatalog> =>
  Layer.effect(DocumentBuilder, make(plans))
