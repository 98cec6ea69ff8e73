/**
 * What a running sync reports about itself: the engine records what happens (streaming,
 * retries, seeding progress, flushes, acks, lag) and `/status`, `/readyz`, `/indexes` and
 * the progress display read it. The engine never knows who reads; the HTTP surfaces
 * never know how the engine works. Counters live in the metrics (`metrics.ts`): a
 * snapshot reads them from there, so `/status` and `/metrics` never disagree.
 */
import { Clock, Context, Effect, Layer, Metric, MetricState, Ref, Schema } from "effect"
import { indexState } from "./indexState.js"
import * as Metrics from "./metrics.js"

export type Phase = "starting" | "backfilling" | "live" | "retrying" | "stopped"

/** One generation of an index in one sink, as the engine knows it. */
export const GenerationStatus = Schema.Struct({
  sink: Schema.String,
  generation: Schema.String,
  /** Readers see it (through the aliases). */
  serving: Schema.Boolean,
  seeded: Schema.Boolean
})
export type GenerationStatus = typeof GenerationStatus.Type

export const BackfillProgress = Schema.Struct({
  generations: Schema.Array(Schema.String),
  rowsDone: Schema.Number,
  /** From the table statistics (`pg_class.reltuples`); null when never analyzed. */
  rowsEstimated: Schema.NullOr(Schema.Number),
  rowsPerSecond: Schema.Number,
  /** Null while the rate or the estimate is unknown. */
  etaSeconds: Schema.NullOr(Schema.Number),
  startedAt: Schema.String
})
export type BackfillProgress = typeof BackfillProgress.Type

/** What `/indexes` and `/status` say of one index (the wire form clients decode). */
export const IndexStatus = Schema.Struct({
  name: Schema.String,
  table: Schema.String,
  /**
   * In one word or two (indexState.ts): `starting` (its generations not known yet),
   * `seeding` (its first generation is being filled), `building <generation>` (a new one
   * is filled while the old one serves), `live`, or `failed` (its last seeding failed).
   */
  state: Schema.String,
  generations: Schema.Array(GenerationStatus),
  backfill: Schema.NullOr(BackfillProgress)
})
export type IndexStatus = typeof IndexStatus.Type

/** What the source says of itself (`ChangeSource.description`): slot, publication, server version… */
export type SourceDescription = Readonly<Record<string, string | number | boolean | null>>

/** A runner of a cluster (`run --cluster`): itself, the live runners, and which one holds the capture. */
export const ClusterView = Schema.Struct({
  /** This runner's address. */
  runner: Schema.String,
  /** Every runner registered and healthy, this one included once it has joined. */
  runners: Schema.Array(Schema.String),
  /** The runner streaming from the slot and acknowledging; null between one capture's end and the next's start. */
  captureRunner: Schema.NullOr(Schema.String)
})
export type ClusterView = typeof ClusterView.Type

export interface StatusSnapshot {
  readonly phase: Phase
  readonly source: SourceDescription | null
  readonly ready: boolean
  readonly uptimeSeconds: number
  readonly indexes: ReadonlyArray<IndexStatus>
  readonly changesCaptured: number
  readonly changesCommitted: number
  readonly changesInFlight: number
  readonly documentsBuilt: number
  readonly documentsQuarantined: number
  readonly batches: number
  readonly lastFlushMs: number | null
  readonly slotLagBytes: number | null
  readonly lastAckedLsn: string | null
  readonly errors: number
  readonly lastError: { readonly at: string; readonly message: string } | null
  /** Only on a runner of a cluster. */
  readonly cluster?: ClusterView
}

/** An index as recorded; its `state` is derived when read. */
type IndexEntry = Omit<IndexStatus, "state"> & { readonly failure: string | null }

interface State {
  readonly startedAt: number
  readonly source: SourceDescription | null
  readonly streaming: boolean
  /** What is failing transiently and being retried right now (a stage, a connection). */
  readonly retrying: ReadonlySet<string>
  readonly stopped: boolean
  readonly indexes: ReadonlyMap<string, IndexEntry>
  readonly lastFlushMs: number | null
  readonly slotLagBytes: number | null
  readonly lastAckedLsn: string | null
  readonly lastError: { readonly at: string; readonly message: string } | null
  readonly cluster: ClusterView | null
}

export interface StatusService {
  /** Whether live capture runs (the replication connection is streaming). */
  readonly source: (description: SourceDescription) => Effect.Effect<void>
  readonly streaming: (streaming: boolean) => Effect.Effect<void>
  /**
   * Whether `what` (a batch stage, a connection) is failing transiently and being retried;
   * its failures are reported with `failed`. Live capture streaming again ends the retry
   * of the replication stream (`REPLICATION_STREAM`).
   */
  readonly retrying: (what: string, retrying: boolean) => Effect.Effect<void>
  /** Records a failure, retried or fatal: counted, and kept as the last error. */
  readonly failed: (message: string) => Effect.Effect<void>
  readonly stopped: Effect.Effect<void>
  /** The generations an index writes to, and which of them serve and are seeded. */
  readonly index: (name: string, table: string, generations: ReadonlyArray<GenerationStatus>) => Effect.Effect<void>
  readonly backfill: (index: string, progress: BackfillProgress | null) => Effect.Effect<void>
  /** The index's seeding failed (`message`), or — with null — one succeeded since. */
  readonly indexFailed: (index: string, message: string | null) => Effect.Effect<void>
  readonly flushed: (milliseconds: number) => Effect.Effect<void>
  readonly acked: (lsn: string) => Effect.Effect<void>
  readonly slotLag: (bytes: number) => Effect.Effect<void>
  /**
   * What a runner of a cluster sees of it. From then on a runner that does not hold the
   * capture is ready (and `live`) once it has joined and some runner holds the capture;
   * the one that holds it, once it streams.
   */
  readonly cluster: (view: ClusterView) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<StatusSnapshot>
}

