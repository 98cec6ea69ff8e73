/**
 * Reads a deployment config file into a validated `FlussoConfig`: a TypeScript or
 * JavaScript module whose default export is the config (TypeScript through tsx, so a
 * `.ts` config works under plain `node`, in an ESM or a CommonJS package alike), a
 * JSON file, or the Rust flusso's `flusso.toml` with its schema files (rs/).
 */
import { Effect, Predicate } from "effect"
import { randomUUID } from "node:crypto"
import { existsSync } from "node:fs"
import { readFile, realpath, stat } from "node:fs/promises"
import Module, { createRequire, register as registerHooks } from "node:module"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { register as registerCommonJs } from "tsx/cjs/api"
import { register } from "tsx/esm/api"
import { ConfigInvalid } from "../errors.js"
import { SCHEMA_KEY } from "./jsonSchema.js"
import { importIsolated } from "./loadIsolated.js"
import type { FlussoConfig } from "./model.js"
import { describeImportError } from "./importError.js"
import { isRustConfig } from "./rs/files.js"
import { validateConfig } from "./validate.js"

const MODULE_EXTENSIONS: ReadonlyArray<string> = [".ts", ".mts", ".js", ".mjs"]

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * Config modules load in a tsx namespace of their own rather than under a global
 * `register()`: nothing else in the process is compiled by tsx, and a `.ts` config in a
 * CommonJS package loads (a global register + `import()` fails on it with "Cannot
 * require() ES Module … in a cycle").
 */
const NAMESPACE = `flusso-config-${randomUUID()}`

/**
 * The running flusso's entry point when it runs built (dist/config/load.js → dist/index.js).
 * From source (tests, `tsx src/main.ts`) there is none and "flusso" resolves like any package.
 * Built, `run` imports config modules in a child process (`loadIsolated.ts`), which takes
 * tsx and the config's modules with it when it ends.
 */
const RUNNING_FLUSSO = ((): string | undefined => {
  if (!import.meta.url.endsWith(".js")) return undefined
  // dist/config/load.js as tsc emits it, or a chunk of the bundle (dist/chunks/); dist/main.js or dist/loadChild.js.
  const entry = [new URL("../index.js", import.meta.url), new URL("./index.js", import.meta.url)].find((url) => existsSync(url))
  return entry?.href
})()

/**
 * A resolve hook, run before tsx's: a config's `import … from "flusso"` (from the config or
 * any module it imports, which all carry the namespace) is the running flusso, as one shared
 * instance, even where the project has no flusso of its own in node_modules (a global
 * install) or has another version. Without it the namespace would load a second flusso.
 */
const FLUSSO_HOOK = `
let namespace, flusso
export function initialize(data) { namespace = data.namespace; flusso = data.flusso }
export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL
  if (specifier === "flusso" && parent !== undefined && URL.canParse(parent) &&
      new URL(parent).searchParams.get("tsx-namespace") === namespace) {
    return { url: flusso, format: "module", shortCircuit: true }
  }
  return nextResolve(specifier, context)
}`

/** Every config file loaded, for `mapRequire`. */
const configFiles = new Set<string>()

/**
 * The same for `require("flusso")` in a config compiled to CommonJS by tsx (whose modules
 * carry the namespace), or written as CommonJS (Node loads it itself): Node resolves
 * `require` without the hooks. The one resolution patched is "flusso" from such a module.
 */
const mapRequire = (flusso: string): void => {
  const resolveFilename: unknown = Reflect.get(Module, "_resolveFilename")
  if (typeof resolveFilename !== "function") return
  const marker = `namespace=${NAMESPACE}`
  Reflect.set(Module, "_resolveFilename", function (this: unknown, request: unknown, parent: unknown, ...rest: ReadonlyArray<unknown>) {
    const from = Predicate.isRecord(parent) ? parent["filename"] : undefined
    if (request === "flusso" && typeof from === "string" && (from.includes(marker) || configFiles.has(from))) return flusso
    const resolved: unknown = Reflect.apply(resolveFilename, this, [request, parent, ...rest])
    return resolved
  })
}

type ScopedImport = (specifier: string, parentURL: string) => Promise<unknown>

let scopedImport: ScopedImport | undefined

/**
 * Once per process. `tsconfig: false`: a project's `paths` (ours maps "flusso" to
 * src/index.ts) must not load a second copy of flusso next to the running one. The hooks
 * stay registered (each load is one import in the namespace); nothing outside the
 * namespace is touched but the resolution of "flusso" from a config.
 */
const configImporter = (shown: string): Effect.Effect<ScopedImport, ConfigInvalid> =>
  Effect.try({
    try: (): ScopedImport => {
      if (scopedImport === undefined) {
        // Both halves of tsx, as its `tsImport` does: the CommonJS one resolves the `require`s
        // of a config compiled to CommonJS (`./indexes` → ./indexes.ts).
        registerCommonJs({ namespace: NAMESPACE })
        const tsx = register({ namespace: NAMESPACE, tsconfig: false })
        // Registered after tsx's hooks, so it runs first.
        if (RUNNING_FLUSSO !== undefined) {
          registerHooks(`data:text/javascript,${encodeURIComponent(FLUSSO_HOOK)}`, {
            data: { namespace: NAMESPACE, flusso: RUNNING_FLUSSO }
          })
          mapRequire(fileURLToPath(RUNNING_FLUSSO))
        }
        scopedImport = tsx.import
      }
      return scopedImport
    },
    catch: (error) =>
      new ConfigInvalid({ file: shown, issues: [`cannot set up loading TypeScript/JavaScript configs: ${reason(error)}`] })
  })

/**
 * Each load reads the config file afresh, not a module cached by an earlier load: a new
 * query for the module map, and no `require.cache` entry for a config Node loads as
 * CommonJS. Modules the config imports are read once per process, as any import.
 */
let loads = 0
const requireCache = createRequire(import.meta.url).cache

/**
 * The default export. A module tsx compiled to CommonJS (a `.ts` or `.js` file in a package
 * without `"type": "module"`) arrives as its `module.exports`, marked `__esModule`, with the
 * default export under `default`.
 */
const defaultExport = (module: unknown): unknown => {
  if (!Predicate.isRecord(module)) return undefined
  const exported = module["default"]
  return Predicate.isRecord(exported) && exported["__esModule"] === true ? exported["default"] : exported
}

export const importDefault = (file: string, shown: string): Effect.Effect<unknown, ConfigInvalid> =>
  Effect.gen(function* () {
    const load = yield* configImporter(shown)
    // As CommonJS knows it: by its real path.
    const real = yield* Effect.promise(() => realpath(file).catch(() => file))
    configFiles.add(real)
    Reflect.deleteProperty(requireCache, real)
    const url = pathToFileURL(file).href
    const module = yield* Effect.tryPromise({
      // The config is its own parent: imported from a .ts file (this one, run from source),
      // tsx would take `x.js` to mean `x.ts` where both exist.
      try: () => load(`${url}?flusso-load=${++loads}`, url),
      catch: (error) => new ConfigInvalid({ file: shown, issues: [`cannot import the config module: ${describeImportError(error, file, shown)}`] })
    })
    const exported = yield* Effect.try({
      try: () => defaultExport(module),
      catch: (error) => new ConfigInvalid({ file: shown, issues: [`cannot read the default export: ${reason(error)}`] })
    })
    return exported !== undefined
      ? exported
      : yield* new ConfigInvalid({
          file: shown,
          issues: ["the module has no default export; end it with `export default defineConfig({ ... })`"]
        })
  })

/** A `"$schema"` naming the config's JSON Schema (jsonSchema.ts) is for editors, not a setting. */
const withoutSchemaKey = (value: unknown): unknown => {
  if (!Predicate.isRecord(value) || typeof value[SCHEMA_KEY] !== "string") return value
  const { [SCHEMA_KEY]: _schema, ...config } = value
  return config
}

const readJson = (file: string, shown: string): Effect.Effect<unknown, ConfigInvalid> =>
  Effect.tryPromise({
    try: async (): Promise<unknown> => withoutSchemaKey(JSON.parse(await readFile(file, "utf8"))),
    catch: (error) => new ConfigInvalid({ file: shown, issues: [`cannot parse JSON: ${reason(error)}`] })
  })

export interface LoadOptions {
  /**
   * Import a module config in a child process (a built flusso only): what loading it takes
   * is gone once it is loaded — for a process that runs on (`run`).
   */
  readonly isolated?: boolean
}

/** Loads and validates `file`; every problem found is one line of `ConfigInvalid.issues`. */
export const loadConfig = (file: string, options: LoadOptions = {}): Effect.Effect<FlussoConfig, ConfigInvalid> =>
  Effect.gen(function* () {
    const absolute = path.resolve(file)
    const extension = path.extname(absolute)
    const isFile = yield* Effect.promise(() => stat(absolute).then((s) => s.isFile(), () => false))
    if (!isFile) return yield* new ConfigInvalid({ file, issues: [`no such file: ${absolute}`] })
    // The Rust flusso's flusso.toml (+ *.schema.yml): its own reader, the same validation.
    // Its reader (YAML, TOML) is loaded only for such a file.
    if (isRustConfig(absolute)) return (yield* Effect.flatMap(Effect.promise(() => import("./rs/index.js")), (rs) => rs.loadRustConfig(file))).config
    const exported =
      extension === ".json"
        ? yield* readJson(absolute, file)
        : MODULE_EXTENSIONS.includes(extension)
          ? yield* (options.isolated === true && RUNNING_FLUSSO !== undefined ? importIsolated(absolute, file) : importDefault(absolute, file))
          : yield* new ConfigInvalid({
              file,
              issues: [`unsupported config file extension "${extension}"; use .ts, .mts, .js, .mjs, .json or a Rust flusso .toml`]
            })
    return yield* Effect.mapError(validateConfig(exported), (issues) => new ConfigInvalid({ file, issues }))
  })
