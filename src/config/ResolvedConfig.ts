/**
 * A deployment ready to run: the validated config with every `env()` and reserved
 * environment variable resolved, secrets wrapped in `Redacted`, indexes planned.
 */
import type { Redacted } from "effect"
import type { IndexPlan } from "../schema/IndexPlan.js"
import type { OpenSearchSinkConfig, StdoutSinkConfig } from "./model.js"

export interface ResolvedSource {
  /** A postgres:// URL; its query parameters (sslmode…) apply to every connection. */
  readonly url: Redacted.Redacted<string>
  readonly slot: string
  readonly publication: string
  readonly managePublication: boolean
  /** Create (or alter) the slot with `failover = true` (PostgreSQL 17+). Default false. */
  readonly failover?: boolean
}

export interface ResolvedOpenSearchSink
  extends Omit<OpenSearchSinkConfig, "url" | "username" | "password" | "keepPreviousGenerations">
{
  readonly name: string
  /** Defaults to 0 (the config always sets it; optional for sinks built by hand). */
  readonly keepPreviousGenerations?: number
  readonly url: string
  readonly username: string | undefined
  readonly password: Redacted.Redacted<string> | undefined
}

export interface ResolvedStdoutSink extends StdoutSinkConfig {
  readonly name: string
}

export type ResolvedSink = ResolvedOpenSearchSink | ResolvedStdoutSink

export interface ResolvedConfig {
  readonly source: ResolvedSource
  readonly sinks: ReadonlyArray<ResolvedSink>
  /** Enabled and disabled indexes alike; the engine skips disabled ones. */
  readonly indexes: ReadonlyArray<IndexPlan>
  readonly prefix: string
  readonly onError: "stop" | "skip"
  readonly batch: { readonly maxChanges: number; readonly maxDelayMs: number }
  readonly server: { readonly publicAddress: string; readonly privateAddress: string }
}
