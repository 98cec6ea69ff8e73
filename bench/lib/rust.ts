/**
 * The Rust flusso (0.15.1, `--rs <binary>`) as a measured tool, from the outside only:
 *  - its configuration (./rustConfig.ts) written per deployment into a directory of the
 *    run, checked once with `flusso check`;
 *  - `flusso run` with `FLUSSO_LOG_FORMAT=json` (tracing's JSON lines on stdout), its
 *    public HTTP surface (/status, /metrics) on a free port;
 *  - its backfill timing from its own log timestamps: `seeding indexes` → `backfill
 *    complete` (after its final refresh); it creates its slot only after that, so the bench
 *    waits for `following live changes` before it stops it;
 *  - its slot dropped with SQL (it has no command for that).
 * It writes its deployment state into `<prefix>flusso_meta` and relies on OpenSearch
 * creating that index on the first write; a cluster with `action.auto_create_index: false`
 * (ours, for flusso's own tests) refuses that, so the bench creates the index first.
 */
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { Child, freePort, inheritedEnv, type LineReader, RunningChild } from "./child.js"
import { dropSlotSql, slotState } from "./dataset.js"
import { call } from "./opensearch.js"
import { writeRustConfig } from "./rustConfig.js"
import type { BackfillTiming, Deployment, Tool } from "./tool.js"
import { log, sleep } from "./util.js"

/** tracing-subscriber's JSON: `{ timestamp, level, fields: { message, … }, target, span }`. */
const readLine: LineReader = (raw) => {
  const parsed = JSON.parse(raw) as { timestamp?: unknown; level?: unknown; fields?: Record<string, unknown> }
  const { message, ...rest } = parsed.fields ?? {}
  const extra = Object.entries(rest).filter(([k]) => !k.startsWith("log.")).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
  const level = typeof parsed.level === "string" ? parsed.level : "?"
  const loggedAt = typeof parsed.timestamp === "string" ? Date.parse(parsed.timestamp) : Number.NaN
  return {
    message: [typeof message === "string" ? message : JSON.stringify(message ?? ""), ...extra].join(" "),
    level,
    // It logs ERROR and retries, or exits (seen as the exit): no line is fatal by itself.
    fatal: false,
    loggedAt: Number.isNaN(loggedAt) ? null : loggedAt
  }
}

interface RustStatus {
  readonly phase?: string
  readonly changes_captured?: number
  readonly changes_committed?: number
}

const deploymentEnv = (d: Deployment): Record<string, string> => ({
  ...inheritedEnv(),
  DATABASE_URL: d.databaseUrl,
  PRIMARY_OPENSEARCH_URL: d.opensearchUrl,
  FLUSSO_LOG_FORMAT: "json",
  RUST_LOG: "info"
})

/** `flusso check` of a deployment's files against the live database: what it printed, and whether it passed. */
export interface RustCheck {
  readonly ok: boolean
  readonly command: string
  readonly output: string
}

export interface RustTool extends Tool {
  /** The deployment's directory (flusso.toml, the schema files, flusso.lock). */
  configDir(deployment: Deployment): string
  check(deployment: Deployment): RustCheck
  /** The files written for a deployment, for results.json. */
  files(deployment: Deployment): Record<string, string>
}

