/**
 * The composition root for embedding and the CLI: the production layers of the ports for
 * a resolved config, and `run`, the engine over them. Only this file (and main.ts) names
 * concrete backends. A database that cannot be reached at start is waited for, like one
 * that goes away later: the layers are retried with flusso's backoff, saying what they
 * wait for.
 */
import { Effect, Layer } from "effect"
import type { Queue } from "effect"
import * as OpenSearchCheckpointStore from "./sink/opensearch/OpenSearchCheckpointStore.js"
import type { ResolvedConfig, ResolvedOpenSearchSink, ResolvedStdoutSink } from "./config/ResolvedConfig.js"
import { preflight } from "./check/preflight.js"
import * as Engine from "./engine/Engine.js"
import type { EngineCommand } from "./engine/EngineCommand.js"
import { isTransient, whileTransient } from "./engine/transient.js"
import type { EngineError, SourceUnavailable } from "./errors.js"
import * as OpenSearchQuarantine from "./sink/opensearch/OpenSearchQuarantine.js"
import { Quarantine, type QuarantineService } from "./quarantine/Quarantine.js"
import * as Fanout from "./sink/fanout.js"
import * as OpenSearchSink from "./sink/opensearch/OpenSearchSink.js"
import { OpenSearchClients, type OpenSearchClientsService } from "./sink/opensearch/OpenSearchClients.js"
import * as OpenSearchClientsLayer from "./sink/opensearch/OpenSearchClients.js"
import * as StdoutSink from "./sink/stdout/StdoutSink.js"
import * as PgDatabase from "./source/postgres/PgDatabase.js"
import * as PostgresChangeSource from "./source/postgres/PostgresChangeSource.js"
import * as PostgresDocumentBuilder from "./source/postgres/PostgresDocumentBuilder.js"
import { registerMetrics } from "./status/registerMetrics.js"
import { recovered, retrying } from "./status/retries.js"
import { Status, type StatusService } from "./status/Status.js"
import * as StatusLayer from "./status/Status.js"

export interface RunOptions {
  readonly skipBackfill?: boolean
  /** Requests to the running sync (`EngineCommand.reindex(commands, index)` sends one). */
  readonly commands?: Queue.Dequeue<EngineCommand>
  /** Where the sync reports (the HTTP surfaces read it); a fresh one by default. */
  readonly status?: StatusService
  /** How often the slot's lag is read (default 15 s). */
  readonly lagPollSeconds?: number
  /** Where refused documents are recorded (the HTTP surface lists them); the sinks' own by default. */
  readonly quarantine?: QuarantineService
  /** The OpenSearch clients, when the caller holds them already (to share them with its quarantine); else made here. */
  readonly clients?: OpenSearchClientsService
}

/** What `/status` says is retried while PostgreSQL cannot be reached at start. */
const CONNECTING = "connecting to PostgreSQL"

const isOpenSearch = (sink: ResolvedConfig["sinks"][number]): sink is ResolvedOpenSearchSink => sink.type === "opensearch"
const isStdout = (sink: ResolvedConfig["sinks"][number]): sink is ResolvedStdoutSink => sink.type === "stdout"

/** One client per OpenSearch cluster of a deployment, shared by its sink, checkpoints and quarantine. */
export const clientsLayer = (config: ResolvedConfig): Layer.Layer<OpenSearchClients> => OpenSearchClientsLayer.layer(config.sinks.filter(isOpenSearch))

/** The dead-letter list of a deployment: in its OpenSearch clusters (in memory for other sinks). */
export const quarantineLayer = (config: ResolvedConfig) => OpenSearchQuarantine.layer(config.sinks.filter(isOpenSearch), config.prefix)

/** A layer that needs PostgreSQL, waited for (with backoff, said in the log and the status) while it cannot be reached. */
const waitingForPostgres = <A, E extends EngineError, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
  layer.pipe(
    Layer.tapError((error) =>
      isTransient(error)
        ? Effect.logWarning(`waiting for PostgreSQL: ${error.message}`).pipe(Effect.zipRight(retrying(CONNECTING, error.message)))
        : Effect.void
    ),
    Layer.retry(whileTransient),
    Layer.tap(() => recovered(CONNECTING))
  )

