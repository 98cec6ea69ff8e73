/**
 * The real CLI (`node dist/main.js run --config bench/flusso.bench.config.ts`) as a child
 * process: JSON log lines collected (and kept in bench/logs/), its public HTTP surface
 * (/status, /metrics) on a free port, peak RSS from /proc, and a stop that never hangs.
 * Every child is registered so the bench kills it however it ends.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from "node:fs"
import { createServer } from "node:net"
import * as path from "node:path"
import { log, sleep, TimedOut } from "./util.js"

const children = new Set<ChildProcess>()
let aborting = false

export const isAborting = (): boolean => aborting

/** After this, no flusso is started any more (the bench is stopping on a signal). */
export const abortStarts = (): void => {
  aborting = true
}

/** SIGKILL to every child still running (synchronous: safe in process.on("exit")). */
export const killAllChildren = (): void => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill("SIGKILL")
      } catch {
        // already gone
      }
    }
  }
}

/** Stops every child still running: SIGTERM, then SIGKILL after `graceMs`. */
export const stopAllChildren = async (graceMs = 5000): Promise<void> => {
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null)
  for (const child of running) child.kill("SIGTERM")
  const end = Date.now() + graceMs
  while (Date.now() < end && running.some((c) => c.exitCode === null && c.signalCode === null)) await sleep(100)
  killAllChildren()
}

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/** A free TCP port below the ephemeral range (see scripts/services.sh on why). */
export const freePort = async (): Promise<number> => {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 10000)
    if (await portFree(port)) return port
  }
  throw new Error("no free port in 20000-29999")
}

/** The environment without variables that would override the bench config's URLs or flags. */
const inherited = (name: string): boolean =>
  name !== "DATABASE_URL" && !/_OPENSEARCH_(URL|USERNAME|PASSWORD)$/.test(name) && !name.startsWith("FLUSSO_") && !name.startsWith("BENCH_")

export interface Deployment {
  readonly label: string
  readonly databaseUrl: string
  readonly opensearchUrl: string
  readonly prefix: string
  readonly slot: string
  readonly publication: string
  readonly indexes: ReadonlyArray<string>
}

export interface LogLine {
  readonly at: number
  readonly message: string
  readonly level: string
  readonly raw: string
}

export interface StatusSnapshot {
  readonly phase: string
  readonly ready: boolean
  readonly changesCaptured: number
  readonly changesCommitted: number
  readonly changesInFlight: number
  readonly documentsBuilt: number
  readonly batches: number
  readonly errors: number
  readonly lastError: { readonly message: string } | null
  readonly indexes: ReadonlyArray<{ readonly name: string; readonly backfill: { readonly rowsDone: number; readonly startedAt: string } | null }>
}

const messageOf = (value: unknown): string =>
  typeof value === "string" ? value : Array.isArray(value) ? value.map(messageOf).join(" ") : JSON.stringify(value)

export class Flusso {
  readonly lines: Array<LogLine> = []
  private readonly waiters = new Set<() => void>()
  private exitInfo: string | undefined
  private readonly logStream: WriteStream

