/**
 * flusso (ours) as a measured tool: the real CLI (`node dist/main.js run --config
 * bench/flusso.bench.config.ts`) as a child process with JSON logs, its public HTTP
 * surface (/status, /metrics) on a free port; its backfill timing from its own
 * `seeded: N rows in X s` line; its slot dropped with `flusso slot drop`.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { Child, freePort, inheritedEnv, type LineReader, RunningChild } from "./child.js"
import type { BackfillTiming, Deployment, Running, Tool } from "./tool.js"
import { log, sleep } from "./util.js"

/**
 * The CLI measured: this checkout's dist/main.js, or another build's (`--flusso <checkout>`
 * sets BENCH_FLUSSO_CLI) to compare a change with what came before it in one run.
 */
export const cliPath = (root: string): string => process.env["BENCH_FLUSSO_CLI"] ?? path.join(root, "dist", "main.js")

const messageOf = (value: unknown): string =>
  typeof value === "string" ? value : Array.isArray(value) ? value.map(messageOf).join(" ") : JSON.stringify(value)

/** `--log-format json`: `{ message, logLevel, timestamp, … }`. */
const readLine: LineReader = (raw) => {
  const parsed = JSON.parse(raw) as { message?: unknown; logLevel?: unknown; timestamp?: unknown }
  const level = typeof parsed.logLevel === "string" ? parsed.logLevel : "?"
  const loggedAt = typeof parsed.timestamp === "string" ? Date.parse(parsed.timestamp) : Number.NaN
  return { message: messageOf(parsed.message), level, fatal: level === "FATAL", loggedAt: Number.isNaN(loggedAt) ? null : loggedAt }
}

interface OurStatus {
  readonly ready?: boolean
  readonly changesCaptured?: number
  readonly changesCommitted?: number
}

const deploymentEnv = (d: Deployment): Record<string, string> => ({
  ...inheritedEnv(),
  DATABASE_URL: d.databaseUrl,
  PRIMARY_OPENSEARCH_URL: d.opensearchUrl,
  BENCH_INDEXES: d.indexes.join(",")
})

/**
 * One flusso process of deployment `d`; `extraArgs` follow the usual ones (the cluster
 * bench adds `--cluster --runner-address HOST:PORT`).
 */
export const startFlusso = async (root: string, logDir: string, d: Deployment, extraArgs: ReadonlyArray<string> = []): Promise<Running> => {
  const config = path.join(root, "bench", "flusso.bench.config.ts")
  const publicPort = await freePort()
  const privatePort = await freePort()
  // BENCH_NODE_ARGS: node options for each flusso process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  // (node refuses those, and V8 heap flags, in NODE_OPTIONS).
  const nodeArgs = (process.env["BENCH_NODE_ARGS"] ?? "").split(" ").filter((arg) => arg !== "")
  const label = `flusso (${d.label})`
  const child = new Child({
    label,
    command: process.execPath,
    args: [
      ...nodeArgs,
      cliPath(root),
      "run",
      "--config",
      config,
      "--slot",
      d.slot,
      "--publication",
      d.publication,
      "--index-prefix",
      d.prefix,
      "--public-address",
      `127.0.0.1:${publicPort}`,
      "--private-address",
      `127.0.0.1:${privatePort}`,
      "--log-format",
      "json",
      "--progress-secs",
      "5",
      ...extraArgs
    ],
    cwd: root,
    env: { ...deploymentEnv(d), FLUSSO_ADMIN_USER: "bench", FLUSSO_ADMIN_PASSWORD: `bench-${process.pid}-${Date.now()}` },
    logFile: path.join(logDir, `${d.label}.log`),
    readLine
  })
  log(`${label}: started (pid ${child.pid}, /status on 127.0.0.1:${publicPort}, log ${path.relative(root, child.spec.logFile)})`)
  return new RunningChild(d, child, publicPort, (status) => {
    const s = status as OurStatus
    return { ready: s.ready === true, changesCaptured: s.changesCaptured ?? 0, changesCommitted: s.changesCommitted ?? 0 }
  })
}

export const oursTool = (root: string, logDir: string): Tool => {
  const config = path.join(root, "bench", "flusso.bench.config.ts")
  const version = (() => {
    const r = spawnSync(process.execPath, [cliPath(root), "--version"], { cwd: root, encoding: "utf8", timeout: 60_000 })
    return r.status === 0 ? r.stdout.trim().split("\n").pop() ?? "?" : "unknown"
  })()
  return {
    key: "flusso",
    title: "flusso (ours)",
    version,
    ownLatencyMetric: { name: "flusso_end_to_end_latency_seconds", meaning: "commit → flushed to OpenSearch, as flusso measures it" },
    seedingLine: /^seeding up to/,
    prepare: () => Promise.resolve(),
    start: (d) => startFlusso(root, logDir, d),
    backfill: async (running, timeoutSeconds): Promise<BackfillTiming> => {
      const began = await running.waitForLine(/^(seeding|resuming seeding)/, 300)
      const ended = await running.waitForLine(/^seeded: \d+ rows in [\d.]+ s/, timeoutSeconds)
      const m = /^seeded: (\d+) rows in ([\d.]+) s/.exec(ended.message)
      return {
        rows: Number(m?.[1]),
        seconds: Number(m?.[2]),
        source: "flusso's log line `seeded: N rows in X s` (X runs from the start of the seeding pass to the swap of the seeded generation)",
        began,
        ended
      }
    },
    dropSlot: async (d) => {
      for (let i = 0; ; i++) {
        const r = spawnSync(process.execPath, [cliPath(root), "slot", "drop", "--config", config, "--slot", d.slot], {
          cwd: root,
          encoding: "utf8",
          timeout: 60_000,
          env: deploymentEnv(d)
        })
        const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim()
        if (r.status === 0) return output.split("\n").pop() ?? ""
        if (!/in use/.test(output) || i === 24) return `flusso slot drop failed: ${output.slice(0, 300)}`
        await sleep(200) // the walsender of a stopped flusso lingers a moment
      }
    }
  }
}
