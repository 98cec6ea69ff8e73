/**
 * The real CLI (`node dist/main.js …`) as a test drives it: a command run to its end with
 * its output, or a long-running one whose output is collected as it comes, to wait for a
 * line and stop it with a signal. Plus free ports below the ephemeral range for its HTTP
 * surfaces.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { waitFor } from "./deployment.js"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
export const MAIN = path.join(ROOT, "dist", "main.js")

/** The environment without variables that would override a test config's URLs. */
const inherited = (name: string): boolean =>
  name !== "DATABASE_URL" && !/_OPENSEARCH_(URL|USERNAME|PASSWORD)$/.test(name) && !name.startsWith("FLUSSO_")

export const cliEnvironment = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => inherited(name))),
  ...extra
})

export interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Running {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Waits until stdout or stderr matches. */
  readonly waitForOutput: (what: string, pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
  readonly exited: Promise<Finished>
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<Finished>
}

export const startCli = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}): Running => {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: cliEnvironment(env) })
  let stdout = ""
  let stderr = ""
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
  const exited = new Promise<Finished>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })))
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForOutput: (what, pattern, timeoutMs = 30_000) =>
      waitFor(what, async () => {
        if (child.exitCode !== null) throw new Error(`flusso exited (${child.exitCode}) before ${what}:\n${stderr}`)
        return pattern.exec(stdout) ?? pattern.exec(stderr) ?? undefined
      }, timeoutMs),
    exited,
    stop: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    }
  }
}

/** Runs a command to its end. */
export const runCli = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<Finished> => {
  const running = startCli(args, env)
  const timer = setTimeout(() => running.child.kill("SIGKILL"), timeoutMs)
  return running.exited.finally(() => clearTimeout(timer))
}

/** A TCP port nobody listens on, below the ephemeral range (32768–60999). */
export const freePort = async (): Promise<number> => {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once("error", () => resolve(false))
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
    })
    if (free) return port
  }
}
