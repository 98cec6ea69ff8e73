/**
 * What every part a runner handles goes through, live or seeding:
 * - it must come from a capture with this runner's config (`deploymentFingerprint`),
 *   else it is answered `OtherDeployment` and the capture sends it again later (a rolling
 *   deploy: some runner with its config will take it);
 * - transient failures (PostgreSQL or OpenSearch away) are waited out here, with flusso's
 *   backoff, while `/status` says so: the capture only ever hears "durable" or a failure
 *   that would end a single process too;
 * - that failure, or a defect, is a typed reply — an entity that dies would have a
 *   defect stored as the part's answer;
 * - it is counted: parts handled, and those sent before this runner held their shard
 *   (redelivered).
 * And before a live part writes, the sink's index targets must be those of the capture's
 * generation epoch the part carries (`targetsAt`).
 */
import type { EntityAddress, Snowflake } from "@effect/cluster"
import { Cause, Context, Effect, Layer, Metric, Ref } from "effect"
import { SchemaMismatch } from "../errors.js"
import type { EngineError } from "../errors.js"
import { retryTransient } from "../engine/transient.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { Sink } from "../sink/Sink.js"
import { Status } from "../status/Status.js"
import * as ClusterMetrics from "./clusterMetrics.js"
import { PartFailed } from "./protocol.js"
import { ShardTenure } from "./shardTenure.js"

export interface RunnerPartsService {
  /** This runner's address, `host:port`. */
  readonly self: string
  /** The enabled index of that name, or the failure of a config that lacks it. */
  readonly plan: (index: string) => Effect.Effect<IndexPlan, EngineError>
  /** Completes once the sink's index targets are what the capture's generation epoch says (re-read when it changed). */
  readonly targetsAt: (epoch: string) => Effect.Effect<void, EngineError>
  /** Runs one part's work as the header says. */
  readonly handle: <A>(entity: string, request: PartRequest, work: Effect.Effect<A, EngineError>) => Effect.Effect<A, PartFailed>
}

/** What `handle` reads of an entity request. */
export interface PartRequest {
  readonly payload: { readonly deployment: string }
  readonly requestId: Snowflake.Snowflake
  readonly address: EntityAddress.EntityAddress
}

export class RunnerParts extends Context.Tag("flusso/RunnerParts")<RunnerParts, RunnerPartsService>() {}

export const layer = (options: {
  readonly self: string
  readonly fingerprint: string
  readonly plans: ReadonlyArray<IndexPlan>
}): Layer.Layer<RunnerParts, never, Sink | Status | ShardTenure> =>
  Layer.effect(
    RunnerParts,
    Effect.gen(function*() {
      const sink = yield* Sink
      const status = yield* Status
      const tenure = yield* ShardTenure
      const enabled = options.plans.filter((p) => p.enabled)
      const byName = new Map(enabled.map((p) => [p.name, p]))
      const epochSeen = yield* Ref.make<string | undefined>(undefined)
      const rereading = yield* Effect.makeSemaphore(1)

      const targetsAt = (epoch: string): Effect.Effect<void, EngineError> =>
        Effect.flatMap(Ref.get(epochSeen), (seen) =>
          seen === epoch
            ? Effect.void
            : rereading.withPermits(1)(
              Effect.flatMap(Ref.get(epochSeen), (again) =>
                again === epoch
                  ? Effect.void
                  : retryTransient("reading the index generations", sink.ensureIndexes(enabled)).pipe(
                    Effect.zipRight(Ref.set(epochSeen, epoch)),
                    Effect.zipRight(Effect.logDebug(`index generations read again (capture epoch ${epoch})`))
                  ))
            ))

      const plan = (index: string): Effect.Effect<IndexPlan, EngineError> => {
        const found = byName.get(index)
        return found === undefined
          ? Effect.fail(new SchemaMismatch({ index, path: "", reason: `runner ${options.self} has no enabled index of that name: run every runner with the same config` }))
          : Effect.succeed(found)
      }

      const handle: RunnerPartsService["handle"] = (entity, request, work) => {
        if (request.payload.deployment !== options.fingerprint) {
          return Effect.logWarning(
            `a part from a capture with another config (${request.payload.deployment}, this runner ${options.fingerprint}) is left to a runner with that config: run every runner of a deployment with the same config`
          ).pipe(Effect.zipRight(Effect.fail(new PartFailed({ runner: options.self, failure: { _tag: "OtherDeployment", fingerprint: options.fingerprint } }))))
        }
        return Effect.gen(function*() {
          if (yield* tenure.redelivered(request.requestId, request.address.shardId)) {
            yield* Metric.increment(Metric.tagged(ClusterMetrics.redelivered, "entity", entity))
          }
          const result = yield* retryTransient(`a part of ${entity}`, work)
          yield* Metric.increment(Metric.tagged(ClusterMetrics.parts, "entity", entity))
          return result
        }).pipe(
          Effect.tapError((error) => status.failed(error.message)),
          Effect.mapError((error) => PartFailed.from(options.self, error)),
          // A bug must not kill the entity: its defect would be stored as the answer anyway.
          Effect.catchAllDefect((defect) =>
            Effect.logError(`a part of ${entity} failed`, Cause.die(defect)).pipe(
              Effect.zipRight(Effect.fail(new PartFailed({ runner: options.self, failure: { _tag: "Defect", message: Cause.pretty(Cause.die(defect)) } })))
            )
          ),
          Effect.provideService(Status, status)
        )
      }

      return { self: options.self, plan, targetsAt, handle }
    })
  )
