/**
 * `flusso slot drop`: removes the deployment's replication slot when it is retired, so
 * PostgreSQL stops keeping WAL for it. Refused while a flusso streams from it (the slot
 * is active) — stop that one first; a slot that is not there is nothing to do.
 */
import * as Command from "@effect/cli/Command"
import { SqlClient } from "@effect/sql/SqlClient"
import { Console, Effect, Schema } from "effect"
import { SourceMisconfigured } from "../errors.js"
import { classify, queryRows } from "../source/postgres/sqlErrors.js"
import { onSlotDatabase, slotFlags } from "./slotDatabase.js"

// The read pool keeps every value as text (connection.ts).
const SlotRow = Schema.Struct({ active: Schema.Literal("true", "false"), pid: Schema.NullOr(Schema.String) })

export const drop = Command.make(
  "drop",
  slotFlags("the slot to drop"),
  (flags) =>
    onSlotDatabase(flags, (slot) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient
        const rows = yield* queryRows(sql, `reading replication slot ${slot}`,
          "SELECT active::text AS active, active_pid::text AS pid FROM pg_replication_slots WHERE slot_name = $1", [slot], SlotRow)
        const row = rows[0]
        if (row === undefined) return yield* Console.log(`no replication slot ${slot}: nothing to drop`)
        if (row.active === "true") {
          return yield* new SourceMisconfigured({
            reason: `replication slot ${slot} is in use (walsender pid ${row.pid ?? "?"}): a flusso is streaming from it`,
            fix: "stop that flusso first, then run flusso slot drop again"
          })
        }
        yield* sql.unsafe("SELECT pg_drop_replication_slot($1)", [slot]).pipe(Effect.mapError((e) => classify(`dropping replication slot ${slot}`, e)))
        yield* Console.log(`dropped replication slot ${slot}; the next run creates it anew and rebuilds every index`)
      }))
).pipe(Command.withDescription("drop the replication slot (when the deployment is retired)"))

export const slot = Command.make("slot").pipe(
  Command.withDescription("manage the replication slot"),
  Command.withSubcommands([drop])
)
