/**
 * In-memory layers for the engine's four ports, for unit tests of engine invariants only
 * (anything about Postgres or OpenSearch behaviour is tested against the real services).
 * Every observable step — visibility waits, builds, writes, seeds, refreshes, acks —
 * lands in one ordered journal. The sink keeps versions the way OpenSearch's external
 * versioning does: a write older than what a document holds is ignored.
 */
import { Deferred, Effect, Layer, Queue, Ref, Schedule, Stream } from "effect"
import { type Checkpoint, CheckpointStore } from "../../src/checkpoint/CheckpointStore.js"
import { SinkUnavailable, SourceUnavailable } from "../../src/errors.js"
import { encodeDocumentId } from "../../src/schema/documentId.js"
import type { IndexPlan } from "../../src/schema/IndexPlan.js"
import { planIndex } from "../../src/schema/planIndex.js"
import { ChangeSource, type KeyRange, type Origin, type SourceEvent } from "../../src/source/ChangeSource.js"
import { DocumentBuilder } from "../../src/source/DocumentBuilder.js"
import { type Rejection, type SinkIndex, Sink, type WriteOperation } from "../../src/sink/Sink.js"
import * as Quarantine from "../../src/quarantine/Quarantine.js"
import * as Status from "../../src/status/Status.js"

export type JournalEntry =
  | { readonly step: "visible"; readonly xids: ReadonlyArray<number> }
  | { readonly step: "build"; readonly ids: ReadonlyArray<string> }
  | { readonly step: "write"; readonly sinks: ReadonlyArray<string>; readonly operations: ReadonlyArray<WriteOperation> }
  | { readonly step: "seed"; readonly generation: string; readonly operations: ReadonlyArray<WriteOperation> }
  | { readonly step: "refresh" }
  | { readonly step: "swap"; readonly generation: string }
  | { readonly step: "keys"; readonly after: string | null; readonly upTo: string | null }
  | { readonly step: "ack"; readonly lsn: bigint }
  | { readonly step: "truncate"; readonly index: string }

export const itemsPlan: IndexPlan = planIndex("items", {
  table: "items",
  schema: "public",
  primaryKey: "id",
  enabled: true,
  fields: { id: { kind: "integer" }, name: { kind: "text" } }
}, "stop")

export interface MemoryWorld {
  readonly events: Queue.Queue<SourceEvent>
  /** The table behind the builder: id → document JSON. */
  readonly rows: Ref.Ref<ReadonlyMap<string, string>>
  readonly journal: Ref.Ref<ReadonlyArray<JournalEntry>>
  /** The sink's durable state: id → JSON. */
  readonly index: Ref.Ref<ReadonlyMap<string, string>>
  /** The version each document (or deleted document) holds in the sink. */
  readonly versions: Ref.Ref<ReadonlyMap<string, bigint>>
  /** Writes that fail before reaching the sink, counted down. */
  readonly failWrites: Ref.Ref<number>
  /** Key reads that fail (the database restarting), counted down. */
  readonly failKeyReads: Ref.Ref<number>
  /** Rows inserted (above the highest id) each time keys are read: a steady insert stream. */
  readonly insertsPerKeyRead: Ref.Ref<number>
  /** Ids the sink refuses as item-level rejections. */
  readonly poison: Ref.Ref<ReadonlySet<string>>
  readonly checkpoints: Ref.Ref<ReadonlyMap<string, Checkpoint>>
  /** The position the source has been acked to. */
  readonly acked: Ref.Ref<bigint>
  /** When set, swapping a seeded generation in waits for it (after journaling the swap). */
  readonly swapGate: Ref.Ref<Deferred.Deferred<void> | undefined>
  /** The generation number of `items` that the next reindex builds. */
  readonly nextGeneration: Ref.Ref<number>
  /** When set, a build waits for it after reading its rows (and journaling the build). */
  readonly buildGate: Ref.Ref<Deferred.Deferred<void> | undefined>
  /** The source's table layout (`ChangeSource.layout`); any change to it changed rows unstreamed. */
  readonly layout: Ref.Ref<string | null>
}

