/**
 * Every failure flusso distinguishes, as tagged errors. Transient ones are retried with
 * a Schedule where they arise; fatal ones end the run with their message.
 */
import { Data } from "effect"

/** The config file cannot be loaded or is invalid; `issues` name each path and fix. */
export class ConfigInvalid extends Data.TaggedError("ConfigInvalid")<{
  readonly file: string
  readonly issues: ReadonlyArray<string>
}> {
  override get message() {
    return `invalid config ${this.file}:\n${this.issues.map((i) => `  - ${i}`).join("\n")}`
  }
}

/** Postgres cannot be reached or the connection dropped: retried. */
export class SourceUnavailable extends Data.TaggedError("SourceUnavailable")<{
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `PostgreSQL unavailable: ${this.reason}`
  }
}

/** The database is set up in a way flusso cannot work with; names what to run or change. */
export class SourceMisconfigured extends Data.TaggedError("SourceMisconfigured")<{
  readonly reason: string
  readonly fix: string
}> {
  override get message() {
    return `${this.reason}\n  fix: ${this.fix}`
  }
}

/** The config does not match the database catalog (missing table, column, wrong type). */
export class SchemaMismatch extends Data.TaggedError("SchemaMismatch")<{
  readonly index: string
  readonly path: string
  readonly reason: string
}> {
  override get message() {
    return `indexes.${this.index}${this.path ? `.${this.path}` : ""}: ${this.reason}`
  }
}

/** OpenSearch cannot be reached, timed out, or answered 429/502/503/504: retried. */
export class SinkUnavailable extends Data.TaggedError("SinkUnavailable")<{
  readonly sink: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return `sink ${this.sink} unavailable: ${this.reason}`
  }
}

/** OpenSearch refused a request (a 4xx other than 429): not retried, body included. */
export class SinkRequestFailed extends Data.TaggedError("SinkRequestFailed")<{
  readonly sink: string
  readonly status: number
  readonly operation: string
  readonly body: string
}> {
  override get message() {
    return `sink ${this.sink}: ${this.operation} failed with HTTP ${this.status}: ${this.body}`
  }
}

/** A document the sink refused under `onError: "stop"`. */
export class DocumentRejected extends Data.TaggedError("DocumentRejected")<{
  readonly sink: string
  readonly index: string
  readonly id: string
  readonly reason: string
}> {
  override get message() {
    return `sink ${this.sink} rejected document ${this.id} of index ${this.index}: ${this.reason}\n  fix: correct the data or the schema, or set onError: "skip" to quarantine such documents and go on`
  }
}

export type SourceError = SourceUnavailable | SourceMisconfigured | SchemaMismatch
export type SinkError = SinkUnavailable | SinkRequestFailed
export type EngineError = SourceError | SinkError | DocumentRejected

/** An HTTP surface cannot listen on its address (taken, or not this host's). */
export class ListenFailed extends Data.TaggedError("ListenFailed")<{
  readonly surface: "public" | "private"
  readonly address: string
  readonly reason: string
}> {
  override get message() {
    return `the ${this.surface} HTTP surface cannot listen on ${this.address}: ${this.reason}; stop what holds it or choose another with --${this.surface}-address (FLUSSO_${this.surface.toUpperCase()}_ADDRESS)`
  }
}

/** A cluster runner cannot listen on its runner address (taken, or not this host's). */
export class RunnerListenFailed extends Data.TaggedError("RunnerListenFailed")<{
  readonly address: string
  readonly reason: string
}> {
  override get message() {
    return `this runner cannot listen on its runner address ${this.address}: ${this.reason}; stop what holds it or choose another with --runner-address (FLUSSO_RUNNER_ADDRESS)`
  }
}
