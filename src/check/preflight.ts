/**
 * What `flusso run` checks before it changes anything (publication, slot, indexes): the
 * error findings `flusso check` would report against the catalog and the replication
 * setup — a column that does not exist, a kind its type cannot give, join keys of types
 * PostgreSQL cannot compare, a missing privilege — stop the run at start with check's
 * own words, instead of a failure halfway through seeding. A database that cannot be
 * reached is not a finding here: it fails transiently, and the run waits for it.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { ResolvedConfig } from "../config/ResolvedConfig.js"
import { SourceMisconfigured, type SourceUnavailable } from "../errors.js"
import { checkCatalog } from "./catalogChecks.js"
import type { Finding } from "./CheckReport.js"
import { checkDatabase } from "./databaseChecks.js"
import { readCatalog } from "./readCatalog.js"

const where = (f: Finding): string =>
  f.path ?? (f.table !== undefined ? (f.column !== undefined ? `${f.table}.${f.column}` : f.table) : "database")

/** One line per error, its fix beneath it. */
const describe = (errors: ReadonlyArray<Finding>): string =>
  errors.map((f) => `  - ${where(f)}: ${f.message}${f.fix === undefined ? "" : `\n    fix: ${f.fix.split("\n").join("\n         ")}`}`).join("\n")

export const preflight = (config: ResolvedConfig): Effect.Effect<void, SourceMisconfigured | SourceUnavailable, SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient
    const enabled = config.indexes.filter((p) => p.enabled)
    const { tables, knownTables } = yield* readCatalog(sql, enabled)
    const catalog = checkCatalog(config.indexes, tables, { refsKept: config.sinks.some((s) => s.type === "opensearch"), knownTables })
    const database = yield* checkDatabase({
      plans: enabled,
      tables,
      publication: config.source.publication,
      slot: config.source.slot,
      managePublication: config.source.managePublication,
      failover: config.source.failover ?? false
    })
    // A check that could not run (the connection dropped meanwhile) is met again by the run
    // itself; a publication lacking tables it may not add is run's to advise on (it logs
    // the ALTER PUBLICATION to run and goes on, as --no-manage-publication promises).
    const errors = [...catalog, ...database].filter((f) =>
      f.severity === "error" && !f.message.startsWith("could not check") && !/^publication \S+ lacks /.test(f.message)
    )
    if (errors.length === 0) return
    return yield* new SourceMisconfigured({
      reason: `flusso check finds ${errors.length === 1 ? "an error" : `${errors.length} errors`}; nothing was changed:\n${describe(errors)}`,
      fix: "correct the config or the database as each fix says, then run again (flusso check --config … lists every finding)"
    })
  })
