/**
 * The OpenSearch sink: every configured OpenSearch cluster behind the `Sink` port. Each
 * sink gets its own client (closed with the layer's scope), and remembers which
 * generation(s) each logical index writes to — set by `ensureIndexes`, so the engine
 * names logical indexes only.
 */
import { Effect, Layer, Ref } from "effect"
import type { Scope } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import type { SinkError } from "../../errors.js"
import type { IndexPlan } from "../../schema/IndexPlan.js"
import { SinkTag } from "../Sink.js"
import type { Rejection, Sink, SinkIndex, WriteOperation } from "../Sink.js"
import { bulkWrite } from "./bulk.js"
import type { BulkAction } from "./bulk.js"
import { makeClient } from "./client.js"
import { ensureIndex, markGenerationSeeded } from "./indexLifecycle.js"
import type { ClusterContext } from "./indexLifecycle.js"

interface Cluster extends ClusterContext {
  /**
   * Logical index → the physical indexes its writes go to. One generation today; while
   * a new shape seeds, live writes will go to both the serving and the new generation.
   */
  readonly targets: Ref.Ref<ReadonlyMap<string, ReadonlyArray<string>>>
}

const ensureAll = (cluster: Cluster, plans: ReadonlyArray<IndexPlan>): Effect.Effect<ReadonlyArray<SinkIndex>, SinkError> =>
  Effect.forEach(
    plans.filter((plan) => plan.enabled),
    (plan) =>
      ensureIndex(cluster, plan).pipe(
        Effect.tap((generation) =>
          Ref.update(cluster.targets, (targets) => new Map([...targets, [plan.name, [generation]]]))
        ),
        Effect.map((generation): SinkIndex => ({ sink: cluster.sink.name, index: plan.name, generation }))
      )
  )

const writeTo = (
  cluster: Cluster,
  operations: ReadonlyArray<WriteOperation>,
  options: { readonly refresh: boolean }
): Effect.Effect<ReadonlyArray<Rejection>, SinkError> =>
  Effect.gen(function* () {
    const targets = yield* Ref.get(cluster.targets)
    const actions: Array<BulkAction> = []
    for (const operation of operations) {
      const generations = targets.get(operation.index)
      if (generations === undefined) {
        // Writing before ensureIndexes would let OpenSearch auto-create a dynamic index.
        return yield* Effect.dieMessage(
          `sink ${cluster.sink.name}: write to index ${operation.index} before ensureIndexes created it`
        )
      }
      for (const target of generations) actions.push({ operation, target })
    }
    return yield* bulkWrite(cluster, actions, options)
  })

export const make = (
  sinks: ReadonlyArray<ResolvedOpenSearchSink>,
  prefix: string
): Effect.Effect<Sink, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clusters = new Map<string, Cluster>()
    for (const sink of sinks) {
      const client = yield* makeClient(sink)
      const targets = yield* Ref.make<ReadonlyMap<string, ReadonlyArray<string>>>(new Map())
      clusters.set(sink.name, { client, sink, prefix, targets })
    }
    const cluster = (name: string): Effect.Effect<Cluster> => {
      const found = clusters.get(name)
      return found === undefined ? Effect.dieMessage(`unknown OpenSearch sink ${name}`) : Effect.succeed(found)
    }

    const sink: Sink = {
      names: [...clusters.keys()],
      ensureIndexes: (plans) =>
        Effect.forEach([...clusters.values()], (c) => ensureAll(c, plans)).pipe(Effect.map((all) => all.flat())),
      write: (names, operations, options) =>
        Effect.forEach(
          names,
          (name) => Effect.flatMap(cluster(name), (c) => writeTo(c, operations, options)),
          { concurrency: "unbounded" }
        ).pipe(Effect.map((all) => all.flat())),
      seeded: (target) => Effect.flatMap(cluster(target.sink), (c) => markGenerationSeeded(c, target.generation))
    }
    return sink
  })

export const layer = (sinks: ReadonlyArray<ResolvedOpenSearchSink>, prefix: string): Layer.Layer<SinkTag> =>
  Layer.scoped(SinkTag, make(sinks, prefix))
