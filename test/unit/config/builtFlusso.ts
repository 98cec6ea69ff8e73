/**
 * A config outside src/ that imports "flusso" gets the package: through node_modules or
 * this repository's self-reference, both ending in dist/. Tests doing that (and those
 * running the built loader) need `npm run build` first; this says so instead of failing
 * with "Cannot find module".
 */
import { existsSync, statSync } from "node:fs"
import * as path from "node:path"

export const ROOT = path.resolve(import.meta.dirname, "../../..")

/** The sources the built loader runs, checked to be no newer than their build. */
const LOADER_SOURCES = ["config/load", "config/validate", "config/define", "config/model"]

export const requireBuiltFlusso = (options: { readonly current?: boolean } = {}): void => {
  if (!existsSync(path.join(ROOT, "dist", "index.js"))) {
    throw new Error('dist/index.js is missing: run `npm run build` first (a config imports "flusso", which resolves to dist/)')
  }
  if (options.current !== true) return
  for (const name of LOADER_SOURCES) {
    const source = path.join(ROOT, "src", `${name}.ts`)
    const built = path.join(ROOT, "dist", `${name}.js`)
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
      throw new Error(`dist/${name}.js is older than src/${name}.ts: run \`npm run build\` first`)
    }
  }
}
