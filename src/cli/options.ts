/**
 * The CLI's flags, each with its `FLUSSO_*` environment twin (the flag wins) named in its
 * help text, so `--help` tells a container user what to set. Values that also exist in
 * the config file are checked with the config's own schemas (`applyOverrides`), so a flag
 * and a config key refuse the same values with the same words.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import { Config, Effect, Either, Option, Schema } from "effect"
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

/** A refused value, naming the flag and its variable: `--log-level (FLUSSO_LOG_LEVEL): expected one of …, got "verbose"`. */
const refuse = (name: string, variable: string, expected: string, got: string) =>
  Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--${name} (or ${variable}): expected ${expected}, got ${JSON.stringify(got)}`)))

/** One of `choices`, from the flag or its variable; anything else is refused naming the flag. */
export const choice = <const C extends string>(name: string, variable: string, choices: ReadonlyArray<C>, description: string) =>
  described(
    Options.text(name).pipe(
      Options.withFallbackConfig(Config.string(variable)),
      Options.mapEffect((value) => {
        const found = choices.find((c) => c === value)
        return found === undefined ? refuse(name, variable, `one of ${choices.join(", ")}`, value) : Effect.succeed(found)
      })
    ),
    variable,
    description
  )

/** A whole number of at least `min`, from the flag or its variable. */
export const integer = (name: string, variable: string, min: number, description: string) =>
  described(
    Options.text(name).pipe(
      Options.withFallbackConfig(Config.string(variable)),
      Options.mapEffect((value) => {
        const n = Number(value.trim())
        if (value.trim() === "" || !Number.isSafeInteger(n)) return refuse(name, variable, "a whole number", value)
        return n < min ? refuse(name, variable, `a whole number of at least ${min}`, value) : Effect.succeed(n)
      })
    ),
    variable,
    description
  )

export const config = described(
  Options.file("config").pipe(Options.withFallbackConfig(Config.string("FLUSSO_CONFIG")), Options.optional),
  "FLUSSO_CONFIG",
  "the deployment config: .ts, .mts, .js, .mjs or .json (default flusso.config.ts, else flusso.lock.json)"
)

export const logFormat = choice("log-format", "FLUSSO_LOG_FORMAT", ["human", "json"], "log lines on stderr: human (coloured on a terminal) or json (one object a line)").pipe(
  Options.optional
)

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "warning", "error", "fatal", "none"] as const
export type LogLevelName = (typeof LOG_LEVELS)[number]

export const logLevel = choice("log-level", "FLUSSO_LOG_LEVEL", LOG_LEVELS, "the least severe log level shown").pipe(
  Options.withDefault("info" as const)
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
