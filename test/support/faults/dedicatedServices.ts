/**
 * A PostgreSQL and an OpenSearch of a fault test's own, so it can stop them without
 * touching the services every other test shares: `scripts/services.sh up` with its own
 * `FLUSSO_SERVICES_DIR` (a temp dir) starts both on free ports; `down` stops them.
 *
 * The outages are real: OpenSearch's JVM is SIGKILLed and started again with the very
 * command line it ran with (same data path, port and cluster name — its data survives),
 * PostgreSQL is restarted with `pg_ctl restart -m fast` as the `postgres` OS user, with
 * the binaries services.sh started it with (it records their directory in `pg/bin`).
 * It is always PostgreSQL 15, also in a version matrix run (FLUSSO_PG_VERSION): these
 * tests are about outages, not versions.
 */
import { spawn } from "node:child_process"
import { chmodSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseEnvLines } from "../services.js"
import { waitFor } from "../deployment.js"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

export interface DedicatedServices {
  readonly databaseUrl: string
  readonly opensearchUrl: string
  readonly dir: string
  /** SIGKILLs the OpenSearch JVM and waits until it is gone. */
  readonly stopOpenSearch: () => Promise<void>
  /** Starts OpenSearch again with its previous command line; resolves once it is yellow. */
  readonly startOpenSearch: () => Promise<void>
  /** SIGSTOPs the OpenSearch JVM: requests are accepted by the kernel but time out, not refused. */
  readonly freezeOpenSearch: () => void
  /** SIGCONTs it: it processes what queued up meanwhile. */
  readonly thawOpenSearch: () => void
  /**
   * `pg_ctl restart -m fast -w -t <timeoutSeconds>` (default 60): every connection (the
   * replication one too) is dropped. Fails when the server has not restarted in time.
   */
  readonly restartPostgres: (timeoutSeconds?: number) => Promise<void>
  /** `scripts/services.sh down` and the temp dir removed; safe to call twice. */
  readonly down: () => Promise<void>
}

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const run = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Promise<Run> =>
  new Promise((resolve, reject) => {
    // stdin closed and no inherited fds: a server started underneath must not hold our pipes.
    const child = spawn(command, [...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export interface DedicatedOptions {
  /** Start only PostgreSQL (`scripts/services.sh up postgres`); `opensearchUrl` is then the shared one. */
  readonly postgresOnly?: boolean
}

export const startDedicatedServices = async (options: DedicatedOptions = {}): Promise<DedicatedServices> => {
  const dir = mkdtempSync("/tmp/flusso-fault-")
  // The postgres OS user must reach $dir/pg.
  chmodSync(dir, 0o755)
  const { FLUSSO_PG_VERSION: _matrixVersion, ...inherited } = process.env
  const env = { ...inherited, FLUSSO_SERVICES_DIR: dir }
  const script = path.join(ROOT, "scripts/services.sh")
  let isDown = false
  const down = async () => {
    if (isDown) return
    isDown = true
    const r = await run("bash", [script, "down"], env)
    if (r.code !== 0) process.stderr.write(`[fault services] down failed: ${r.stderr}\n`)
    rmSync(dir, { recursive: true, force: true })
  }
  const up = await run("bash", [script, "up", ...(options.postgresOnly ? ["postgres"] : [])], env)
  if (up.code !== 0) {
    await down()
    throw new Error(`scripts/services.sh up (FLUSSO_SERVICES_DIR=${dir}) failed:\n${up.stderr}`)
  }
  const vars = parseEnvLines(up.stdout)
  const databaseUrl = vars["FLUSSO_TEST_DATABASE_URL"]
  const opensearchUrl = options.postgresOnly ? process.env["FLUSSO_TEST_OPENSEARCH_URL"] : vars["FLUSSO_TEST_OPENSEARCH_URL"]
  if (!databaseUrl || !opensearchUrl) {
    await down()
    throw new Error(`scripts/services.sh up printed no URLs:\n${up.stdout}`)
  }

  const pidFile = path.join(dir, "os", "pid")
  const osPid = () => Number(readFileSync(pidFile, "utf8").trim())
  // The JVM's own argv, read while it runs: restarting with it keeps data path, port and cluster name.
  const osCommand = options.postgresOnly
    ? []
    : readFileSync(`/proc/${osPid()}/cmdline`, "utf8").split("\0").filter((a) => a.length > 0)

  const stopOpenSearch = async () => {
    const pid = osPid()
    process.kill(pid, "SIGKILL")
    await waitFor("OpenSearch to die", async () => (alive(pid) ? undefined : true), 30_000)
  }

  const startOpenSearch = async () => {
    const [command, ...args] = osCommand
    if (command === undefined) throw new Error("no OpenSearch command line recorded")
    const log = openSync(path.join(dir, "os", "server.log"), "a")
    const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ["ignore", log, log] })
    child.unref()
    // `down` stops whatever pid the file names.
    writeFileSync(pidFile, `${child.pid}\n`)
    await waitFor("OpenSearch to come back", async () => {
      if (child.pid === undefined || !alive(child.pid)) throw new Error(`OpenSearch did not start again (log: ${dir}/os/server.log)`)
      const health = await fetch(`${opensearchUrl}/_cluster/health?wait_for_status=yellow&timeout=1s`).catch(() => undefined)
      return health?.ok ? true : undefined
    }, 90_000)
  }

  const freezeOpenSearch = () => process.kill(osPid(), "SIGSTOP")
  const thawOpenSearch = () => process.kill(osPid(), "SIGCONT")

  const restartPostgres = async (timeoutSeconds = 60) => {
    const data = path.join(dir, "pg", "data")
    const bin = readFileSync(path.join(dir, "pg", "bin"), "utf8").trim()
    const r = await run("runuser", ["-u", "postgres", "--", `${bin}/pg_ctl`, "-D", data, "-l", path.join(dir, "pg", "server.log"), "-m", "fast", "-w", "-t", String(timeoutSeconds), "restart"])
    if (r.code !== 0) throw new Error(`pg_ctl restart failed (${r.code}): ${r.stderr}${r.stdout}`)
  }

  return { databaseUrl, opensearchUrl, dir, stopOpenSearch, startOpenSearch, freezeOpenSearch, thawOpenSearch, restartPostgres, down }
}
