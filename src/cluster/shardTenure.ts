/**
 * Since when this runner holds each shard — what tells a redelivered message from a fresh
 * one. @effect/cluster does not say whether a message was delivered before: a message
 * that was sent to a shard before this runner held it was either handled by a runner that
 * died, froze or stopped before answering, or waited while the shard had no runner;
 * both are what an operator means by "redelivered" after a failover. Ownership is read
 * from Sharding every half second, so "since" is known within that.
 */
import { Sharding, ShardId, Snowflake } from "@effect/cluster"
import { Context, Effect, Layer, Metric, Schedule } from "effect"
import * as ClusterMetrics from "./clusterMetrics.js"
import { SHARDS } from "./ClusterRuntime.js"

export interface ShardTenureService {
  /** Whether the message `requestId` to `shard` was sent before this runner held the shard. */
  readonly redelivered: (requestId: Snowflake.Snowflake, shard: ShardId.ShardId) => Effect.Effect<boolean>
}

export class ShardTenure extends Context.Tag("flusso/ShardTenure")<ShardTenure, ShardTenureService>() {}

export const layer: Layer.Layer<ShardTenure, never, Sharding.Sharding> = Layer.scoped(
  ShardTenure,
  Effect.gen(function*() {
    const sharding = yield* Sharding.Sharding
    const since = new Map<number, number>()
    const look = Effect.sync(() => {
      const now = Date.now()
      for (let n = 1; n <= SHARDS; n++) {
        const held = sharding.hasShardId(ShardId.make("default", n))
        if (held && !since.has(n)) since.set(n, now)
        else if (!held) since.delete(n)
      }
      return since.size
    }).pipe(Effect.flatMap((owned) => Metric.set(ClusterMetrics.shardsOwned, owned)))
    yield* look.pipe(Effect.repeat(Schedule.spaced("500 millis")), Effect.forkScoped)
    return {
      redelivered: (requestId, shard) =>
        Effect.sync(() => {
          // A shard not seen yet was acquired in the last poll: it came now. Sent more than a
          // poll before the shard came, the message waited for it or was someone else's.
          const held = since.get(shard.id) ?? Date.now()
          return Snowflake.timestamp(requestId) < held - 500
        })
    }
  })
)