export class Status extends Context.Tag("flusso/Status")<Status, StatusService>() {}

/** The sum of a counter over all its tags (e.g. every index). */
const counterTotal = (name: string): Effect.Effect<number> =>
  Effect.map(Metric.snapshot, (pairs) => {
    let total = 0
    for (const pair of pairs) {
      if (pair.metricKey.name === name && MetricState.isCounterState(pair.metricState)) total += Number(pair.metricState.count)
    }
    return total
  })

/** What the replication stream's reconnects are recorded as (see `retrying`). */
export const REPLICATION_STREAM = "the replication stream"

/** A runner of a cluster that does not stream: whether it has joined and the deployment has a capture. */
const servesCluster = (state: State): boolean =>
  state.cluster !== null && !state.streaming && state.cluster.runners.includes(state.cluster.runner) && state.cluster.captureRunner !== null &&
  state.cluster.captureRunner !== state.cluster.runner

const phaseOf = (state: State): Phase => {
  if (state.stopped) return "stopped"
  if (state.retrying.size > 0) return "retrying"
  if (servesCluster(state)) return "live"
  if (!state.streaming) return "starting"
  for (const index of state.indexes.values()) if (index.backfill !== null) return "backfilling"
  return "live"
}

const without = (set: ReadonlySet<string>, item: string): ReadonlySet<string> => new Set([...set].filter((x) => x !== item))

export const make: Effect.Effect<StatusService> = Effect.gen(function*() {
  const state = yield* Ref.make<State>({
    startedAt: yield* Clock.currentTimeMillis,
    source: null,
    streaming: false,
    retrying: new Set<string>(),
    stopped: false,
    indexes: new Map(),
    lastFlushMs: null,
    slotLagBytes: null,
    lastAckedLsn: null,
    lastError: null,
    cluster: null
  })
  const update = (f: (s: State) => State) => Ref.update(state, f)
  const withIndex = (name: string, f: (index: IndexEntry) => IndexEntry) =>
    update((s) => {
      const index = s.indexes.get(name) ?? { name, table: "", generations: [], backfill: null, failure: null }
      return { ...s, indexes: new Map([...s.indexes, [name, f(index)]]) }
    })

  return {
    source: (description) => update((s) => ({ ...s, source: description })),
    streaming: (streaming) =>
      update((s) => ({ ...s, streaming, retrying: streaming && s.retrying.has(REPLICATION_STREAM) ? without(s.retrying, REPLICATION_STREAM) : s.retrying })),
    retrying: (what, retrying) =>
      update((s) => (retrying === s.retrying.has(what) ? s : { ...s, retrying: retrying ? new Set([...s.retrying, what]) : without(s.retrying, what) })),
    failed: (message) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        update((s) => ({ ...s, lastError: { at: new Date(now).toISOString(), message } }))
      ).pipe(Effect.zipRight(Metric.increment(Metrics.errors))),
    stopped: update((s) => ({ ...s, stopped: true, streaming: false })),
    index: (name, table, generations) => withIndex(name, (index) => ({ ...index, table, generations })),
    backfill: (name, progress) => withIndex(name, (index) => ({ ...index, backfill: progress })),
    indexFailed: (name, failure) => withIndex(name, (index) => ({ ...index, failure })),
    flushed: (milliseconds) => update((s) => ({ ...s, lastFlushMs: milliseconds })),
    acked: (lsn) => update((s) => ({ ...s, lastAckedLsn: lsn })),
    slotLag: (bytes) => update((s) => ({ ...s, slotLagBytes: bytes })).pipe(Effect.zipRight(Metric.set(Metrics.slotLag, bytes))),
    cluster: (view) => update((s) => ({ ...s, cluster: view })),
    snapshot: Effect.gen(function*() {
      const s = yield* Ref.get(state)
      const now = yield* Clock.currentTimeMillis
      const captured = yield* counterTotal("flusso_changes_captured_total")
      const committed = yield* counterTotal("flusso_changes_committed_total")
      const phase = phaseOf(s)
      return {
        phase,
        source: s.source,
        ready: (s.streaming || servesCluster(s)) && !s.stopped,
        uptimeSeconds: Math.round((now - s.startedAt) / 1000),
        indexes: [...s.indexes.values()].map((index) => ({
          name: index.name,
          table: index.table,
          state: indexState(index, index.failure),
          generations: index.generations,
          backfill: index.backfill
        })),
        changesCaptured: captured,
        changesCommitted: committed,
        changesInFlight: Math.max(0, captured - committed),
        documentsBuilt: yield* counterTotal("flusso_documents_built_total"),
        documentsQuarantined: yield* counterTotal("flusso_documents_quarantined_total"),
        batches: yield* counterTotal("flusso_batches_total"),
        lastFlushMs: s.lastFlushMs,
        slotLagBytes: s.slotLagBytes,
        lastAckedLsn: s.lastAckedLsn,
        errors: yield* counterTotal("flusso_errors_total"),
        lastError: s.lastError,
        ...(s.cluster === null ? {} : { cluster: s.cluster })
      } satisfies StatusSnapshot
    })
  }
})

export const layer: Layer.Layer<Status> = Layer.effect(Status, make)
