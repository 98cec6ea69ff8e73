/**
 * Reads a deployment config file into a validated `FlussoConfig`: a TypeScript or
 * JavaScript module whose default export is the config (TypeScript through tsx, so a
 * `.ts` config works under plain `node`), or a JSON file.
 */
import { Effect } from "effect"
import { readFile, stat } from "node:fs/promises"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { register } from "tsx/esm/api"
import { ConfigInvalid } from "../errors.js"
import type { FlussoConfig } from "./model.js"
import { validateConfig } from "./validate.js"

const MODULE_EXTENSIONS: ReadonlyArray<string> = [".ts", ".mts", ".js", ".mjs"]

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

let tsxRegistered = false

/**
 * Once per process. `tsconfig: false`: a project's `paths` (ours maps "flusso" to
 * src/index.ts) must not load a second copy of flusso next to the running one; "flusso"
 * resolves like any package, from node_modules or as this package's self-reference.
 */
const registerTsx = Effect.sync(() => {
  if (!tsxRegistered) {
    register({ tsconfig: false })
    tsxRegistered = true
  }
})

const importDefault = (file: string, shown: string): Effect.Effect<unknown, ConfigInvalid> =>
  registerTsx.pipe(
    Effect.zipRight(
      Effect.tryPromise({
        try: (): Promise<unknown> => import(pathToFileURL(file).href),
        catch: (error) => new ConfigInvalid({ file: shown, issues: [`cannot import the config module: ${reason(error)}`] })
      })
    ),
    Effect.filterOrFail(
      (module): module is { readonly default: unknown } =>
        typeof module === "object" && module !== null && "default" in module && module.default !== undefined,
      () => new ConfigInvalid({ file: shown, issues: ["the module has no default export; end it with `export default defineConfig({ ... })`"] })
    ),
    Effect.map((module) => module.default)
  )

const readJson = (file: string, shown: string): Effect.Effect<unknown, ConfigInvalid> =>
  Effect.tryPromise({
    try: async (): Promise<unknown> => JSON.parse(await readFile(file, "utf8")),
    catch: (error) => new ConfigInvalid({ file: shown, issues: [`cannot parse JSON: ${reason(error)}`] })
  })

/** Loads and validates `file`; every problem found is one line of `ConfigInvalid.issues`. */
export const loadConfig = (file: string): Effect.Effect<FlussoConfig, ConfigInvalid> =>
  Effect.gen(function* () {
    const absolute = path.resolve(file)
    const extension = path.extname(absolute)
    const isFile = yield* Effect.promise(() => stat(absolute).then((s) => s.isFile(), () => false))
    if (!isFile) return yield* new ConfigInvalid({ file, issues: [`no such file: ${absolute}`] })
    const exported =
      extension === ".json"
        ? yield* readJson(absolute, file)
        : MODULE_EXTENSIONS.includes(extension)
          ? yield* importDefault(absolute, file)
          : yield* new ConfigInvalid({
              file,
              issues: [`unsupported config file extension "${extension}"; use .ts, .mts, .js, .mjs or .json`]
            })
    return yield* Effect.mapError(validateConfig(exported), (issues) => new ConfigInvalid({ file, issues }))
  })
