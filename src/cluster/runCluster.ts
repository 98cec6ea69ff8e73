/**
 * `flusso run --cluster`: this process as one runner of its deployment. Every runner
 * - joins the cluster (ClusterRuntime.ts) at its runner address;
 * - builds and writes the live parts and seeding chunks whose shards it holds
 *   (buildEntity.ts, seedEntity.ts) with the deployment's builder and sinks;
 * - is ready to take the capture (capture.ts), which runs on exactly one of them, and
 *   forwards the reindex requests its private surface takes to it (controlEntity.ts);
 * - tells `/status` and `/metrics` what it sees (clusterStatus.ts).
 * It ends when interrupted (SIGTERM: its shards and the capture move to the others) or
 * when its capture meets a failure that would end a single process.
 */
import { Deferred, Effect, Layer, Queue } from "effect"
import type { ResolvedConfig } from "../config/ResolvedConfig.js"
import type { EngineCommand } from "../engine/EngineCommand.js"
import type { EngineError } from "../errors.js"
import * as Flusso from "../Flusso.js"
import { Quarantine, type QuarantineService } from "../quarantine/Quarantine.js"
import { OpenSearchClients, type OpenSearchClientsService } from "../sink/opensearch/OpenSearchClients.js"
import { formatAddress } from "../server/address.js"
import { Status, type StatusService } from "../status/Status.js"
import * as BuildEntity from "./buildEntity.js"
import * as Capture from "./capture.js"
import * as ClusterMetrics from "./clusterMetrics.js"
import * as ClusterRuntime from "./ClusterRuntime.js"
import * as ClusterStatus from "./clusterStatus.js"
import * as ControlEntity from "./controlEntity.js"
import { deploymentFingerprint } from "./names.js"
import * as RunnerParts from "./runnerParts.js"
import * as SeedEntity from "./seedEntity.js"
import * as ShardTenure from "./shardTenure.js"

export interface ClusterRunOptions {
  readonly address: { readonly host: string; readonly port: number }
  readonly health: ClusterRuntime.RunnerHealthCheck
  readonly skipBackfill: boolean
  readonly lagPollSeconds: number
  /** Reindex requests from this runner's private surface (forwarded to the capture, wherever it runs). */
  readonly commands: Queue.Dequeue<EngineCommand>
  readonly status: StatusService
  readonly quarantine: QuarantineService
  readonly clients: OpenSearchClientsService
}

export const run = (config: ResolvedConfig, options: ClusterRunOptions) =>
  Effect.gen(function*() {
    const self = `${options.address.host}:${options.address.port}`
    yield* ClusterMetrics.register
    // In /status from the start: a runner that has not joined yet is not ready.
    yield* options.status.cluster({ runner: formatAddress(options.address), runners: [], captureRunner: null })
    const fatal = yield* Deferred.make<never, EngineError>()

    const runner = Flusso.runnerLayer(config).pipe(Layer.provide(Layer.succeed(OpenSearchClients, options.clients)))
    const cluster = ClusterRuntime.layer({ config, address: options.address, health: options.health })
    const work = Layer.mergeAll(BuildEntity.layer, SeedEntity.layer).pipe(
      Layer.provide(RunnerParts.layer({ self, fingerprint: deploymentFingerprint(config), plans: config.indexes })),
      Layer.provideMerge(ShardTenure.layer)
    )
    // This runner's reindex requests go to the capture, wherever it runs; the ones it runs arrive here.
    const captureCommands = yield* Queue.unbounded<EngineCommand>()
    const capture = Capture.layer({
      config,
      changeSource: (beforeStreaming) => Flusso.changeSourceLayer(config, beforeStreaming),
      skipBackfill: options.skipBackfill,
      lagPollSeconds: options.lagPollSeconds,
      commands: captureCommands,
      fatal
    })
    const control = Layer.merge(ControlEntity.layer(captureCommands), ControlEntity.forwarding(config.source.slot, options.commands))
    const app = Layer.mergeAll(work, capture, control, ClusterStatus.layer).pipe(
      Layer.provide(cluster),
      Layer.provide(runner),
      Layer.provide(Layer.succeed(Status, options.status)),
      Layer.provide(Layer.succeed(Quarantine, options.quarantine))
    )
    yield* Effect.logInfo(`joining the deployment of slot ${config.source.slot} as runner ${self}`)
    yield* Layer.launch(app).pipe(Effect.raceFirst(Deferred.await(fatal)))
  })