export const rustTool = (binary: string, runDir: string, logDir: string): RustTool => {
  const absolute = path.resolve(binary)
  if (!existsSync(absolute)) throw new Error(`--rs ${binary}: no such file; give the path of the Rust flusso binary`)
  const v = spawnSync(absolute, ["--version"], { encoding: "utf8", timeout: 30_000 })
  if (v.status !== 0) throw new Error(`--rs ${binary}: \`${absolute} --version\` failed (${v.error?.message ?? `exit ${v.status}`}): is it the Rust flusso binary?`)
  const version = v.stdout.trim()
  // One directory per deployment (its slot), whatever label a start gives it.
  const configDir = (d: Deployment) => path.join(runDir, d.slot)
  const configFile = (d: Deployment) => path.join(configDir(d), "flusso.toml")
  return {
    key: "rs",
    title: `Rust ${version}`,
    version,
    // It has no commit → visible histogram; its flush duration is the nearest.
    ownLatencyMetric: { name: "flusso_flush_duration_seconds", meaning: "duration of one sink flush (bulk request), not commit → visible" },
    seedingLine: /^seeding indexes/,
    configDir,
    files: (d) =>
      Object.fromEntries(
        ["flusso.toml", "bench_users.schema.yml", "bench_users_flat.schema.yml"].map((f) => [f, readFileSync(path.join(configDir(d), f), "utf8")])
      ),
    check: (d) => {
      const args = ["check", "--config", configFile(d), "--publication", d.publication]
      const r = spawnSync(absolute, args, { cwd: configDir(d), encoding: "utf8", timeout: 120_000, env: { ...deploymentEnv(d), NO_COLOR: "1" } })
      return { ok: r.status === 0, command: `flusso ${args.join(" ")}`, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.replace(/\x1b\[[0-9;]*m/g, "").trim() }
    },
    prepare: async (d) => {
      writeRustConfig(configDir(d), d.prefix, d.indexes)
      const meta = `${d.prefix}flusso_meta`
      const r = await call(d.opensearchUrl, "PUT", `/${meta}`, { settings: { index: { number_of_shards: 1, number_of_replicas: 0 } } })
      const exists = r.status === 400 && JSON.stringify(r.json).includes("resource_already_exists_exception")
      if (r.status >= 300 && !exists) throw new Error(`creating the Rust tool's meta index ${meta}: ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`)
    },
    start: async (d) => {
      const publicPort = await freePort()
      const privatePort = await freePort()
      const label = `Rust flusso (${d.label})`
      const child = new Child({
        label,
        command: absolute,
        args: [
          "run",
          "--config",
          configFile(d),
          "--lock",
          path.join(configDir(d), "flusso.lock"),
          "--slot",
          d.slot,
          "--publication",
          d.publication,
          "--public-address",
          `127.0.0.1:${publicPort}`,
          "--private-address",
          `127.0.0.1:${privatePort}`
        ],
        cwd: configDir(d),
        env: { ...deploymentEnv(d), FLUSSO_ADMIN_USER: "bench", FLUSSO_ADMIN_PASSWORD: `bench-${process.pid}-${Date.now()}` },
        logFile: path.join(logDir, `rs-${d.label}.log`),
        readLine
      })
      log(`${label}: started (pid ${child.pid}, /status on 127.0.0.1:${publicPort}, log ${child.spec.logFile})`)
      return new RunningChild(d, child, publicPort, (status) => {
        const s = status as RustStatus
        return { ready: s.phase === "live", changesCaptured: s.changes_captured ?? 0, changesCommitted: s.changes_committed ?? 0 }
      })
    },
    backfill: async (running, timeoutSeconds): Promise<BackfillTiming> => {
      const began = await running.waitForLine(/^seeding indexes/, 300)
      const ended = await running.waitForLine(/^backfill complete/, timeoutSeconds)
      // Its slot is created after the backfill: a backlog committed before that would be lost.
      await running.waitForLine(/^following live changes/, 120)
      const from = began.loggedAt ?? began.at
      const to = ended.loggedAt ?? ended.at
      return {
        rows: null,
        seconds: (to - from) / 1000,
        source: "the Rust tool's own log timestamps, `seeding indexes` → `backfill complete` (after its final refresh); rows = documents in its index",
        began,
        ended
      }
    },
    dropSlot: async (d) => {
      // A walsender lingers briefly after its client exits.
      for (let i = 0; i < 50; i++) {
        const state = await slotState(d.databaseUrl, d.slot)
        if (state === "absent") return i === 0 ? `no replication slot ${d.slot}: nothing to drop` : `dropped replication slot ${d.slot}`
        if (state === "inactive") await dropSlotSql(d.databaseUrl, d.slot).catch(() => false)
        else await sleep(200)
      }
      return `replication slot ${d.slot} not dropped: still in use after 10 s`
    }
  }
}