  private constructor(
    readonly deployment: Deployment,
    readonly child: ChildProcess,
    readonly publicPort: number,
    readonly startedAt: number,
    logFile: string
  ) {
    this.logStream = createWriteStream(logFile, { flags: "a" })
    let buffer = ""
    child.stderr?.on("data", (chunk: Buffer) => {
      this.logStream.write(chunk)
      buffer += chunk.toString("utf8")
      let nl: number
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const raw = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        if (raw.trim() === "") continue
        let message = raw
        let level = "?"
        try {
          const parsed = JSON.parse(raw) as { message?: unknown; logLevel?: string }
          message = messageOf(parsed.message)
          level = parsed.logLevel ?? "?"
        } catch {
          // a line that is not JSON (a crash trace): kept as it is
        }
        this.lines.push({ at: Date.now(), message, level, raw })
        if (this.lines.length > 5000) this.lines.splice(0, 1000)
        for (const wake of this.waiters) wake()
      }
    })
    child.stdout?.on("data", (chunk: Buffer) => this.logStream.write(chunk))
    child.on("exit", (code, signal) => {
      this.exitInfo = `exited with ${code ?? signal}`
      children.delete(child)
      for (const wake of this.waiters) wake()
    })
  }

  /** `extraArgs` follow the usual ones (e.g. `--cluster --runner-address HOST:PORT`). */
  static async start(root: string, deployment: Deployment, logDir: string, extraArgs: ReadonlyArray<string> = []): Promise<Flusso> {
    if (aborting) throw new Error("the bench is stopping")
    const publicPort = await freePort()
    const privatePort = await freePort()
    mkdirSync(logDir, { recursive: true })
    const logFile = path.join(logDir, `${deployment.label}.log`)
    // BENCH_NODE_ARGS: node options for each flusso process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
    // (node refuses those, and V8 heap flags, in NODE_OPTIONS).
    const nodeArgs = (process.env["BENCH_NODE_ARGS"] ?? "").split(" ").filter((arg) => arg !== "")
    const args = [
      ...nodeArgs,
      cliPath(root),
      "run",
      "--config",
      path.join(root, "bench", "flusso.bench.config.ts"),
      "--slot",
      deployment.slot,
      "--publication",
      deployment.publication,
      "--index-prefix",
      deployment.prefix,
      "--public-address",
      `127.0.0.1:${publicPort}`,
      "--private-address",
      `127.0.0.1:${privatePort}`,
      "--log-format",
      "json",
      "--progress-secs",
      "5",
      ...extraArgs
    ]
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => inherited(name))),
        DATABASE_URL: deployment.databaseUrl,
        PRIMARY_OPENSEARCH_URL: deployment.opensearchUrl,
        BENCH_INDEXES: deployment.indexes.join(","),
        FLUSSO_ADMIN_USER: "bench",
        FLUSSO_ADMIN_PASSWORD: `bench-${process.pid}-${Date.now()}`
      }
    })
    children.add(child)
    const flusso = new Flusso(deployment, child, publicPort, Date.now(), logFile)
    log(`${deployment.label}: started flusso (pid ${child.pid}, /status on 127.0.0.1:${publicPort}, log ${path.relative(root, logFile)})`)
    return flusso
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  get running(): boolean {
    return this.exitInfo === undefined
  }

  /** The last log lines, for an error message. */
  tail(n = 8): string {
    return this.lines.slice(-n).map((l) => `    ${l.message.slice(0, 400)}`).join("\n")
  }

  private failIfExited(): void {
    if (this.exitInfo !== undefined) throw new Error(`flusso (${this.deployment.label}) ${this.exitInfo}; last log lines:\n${this.tail()}`)
  }

  /** Waits for a log line matching `pattern` (from the line with index `from`), or fails on exit/timeout. */
  async waitForLine(pattern: RegExp, seconds: number, from = 0): Promise<LogLine> {
    const end = Date.now() + seconds * 1000
    let seen = from
    for (;;) {
      for (; seen < this.lines.length; seen++) {
        const line = this.lines[seen]
        if (line !== undefined && pattern.test(line.message)) return line
        if (line !== undefined && line.level === "FATAL") {
          throw new Error(`flusso (${this.deployment.label}) logged a fatal error: ${line.message.slice(0, 600)}`)
        }
      }
      this.failIfExited()
      const left = end - Date.now()
      if (left <= 0) throw new TimedOut(`flusso (${this.deployment.label}) to log ${pattern}`, seconds)
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          this.waiters.delete(done)
          resolve()
        }
        const timer = setTimeout(done, Math.min(left, 1000))
        this.waiters.add(done)
      })
    }
  }

  async status(): Promise<StatusSnapshot | undefined> {
    this.failIfExited()
    try {
      const res = await fetch(`http://127.0.0.1:${this.publicPort}/status`, { signal: AbortSignal.timeout(5000) })
      return res.ok ? ((await res.json()) as StatusSnapshot) : undefined
    } catch {
      return undefined // not listening yet
    }
  }

  async metrics(): Promise<string | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.publicPort}/metrics`, { signal: AbortSignal.timeout(5000) })
      return res.ok ? await res.text() : undefined
    } catch {
      return undefined
    }
  }

  /** VmHWM (peak resident set) of the process, in bytes. */
  peakRss(): number | null {
    try {
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"))
      return m?.[1] === undefined ? null : Number(m[1]) * 1024
    } catch {
      return null
    }
  }

  /** SIGTERM, wait up to `graceSeconds` for a clean exit, else SIGKILL. */
  async stop(graceSeconds = 30): Promise<void> {
    if (this.exitInfo === undefined) {
      this.child.kill("SIGTERM")
      const end = Date.now() + graceSeconds * 1000
      while (this.exitInfo === undefined && Date.now() < end) await sleep(100)
      if (this.exitInfo === undefined) {
        log(`${this.deployment.label}: flusso did not stop within ${graceSeconds} s of SIGTERM: SIGKILL`)
        this.child.kill("SIGKILL")
        while (this.exitInfo === undefined) await sleep(50)
      }
    }
    await new Promise<void>((resolve) => this.logStream.end(resolve))
  }
}

/**
 * The CLI measured: this checkout's dist/main.js, or another build's (`--flusso <checkout>`
 * sets BENCH_FLUSSO_CLI) to compare a change with what came before it in one run.
 */
export const cliPath = (root: string): string => process.env["BENCH_FLUSSO_CLI"] ?? path.join(root, "dist", "main.js")

/** `flusso slot drop` for a deployment's slot (after its flusso stopped); the output line, or the failure. */
export const slotDrop = (root: string, deployment: Deployment): { ok: boolean; output: string } => {
  const r = spawnSync(
    process.execPath,
    [cliPath(root), "slot", "drop", "--config", path.join(root, "bench", "flusso.bench.config.ts"), "--slot", deployment.slot],
    {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => inherited(name))),
        DATABASE_URL: deployment.databaseUrl,
        PRIMARY_OPENSEARCH_URL: deployment.opensearchUrl,
        BENCH_INDEXES: deployment.indexes.join(",")
      }
    }
  )
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() }
}
