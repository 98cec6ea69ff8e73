// `npm run build`'s second half: the CLI as one bundled program. tsc has emitted dist/ —
// the library entry points embedding applications import (dist/index.js …) — and this
// replaces dist/main.js with a single esbuild bundle of src/main.ts, and writes the
// config loader's child (dist/loadChild.js) the same way. One file to parse instead of
// some two thousand modules: start-up time and resident memory (what Node keeps of each
// module's source and compiled code). tsx stays a package: it registers loader hooks by
// the paths of its own files.
import { build } from "esbuild"
import { chmodSync, rmSync } from "node:fs"

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Smaller to parse; identifiers kept, so an internal error's stack still reads.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  external: ["tsx", "pg-native"],
  // CommonJS dependencies call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __flussoRequire } from 'node:module'; const require = __flussoRequire(import.meta.url);" },
  logLevel: "warning"
}

// Chunks are named by their content's hash: the previous build's would pile up.
rmSync("dist/chunks", { recursive: true, force: true })

// Code a run may never need (the Rust config reader, OTLP export) is imported dynamically
// and split into chunks of its own, loaded on first use.
await build({
  ...common,
  entryPoints: { main: "src/main.ts", loadChild: "src/config/loadChild.ts" },
  outdir: "dist",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]"
})
chmodSync("dist/main.js", 0o755)
