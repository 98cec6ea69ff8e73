/**
 * The database setups flusso cannot work with, each as a reason and the fix to apply:
 * what `run` stops on at start (as `SourceMisconfigured`) and `check` reports (as an
 * error finding) — one wording for both, so the two never disagree.
 */
import type { IndexPlan } from "../../schema/IndexPlan.js"
import type { TableInfo } from "./catalog.js"
import { refOf, sqlTable } from "./identifiers.js"

export interface SetupProblem {
  readonly reason: string
  readonly fix: string
}

/** A published table without a key: PostgreSQL would refuse the application's UPDATEs and DELETEs. */
export const noPrimaryKey = (table: string): SetupProblem => ({
  reason: `table ${table} has no primary key: once published, PostgreSQL refuses its UPDATEs and DELETEs`,
  fix: `add a primary key, or ALTER TABLE ${quotedName(table)} REPLICA IDENTITY FULL;`
})

/** The fix for partitions whose replica identity is weaker than their partitioned table's. */
export const weakerPartitionsFix = (table: TableInfo): string =>
  `to have them carry the whole old row: ${table.weakerPartitions.map((p) => `ALTER TABLE ${quotedName(p)} REPLICA IDENTITY FULL;`).join(" ")}`

/** A `schema.table` key as a person's SQL. */
export const quotedName = (qualified: string): string => sqlTable(refOf(qualified))

/** Deletes of a root table must carry the configured key, or they cannot be resolved. */
export const rootIdentityProblem = (plan: IndexPlan, table: TableInfo): SetupProblem | undefined => {
  const name = plan.qualifiedTable
  if (table.replicaIdentity === "n") {
    return {
      reason: `table ${name} has REPLICA IDENTITY NOTHING: its deletes carry no key, so index ${plan.name} could never drop them`,
      fix: `ALTER TABLE ${quotedName(name)} REPLICA IDENTITY DEFAULT;`
    }
  }
  if (table.replicaIdentity === "d" && table.primaryKey.length === 0) return noPrimaryKey(name)
  if (table.replicaIdentity === "d" && !plan.primaryKey.every((c) => table.primaryKey.includes(c))) {
    return {
      reason: `index ${plan.name} is keyed by (${plan.primaryKey.join(", ")}) but deletes of ${name} carry only its primary key (${table.primaryKey.join(", ")})`,
      fix: `ALTER TABLE ${quotedName(name)} REPLICA IDENTITY FULL;`
    }
  }
  return undefined
}

/** The slot as `pg_replication_slots` shows it. */
export interface SlotRow {
  readonly plugin: string | null
  readonly database: string | null
  readonly current_database: string
  readonly wal_status: string | null
}

/** A slot flusso cannot stream from: another plugin, another database, or WAL it lost. */
export const slotProblem = (slot: string, row: SlotRow): SetupProblem | undefined => {
  if (row.plugin !== "pgoutput") {
    return {
      reason: `replication slot ${slot} uses plugin ${row.plugin ?? "none (physical slot)"}, flusso needs pgoutput`,
      fix: `set source.slot to another name, or drop it: SELECT pg_drop_replication_slot('${slot}');`
    }
  }
  if (row.database !== row.current_database) {
    return {
      reason: `replication slot ${slot} belongs to database ${row.database}, not ${row.current_database}`,
      fix: "set source.slot to a name unique to this deployment"
    }
  }
  if (row.wal_status === "lost") {
    return {
      reason: `replication slot ${slot} lost WAL it needed (wal_status = lost); changes were missed`,
      fix: `drop it (SELECT pg_drop_replication_slot('${slot}');) and restart flusso: it rebuilds every index`
    }
  }
  return undefined
}
