import * as path from "node:path"
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: { alias: { flusso: path.resolve(import.meta.dirname, "src/index.ts") } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Integration tests share one Postgres and one OpenSearch; each gets its own
    // database and index prefix, but two cores do not gain from more workers.
    maxWorkers: 2,
    minWorkers: 1
  }
})
