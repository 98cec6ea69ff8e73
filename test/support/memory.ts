/**
 * In-memory layers for the engine's four ports, for unit tests of engine invariants only
 * (anything about Postgres or OpenSearch behaviour is tested against the real services).
 * Every observable step — builds, writes, acks — lands in one ordered journal.
 */
import { Effect, Layer, Queue, Ref, Stream } from "effect"
import { type Checkpoint, CheckpointStoreTag } from "../../src/checkpoint/CheckpointStore.js"
import { SinkUnavailable } from "../../src/errors.js"
import { encodeDocumentId } from "../../src/schema/documentId.js"
import type { IndexPlan } from "../../src/schema/IndexPlan.js"
import { planIndex } from "../../src/schema/planIndex.js"
import { ChangeSourceTag, type SourceEvent } from "../../src/source/ChangeSource.js"
import { DocumentBuilderTag } from "../../src/source/DocumentBuilder.js"
import { type Rejection, SinkTag, type WriteOperation } from "../../src/sink/Sink.js"

export type JournalEntry =
  | { readonly step: "build"; readonly ids: ReadonlyArray<string> }
  | { readonly step: "write"; readonly sinks: ReadonlyArray<string>; readonly operations: ReadonlyArray<WriteOperation> }
  | { readonly step: "ack"; readonly lsn: bigint }

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
  /** Writes that fail before reaching the sink, counted down. */
  readonly failWrites: Ref.Ref<number>
  /** Ids the sink refuses as item-level rejections. */
  readonly poison: Ref.Ref<ReadonlySet<string>>
  readonly checkpoints: Ref.Ref<ReadonlyMap<string, Checkpoint>>
}

export const makeWorld = Effect.gen(function*() {
  const world: MemoryWorld = {
    events: yield* Queue.unbounded<SourceEvent>(),
    rows: yield* Ref.make<ReadonlyMap<string, string>>(new Map()),
    journal: yield* Ref.make<ReadonlyArray<JournalEntry>>([]),
    index: yield* Ref.make<ReadonlyMap<string, string>>(new Map()),
    failWrites: yield* Ref.make(0),
    poison: yield* Ref.make<ReadonlySet<string>>(new Set()),
    checkpoints: yield* Ref.make<ReadonlyMap<string, Checkpoint>>(new Map())
  }
  return world
})

const record = (world: MemoryWorld, entry: JournalEntry) => Ref.update(world.journal, (j) => [...j, entry])

export const layers = (world: MemoryWorld) =>
  Layer.mergeAll(
    Layer.succeed(ChangeSourceTag, {
      changes: Stream.fromQueue(world.events),
      ack: (lsn) => record(world, { step: "ack", lsn }),
      snapshotKeys: (_plan, after, limit) =>
        Ref.get(world.rows).pipe(Effect.map((rows) =>
          [...rows.keys()].map(Number).sort((a, b) => a - b)
            .filter((id) => after === null || id > Number(after[0]))
            .slice(0, limit)
            .map((id) => [String(id)])
        ))
    }),
    Layer.succeed(DocumentBuilderTag, {
      resolve: (changes) =>
        Effect.sync(() => {
          const ids = new Set<string>()
          for (const change of changes) {
            if (change._tag !== "RowChange") continue
            for (const row of [change.new, change.old]) {
              const id = row?.["id"]
              if (typeof id === "string") ids.add(encodeDocumentId([id]))
            }
          }
          return { documents: new Map([["items", ids]]), references: new Map(), truncated: new Set<string>(), rebuild: new Set<string>() }
        }),
      build: (_plan, ids) =>
        record(world, { step: "build", ids }).pipe(
          Effect.zipRight(Ref.get(world.rows)),
          Effect.map((rows) => ids.map((id) => ({ id, json: rows.get(id) ?? null })))
        )
    }),
    Layer.succeed(SinkTag, {
      names: ["memory"],
      ensureIndexes: (plans) => Effect.succeed(plans.map((p) => ({ sink: "memory", index: p.name, generation: `${p.name}_1` }))),
      write: (sinks, operations) =>
        Effect.gen(function*() {
          const failures = yield* Ref.getAndUpdate(world.failWrites, (n) => Math.max(0, n - 1))
          if (failures > 0) return yield* new SinkUnavailable({ sink: "memory", reason: "scripted outage" })
          const poison = yield* Ref.get(world.poison)
          const rejections: Array<Rejection> = []
          yield* Ref.update(world.index, (current) => {
            const next = new Map(current)
            for (const op of operations) {
              if (poison.has(op.id)) {
                rejections.push({ sink: "memory", index: op.index, id: op.id, reason: "poisoned" })
              } else if (op._tag === "Upsert") next.set(op.id, op.json)
              else next.delete(op.id)
            }
            return next
          })
          yield* record(world, { step: "write", sinks, operations })
          return rejections
        }),
      reindex: () => Effect.succeed([]),
      seeded: () => Effect.void,
      referencing: () => Effect.succeed([]),
      truncate: (_sinks, index) =>
        Ref.update(world.index, (current) => (index === "items" ? new Map() : current))
    }),
    Layer.succeed(CheckpointStoreTag, {
      get: (t) => Ref.get(world.checkpoints).pipe(Effect.map((m) => m.get(t.generation) ?? { seeded: false, cursor: null })),
      saveCursor: (t, cursor) =>
        Ref.update(world.checkpoints, (m) => new Map(m).set(t.generation, { seeded: m.get(t.generation)?.seeded ?? false, cursor })),
      markSeeded: (t) =>
        Ref.update(world.checkpoints, (m) => new Map(m).set(t.generation, { seeded: true, cursor: m.get(t.generation)?.cursor ?? null }))
    })
  )

export const rowChange = (op: "insert" | "update" | "delete", id: number): SourceEvent => ({
  _tag: "RowChange",
  table: "public.items",
  op,
  new: op === "delete" ? null : { id: String(id) },
  old: op === "insert" ? null : { id: String(id) }
})

export const commit = (lsn: bigint): SourceEvent => ({ _tag: "TransactionCommitted", lsn, commitTime: new Date(0) })
