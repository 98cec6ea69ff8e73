/**
 * A measured tool as a child process, whichever tool it is: its log lines collected (and
 * kept in bench/logs/), waiting for a line, peak RSS from /proc, and a stop that never
 * hangs. Every child is registered so the bench kills it however it ends. How a line is
 * read (our JSON logs, the Rust tool's tracing JSON) is the caller's.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from "node:fs"
import { createServer } from "node:net"
import * as path from "node:path"
import type { Deployment, Progress, Running } from "./tool.js"
import { log, sleep, TimedOut } from "./util.js"

const children = new Set<ChildProcess>()
let aborting = false

export const isAborting = (): boolean => aborting

/** After this, no tool is started any more (the bench is stopping on a signal). */
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

/** The environment without variables that would override the bench's URLs, flags or log settings. */
export const inheritedEnv = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => {
      const [name, value] = entry
      return value !== undefined && name !== "DATABASE_URL" && name !== "RUST_LOG" && !/_OPENSEARCH_(URL|USERNAME|PASSWORD)$/.test(name) &&
        !name.startsWith("FLUSSO_") && !name.startsWith("BENCH_")
    })
  )

export interface LogLine {
  /** When the bench read the line (Date.now()). */
  readonly at: number
  /** The tool's own timestamp of the line (ms since the epoch), when it writes one. */
  readonly loggedAt: number | null
  readonly message: string
  readonly level: string
  /** The tool says it cannot go on. */
  readonly fatal: boolean
  readonly raw: string
}

/** Reads one raw output line of a tool. */
export type LineReader = (raw: string) => Omit<LogLine, "at" | "raw">

export interface ChildSpec {
  /** Names the log file and the messages. */
  readonly label: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Record<string, string>
  readonly logFile: string
  readonly readLine: LineReader
}

export class Child {
  readonly lines: Array<LogLine> = []
  readonly startedAt: number
  private readonly waiters = new Set<() => void>()
  private exitInfo: string | undefined
  private readonly logStream: WriteStream
  private readonly child: ChildProcess

  constructor(readonly spec: ChildSpec) {
    if (aborting) throw new Error("the bench is stopping")
    mkdirSync(path.dirname(spec.logFile), { recursive: true })
    this.logStream = createWriteStream(spec.logFile, { flags: "a" })
    const child = spawn(spec.command, [...spec.args], { cwd: spec.cwd, stdio: ["ignore", "pipe", "pipe"], env: spec.env })
    this.child = child
    this.startedAt = Date.now()
    children.add(child)
    // Our CLI logs on stderr, the Rust tool on stdout: both are read.
    for (const stream of [child.stdout, child.stderr]) {
      let buffer = ""
      stream.on("data", (chunk: Buffer) => {
        this.logStream.write(chunk)
        buffer += chunk.toString("utf8")
        let nl: number
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const raw = buffer.slice(0, nl)
          buffer = buffer.slice(nl + 1)
          if (raw.trim() !== "") this.push(raw)
        }
      })
    }
    child.on("error", (e) => {
      this.exitInfo ??= `could not be started: ${e.message}`
      children.delete(child)
      this.wake()
    })
    child.on("exit", (code, signal) => {
      this.exitInfo = `exited with ${code ?? signal}`
      children.delete(child)
      this.wake()
    })
  }

  private push(raw: string): void {
    let read: Omit<LogLine, "at" | "raw">
    try {
      read = this.spec.readLine(raw)
    } catch {
      read = { loggedAt: null, message: raw, level: "?", fatal: false }
    }
    this.lines.push({ ...read, at: Date.now(), raw })
    if (this.lines.length > 5000) this.lines.splice(0, 1000)
    this.wake()
  }

  private wake(): void {
    for (const wake of this.waiters) wake()
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

  failIfExited(): void {
    if (this.exitInfo !== undefined) throw new Error(`${this.spec.label} ${this.exitInfo}; last log lines:\n${this.tail()}`)
  }

  /** Waits for a log line matching `pattern` (from the line with index `from`), or fails on exit, a fatal line, or the deadline. */
  async waitForLine(pattern: RegExp, seconds: number, from = 0): Promise<LogLine> {
    const end = Date.now() + seconds * 1000
    let seen = from
    for (;;) {
      for (; seen < this.lines.length; seen++) {
        const line = this.lines[seen]
        if (line !== undefined && pattern.test(line.message)) return line
        if (line?.fatal === true) throw new Error(`${this.spec.label} logged a fatal error: ${line.message.slice(0, 600)}`)
      }
      this.failIfExited()
      const left = end - Date.now()
      if (left <= 0) throw new TimedOut(`${this.spec.label} to log ${pattern}`, seconds)
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
        log(`${this.spec.label} did not stop within ${graceSeconds} s of SIGTERM: SIGKILL`)
        this.child.kill("SIGKILL")
        while (this.exitInfo === undefined) await sleep(50)
      }
    }
    await new Promise<void>((resolve) => this.logStream.end(resolve))
  }
}

/** GET a path of a tool's HTTP surface: the JSON (or text) body, or undefined when it does not answer (yet). */
export const getJson = async (port: number, urlPath: string, headers: Record<string, string> = {}): Promise<unknown> => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(5000), headers })
    return res.ok ? ((await res.json()) as unknown) : undefined
  } catch {
    return undefined
  }
}

export const getText = async (port: number, urlPath: string): Promise<string | undefined> => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(5000) })
    return res.ok ? await res.text() : undefined
  } catch {
    return undefined
  }
}

/**
 * A measured tool's process as the bench drives it (`Running`): everything but how its
 * `/status` reads, which `progressOf` turns into the counters both tools have.
 */
export class RunningChild implements Running {
  constructor(
    readonly deployment: Deployment,
    private readonly child: Child,
    private readonly publicPort: number,
    private readonly progressOf: (status: unknown) => Omit<Progress, "raw">
  ) {}

  get startedAt(): number {
    return this.child.startedAt
  }
  get pid(): number {
    return this.child.pid
  }
  get running(): boolean {
    return this.child.running
  }
  get lines() {
    return this.child.lines
  }
  waitForLine(pattern: RegExp, seconds: number, from?: number) {
    return this.child.waitForLine(pattern, seconds, from)
  }
  async progress(): Promise<Progress | undefined> {
    this.child.failIfExited()
    const status = await getJson(this.publicPort, "/status")
    return status === undefined ? undefined : { ...this.progressOf(status), raw: status }
  }
  metrics(): Promise<string | undefined> {
    return getText(this.publicPort, "/metrics")
  }
  peakRss(): number | null {
    return this.child.peakRss()
  }
  tail(n?: number): string {
    return this.child.tail(n)
  }
  stop(graceSeconds?: number): Promise<void> {
    return this.child.stop(graceSeconds)
  }
}
