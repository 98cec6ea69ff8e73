/**
 * The CheckpointStore kept in each OpenSearch cluster's meta index (`P` + `flusso_meta`),
 * beside the data it describes: wiping a cluster wipes its progress too, so it is seeded
 * again instead of trusted. One document per (sink, generation), id `sink:generation`,
 * read with realtime GET so a just-written cursor is seen without a refresh.
 * Sinks that are not OpenSearch (stdout) keep their progress in memory.
 */
import type { Client } from "@opensearch-project/opensearch"
import { Clock, Effect, Layer, Ref, Schema } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import { SinkRequestFailed } from "../../errors.js"
import type { SinkError } from "../../errors.js"
import type { KeyValues } from "../../schema/documentId.js"
import { OpenSearchClients } from "./OpenSearchClients.js"
import { createIndexIfMissing } from "./indexLifecycle.js"
import { checkpointId, metaIndexName } from "./names.js"
import { call, decodeBody, pathPart } from "./request.js"
import type { SinkIndex } from "../Sink.js"
import { CheckpointStore } from "../../checkpoint/CheckpointStore.js"
import type { Checkpoint } from "../../checkpoint/CheckpointStore.js"
import * as MemoryCheckpointStore from "../../checkpoint/MemoryCheckpointStore.js"

/** Strict, like every index flusso owns: a stray field is a bug to surface, not to store. */
export const metaIndexMappings = {
  dynamic: "strict",
  properties: {
    sink: { type: "keyword" },
    index: { type: "keyword" },
    generation: { type: "keyword" },
    seeded: { type: "boolean" },
    // JSON text of the key values; only ever read back whole, and a long composite key
    // must not hit the keyword term-length limit.
    cursor: { type: "keyword", index: false, doc_values: false },
    // JSON text of the source's table layout (partitions); only ever read back whole.
    layout: { type: "keyword", index: false, doc_values: false },
    updatedAt: { type: "date" }
  }
} as const

const MetaDocument = Schema.Struct({
  found: Schema.Boolean,
  _source: Schema.optional(
    Schema.Struct({
      seeded: Schema.optional(Schema.Boolean),
      cursor: Schema.optional(Schema.NullOr(Schema.String)),
      layout: Schema.optional(Schema.NullOr(Schema.String))
    })
  )
})

const Cursor = Schema.parseJson(Schema.Array(Schema.String))

const UpdateResult = Schema.Struct({ result: Schema.String })

interface MetaCluster {
  readonly client: Client
  readonly sink: ResolvedOpenSearchSink
  readonly index: string
  readonly ready: Ref.Ref<boolean>
}

export const documentId = (target: SinkIndex): string => checkpointId(target.sink, target.generation)

/**
 * Creates the meta index once per process (idempotent, so racing creators are fine); one
 * made by an earlier version gets the fields added since (adding a field is idempotent).
 */
const ensureMetaIndex = (meta: MetaCluster, prefix: string): Effect.Effect<void, SinkError> =>
  Effect.flatMap(Ref.get(meta.ready), (ready) =>
    ready
      ? Effect.void
      : createIndexIfMissing({ client: meta.client, sink: meta.sink, prefix }, meta.index, {
          settings: { index: { number_of_shards: 1, number_of_replicas: meta.sink.numberOfReplicas } },
          mappings: metaIndexMappings
        }).pipe(
          Effect.zipRight(call(meta.client, meta.sink, `update the mapping of ${meta.index}`, {
            method: "PUT",
            path: `/${pathPart(meta.index)}/_mapping`,
            body: { properties: { layout: metaIndexMappings.properties.layout } }
          })),
          Effect.zipRight(Ref.set(meta.ready, true))
        )
  )

const decodeCursor = (meta: MetaCluster, text: string | null | undefined): Effect.Effect<KeyValues | null, SinkError> =>
  text === null || text === undefined
    ? Effect.succeed(null)
    : Schema.decodeUnknown(Cursor)(text).pipe(
        Effect.mapError(
          () =>
            new SinkRequestFailed({
              sink: meta.sink.name,
              status: 200,
              operation: `read checkpoint from ${meta.index}`,
              body: `cursor is not a JSON array of strings: ${text}`
            })
        )
      )

