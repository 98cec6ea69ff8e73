import * as path from "node:path"
import { defineConfig } from "vitest/config"

export default defineConfig({
  // "flusso/search" before "flusso": an alias also matches the paths under its name.
  resolve: {
    alias: {
      "flusso/search": path.resolve(import.meta.dirname, "src/search/index.ts"),
      flusso: path.resolve(import.meta.dirname, "src/index.ts")
    }
  },
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Integration tests share one Postgres and one OpenSearch; each gets its own
    // database and index prefix, but two cores do not gain from more workers.
    maxWorkers: 2,
    minWorkers: 1,
    // Two projects so `vitest run test/unit` needs no services: vitest runs a project's
    // globalSetup only when that project has files in the run.
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "integration",
          // everything outside test/unit (integration, fault, differential, ...)
          include: ["test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "test/unit/**"],
          globalSetup: ["test/support/globalSetup.ts"]
        }
      }
    ]
  }
})