export const makeWorld = Effect.gen(function*() {
  const world: MemoryWorld = {
    events: yield* Queue.unbounded<SourceEvent>(),
    rows: yield* Ref.make<ReadonlyMap<string, string>>(new Map()),
    journal: yield* Ref.make<ReadonlyArray<JournalEntry>>([]),
    index: yield* Ref.make<ReadonlyMap<string, string>>(new Map()),
    versions: yield* Ref.make<ReadonlyMap<string, bigint>>(new Map()),
    failWrites: yield* Ref.make(0),
    failKeyReads: yield* Ref.make(0),
    insertsPerKeyRead: yield* Ref.make(0),
    poison: yield* Ref.make<ReadonlySet<string>>(new Set()),
    checkpoints: yield* Ref.make<ReadonlyMap<string, Checkpoint>>(new Map()),
    acked: yield* Ref.make(0n),
    swapGate: yield* Ref.make<Deferred.Deferred<void> | undefined>(undefined),
    nextGeneration: yield* Ref.make(2),
    buildGate: yield* Ref.make<Deferred.Deferred<void> | undefined>(undefined),
    layout: yield* Ref.make<string | null>(null)
  }
  return world
})

const record = (world: MemoryWorld, entry: JournalEntry) => Ref.update(world.journal, (j) => [...j, entry])

const sortedIds = (rows: ReadonlyMap<string, string>) => [...rows.keys()].map(Number).sort((a, b) => a - b)

/** The ids in (after, upTo], in order, at most `limit`, as keys. */
const keysIn = (rows: ReadonlyMap<string, string>, range: KeyRange) =>
  sortedIds(rows)
    .filter((id) => range.after === null || id > Number(range.after[0]))
    .filter((id) => range.upTo === null || id <= Number(range.upTo[0]))
    .slice(0, range.limit)
    .map((id) => [String(id)])

/** Applies operations as OpenSearch would with external_gte versions; the refused items. */
const apply = (world: MemoryWorld, sink: string, operations: ReadonlyArray<WriteOperation>) =>
  Effect.gen(function*() {
    const failures = yield* Ref.getAndUpdate(world.failWrites, (n) => Math.max(0, n - 1))
    if (failures > 0) return yield* new SinkUnavailable({ sink, reason: "scripted outage" })
    const poison = yield* Ref.get(world.poison)
    const rejections: Array<Rejection> = []
    const index = new Map(yield* Ref.get(world.index))
    const versions = new Map(yield* Ref.get(world.versions))
    for (const op of operations) {
      if (poison.has(op.id)) {
        rejections.push({ sink, index: op.index, id: op.id, reason: "poisoned" })
        continue
      }
      if ((versions.get(op.id) ?? -1n) > op.version) continue
      versions.set(op.id, op.version)
      if (op._tag === "Upsert") index.set(op.id, op.json)
      else index.delete(op.id)
    }
    yield* Ref.set(world.index, index)
    yield* Ref.set(world.versions, versions)
    return rejections
  })

