#!/usr/bin/env node
/**
 * The CLI (`node dist/main.js run --config flusso.config.ts`): parse, load and resolve
 * the config, run the sync. A thin composition root: every flag also reads a FLUSSO_*
 * variable (the flag wins); logs go to stderr, stdout belongs to the stdout sink.
 */
import { Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Config, Console, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { loadConfig } from "./config/load.js"
import { appliedOverrides, redactUrl, resolveConfig } from "./config/resolve.js"
import * as Flusso from "./Flusso.js"

const VERSION = "0.1.0"

const config = Options.file("config").pipe(
  Options.withDescription("the deployment config (.ts, .mts, .js, .mjs or .json)"),
  Options.withFallbackConfig(Config.string("FLUSSO_CONFIG")),
  Options.withDefault("flusso.config.ts")
)
const skipBackfill = Options.boolean("skip-backfill").pipe(
  Options.withDescription("never seed: only follow live changes"),
  Options.withFallbackConfig(Config.boolean("FLUSSO_SKIP_BACKFILL"))
)
const slot = Options.text("slot").pipe(
  Options.withDescription("replication slot name (overrides source.slot)"),
  Options.withFallbackConfig(Config.string("FLUSSO_SLOT")),
  Options.optional
)
const publication = Options.text("publication").pipe(
  Options.withDescription("publication name (overrides source.publication)"),
  Options.withFallbackConfig(Config.string("FLUSSO_PUBLICATION")),
  Options.optional
)
const indexPrefix = Options.text("index-prefix").pipe(
  Options.withDescription("prefix of every index, alias and meta index flusso owns (overrides prefix)"),
  Options.withFallbackConfig(Config.string("FLUSSO_INDEX_PREFIX")),
  Options.optional
)

const run = Command.make("run", { config, skipBackfill, slot, publication, indexPrefix }, (flags) =>
  Effect.gen(function*() {
    const loaded = yield* loadConfig(flags.config)
    const overrides = appliedOverrides(loaded, process.env)
    if (overrides.length > 0) yield* Effect.logInfo(`environment overrides: ${overrides.join(", ")}`)
    const resolved = yield* resolveConfig(loaded, process.env, flags.config)
    const deployment = {
      ...resolved,
      source: {
        ...resolved.source,
        slot: Option.getOrElse(flags.slot, () => resolved.source.slot),
        publication: Option.getOrElse(flags.publication, () => resolved.source.publication)
      },
      prefix: Option.getOrElse(flags.indexPrefix, () => resolved.prefix)
    }
    yield* Effect.logInfo(`flusso ${VERSION}: slot ${deployment.source.slot}, publication ${deployment.source.publication}`)
    yield* Flusso.run(deployment, { skipBackfill: flags.skipBackfill })
  }).pipe(
    // One clear line on failure, never a stack trace for a problem the user must fix.
    Effect.tapError((error) => Console.error(`flusso: ${redactUrl(error.message)}`)),
    Effect.tapDefect((cause) => Console.error(`flusso: internal error: ${Cause.pretty(cause)}`))
  )).pipe(Command.withDescription("keep the configured OpenSearch indexes in step with PostgreSQL"))

const cli = Command.make("flusso").pipe(
  Command.withSubcommands([run]),
  Command.run({ name: "flusso", version: VERSION })
)

const LOG_LEVELS: Record<string, LogLevel.LogLevel> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  warning: LogLevel.Warning,
  error: LogLevel.Error
}
const logLevel = LOG_LEVELS[(process.env["FLUSSO_LOG_LEVEL"] ?? "info").toLowerCase()] ?? LogLevel.Info

const logger = process.env["FLUSSO_LOG_FORMAT"] === "json"
  ? Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.jsonLogger))
  : Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true, colors: process.stderr.isTTY === true }))

cli(process.argv).pipe(
  Effect.provide(Layer.mergeAll(NodeContext.layer, logger, Logger.minimumLogLevel(logLevel))),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
