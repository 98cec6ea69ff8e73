/**
 * What the bench needs from a measured tool, so that every phase runs the same way
 * through flusso (ours, ./flusso.ts) and the Rust flusso (./rust.ts): start a deployment,
 * read its progress, its own backfill timing, its peak RSS, and drop its slot.
 */
import type { LogLine } from "./child.js"

/** One deployment of a tool: its database, OpenSearch, prefix, slot and publication, and which indexes it enables. */
export interface Deployment {
  readonly label: string
  readonly databaseUrl: string
  readonly opensearchUrl: string
  readonly prefix: string
  readonly slot: string
  readonly publication: string
  /** Of `bench_users` (nested) and `bench_users_flat`. */
  readonly indexes: ReadonlyArray<string>
}

/** The counters both tools' `/status` has. */
export interface Progress {
  /** Streaming live changes (ours: `ready`; the Rust tool: `phase` is `live`). */
  readonly ready: boolean
  readonly changesCaptured: number
  readonly changesCommitted: number
  /** The `/status` body as the tool sent it. */
  readonly raw: unknown
}

/** A tool's own measure of a backfill it ran. */
export interface BackfillTiming {
  /** Rows the tool says it seeded; null when it does not say (the bench counts the index). */
  readonly rows: number | null
  readonly seconds: number
  /** Where `seconds` comes from, for results.json and the README. */
  readonly source: string
  /** The log lines that began and ended the backfill, as the bench saw them. */
  readonly began: LogLine
  readonly ended: LogLine
}

export interface Running {
  readonly deployment: Deployment
  /** Date.now() at spawn. */
  readonly startedAt: number
  readonly pid: number
  readonly running: boolean
  readonly lines: ReadonlyArray<LogLine>
  waitForLine(pattern: RegExp, seconds: number, from?: number): Promise<LogLine>
  /** `/status`, or undefined while it does not answer; fails when the process exited. */
  progress(): Promise<Progress | undefined>
  /** `/metrics` (Prometheus text), or undefined. */
  metrics(): Promise<string | undefined>
  peakRss(): number | null
  tail(n?: number): string
  stop(graceSeconds?: number): Promise<void>
}

export interface Tool {
  /** `flusso` or `rs`: names logs, deployments, results.json keys. */
  readonly key: "flusso" | "rs"
  /** The column title. */
  readonly title: string
  readonly version: string
  /** Whatever a deployment needs before its first start (the Rust tool: its config files, its meta index). */
  prepare(deployment: Deployment): Promise<void>
  start(deployment: Deployment): Promise<Running>
  /** Waits for a backfill started by `start` to finish; the tool's own timing of it. */
  backfill(running: Running, timeoutSeconds: number): Promise<BackfillTiming>
  /** Drops a stopped deployment's slot; a line saying what happened. */
  dropSlot(deployment: Deployment): Promise<string>
  /** The log line that says a (re)start seeds an index: a catch-up that logs it includes a backfill. */
  readonly seedingLine: RegExp
  /** A latency histogram of the tool's own in /metrics, read around the latency runs as a cross-check. */
  readonly ownLatencyMetric: { readonly name: string; readonly meaning: string } | null
}
