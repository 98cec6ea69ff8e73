/**
 * The capture: a `Singleton` per slot, running on exactly one runner at a time — the
 * engine itself (Engine.run): the replication stream, visibility, resolution, the
 * ordered acknowledgement, seeding coordination, the layout watch, reindex commands and
 * truncates, all decided once per deployment here. Only the documents are built and
 * written elsewhere, through the cluster's DocumentWork. Only the holder builds the
 * ChangeSource (publication, slot, replication connection).
 *
 * When it starts it waits until this runner's lock row names it (a singleton restarted
 * on a runner that lost its shard must not seed or dispatch), drops the parts an earlier
 * capture left unanswered, and fences the slot before each connection (slotFence.ts). It
 * stops when the lock row names another runner. A failure the engine would wait out is
 * retried here: a singleton that fails stays dead until its shard moves. A failure that
 * would end a single process (a refused document under `onError: "stop"`, a database the
 * config does not fit) ends this runner the same way, with its message.
 */
import { Sharding, Singleton } from "@effect/cluster"
import { Cause, Data, Deferred, Effect, Exit, type Layer, Metric, Option, type Queue, Schedule } from "effect"
import type { ResolvedConfig } from "../config/ResolvedConfig.js"
import { DocumentWork } from "../engine/DocumentWork.js"
import * as Engine from "../engine/Engine.js"
import type { EngineCommand } from "../engine/EngineCommand.js"
import { isTransient } from "../engine/transient.js"
import type { EngineError, SourceUnavailable } from "../errors.js"
import { Sink } from "../sink/Sink.js"
import type { ChangeSource } from "../source/ChangeSource.js"
import { Status, type StatusService } from "../status/Status.js"
import * as ClusterDocumentWork from "./clusterDocumentWork.js"
import * as ClusterMetrics from "./clusterMetrics.js"
import * as MessageHousekeeping from "./messageHousekeeping.js"
import { captureSingleton, deploymentFingerprint } from "./names.js"
import * as SlotFence from "./slotFence.js"

/** The lock row named another runner: this one stops capturing. */
class CaptureLost extends Data.TaggedError("CaptureLost")<{ readonly slot: string }> {
  override get message() {
    return `the capture of slot ${this.slot} moved to another runner`
  }
}

export interface CaptureOptions<R> {
  readonly config: ResolvedConfig
  /** The deployment's ChangeSource (its publication, slot and stream), built by the holder only; `beforeStreaming` fences each connection. */
  readonly changeSource: (beforeStreaming: Effect.Effect<void, SourceUnavailable>) => Layer.Layer<ChangeSource, EngineError, R>
  readonly skipBackfill: boolean
  readonly lagPollSeconds: number
  /** Reindex requests from this runner's private surface (they reach the engine only here, on the holder). */
  readonly commands: Queue.Dequeue<EngineCommand>
  /** Failed with what ends this runner (see the header). */
  readonly fatal: Deferred.Deferred<never, EngineError>
}

/**
 * The runner's status as the engine writes it: everything passes through, but the end of
 * a capture is not the end of the runner — it goes on building for the next one.
 */
const captureStatus = (status: StatusService): StatusService => ({ ...status, stopped: status.streaming(false) })

export const layer = <R>(options: CaptureOptions<R>) => {
  const slot = options.config.source.slot
  const body = Effect.gen(function*() {
    const sharding = yield* Sharding.Sharding
    const status = yield* Status
    const fence = yield* SlotFence.make(slot)
    yield* fence.awaitHolding
    const incarnation = yield* sharding.getSnowflake
    yield* Effect.logInfo(`this runner holds the capture of slot ${slot}: streaming from its confirmed position`)
    yield* Metric.set(ClusterMetrics.capture, 1)
    yield* Effect.addFinalizer((exit) =>
      Metric.set(ClusterMetrics.capture, 0).pipe(
        Effect.zipRight(status.streaming(false)),
        Effect.zipRight(Exit.isInterrupted(exit) ? Effect.logInfo("the capture left this runner (its shard moved, or the runner stops)") : Effect.void)
      ))

    const housekeeping = yield* MessageHousekeeping.make
    yield* housekeeping.dropEarlierParts(incarnation).pipe(Effect.catchAll((error) => Effect.logWarning(`could not drop an earlier capture's parts: ${error.message}`)))
    yield* Effect.forkScoped(housekeeping.pruning)

    const cluster = yield* ClusterDocumentWork.make({ incarnation: String(incarnation), fingerprint: deploymentFingerprint(options.config) })
    const sink = yield* Sink
    const source = options.changeSource(fence.beforeStreaming)
    // Stops the capture once the lock row names another runner; a row that cannot be read is looked at again.
    const watch = fence.holding.pipe(
      Effect.orElseSucceed(() => true),
      Effect.repeat({ schedule: Schedule.spaced("1 second"), while: (held) => held }),
      Effect.zipRight(Effect.fail(new CaptureLost({ slot })))
    )
    yield* Engine.run({
      indexes: options.config.indexes,
      batch: options.config.batch,
      skipBackfill: options.skipBackfill,
      lagPollSeconds: options.lagPollSeconds,
      commands: options.commands
    }).pipe(
      Effect.provide(source),
      Effect.provideService(DocumentWork, cluster.work),
      Effect.provideService(Sink, cluster.guard(sink)),
      Effect.provideService(Status, captureStatus(status)),
      Effect.raceFirst(watch)
    )
  }).pipe(Effect.scoped)

  const supervised = body.pipe(
    Effect.catchAll((error): Effect.Effect<void, CaptureLost | EngineError> => {
      if (error._tag === "CaptureLost" || isTransient(error)) return Effect.fail(error)
      // What ends a single process ends this runner; the singleton then waits for the end.
      return Effect.logError(`the capture failed: ${error.message}`).pipe(
        Effect.zipRight(Deferred.fail(options.fatal, error)),
        Effect.zipRight(Effect.never)
      )
    }),
    Effect.catchAllDefect((defect) => Effect.zipRight(Deferred.die(options.fatal, defect), Effect.never)),
    Effect.sandbox,
    Effect.tapError((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.logDebug("the capture was interrupted; starting again once this runner holds it")
        : Effect.logWarning(
          `the capture stopped: ${Option.match(Cause.failureOption(cause), { onNone: () => Cause.pretty(cause), onSome: (error) => error.message })}; ` +
            "starting again once this runner holds it"
        )
    ),
    Effect.retry(Schedule.spaced("1 second")),
    Effect.asVoid,
    Effect.annotateLogs("capture", slot)
  )
  return Singleton.make(captureSingleton(slot), supervised)
}
