/**
 * From the command line to a validated config: which file (`--config`, `--lock`, or the
 * defaults: flusso.config.ts, else flusso.lock.json), the lock kept in step (`--lock`
 * with `--config` rewrites it, `--locked` refuses a config that would change it), and the
 * flags that override config keys, checked like the keys they replace.
 */
import { Effect, Option } from "effect"
import { existsSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { checkLocked, compileLock, lockText, readLock } from "../config/lock.js"
import { type LoadOptions, loadConfig } from "../config/load.js"
import type { FlussoConfig } from "../config/model.js"
import { ConfigInvalid } from "../errors.js"

export const DEFAULT_CONFIG = "flusso.config.ts"
export const DEFAULT_LOCK = "flusso.lock.json"

export interface ConfigChoice {
  readonly config: Option.Option<string>
  readonly lock: Option.Option<string>
  readonly locked: boolean
}

/** The validated config, and the file it came from (for messages). */
export const loadDeployment = (choice: ConfigChoice, load: LoadOptions = {}): Effect.Effect<{ readonly config: FlussoConfig; readonly file: string }, ConfigInvalid> =>
  Effect.gen(function*() {
    const configFile = Option.getOrUndefined(choice.config) ?? (Option.isNone(choice.lock) && existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined)
    const lockFile = Option.getOrElse(choice.lock, () => DEFAULT_LOCK)
    if (configFile === undefined) {
      if (choice.locked) return yield* new ConfigInvalid({ file: lockFile, issues: ["--locked compares a config with its lock: name the config with --config"] })
      if (!existsSync(lockFile)) {
        return yield* new ConfigInvalid({
          file: DEFAULT_CONFIG,
          issues: [`no ${DEFAULT_CONFIG} and no ${lockFile} here; pass --config <file> (or --lock <file>)`]
        })
      }
      return { config: yield* readLock(lockFile), file: lockFile }
    }
    const config = yield* loadConfig(configFile, load)
    if (choice.locked) yield* checkLocked(config, lockFile)
    else if (Option.isSome(choice.lock)) {
      yield* Effect.tryPromise({
        try: () => writeFile(lockFile, lockText(compileLock(config))),
        catch: (error) => new ConfigInvalid({ file: lockFile, issues: [`cannot write the lock: ${error instanceof Error ? error.message : String(error)}`] })
      })
    }
    return { config, file: configFile }
  })
