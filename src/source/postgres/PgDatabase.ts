/**
 * The read connection pool (`@effect/sql-pg`) for a source, with the canonical session
 * settings and text types of `connection.ts`, and the catalog of every table the
 * enabled indexes read, checked against the config.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import { SqlClient } from "@effect/sql/SqlClient"
import { Context, Effect, Layer } from "effect"
import { Pool } from "pg"
import type { ResolvedSource } from "../../config/ResolvedConfig.js"
import { type SourceError, SourceMisconfigured, SourceUnavailable } from "../../errors.js"
import { type IndexPlan, qualify } from "../../schema/IndexPlan.js"
import { checkIndexAgainstCatalog, readTable, tablesOf, type TableInfo } from "./catalog.js"
import { clientConfig } from "./connection.js"
import { Catalog } from "./documentSql.js"
import { isTransient } from "./sqlErrors.js"

export const layer = (source: ResolvedSource) =>
  PgClient.layerFromPool({
    acquire: Effect.acquireRelease(
      Effect.sync(() => {
        // Room for what runs at once: a visibility check, two live builds, three seeding
        // chunks per index being seeded (a query waits for a free connection beyond that).
        const pool = new Pool({ ...clientConfig(source.url, "flusso"), max: 8, connectionTimeoutMillis: 10_000 })
        // An idle connection dropped by the server (restart, admin command) must not crash
        // the process: the next query on it fails, and its batch is retried.
        pool.on("error", () => undefined)
        return pool
      }),
      (pool) => Effect.promise(() => pool.end().catch(() => undefined))
    )
  }).pipe(
    Layer.mapError((error) => {
      const cause = error.cause
      const reason = cause instanceof Error ? cause.message : error.message
      return isTransient(cause)
        ? new SourceUnavailable({ reason: `cannot connect: ${reason}`, cause })
        : new SourceMisconfigured({ reason: `cannot connect to PostgreSQL: ${reason}`, fix: "check source.url (or DATABASE_URL): host, port, user, password, database" })
    })
  )

/** Every table the plans read, from the catalog (keyed `schema.table`); a table or column the config names wrongly stops the run. */
export const loadTables = (
  sql: SqlClient,
  plans: ReadonlyArray<IndexPlan>
): Effect.Effect<ReadonlyMap<string, TableInfo>, SourceUnavailable | SourceMisconfigured> =>
  Effect.gen(function*() {
    const tables = new Map<string, TableInfo>()
    for (const ref of new Map(plans.flatMap(tablesOf).map((t) => [qualify(t), t])).values()) {
      const info = yield* readTable(sql, ref.schema, ref.table)
      if (info !== undefined) tables.set(info.qualifiedTable, info)
    }
    const problems = plans.flatMap((plan) => checkIndexAgainstCatalog(plan, tables).map((p) => p.message))
    if (problems.length > 0) {
      return yield* new SourceMisconfigured({
        reason: `the config does not match the database:\n  - ${problems.join("\n  - ")}`,
        fix: "correct the config (or the database) and run again"
      })
    }
    return tables
  })

/** The catalog of every table the enabled indexes read, read and checked once for the source and the builder. */
export class PgCatalog extends Context.Tag("flusso/PgCatalog")<PgCatalog, Catalog>() {}

export const catalogLayer = (plans: ReadonlyArray<IndexPlan>): Layer.Layer<PgCatalog, SourceError, SqlClient> =>
  Layer.effect(
    PgCatalog,
    Effect.flatMap(SqlClient, (sql) => loadTables(sql, plans.filter((p) => p.enabled))).pipe(
      Effect.map((tables) => new Catalog(tables))
    )
  )
