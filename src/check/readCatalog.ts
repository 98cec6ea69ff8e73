/**
 * The catalog `flusso check` compares the config with: every table the given indexes
 * read, through catalog.ts's own `readTable` (so check sees exactly what the run sees),
 * plus the names of every table the role can see, which a misspelt table is matched
 * against for "did you mean".
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import type { SourceMisconfigured, SourceUnavailable } from "../errors.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { qualify } from "../schema/IndexPlan.js"
import { readTable, type TableInfo, tablesOf } from "../source/postgres/catalog.js"
import { queryRows } from "../source/postgres/sqlErrors.js"

export interface CatalogSnapshot {
  /** Keyed `schema.table`; a table that does not exist is absent. */
  readonly tables: ReadonlyMap<string, TableInfo>
  /** Every ordinary or partitioned table outside the system schemas, as `schema.table`. */
  readonly knownTables: ReadonlyArray<string>
}

const NameRow = Schema.Struct({ name: Schema.String })

const KNOWN_TABLES = `SELECT n.nspname || '.' || c.relname AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
 ORDER BY 1`

export const readCatalog = (
  sql: SqlClient,
  plans: ReadonlyArray<IndexPlan>
): Effect.Effect<CatalogSnapshot, SourceUnavailable | SourceMisconfigured> =>
  Effect.gen(function*() {
    const tables = new Map<string, TableInfo>()
    for (const ref of new Map(plans.flatMap(tablesOf).map((t) => [qualify(t), t])).values()) {
      const info = yield* readTable(sql, ref.schema, ref.table)
      if (info !== undefined) tables.set(info.qualifiedTable, info)
    }
    const known = yield* queryRows(sql, "listing the tables", KNOWN_TABLES, [], NameRow)
    return { tables, knownTables: known.map((r) => r.name) }
  })