export const layers = (world: MemoryWorld) =>
  Layer.mergeAll(
    Status.layer,
    Quarantine.layerMemory,
    Layer.succeed(ChangeSource, {
      changes: Stream.fromQueue(world.events),
      resumes: true,
      description: { kind: "memory" },
      describePosition: (position) => String(position),
      streaming: Effect.succeed(true),
      lag: Effect.succeed(0),
      estimateRows: () => Ref.get(world.rows).pipe(Effect.map((rows) => rows.size)),
      layout: () => Ref.get(world.layout),
      layoutChanges: (before, after) => Effect.succeed(before === after ? [] : [`layout ${before} became ${after}`]),
      ack: (lsn) => Ref.update(world.acked, (a) => (lsn > a ? lsn : a)).pipe(Effect.zipRight(record(world, { step: "ack", lsn }))),
      acknowledged: Ref.get(world.acked),
      snapshotKeys: (_plan, range) =>
        Effect.gen(function*() {
          const failures = yield* Ref.getAndUpdate(world.failKeyReads, (n) => Math.max(0, n - 1))
          if (failures > 0) return yield* new SourceUnavailable({ reason: "scripted restart" })
          yield* record(world, { step: "keys", after: range.after?.[0] ?? null, upTo: range.upTo?.[0] ?? null })
          const rows = yield* Ref.get(world.rows)
          const keys = keysIn(rows, range)
          // The writer goes on meanwhile.
          const inserts = yield* Ref.get(world.insertsPerKeyRead)
          if (inserts > 0) {
            const top = sortedIds(rows).at(-1) ?? 0
            const grown = new Map(rows)
            for (let i = 1; i <= inserts; i++) grown.set(String(top + i), `{"id":${top + i}}`)
            yield* Ref.set(world.rows, grown)
          }
          return keys
        }),
      lastKey: () => Ref.get(world.rows).pipe(Effect.map((rows) => {
        const top = sortedIds(rows).at(-1)
        return top === undefined ? null : [String(top)]
      }))
    }),
    Layer.succeed(DocumentBuilder, {
      awaitVisible: (xids) => record(world, { step: "visible", xids }),
      resolve: (changes) =>
        Effect.sync(() => {
          const ids = new Set<string>()
          const truncated = new Set<string>()
          for (const change of changes) {
            if (change._tag === "TableTruncated" && change.tables.includes("public.items")) truncated.add("items")
            if (change._tag !== "RowChange") continue
            for (const row of [change.new, change.old]) {
              const id = row?.["id"]
              if (typeof id === "string") ids.add(encodeDocumentId([id]))
            }
          }
          return { documents: new Map([["items", ids]]), references: new Map(), truncated, rebuild: new Set<string>() }
        }),
      build: (_plan, ids) =>
        Effect.gen(function*() {
          const rows = yield* Ref.get(world.rows)
          yield* record(world, { step: "build", ids })
          const gate = yield* Ref.get(world.buildGate)
          if (gate !== undefined) yield* Deferred.await(gate)
          return ids.map((id) => ({ id, json: rows.get(id) ?? null }))
        }),
      keys: (_plan, range) => Effect.map(Ref.get(world.rows), (rows) => keysIn(rows, range))
    }),
    Layer.succeed(Sink, {
      names: ["memory"],
      ensureIndexes: (plans) =>
        Effect.succeed(plans.map((p): SinkIndex => ({ sink: "memory", index: p.name, generation: `${p.name}_1`, serving: true }))),
      write: (sinks, operations) => apply(world, "memory", operations).pipe(Effect.tap(() => record(world, { step: "write", sinks, operations }))),
      seed: (target, operations) =>
        apply(world, target.sink, operations).pipe(Effect.tap(() => record(world, { step: "seed", generation: target.generation, operations }))),
      refresh: () => record(world, { step: "refresh" }),
      reindex: (plan) =>
        Ref.getAndUpdate(world.nextGeneration, (n) => n + 1).pipe(
          Effect.map((n): ReadonlyArray<SinkIndex> => [{ sink: "memory", index: plan.name, generation: `${plan.name}_${n}`, serving: false }])
        ),
      seeded: (target) =>
        record(world, { step: "swap", generation: target.generation }).pipe(
          Effect.zipRight(Ref.get(world.swapGate)),
          Effect.flatMap((gate) => (gate === undefined ? Effect.void : Deferred.await(gate)))
        ),
      referencing: () => Effect.succeed([]),
      truncate: (_sinks, index) =>
        Ref.update(world.index, (current) => (index === "items" ? new Map() : current)).pipe(
          Effect.zipRight(record(world, { step: "truncate", index }))
        )
    }),
    Layer.succeed(CheckpointStore, {
      get: (t) => Ref.get(world.checkpoints).pipe(Effect.map((m) => m.get(t.generation) ?? { seeded: false, cursor: null, layout: null })),
      saveCursor: (t, cursor) =>
        Ref.update(world.checkpoints, (m) => new Map(m).set(t.generation, { seeded: m.get(t.generation)?.seeded ?? false, cursor, layout: m.get(t.generation)?.layout ?? null })),
      markSeeded: (t) =>
        Ref.update(world.checkpoints, (m) => new Map(m).set(t.generation, { seeded: true, cursor: m.get(t.generation)?.cursor ?? null, layout: m.get(t.generation)?.layout ?? null })),
      saveLayout: (t, layout) =>
        Ref.update(world.checkpoints, (m) => new Map(m).set(t.generation, { seeded: false, cursor: null, ...m.get(t.generation), layout }))
    })
  )

/** A row change of `items`, in transaction `origin` (by default xid 1, committing at 1). */
export const rowChange = (op: "insert" | "update" | "delete", id: number, origin: Origin = { xid: 1, commitLsn: 1n }): SourceEvent => ({
  _tag: "RowChange",
  ...origin,
  table: "public.items",
  op,
  new: op === "delete" ? null : { id: String(id) },
  old: op === "insert" ? null : { id: String(id) }
})

export const commit = (lsn: bigint): SourceEvent => ({ _tag: "TransactionCommitted", lsn, commitTime: new Date(0) })

/** `n` rows of `items`, ids 1…n. */
export const rows = (n: number): ReadonlyMap<string, string> =>
  new Map(Array.from({ length: n }, (_, i) => [String(i + 1), `{"id":${i + 1}}`]))

/** `effect` again until its value passes `check`, for at most 5 s (then the test dies). */
export const eventually = <A>(effect: Effect.Effect<A>, check: (a: A) => boolean) =>
  effect.pipe(
    Effect.filterOrFail(check, () => new Error("condition not reached")),
    Effect.retry(Schedule.spaced("10 millis").pipe(Schedule.upTo("5 seconds"))),
    Effect.orDie
  )