const getCheckpoint = (meta: MetaCluster, target: SinkIndex): Effect.Effect<Checkpoint, SinkError> => {
  const operation = `read checkpoint ${documentId(target)}`
  return call(meta.client, meta.sink, operation, {
    method: "GET",
    path: `/${pathPart(meta.index)}/_doc/${pathPart(documentId(target))}`,
    querystring: { realtime: true },
    ignore: [404]
  }).pipe(
    Effect.flatMap(decodeBody(MetaDocument, meta.sink.name, operation)),
    Effect.flatMap((doc) =>
      doc.found && doc._source !== undefined
        ? Effect.map(
            decodeCursor(meta, doc._source.cursor),
            (cursor): Checkpoint => ({ seeded: doc._source?.seeded ?? false, cursor, layout: doc._source?.layout ?? null })
          )
        : Effect.succeed<Checkpoint>({ seeded: false, cursor: null, layout: null })
    )
  )
}

/** Partial update that creates the entry when missing; fields not in `changes` are kept. */
const upsertCheckpoint = (
  meta: MetaCluster,
  target: SinkIndex,
  changes: { readonly seeded?: boolean; readonly cursor?: string; readonly layout?: string }
): Effect.Effect<void, SinkError> =>
  Effect.gen(function* () {
    const updatedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
    const identity = { sink: target.sink, index: target.index, generation: target.generation }
    const operation = `write checkpoint ${documentId(target)}`
    yield* call(meta.client, meta.sink, operation, {
      method: "POST",
      path: `/${pathPart(meta.index)}/_update/${pathPart(documentId(target))}`,
      // A concurrent cursor save and markSeeded may touch the same entry.
      querystring: { retry_on_conflict: 3 },
      body: {
        doc: { ...identity, ...changes, updatedAt },
        upsert: { ...identity, seeded: false, cursor: null, ...changes, updatedAt }
      }
    }).pipe(Effect.flatMap(decodeBody(UpdateResult, meta.sink.name, operation)))
  })

export const make = (
  sinks: ReadonlyArray<ResolvedOpenSearchSink>,
  prefix: string
): Effect.Effect<CheckpointStore, never, OpenSearchClients> =>
  Effect.gen(function* () {
    const clients = yield* OpenSearchClients
    const clusters = new Map<string, MetaCluster>()
    for (const sink of sinks) {
      const client = clients.of(sink)
      clusters.set(sink.name, { client, sink, index: metaIndexName(prefix), ready: yield* Ref.make(false) })
    }
    const memory = yield* MemoryCheckpointStore.make

    const withMeta = <A>(
      target: SinkIndex,
      onMeta: (meta: MetaCluster) => Effect.Effect<A, SinkError>,
      onOther: () => Effect.Effect<A, SinkError>
    ): Effect.Effect<A, SinkError> => {
      const meta = clusters.get(target.sink)
      return meta === undefined ? onOther() : Effect.zipRight(ensureMetaIndex(meta, prefix), onMeta(meta))
    }

    const store: CheckpointStore = {
      get: (target) =>
        withMeta(target, (meta) => getCheckpoint(meta, target), () => memory.get(target)),
      saveCursor: (target, cursor) =>
        withMeta(
          target,
          (meta) => upsertCheckpoint(meta, target, { cursor: JSON.stringify(cursor) }),
          () => memory.saveCursor(target, cursor)
        ),
      markSeeded: (target) =>
        withMeta(target, (meta) => upsertCheckpoint(meta, target, { seeded: true }), () => memory.markSeeded(target)),
      saveLayout: (target, layout) =>
        withMeta(target, (meta) => upsertCheckpoint(meta, target, { layout }), () => memory.saveLayout(target, layout))
    }
    return store
  })

export const layer = (sinks: ReadonlyArray<ResolvedOpenSearchSink>, prefix: string): Layer.Layer<CheckpointStore, never, OpenSearchClients> =>
  Layer.effect(CheckpointStore, make(sinks, prefix))
