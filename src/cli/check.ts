/**
 * `flusso check`: validates the config; online (the default) it also compares every
 * declared column with the database catalog, reports publication coverage, replica
 * identity, privileges and the slot, and probes every OpenSearch sink. The findings and
 * the summary go to stdout (each index's mapping too with --mappings); any error makes
 * the exit code non-zero.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Config, Console, Data, Effect, Option } from "effect"
import { countBySeverity, formatHuman, formatJson, hasErrors } from "../check/CheckReport.js"
import { runCheck } from "../check/runCheck.js"
import { loadDeployment } from "./deployment.js"
import { loggingLayer } from "./logging.js"
import * as Flags from "./options.js"

/** The report holds errors: said in one line after the report itself. */
export class CheckFailed extends Data.TaggedError("CheckFailed")<{ readonly errors: number }> {
  override get message() {
    return `check found ${this.errors} error${this.errors === 1 ? "" : "s"} (see the report above)`
  }
}

export const check = Command.make(
  "check",
  {
    config: Flags.config,
    lock: Flags.optionalText("lock", "FLUSSO_LOCK", "a compiled lock (flusso build) instead of --config"),
    offline: Flags.flag("offline", "FLUSSO_OFFLINE", "the config alone: no database, no sink, no secrets"),
    mappings: Flags.flag("mappings", "FLUSSO_MAPPINGS", "also print each index's mapping"),
    format: Flags.choice("format", "FLUSSO_FORMAT", ["human", "json"], "the report: human or json").pipe(Options.withDefault("human" as const)),
    logFormat: Flags.logFormat,
    logLevel: Flags.logLevel
  },
  (flags) =>
    Effect.gen(function*() {
      const { config, file } = yield* loadDeployment({ ...flags, locked: false })
      const report = yield* runCheck(config, { offline: flags.offline, env: process.env, file })
      yield* Console.log(flags.format === "json" ? formatJson(report) : formatHuman(report, { mappings: flags.mappings }))
      if (hasErrors(report)) return yield* new CheckFailed({ errors: countBySeverity(report).error })
    }).pipe(Effect.provide(loggingLayer(Option.getOrElse(flags.logFormat, () => "human" as const), flags.logLevel)))
).pipe(Command.withDescription("validate the config; online also against the database (types, nullability, publication, replica identity, privileges)"))
