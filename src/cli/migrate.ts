/**
 * `flusso migrate --config flusso.toml [-o flusso.config.ts]`: the Rust flusso's config
 * (flusso.toml and its *.schema.yml) written as an equivalent TypeScript config. The
 * output is loaded back before it is reported done, so a migration that would not
 * reproduce the same config never passes silently.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Config, Console, Data, Effect } from "effect"
import { writeFile } from "node:fs/promises"
import * as path from "node:path"
import { loadConfig } from "../config/load.js"
import type { FlussoConfig } from "../config/model.js"
import { isRustConfig, loadRustConfig } from "../config/rs/index.js"
import { emitConfigTs } from "../config/rs/migrate/emit.js"
import { ConfigInvalid } from "../errors.js"
import { planIndex } from "../schema/planIndex.js"
import { DEFAULT_CONFIG } from "./deployment.js"
import * as Flags from "./options.js"

/** The written config does not load back to the same config: a bug of `migrate`, reported as such. */
export class MigrationMismatch extends Data.TaggedError("MigrationMismatch")<{ readonly output: string }> {
  override get message() {
    return `${this.output} does not load back to the same config as the TOML; please report this (the file is left for inspection)`
  }
}

const output = Flags.described(
  Options.text("output").pipe(Options.withAlias("o"), Options.withFallbackConfig(Config.string("FLUSSO_OUTPUT")), Options.withDefault(DEFAULT_CONFIG)),
  "FLUSSO_OUTPUT",
  "where the TypeScript config goes (- for stdout)"
)

/** What a config means: every index planned (defaults such as a field's column filled in), the rest as it is. */
const meaning = (config: FlussoConfig): string =>
  JSON.stringify({ ...config, indexes: Object.entries(config.indexes).map(([name, index]) => planIndex(name, index, config.onError)) })

export const migrate = Command.make("migrate", { config: Flags.config, output }, (flags) =>
  Effect.gen(function*() {
    const file = flags.config._tag === "Some" ? flags.config.value : "flusso.toml"
    if (!isRustConfig(file)) {
      return yield* new ConfigInvalid({ file, issues: ["migrate reads the Rust flusso's flusso.toml; pass it with --config"] })
    }
    const { config, input } = yield* loadRustConfig(file)
    const text = emitConfigTs(input, path.basename(file))
    if (flags.output === "-") return yield* Console.log(text.trimEnd())
    yield* Effect.tryPromise({
      try: () => writeFile(flags.output, text),
      catch: (error) => new ConfigInvalid({ file: flags.output, issues: [`cannot write it: ${error instanceof Error ? error.message : String(error)}`] })
    })
    const reloaded = yield* loadConfig(flags.output)
    // Configs are plain data (with `env()` references, which serialise by name).
    if (meaning(reloaded) !== meaning(config)) return yield* new MigrationMismatch({ output: flags.output })
    yield* Console.log(`${flags.output}: ${Object.keys(config.indexes).length} index(es) from ${file}; run it with flusso run --config ${flags.output}`)
  })
).pipe(Command.withDescription("write the Rust flusso's flusso.toml (and its *.schema.yml) as an equivalent flusso.config.ts"))
