/**
 * `flusso check`: validates the config and prints each index's resolved mapping; online
 * (the default) it also compares every declared column with the database catalog and
 * reports publication coverage, replica identity, privileges and the slot. The report
 * goes to stdout; any error makes the exit code non-zero.
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
    offline: Flags.flag("offline", "FLUSSO_OFFLINE", "validate and print mappings only: no database, no secrets needed"),
    format: Flags.described(
      Options.choice("format", ["human", "json"]).pipe(
        Options.withFallbackConfig(Config.literal("human", "json")("FLUSSO_FORMAT")),
        Options.withDefault("human" as const)
      ),
      "FLUSSO_FORMAT",
      "the report: human or json"
    ),
    logFormat: Flags.logFormat,
    logLevel: Flags.logLevel
  },
  (flags) =>
    Effect.gen(function*() {
      const { config, file } = yield* loadDeployment({ ...flags, locked: false })
      const report = yield* runCheck(config, { offline: flags.offline, env: process.env, file })
      yield* Console.log(flags.format === "json" ? formatJson(report) : formatHuman(report))
      if (hasErrors(report)) return yield* new CheckFailed({ errors: countBySeverity(report).error })
    }).pipe(Effect.provide(loggingLayer(Option.getOrElse(flags.logFormat, () => "human" as const), flags.logLevel)))
).pipe(Command.withDescription("validate the config; online also against the database (types, nullability, publication, replica identity, privileges)"))
