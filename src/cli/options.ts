/**
 * The CLI's flags, each with its `FLUSSO_*` environment twin (the flag wins) named in its
 * help text, so `--help` tells a container user what to set. Values that also exist in
 * the config file are checked with the config's own schemas (`applyOverrides`), so a flag
 * and a config key refuse the same values with the same words.
 */
import * as Options from "@effect/cli/Options"
import { Config, Either, Option, Schema } from "effect"
import { formatParseError } from "../config/issues.js"
import { Identifier, Prefix } from "../config/model.js"
import { ConfigInvalid } from "../errors.js"
import { parseAddress } from "../server/address.js"

/** `--name` with its `FLUSSO_NAME` twin, described with both. */
export const described = <A>(options: Options.Options<A>, variable: string, description: string) =>
  options.pipe(Options.withDescription(`${description} (env ${variable})`))

export const text = (name: string, variable: string, description: string) =>
  described(Options.text(name).pipe(Options.withFallbackConfig(Config.string(variable))), variable, description)

export const optionalText = (name: string, variable: string, description: string) =>
  text(name, variable, description).pipe(Options.optional)

export const flag = (name: string, variable: string, description: string) =>
  described(Options.boolean(name).pipe(Options.withFallbackConfig(Config.boolean(variable))), variable, description)

export const config = described(
  Options.file("config").pipe(Options.withFallbackConfig(Config.string("FLUSSO_CONFIG")), Options.optional),
  "FLUSSO_CONFIG",
  "the deployment config: .ts, .mts, .js, .mjs or .json (default flusso.config.ts, else flusso.lock.json)"
)

export const logFormat = described(
  Options.choice("log-format", ["human", "json"]).pipe(
    Options.withFallbackConfig(Config.literal("human", "json")("FLUSSO_LOG_FORMAT")),
    Options.optional
  ),
  "FLUSSO_LOG_FORMAT",
  "log lines on stderr: human (coloured on a terminal) or json (one object a line)"
)

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "warning", "error", "fatal", "none"] as const
export type LogLevelName = (typeof LOG_LEVELS)[number]

export const logLevel = described(
  Options.choice("log-level", LOG_LEVELS).pipe(
    Options.withFallbackConfig(Config.literal(...LOG_LEVELS)("FLUSSO_LOG_LEVEL")),
    Options.withDefault("info" as const)
  ),
  "FLUSSO_LOG_LEVEL",
  "the least severe log level shown"
)

export const adminUser = text("admin-user", "FLUSSO_ADMIN_USER", "user of the private HTTP surface (default admin)").pipe(Options.optional)
export const adminPassword = text("admin-password", "FLUSSO_ADMIN_PASSWORD", "password of the private HTTP surface (default flusso)").pipe(
  Options.optional
)

/** What flags override in a validated config; each checked like the config key it replaces. */
export interface Overrides {
  readonly slot: Option.Option<string>
  readonly publication: Option.Option<string>
  readonly managePublication: Option.Option<boolean>
  readonly indexPrefix: Option.Option<string>
  readonly publicAddress: Option.Option<string>
  readonly privateAddress: Option.Option<string>
}

const check = <A, I>(schema: Schema.Schema<A, I>, flag: string, value: Option.Option<unknown>): Array<string> => {
  if (Option.isNone(value)) return []
  const result = Schema.decodeUnknownEither(schema)(value.value)
  // The config's own wording (formatParseError), the path being the flag.
  return Either.isLeft(result) ? formatParseError(result.left).map((issue) => `--${flag}${issue.startsWith(":") ? "" : ": "}${issue}`) : []
}

const checkAddress = (flag: string, value: Option.Option<string>): Array<string> => {
  if (Option.isNone(value)) return []
  const parsed = parseAddress(value.value)
  return Either.isLeft(parsed) ? [`--${flag}: ${parsed.left}`] : []
}

/** Every override that a config key would refuse, one line each; empty when all are fine. */
export const validateOverrides = (overrides: Overrides): ConfigInvalid | undefined => {
  const issues = [
    ...check(Identifier, "slot", overrides.slot),
    ...check(Identifier, "publication", overrides.publication),
    ...check(Prefix, "index-prefix", overrides.indexPrefix),
    ...checkAddress("public-address", overrides.publicAddress),
    ...checkAddress("private-address", overrides.privateAddress)
  ]
  return issues.length === 0 ? undefined : new ConfigInvalid({ file: "command line / FLUSSO_* environment", issues })
}
