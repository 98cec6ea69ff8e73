/**
 * The native services (`scripts/services.sh up`, idempotent): their URLs parsed from the
 * env lines it prints, proven to answer, and their versions. Also the build of dist/.
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import * as path from "node:path"
import pg from "pg"
import { log } from "./util.js"

export interface Services {
  /** Superuser URL of the cluster's `postgres` database. */
  readonly adminUrl: string
  readonly opensearchUrl: string
}

/** Parses `export KEY=VALUE` lines (the format of services.sh, as test/support/services.ts reads it). */
export const parseEnvLines = (text: string): Record<string, string> => {
  const vars: Record<string, string> = {}
  for (const line of text.split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line)
    if (m?.[1] !== undefined && m[2] !== undefined) vars[m[1]] = m[2].trim().replace(/^(['"])(.*)\1$/, "$2")
  }
  return vars
}

/**
 * The services the bench measures against: FLUSSO_TEST_DATABASE_URL / FLUSSO_TEST_OPENSEARCH_URL
 * when both are set (services someone already runs, as the tests take them), else
 * `scripts/services.sh up` for this checkout.
 */
export const servicesUp = (root: string): Promise<Services> => {
  const adminUrl = process.env["FLUSSO_TEST_DATABASE_URL"]
  const opensearchUrl = process.env["FLUSSO_TEST_OPENSEARCH_URL"]
  if (adminUrl && opensearchUrl) {
    log(`using the services in FLUSSO_TEST_DATABASE_URL / FLUSSO_TEST_OPENSEARCH_URL (${opensearchUrl})`)
    return Promise.resolve({ adminUrl, opensearchUrl: opensearchUrl.replace(/\/+$/, "") })
  }
  return servicesShUp(root)
}

const servicesShUp = (root: string): Promise<Services> =>
  new Promise((resolve, reject) => {
    log("bringing up the native services (bash scripts/services.sh up)")
    const child = spawn("bash", [path.join(root, "scripts/services.sh"), "up"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`the services are not up: scripts/services.sh up exited with ${code} (its output is above)`))
      const vars = parseEnvLines(out)
      const adminUrl = vars["FLUSSO_TEST_DATABASE_URL"] ?? vars["DATABASE_URL"]
      const opensearchUrl = vars["FLUSSO_TEST_OPENSEARCH_URL"] ?? vars["PRIMARY_OPENSEARCH_URL"]
      if (!adminUrl || !opensearchUrl) return reject(new Error(`scripts/services.sh up printed no database/OpenSearch URL:\n${out}`))
      resolve({ adminUrl, opensearchUrl: opensearchUrl.replace(/\/+$/, "") })
    })
  })

/** Both services answer; returns their versions. */
export const checkServices = async (services: Services): Promise<{ postgres: string; opensearch: string }> => {
  const client = new pg.Client({ connectionString: services.adminUrl, connectionTimeoutMillis: 10_000 })
  let postgres: string
  try {
    await client.connect()
    const rows = await client.query<{ v: string; wal: string }>("SELECT current_setting('server_version') AS v, current_setting('wal_level') AS wal")
    postgres = rows.rows[0]?.v ?? "?"
    if (rows.rows[0]?.wal !== "logical") throw new Error(`wal_level is ${rows.rows[0]?.wal}, flusso needs logical`)
  } catch (e) {
    throw new Error(`PostgreSQL at ${services.adminUrl} does not answer: ${String(e)}`)
  } finally {
    await client.end().catch(() => undefined)
  }
  let opensearch: string
  try {
    const res = await fetch(`${services.opensearchUrl}/`, { signal: AbortSignal.timeout(10_000) })
    const body = (await res.json()) as { version?: { number?: string; distribution?: string } }
    opensearch = `${body.version?.distribution ?? "opensearch"} ${body.version?.number ?? "?"}`
  } catch (e) {
    throw new Error(`OpenSearch at ${services.opensearchUrl} does not answer: ${String(e)}`)
  }
  return { postgres, opensearch }
}

const newestMtime = (dir: string): number => {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs)
  }
  return newest
}

/** `npm run build` when dist/main.js is missing or older than any file under src/. */
export const ensureBuilt = (root: string, allowed: boolean): { built: boolean; stale: boolean } => {
  const main = path.join(root, "dist", "main.js")
  const stale = !existsSync(main) || newestMtime(path.join(root, "src")) > statSync(main).mtimeMs
  if (!stale) return { built: false, stale: false }
  if (!allowed) {
    if (!existsSync(main)) throw new Error("dist/main.js is missing and --no-build was given: run npm run build")
    log("warning: dist/ is older than src/ and --no-build was given: measuring the existing dist/")
    return { built: false, stale: true }
  }
  log("dist/ is missing or older than src/: npm run build")
  const r = spawnSync("npm", ["run", "build"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] })
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status}); fix the build, or pass --no-build to measure the existing dist/`)
  return { built: true, stale: false }
}
