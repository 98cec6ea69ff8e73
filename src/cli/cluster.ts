/**
 * `flusso cluster drop`: removes what a retired cluster deployment (`run --cluster`) keeps
 * in its source database — its tables in the `flusso_cluster` schema, named for its slot —
 * and the schema once no deployment has tables left there. Refused while a runner of the
 * deployment is alive (it refreshed its registration within the lock expiry). The
 * replication slot is `flusso slot drop`'s.
 */
import * as Command from "@effect/cli/Command"
import { SqlClient } from "@effect/sql/SqlClient"
import { Console, Effect, Option, Schema } from "effect"
import { CLUSTER_SCHEMA, clusterTables, LOCK_EXPIRATION_SECONDS, tablePrefix } from "../cluster/names.js"
import { resolveConfig } from "../config/resolve.js"
import { SourceMisconfigured } from "../errors.js"
import * as PgDatabase from "../source/postgres/PgDatabase.js"
import { classify } from "../source/postgres/sqlErrors.js"
import { loadDeployment } from "./deployment.js"
import { loggingLayer } from "./logging.js"
import * as Flags from "./options.js"

// The read pool keeps every value as text (connection.ts).
const Exists = Schema.Struct({ runners: Schema.NullOr(Schema.String) })
const Count = Schema.Struct({ n: Schema.String })

export const drop = Command.make(
  "drop",
  {
    config: Flags.config,
    lock: Flags.optionalText("lock", "FLUSSO_LOCK", "a compiled lock (flusso build) instead of --config"),
    slot: Flags.optionalText("slot", "FLUSSO_SLOT", "the deployment's slot (default: source.slot of the config)"),
    logFormat: Flags.logFormat,
    logLevel: Flags.logLevel
  },
  (flags) =>
    Effect.gen(function*() {
      const problem = Flags.validateOverrides({
        slot: flags.slot,
        publication: Option.none(),
        managePublication: Option.none(),
        indexPrefix: Option.none(),
        publicAddress: Option.none(),
        privateAddress: Option.none()
      })
      if (problem !== undefined) return yield* problem
      const { config, file } = yield* loadDeployment({ ...flags, locked: false })
      const resolved = yield* resolveConfig(config, process.env, file)
      const slot = Option.getOrElse(flags.slot, () => resolved.source.slot)
      const prefix = tablePrefix(slot)
      const tables = clusterTables(prefix).map((table) => `${CLUSTER_SCHEMA}.${table}`)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient
        const query = <A, I>(what: string, schema: Schema.Schema<A, I>, text: string, params: ReadonlyArray<unknown> = []) =>
          sql.unsafe(text, params).pipe(
            Effect.flatMap((rows) => Schema.decodeUnknown(Schema.Array(schema))(rows)),
            Effect.mapError((e) => classify(what, e))
          )
        const [exists] = yield* query("looking for the cluster tables", Exists, "SELECT to_regclass($1)::text AS runners", [`${CLUSTER_SCHEMA}.${prefix}_runners`])
        if (exists?.runners === null || exists === undefined) {
          return yield* Console.log(`no cluster tables for slot ${slot} in schema ${CLUSTER_SCHEMA}: nothing to drop`)
        }
        const [alive] = yield* query(
          "reading the cluster's runners",
          Count,
          `SELECT count(*)::text AS n FROM ${CLUSTER_SCHEMA}.${prefix}_runners WHERE last_heartbeat > now() - make_interval(secs => $1)`,
          [LOCK_EXPIRATION_SECONDS]
        )
        if (alive !== undefined && alive.n !== "0") {
          return yield* new SourceMisconfigured({
            reason: `${alive.n} runner(s) of the cluster on slot ${slot} are running`,
            fix: "stop every runner of the deployment first, then run flusso cluster drop again"
          })
        }
        yield* sql.unsafe(`DROP TABLE IF EXISTS ${tables.join(", ")}`).pipe(Effect.mapError((e) => classify(`dropping ${tables.join(", ")}`, e)))
        const [left] = yield* query(
          "reading what the cluster schema still holds",
          Count,
          "SELECT count(*)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1",
          [CLUSTER_SCHEMA]
        )
        if (left?.n === "0") {
          yield* sql.unsafe(`DROP SCHEMA IF EXISTS ${CLUSTER_SCHEMA}`).pipe(Effect.mapError((e) => classify(`dropping schema ${CLUSTER_SCHEMA}`, e)))
          yield* Console.log(`dropped the cluster tables of slot ${slot} and the schema ${CLUSTER_SCHEMA} (no other deployment uses it)`)
        } else {
          yield* Console.log(`dropped the cluster tables of slot ${slot}; schema ${CLUSTER_SCHEMA} stays (other deployments' tables are in it)`)
        }
      }).pipe(Effect.provide(PgDatabase.layer(resolved.source)))
    }).pipe(Effect.provide(loggingLayer(Option.getOrElse(flags.logFormat, () => "human" as const), flags.logLevel)))
).pipe(Command.withDescription("drop a cluster deployment's tables (schema flusso_cluster) when it is retired"))

export const cluster = Command.make("cluster").pipe(
  Command.withDescription("remove a cluster deployment's tables"),
  Command.withSubcommands([drop])
)
