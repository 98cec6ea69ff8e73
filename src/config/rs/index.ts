/**
 * The Rust flusso's configuration, read unchanged: a `flusso.toml` and the `*.schema.yml`
 * each `[[index]]` names. This folder owns that format only — reading it (toml.ts,
 * schemaYaml.ts, fields.ts, filters.ts, env.ts over the position-keeping tree.ts),
 * its messages (reader.ts, locations.ts) and writing it back out as TypeScript
 * (migrate/emit.ts). What it produces is our config model, validated by the very
 * validation a `.ts` config goes through (validate.ts); only where a problem is reported
 * differs: at its file, line and column, in the Rust tool's words.
 */
import { Effect, Either } from "effect"
import { readFile } from "node:fs/promises"
import * as path from "node:path"
import { ConfigInvalid } from "../../errors.js"
import type { FlussoConfig } from "../model.js"
import { validateConfig } from "../validate.js"
import { placeIssue, render, type Spots, type Where } from "./locations.js"
import { Problems, type Scope } from "./reader.js"
import { parseSchemaYaml } from "./schemaYaml.js"
import { parseToml } from "./toml.js"

/** `--config` files this folder reads. */
export { isRustConfig } from "./files.js"

export interface RustConfig {
  /** The config as our model's input, only what the files say (and the Rust defaults that differ from ours). */
  readonly input: Record<string, unknown>
  readonly config: FlussoConfig
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const rendered = (problems: Problems): Array<string> =>
  problems.issues.map((issue) => render(problems.where, issue.stage, issue.message, issue.pos))

/** Reads `file` (a flusso.toml) and its schema files into a validated config. */
export const loadRustConfig = (file: string): Effect.Effect<RustConfig, ConfigInvalid> =>
  Effect.gen(function* () {
    const configWhere: Where = { _tag: "config", file }
    const text = yield* Effect.tryPromise({
      try: () => readFile(file, "utf8"),
      catch: (error) => new ConfigInvalid({ file, issues: [render(configWhere, "read", reason(error), undefined)] })
    })
    const spots: Spots = new Map()
    const top = new Problems(configWhere)
    const parsed = parseToml({ problems: top, label: "", spots }, text)
    const issues = rendered(top)
    const indexes: Record<string, unknown> = {}
    for (const entry of parsed?.indexes ?? []) {
      // Relative to the config file's directory, shown as the Rust tool shows it (joined to the config's path).
      const shown = path.isAbsolute(entry.schema) ? entry.schema : path.join(path.dirname(file), entry.schema)
      const where: Where = { _tag: "schema", name: entry.name, file: shown }
      const schemaText = yield* Effect.promise(() => readFile(shown, "utf8").then(Either.right, (error: unknown) => Either.left(reason(error))))
      if (Either.isLeft(schemaText)) {
        issues.push(render(where, "read", schemaText.left, undefined))
        continue
      }
      const problems = new Problems(where)
      const scope: Scope = { problems, label: "", spots }
      const index = parseSchemaYaml(scope, schemaText.right, `indexes.${entry.name}`, entry)
      issues.push(...rendered(problems))
      if (index !== undefined) indexes[entry.name] = index
    }
    if (parsed === undefined || issues.length > 0) return yield* new ConfigInvalid({ file, issues })
    const input = { ...parsed.config, indexes }
    const validated = validateConfig(input)
    if (Either.isLeft(validated)) {
      return yield* new ConfigInvalid({ file, issues: validated.left.map((issue) => placeIssue(issue, spots, configWhere)) })
    }
    return { input, config: validated.right }
  })
