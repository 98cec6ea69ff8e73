/**
 * The metrics a runner of a cluster adds to `/metrics` (registered only with `--cluster`).
 * Like every flusso metric they count what *this* runner did or holds; a deployment's
 * totals are the sum over its runners.
 */
import { Effect, Metric } from "effect"

export const shardsOwned = Metric.gauge("flusso_cluster_shards_owned", {
  description: "shards this runner holds (its share of the build and seed entities, and maybe the capture's)"
})

export const runners = Metric.gauge("flusso_cluster_runners", {
  description: "runners of the deployment registered and healthy, as this runner last read them"
})

export const capture = Metric.gauge("flusso_cluster_capture", {
  description: "1 while this runner holds the capture (streams from the slot and acknowledges), else 0"
})

/** Tagged `entity` (flusso-build, flusso-seed). */
export const parts = Metric.counter("flusso_cluster_parts_total", {
  description: "live parts and seeding chunks this runner built and wrote",
  incremental: true
})

/** Tagged `entity`. */
export const redelivered = Metric.counter("flusso_cluster_messages_redelivered_total", {
  description: "parts and chunks this runner handled that were sent before it held their shard: delivered again after their runner died, froze or stopped",
  incremental: true
})

/** Every cluster metric at zero from the start. */
export const register: Effect.Effect<void> = Effect.all([
  Metric.value(shardsOwned),
  Metric.value(runners),
  Metric.value(capture),
  ...["flusso-build", "flusso-seed"].flatMap((entity) => [
    Metric.value(Metric.tagged(parts, "entity", entity)),
    Metric.value(Metric.tagged(redelivered, "entity", entity))
  ])
], { discard: true })
