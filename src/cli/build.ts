/**
 * `flusso build`: compiles the config — every validation, no database, no secrets — into
 * one portable lock (`flusso.lock.json`) that `flusso run --lock` runs without the
 * TypeScript toolchain. `flusso schema` prints the JSON Schema of the config, for editor
 * completion of `.json` configs (`"$schema": "./flusso.schema.json"`).
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Config, Console, Effect } from "effect"
import { writeFile } from "node:fs/promises"
import { configJsonSchema } from "../config/jsonSchema.js"
import { compileLock, lockText } from "../config/lock.js"
import { loadConfig } from "../config/load.js"
import { ConfigInvalid } from "../errors.js"
import { DEFAULT_CONFIG, DEFAULT_LOCK } from "./deployment.js"
import * as Flags from "./options.js"

const output = (description: string, fallback: string) =>
  Flags.described(
    Options.text("output").pipe(Options.withAlias("o"), Options.withFallbackConfig(Config.string("FLUSSO_OUTPUT")), Options.withDefault(fallback)),
    "FLUSSO_OUTPUT",
    description
  )

const write = (file: string, text: string) =>
  file === "-"
    ? Console.log(text.trimEnd())
    : Effect.tryPromise({
      try: () => writeFile(file, text),
      catch: (error) => new ConfigInvalid({ file, issues: [`cannot write it: ${error instanceof Error ? error.message : String(error)}`] })
    })

export const build = Command.make(
  "build",
  { config: Flags.config, output: output("where the lock goes (- for stdout)", DEFAULT_LOCK) },
  (flags) =>
    Effect.gen(function*() {
      const file = flags.config._tag === "Some" ? flags.config.value : DEFAULT_CONFIG
      const lock = compileLock(yield* loadConfig(file))
      yield* write(flags.output, lockText(lock))
      if (flags.output !== "-") {
        yield* Console.log(`${flags.output}: ${Object.keys(lock.indexes).length} index(es) from ${file}; run it with flusso run --lock ${flags.output}`)
      }
    })
).pipe(Command.withDescription("compile the config into a lock that runs without the TypeScript toolchain"))

export const schema = Command.make(
  "schema",
  { output: output("where the JSON Schema goes (- for stdout)", "-") },
  (flags) => write(flags.output, `${JSON.stringify(configJsonSchema(), null, 2)}\n`)
).pipe(Command.withDescription("print the JSON Schema of the config (editor completion for .json configs)"))
