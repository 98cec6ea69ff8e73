/**
 * What `slot drop` and `cluster drop` share: the flags naming a deployment's config and
 * slot, their checks, and the body run against the deployment's database with the slot
 * it names (`--slot`, else `source.slot`), logging as asked.
 */
import type * as Command from "@effect/cli/Command"
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import { resolveConfig } from "../config/resolve.js"
import * as PgDatabase from "../source/postgres/PgDatabase.js"
import { loadDeployment } from "./deployment.js"
import { loggingLayer } from "./logging.js"
import * as Flags from "./options.js"

/** The flags of a command on a deployment's slot; `slotMeaning` says what `--slot` names for it. */
export const slotFlags = (slotMeaning: string) => ({
  config: Flags.config,
  lock: Flags.optionalText("lock", "FLUSSO_LOCK", "a compiled lock (flusso build) instead of --config"),
  slot: Flags.optionalText("slot", "FLUSSO_SLOT", `${slotMeaning} (default: source.slot of the config)`),
  logFormat: Flags.logFormat,
  logLevel: Flags.logLevel
})

type SlotFlags = Command.Command.ParseConfig<ReturnType<typeof slotFlags>>

/** `body` with the deployment's database (`SqlClient`) and its slot. */
export const onSlotDatabase = <A, E>(flags: SlotFlags, body: (slot: string) => Effect.Effect<A, E, SqlClient>) =>
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
    return yield* body(slot).pipe(Effect.provide(PgDatabase.layer(resolved.source)))
  }).pipe(Effect.provide(loggingLayer(Option.getOrElse(flags.logFormat, () => "human" as const), flags.logLevel)))
