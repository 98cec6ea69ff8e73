/**
 * Runners of one cluster deployment under test: each is the real CLI (`node dist/main.js
 * run --cluster --runner-address 127.0.0.1:PORT`) with its own runner port and public
 * HTTP surface, its output kept (and printed when a test fails). Helpers read a runner's
 * `/status` and `/metrics`, find the capture holder, and kill, freeze, resume or restart
 * a runner by its name.
 */
import type { ChildProcess } from "node:child_process"
import { Schema } from "effect"
import { freePort } from "./cli.js"
import type { Deployment } from "./deployment.js"
import { waitFor } from "./deployment.js"

const ClusterStatus = Schema.Struct({
  phase: Schema.String,
  ready: Schema.Boolean,
  lastAckedLsn: Schema.NullOr(Schema.String),
  indexes: Schema.Array(Schema.Struct({
    name: Schema.String,
    state: Schema.String,
    generations: Schema.Array(Schema.Struct({ generation: Schema.String, serving: Schema.Boolean, seeded: Schema.Boolean })),
    backfill: Schema.NullOr(Schema.Struct({ rowsDone: Schema.Number }))
  })),
  cluster: Schema.optionalWith(Schema.Struct({ runner: Schema.String, runners: Schema.Array(Schema.String), captureRunner: Schema.NullOr(Schema.String) }), {
    default: () => ({ runner: "", runners: [], captureRunner: null })
  })
})
export type ClusterStatus = typeof ClusterStatus.Type
const decodeStatus = Schema.decodeUnknownSync(Schema.parseJson(ClusterStatus))

export interface Runner {
  readonly name: string
  /** `127.0.0.1:PORT`: its runner address. */
  readonly address: string
  /** http://127.0.0.1:PORT of its public surface. */
  readonly url: string
  readonly privateUrl: string
  readonly child: () => ChildProcess
  readonly alive: () => boolean
}

export interface Cluster {
  /** Starts (or starts again, same addresses) the runner called `name`. */
  readonly start: (name: string) => Promise<Runner>
  readonly runners: () => ReadonlyArray<Runner>
  readonly byName: (name: string) => Runner
  /** Sends a signal: SIGKILL and SIGTERM wait for the exit (its code). */
  readonly signal: (runner: Runner, signal: NodeJS.Signals) => Promise<number | null>
  /** `/status` of a runner; undefined when it does not answer. */
  readonly status: (runner: Runner) => Promise<ClusterStatus | undefined>
  /** One series of a runner's `/metrics`, e.g. `flusso_documents_built_total{index="items"` (undefined when absent or not answering). */
  readonly metric: (runner: Runner, series: string) => Promise<number | undefined>
  /** The runner whose capture streams (its /status is ready and names itself as the capture runner). */
  readonly capture: (timeoutMs?: number) => Promise<Runner>
  /** Every started runner is ready (joined, and a capture streams somewhere). */
  readonly ready: (timeoutMs?: number) => Promise<void>
  /** Output of every runner, for a failing test's report. */
  readonly logs: () => string
}

export const makeCluster = (d: Deployment, config: Record<string, unknown>, extraEnv: NodeJS.ProcessEnv = {}): Cluster => {
  const runners = new Map<string, Runner & { process: ChildProcess | undefined; output: Array<string> }>()

  const start: Cluster["start"] = async (name) => {
    const known = runners.get(name)
    const [port, pub, priv] = known === undefined ? [await freePort(), await freePort(), await freePort()] : [Number(known.address.split(":")[1]), Number(new URL(known.url).port), Number(new URL(known.privateUrl).port)]
    const output = known?.output ?? []
    const child = d.spawnCli(config, {
      args: ["--cluster", "--runner-address", `127.0.0.1:${port}`],
      env: {
        FLUSSO_PUBLIC_ADDRESS: `127.0.0.1:${pub}`,
        FLUSSO_PRIVATE_ADDRESS: `127.0.0.1:${priv}`,
        FLUSSO_LOG_LEVEL: process.env["FLUSSO_LOG_LEVEL"] ?? "info",
        ...extraEnv
      },
      pipe: true
    })
    output.push(`--- ${name} started (pid ${child.pid ?? "?"}) at ${new Date().toISOString()}\n`)
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")))
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")))
    const runner = {
      name,
      address: `127.0.0.1:${port}`,
      url: `http://127.0.0.1:${pub}`,
      privateUrl: `http://127.0.0.1:${priv}`,
      process: child,
      output,
      child: () => child,
      alive: () => child.exitCode === null && child.signalCode === null
    }
    runners.set(name, runner)
    return runner
  }

  const byName: Cluster["byName"] = (name) => {
    const runner = runners.get(name)
    if (runner === undefined) throw new Error(`no runner ${name}`)
    return runner
  }

  const signal: Cluster["signal"] = (runner, sig) =>
    new Promise((resolve) => {
      const child = runner.child()
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
      if (sig === "SIGKILL" || sig === "SIGTERM") child.once("exit", (code) => resolve(code))
      child.kill(sig)
      if (sig !== "SIGKILL" && sig !== "SIGTERM") resolve(null)
    })

  const get = async (runner: Runner, path: string): Promise<string | undefined> => {
    if (!runner.alive()) return undefined
    try {
      const response = await fetch(`${runner.url}${path}`, { signal: AbortSignal.timeout(2000) })
      return response.status === 200 || response.status === 503 ? await response.text() : undefined
    } catch {
      return undefined
    }
  }

  const status: Cluster["status"] = async (runner) => {
    const text = await get(runner, "/status")
    return text === undefined ? undefined : decodeStatus(text)
  }

  const metric: Cluster["metric"] = async (runner, series) => {
    const text = await get(runner, "/metrics")
    const line = text?.split("\n").find((l) => l.startsWith(series))
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1))
  }

  const capture: Cluster["capture"] = (timeoutMs = 60_000) =>
    waitFor("a runner to hold the capture and stream", async () => {
      for (const runner of runners.values()) {
        const s = await status(runner)
        if (s?.ready === true && s.cluster.captureRunner === runner.address && s.cluster.runner === runner.address && s.lastAckedLsn !== null) {
          if ((await metric(runner, "flusso_cluster_capture")) === 1) return runner
        }
      }
      return undefined
    }, timeoutMs)

  const ready: Cluster["ready"] = async (timeoutMs = 90_000) => {
    await waitFor("every runner to be ready", async () => {
      const live = [...runners.values()].filter((r) => r.alive())
      for (const runner of live) {
        const s = await status(runner)
        if (s?.ready !== true || s.cluster.runners.length < live.length) return undefined
      }
      return true
    }, timeoutMs)
  }

  const logs = () => [...runners.values()].map((r) => `===== ${r.name} (${r.address})\n${r.output.join("")}`).join("\n")

  return { start, runners: () => [...runners.values()], byName, signal, status, metric, capture, ready, logs }
}

/** `body`, its failures reported with every runner's output. */
export const withLogs = async (cluster: () => Cluster | undefined, body: () => Promise<void>): Promise<void> => {
  try {
    await body()
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e)
    throw new Error(`${message}\n\nrunner output:\n${cluster()?.logs().slice(-60_000) ?? "(no cluster)"}`, { cause: e })
  }
}
