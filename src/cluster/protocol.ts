/**
 * What the capture sends to the runners and what they answer: the two entities and their
 * messages, and the failures a runner reports, as wire schemas.
 *
 * - `flusso-build`, keyed `<index>/<n>` (n < `BUILD_SLOTS`): `BuildPart` builds and
 *   writes some of a live batch's documents of one index at the batch's version, and
 *   answers once they are durable (`partsOf` cuts a batch into parts);
 * - `flusso-seed`, keyed `<index>/<n>` (n = the chunk's number, mod `SEED_SLOTS`):
 *   `SeedChunk` reads the root keys of a range, builds and writes them into the
 *   generations being seeded.
 *
 * Both are persisted (a runner that dies mid-part leaves the message to be redelivered to
 * whichever runner takes its shard) and never interrupted from the sender's side: a
 * capture that stops must not leave an "interrupted" reply stored as a part's final
 * answer. A message's primary key is unique forever — storage deduplicates on it for
 * good — so it carries the capture's incarnation (a snowflake) beside the batch number or
 * the chunk's range: a later capture never meets an earlier one's answers.
 */
import { ClusterSchema, Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { Schema } from "effect"
import { DocumentRejected, type EngineError, SchemaMismatch, SinkRequestFailed, SourceMisconfigured } from "../errors.js"
import { BUILD_ENTITY, CONTROL_ENTITY, SEED_ENTITY } from "./names.js"

/** Build entities per index: a batch's documents of one index go out in at most this many parts. */
export const BUILD_SLOTS = 16

/**
 * Documents a part is worth: each part costs a stored message, its answer, a statement
 * and a bulk request, so a small batch goes out whole and a big one in parts of at least
 * this many documents. Measured (`npm run bench -- --runners 1,3`, 20,000 root updates in
 * batches of 512): parts of ≥ 100 documents caught up at 1.30k (1 runner) and 1.06k/s (3);
 * parts of ≥ 500, at 2.15k and 2.11k/s (one process: 2.42k/s). Batches in flight still
 * spread over the runners: consecutive batches go to different entities.
 */
export const PART_DOCUMENTS = 500

/** Seeding entities per index: consecutive chunks go to different ones (each handles one at a time). */
export const SEED_SLOTS = 64

/** A stable hash of a document id (FNV-1a, 32 bits). */
const hash = (id: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * One index's documents of live batch `batch` cut into parts, each with the build entity
 * it goes to. A document goes to the part its id hashes to; the parts of consecutive
 * batches go to different entities, so batches in flight spread over the runners instead
 * of queueing behind one entity. No document needs the same entity every time: writes
 * carry versions, so two batches' writes of one document may land in either order.
 */
export const partsOf = (index: string, batch: number, ids: ReadonlySet<string>): ReadonlyArray<{ readonly entity: string; readonly ids: ReadonlyArray<string> }> => {
  const count = Math.min(BUILD_SLOTS, Math.max(1, Math.ceil(ids.size / PART_DOCUMENTS)))
  const parts: Array<Array<string>> = Array.from({ length: count }, () => [])
  for (const id of ids) parts[hash(id) % count]?.push(id)
  return parts.flatMap((part, i) => (part.length === 0 ? [] : [{ entity: `${index}/${(batch * count + i) % BUILD_SLOTS}`, ids: part }]))
}

export const RejectionWire = Schema.Struct({
  sink: Schema.String,
  index: Schema.String,
  id: Schema.String,
  reason: Schema.String
})

/** What a part did: documents built and written, milliseconds writing, items the sinks refused (the capture applies `onError`). */
export const PartDone = Schema.Struct({
  runner: Schema.String,
  documents: Schema.Number,
  flushMs: Schema.Number,
  rejections: Schema.Array(RejectionWire)
})
export type PartDone = typeof PartDone.Type

/**
 * A failure a runner cannot wait out, as the engine error it was (transient ones are
 * retried where they happen and never answered). `Defect`: a bug, reported rather than
 * left to kill the entity (a defect reply would be stored as the part's answer anyway).
 */
const FailureWire = Schema.Union(
  Schema.TaggedStruct("SourceMisconfigured", { reason: Schema.String, fix: Schema.String }),
  Schema.TaggedStruct("SchemaMismatch", { index: Schema.String, path: Schema.String, reason: Schema.String }),
  Schema.TaggedStruct("SinkRequestFailed", { sink: Schema.String, status: Schema.Number, operation: Schema.String, body: Schema.String }),
  Schema.TaggedStruct("DocumentRejected", { sink: Schema.String, index: Schema.String, id: Schema.String, reason: Schema.String }),
  Schema.TaggedStruct("Defect", { message: Schema.String }),
  /** The runner runs another config (its fingerprint): the part is for a runner with the capture's. */
  Schema.TaggedStruct("OtherDeployment", { fingerprint: Schema.String })
)

export class PartFailed extends Schema.TaggedError<PartFailed>()("PartFailed", {
  runner: Schema.String,
  failure: FailureWire
}) {
  override get message() {
    return `runner ${this.runner}: ${this.toEngineError().message}`
  }

  /** The engine error the runner met; a defect becomes a misconfiguration naming it (it ends the run either way). */
  toEngineError(): EngineError {
    const f = this.failure
    switch (f._tag) {
      case "SourceMisconfigured":
        return new SourceMisconfigured({ reason: `runner ${this.runner}: ${f.reason}`, fix: f.fix })
      case "SchemaMismatch":
        return new SchemaMismatch({ index: f.index, path: f.path, reason: `runner ${this.runner}: ${f.reason}` })
      case "SinkRequestFailed":
        return new SinkRequestFailed({ sink: f.sink, status: f.status, operation: `${f.operation} (runner ${this.runner})`, body: f.body })
      case "DocumentRejected":
        return new DocumentRejected({ sink: f.sink, index: f.index, id: f.id, reason: f.reason })
      case "Defect":
        return new SourceMisconfigured({ reason: `runner ${this.runner} failed: ${f.message}`, fix: "this is a bug in flusso: report it with the runner's log" })
      case "OtherDeployment":
        return new SourceMisconfigured({
          reason: `runner ${this.runner} runs another config (fingerprint ${f.fingerprint})`,
          fix: "run every runner of a deployment with the same config"
        })
    }
  }

  /** An error a runner could not wait out, for the wire. */
  static from(runner: string, error: EngineError): PartFailed {
    switch (error._tag) {
      case "SourceMisconfigured":
        return new PartFailed({ runner, failure: { _tag: "SourceMisconfigured", reason: error.reason, fix: error.fix } })
      case "SchemaMismatch":
        return new PartFailed({ runner, failure: { _tag: "SchemaMismatch", index: error.index, path: error.path, reason: error.reason } })
      case "SinkRequestFailed":
        return new PartFailed({ runner, failure: { _tag: "SinkRequestFailed", sink: error.sink, status: error.status, operation: error.operation, body: error.body } })
      case "DocumentRejected":
        return new PartFailed({ runner, failure: { _tag: "DocumentRejected", sink: error.sink, index: error.index, id: error.id, reason: error.reason } })
      case "SourceUnavailable":
      case "SinkUnavailable":
        // Retried where they happen; one reaching here is reported as what it said.
        return new PartFailed({ runner, failure: { _tag: "Defect", message: error.message } })
    }
  }
}

/** Fields every part carries: its unique key, the config it was made from, and the generation epoch. */
const common = {
  /** The message's primary key, unique forever (capture incarnation + batch or range). */
  key: Schema.String,
  /** `deploymentFingerprint` of the capture's config. */
  deployment: Schema.String,
  index: Schema.String,
  /** The version every write carries. */
  version: Schema.BigInt
}

export const BuildPart = Rpc.make("BuildPart", {
  payload: {
    ...common,
    /**
     * The capture's generation epoch: changes whenever it starts or swaps a generation. A
     * runner that last read its index targets under another re-reads them before writing.
     */
    epoch: Schema.String,
    ids: Schema.Array(Schema.String)
  },
  success: PartDone,
  error: PartFailed,
  primaryKey: (payload) => payload.key
})

export const SinkIndexWire = Schema.Struct({
  sink: Schema.String,
  index: Schema.String,
  generation: Schema.String,
  serving: Schema.Boolean
})

export const SeedChunk = Rpc.make("SeedChunk", {
  payload: {
    ...common,
    targets: Schema.Array(SinkIndexWire),
    /** The range of root keys, (after, upTo]: every key in it now is read (rows inserted since come through the stream too). */
    after: Schema.NullOr(Schema.Array(Schema.String)),
    upTo: Schema.Array(Schema.String)
  },
  success: Schema.Struct({ ...PartDone.fields, rows: Schema.Number }),
  error: PartFailed,
  primaryKey: (payload) => payload.key
})

// Persisted, and never interrupted by the client (see the header).
export const BuildEntity = Entity.make(BUILD_ENTITY, [BuildPart])
  .annotateRpcs(ClusterSchema.Persisted, true)
  .annotateRpcs(ClusterSchema.Uninterruptible, "client")

export const SeedEntity = Entity.make(SEED_ENTITY, [SeedChunk])
  .annotateRpcs(ClusterSchema.Persisted, true)
  .annotateRpcs(ClusterSchema.Uninterruptible, "client")

/** A reindex asked of any runner, refused with why (`EngineCommand.ReindexRefused`'s reason, or the capture not running). */
export class ReindexNotStarted extends Schema.TaggedError<ReindexNotStarted>()("ReindexNotStarted", {
  reason: Schema.String,
  /** The index is not one of the config's enabled ones (404 on the HTTP surface). */
  unknownIndex: Schema.Boolean,
  /** The capture does not run yet (503): try again. */
  notRunning: Schema.Boolean
}) {}

/** Starts a reindex on the capture; answers the generations being built once it has begun. */
export const StartReindex = Rpc.make("StartReindex", {
  payload: { index: Schema.String },
  success: Schema.Array(Schema.String),
  error: ReindexNotStarted
})

/**
 * `flusso-control`, keyed by the capture singleton's name: the same shard as the capture,
 * so whichever runner holds the capture handles it. Not persisted: a request whose runner
 * goes away fails, and the operator asks again.
 */
export const ControlEntity = Entity.make(CONTROL_ENTITY, [StartReindex])
