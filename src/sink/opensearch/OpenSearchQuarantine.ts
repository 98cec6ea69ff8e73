/**
 * The dead-letter list kept in each OpenSearch sink's cluster, in `P` + `flusso_quarantine`
 * (strict, like every index flusso owns), one document per refused document and sink, so
 * it survives restarts beside the data it is about. Refusals of other sinks (stdout never
 * refuses) stay in memory.
 */
import type { Client } from "@opensearch-project/opensearch"
import { Clock, Effect, Layer, Ref, Schema } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import type { SinkError } from "../../errors.js"
import { OpenSearchClients } from "./OpenSearchClients.js"
import { createIndexIfMissing } from "./indexLifecycle.js"
import { call, decodeBody, pathPart } from "./request.js"
import { entryId, makeMemory, Quarantine, type QuarantinedDocument, type QuarantineService } from "../../quarantine/Quarantine.js"

export const quarantineIndexName = (prefix: string): string => `${prefix}flusso_quarantine`

const mappings = {
  dynamic: "strict",
  properties: {
    sink: { type: "keyword" },
    index: { type: "keyword" },
    id: { type: "keyword" },
    reason: { type: "text" },
    at: { type: "date" }
  }
} as const

const Hits = Schema.Struct({
  hits: Schema.Struct({
    hits: Schema.Array(Schema.Struct({
      _source: Schema.Struct({ sink: Schema.String, index: Schema.String, id: Schema.String, reason: Schema.String, at: Schema.String })
    }))
  })
})

interface Cluster {
  readonly client: Client
  readonly sink: ResolvedOpenSearchSink
  readonly ready: Ref.Ref<boolean>
}

export const make = (sinks: ReadonlyArray<ResolvedOpenSearchSink>, prefix: string): Effect.Effect<QuarantineService, never, OpenSearchClients> =>
  Effect.gen(function*() {
    const index = quarantineIndexName(prefix)
    const clients = yield* OpenSearchClients
    const clusters = new Map<string, Cluster>()
    for (const sink of sinks) clusters.set(sink.name, { client: clients.of(sink), sink, ready: yield* Ref.make(false) })
    const memory = yield* makeMemory

    const ensure = (cluster: Cluster): Effect.Effect<void, SinkError> =>
      Effect.flatMap(Ref.get(cluster.ready), (ready) =>
        ready
          ? Effect.void
          : createIndexIfMissing({ client: cluster.client, sink: cluster.sink, prefix }, index, {
            settings: { index: { number_of_shards: 1, number_of_replicas: cluster.sink.numberOfReplicas } },
            mappings
          }).pipe(Effect.zipRight(Ref.set(cluster.ready, true))))

    const list = (cluster: Cluster, limit: number): Effect.Effect<ReadonlyArray<QuarantinedDocument>, SinkError> => {
      const operation = `read ${index}`
      return call(cluster.client, cluster.sink, operation, {
        method: "POST",
        path: `/${pathPart(index)}/_search`,
        querystring: { ignore_unavailable: true },
        body: { size: limit, sort: [{ at: "desc" }], query: { match_all: {} } }
      }).pipe(
        Effect.flatMap(decodeBody(Hits, cluster.sink.name, operation)),
        Effect.map((body) => body.hits.hits.map((hit) => hit._source))
      )
    }

    const service: QuarantineService = {
      record: (rejection) => {
        const cluster = clusters.get(rejection.sink)
        if (cluster === undefined) return memory.record(rejection)
        return Effect.gen(function*() {
          yield* ensure(cluster)
          const at = new Date(yield* Clock.currentTimeMillis).toISOString()
          // wait_for: a refusal is rare, and the list should show it as soon as this returns.
          yield* call(cluster.client, cluster.sink, `record in ${index}`, {
            method: "PUT",
            path: `/${pathPart(index)}/_doc/${pathPart(entryId(rejection))}`,
            querystring: { refresh: "wait_for" },
            body: { ...rejection, at }
          })
        })
      },
      list: (limit) =>
        Effect.forEach([...clusters.values()], (cluster) => list(cluster, limit), { concurrency: "unbounded" }).pipe(
          Effect.zipWith(memory.list(limit), (stored, inMemory) =>
            [...stored.flat(), ...inMemory].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, limit))
        )
    }
    return service
  })

export const layer = (sinks: ReadonlyArray<ResolvedOpenSearchSink>, prefix: string): Layer.Layer<Quarantine, never, OpenSearchClients> =>
  Layer.effect(Quarantine, make(sinks, prefix))