/** The source's pool and catalog; what `flusso check` would call an error stops the run before the slot, the publication or an index is made. */
const sourceDatabase = (config: ResolvedConfig) =>
  PgDatabase.catalogLayer(config.indexes).pipe(
    Layer.provideMerge(Layer.provideMerge(Layer.effectDiscard(preflight(config)), PgDatabase.layer(config.source)))
  )

/** The sinks of a deployment as one Sink; `writtenElsewhere` when other processes write to the same indexes (a cluster). */
const sinksLayer = (config: ResolvedConfig, options: { readonly writtenElsewhere?: boolean } = {}) => {
  const openSearch = config.sinks.filter(isOpenSearch)
  const stdout = config.sinks.filter(isStdout)
  return Fanout.layer([
    ...(openSearch.length > 0 ? [OpenSearchSink.make(openSearch, config.prefix, undefined, options)] : []),
    ...(stdout.length > 0 ? [StdoutSink.make(stdout)] : [])
  ])
}

/** ChangeSource, DocumentBuilder, Sink and CheckpointStore for a deployment, on its OpenSearch clients. */
const portsLayer = (config: ResolvedConfig) => {
  const postgres = waitingForPostgres(
    Layer.merge(
      PostgresChangeSource.layer({ source: config.source, plans: config.indexes }),
      PostgresDocumentBuilder.layer(config.indexes)
    ).pipe(Layer.provide(sourceDatabase(config)))
  )
  return Layer.mergeAll(
    postgres,
    sinksLayer(config),
    OpenSearchCheckpointStore.layer(config.sinks.filter(isOpenSearch), config.prefix)
  )
}

/**
 * One runner of a cluster (`run --cluster`): the ports of `portsLayer` but the
 * ChangeSource — only the capture builds that, from `changeSourceLayer` over the pool and
 * catalog this exposes — with a sink that knows other runners write too.
 */
export const runnerLayer = (config: ResolvedConfig) =>
  Layer.mergeAll(
    waitingForPostgres(PostgresDocumentBuilder.layer(config.indexes).pipe(Layer.provideMerge(sourceDatabase(config)))),
    sinksLayer(config, { writtenElsewhere: true }),
    OpenSearchCheckpointStore.layer(config.sinks.filter(isOpenSearch), config.prefix)
  )

/** The ChangeSource of a deployment over a runner's pool and catalog (`runnerLayer`); `beforeStreaming` runs before every replication connection. */
export const changeSourceLayer = (config: ResolvedConfig, beforeStreaming: Effect.Effect<void, SourceUnavailable>) =>
  waitingForPostgres(PostgresChangeSource.layer({ source: config.source, plans: config.indexes, beforeStreaming }))

/** ChangeSource, DocumentBuilder, Sink, CheckpointStore and Quarantine for a deployment (one client per cluster). */
export const layer = (config: ResolvedConfig) =>
  Layer.merge(portsLayer(config), quarantineLayer(config)).pipe(Layer.provide(clientsLayer(config)))

/** The whole sync for a resolved config, until interrupted or a fatal error. */
export const run = (config: ResolvedConfig, options: RunOptions = {}) =>
  Effect.gen(function*() {
    const status = yield* Status
    const enabled = config.indexes.filter((plan) => plan.enabled)
    // Known from the start, whatever the services say: every metric at zero, every index `starting`.
    yield* registerMetrics(enabled.map((plan) => plan.name))
    yield* Effect.forEach(enabled, (plan) => status.index(plan.name, plan.qualifiedTable, []), { discard: true })
    yield* Engine.run({
      indexes: config.indexes,
      batch: config.batch,
      skipBackfill: options.skipBackfill ?? false,
      ...(options.lagPollSeconds === undefined ? {} : { lagPollSeconds: options.lagPollSeconds }),
      ...(options.commands === undefined ? {} : { commands: options.commands })
    }).pipe(
      Effect.provide(
        options.quarantine === undefined
          ? layer(config)
          : Layer.merge(portsLayer(config), Layer.succeed(Quarantine, options.quarantine)).pipe(
            Layer.provide(options.clients === undefined ? clientsLayer(config) : Layer.succeed(OpenSearchClients, options.clients))
          )
      )
    )
  }).pipe(Effect.provideServiceEffect(Status, options.status === undefined ? StatusLayer.make : Effect.succeed(options.status)))
