/**
 * One OpenSearch client per cluster (sink), shared by everything that talks to it — the
 * sink, the checkpoint store, the quarantine — so each cluster gets one connection pool,
 * as `@effect/platform`'s `NodeHttpClient` is one shared resource behind a Tag. Created when
 * the layer is built, closed by its finalizer.
 */
import type { Client } from "@opensearch-project/opensearch"
import { Context, Effect, Layer } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import { makeClient } from "./client.js"

export interface OpenSearchClientsService {
  /** The client of sink `sink`; every configured OpenSearch sink has one. */
  readonly of: (sink: ResolvedOpenSearchSink) => Client
}

export class OpenSearchClients extends Context.Tag("flusso/OpenSearchClients")<OpenSearchClients, OpenSearchClientsService>() {}

export const make = (sinks: ReadonlyArray<ResolvedOpenSearchSink>) =>
  Effect.gen(function*() {
    const clients = new Map<string, Client>()
    for (const sink of sinks) clients.set(sink.name, yield* makeClient(sink))
    return {
      // A sink given to a layer but not here is a wiring bug, not a runtime condition.
      of: (sink) => {
        const client = clients.get(sink.name)
        if (client === undefined) throw new Error(`no OpenSearch client for sink ${sink.name}`)
        return client
      }
    } satisfies OpenSearchClientsService
  })

export const layer = (sinks: ReadonlyArray<ResolvedOpenSearchSink>): Layer.Layer<OpenSearchClients> =>
  Layer.scoped(OpenSearchClients, make(sinks))
