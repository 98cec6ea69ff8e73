/**
 * `flusso cluster drop`: removes what a retired cluster deployment (`run --cluster`) keeps
 * in its source database — its tables in the `flusso_cluster` schema, named for its slot —
 * and the schema once no deployment has tables left there. Refused while a runner of the
 * deployment is alive (it refreshed its registration within the lock expiry). The
 * replication slot is `flusso slot drop`'s.
 */
import * as Command from "@effect/cli/Command"
import { SqlClient } from "@effect/sql/SqlClient"
import { Console, Effect, Schema } from "effect"
import { CLUSTER_SCHEMA, clusterTables, LOCK_EXPIRATION_SECONDS, tablePrefix } from "../cluster/names.js"
import { SourceMisconfigured } from "../errors.js"
import { classify, queryRows } from "../source/postgres/sqlErrors.js"
import { onSlotDatabase, slotFlags } from "./slotDatabase.js"

// The read pool keeps every value as text (connection.ts).
const Exists = Schema.Struct({ runners: Schema.NullOr(Schema.String) })
const Count = Schema.Struct({ n: Schema.String })

export const drop = Command.make(
  "drop",
  slotFlags("the deployment's slot"),
  (flags) =>
    onSlotDatabase(flags, (slot) =>
      Effect.gen(function*() {
        const prefix = tablePrefix(slot)
        const tables = clusterTables(prefix).map((table) => `${CLUSTER_SCHEMA}.${table}`)
        const sql = yield* SqlClient
        const [exists] = yield* queryRows(sql, "looking for the cluster tables", "SELECT to_regclass($1)::text AS runners", [`${CLUSTER_SCHEMA}.${prefix}_runners`], Exists)
        if (exists?.runners === null || exists === undefined) {
          return yield* Console.log(`no cluster tables for slot ${slot} in schema ${CLUSTER_SCHEMA}: nothing to drop`)
        }
        const [alive] = yield* queryRows(
          sql,
          "reading the cluster's runners",
          `SELECT count(*)::text AS n FROM ${CLUSTER_SCHEMA}.${prefix}_runners WHERE last_heartbeat > now() - make_interval(secs => $1)`,
          [LOCK_EXPIRATION_SECONDS],
          Count
        )
        if (alive !== undefined && alive.n !== "0") {
          return yield* new SourceMisconfigured({
            reason: `${alive.n} runner(s) of the cluster on slot ${slot} are running`,
            fix: "stop every runner of the deployment first, then run flusso cluster drop again"
          })
        }
        yield* sql.unsafe(`DROP TABLE IF EXISTS ${tables.join(", ")}`).pipe(Effect.mapError((e) => classify(`dropping ${tables.join(", ")}`, e)))
        const [left] = yield* queryRows(
          sql,
          "reading what the cluster schema still holds",
          "SELECT count(*)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1",
          [CLUSTER_SCHEMA],
          Count
        )
        if (left?.n === "0") {
          yield* sql.unsafe(`DROP SCHEMA IF EXISTS ${CLUSTER_SCHEMA}`).pipe(Effect.mapError((e) => classify(`dropping schema ${CLUSTER_SCHEMA}`, e)))
          yield* Console.log(`dropped the cluster tables of slot ${slot} and the schema ${CLUSTER_SCHEMA} (no other deployment uses it)`)
        } else {
          yield* Console.log(`dropped the cluster tables of slot ${slot}; schema ${CLUSTER_SCHEMA} stays (other deployments' tables are in it)`)
        }
      }))
).pipe(Command.withDescription("drop a cluster deployment's tables (schema flusso_cluster) when it is retired"))

export const cluster = Command.make("cluster").pipe(
  Command.withDescription("remove a cluster deployment's tables"),
  Command.withSubcommands([drop])
)
