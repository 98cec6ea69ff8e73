/**
 * The OpenSearch sink: every configured OpenSearch cluster behind the `Sink` port. Each
 * sink gets its own client (closed with the layer's scope), and remembers which
 * generation(s) each logical index writes to — set by `ensureIndexes`, so the engine
 * names logical indexes only. A document's refs (`REFS_FIELD`) are split off into the
 * generation's hidden companion index, where `referencing` searches them.
 */
import { Effect, Layer, Ref } from "effect"
import type { Scope } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import type { SinkError } from "../../errors.js"
import type { IndexPlan } from "../../schema/IndexPlan.js"
import { REFS_FIELD } from "../../schema/mapping.js"
import { takeTopLevelMember } from "../jsonText.js"
import { SinkTag } from "../Sink.js"
import type { Rejection, Sink, SinkIndex, WriteOperation } from "../Sink.js"
import { bulkWrite } from "./bulk.js"
import type { BulkAction } from "./bulk.js"
import { makeClient } from "./client.js"
import { ensureIndex, markGenerationSeeded, refreshIndexes } from "./indexLifecycle.js"
import { refsIndexName } from "./names.js"
import { call, pathPart } from "./request.js"
import { defaultReferenceSearch, searchReferencing } from "./references.js"
import type { ReferenceSearchOptions } from "./references.js"
import type { ClusterContext } from "./indexLifecycle.js"

interface Cluster extends ClusterContext {
  /**
   * Logical index → the physical indexes its writes go to. One generation today; while
   * a new shape seeds, live writes will go to both the serving and the new generation.
   */
  readonly targets: Ref.Ref<ReadonlyMap<string, ReadonlyArray<string>>>
  /**
   * Logical indexes written since `referencing` last refreshed them: a search must see
   * writes that completed before it, but a refresh of an untouched index is waste.
   */
  readonly dirty: Ref.Ref<ReadonlySet<string>>
}

const ensureAll = (cluster: Cluster, plans: ReadonlyArray<IndexPlan>): Effect.Effect<ReadonlyArray<SinkIndex>, SinkError> =>
  Effect.forEach(
    plans.filter((plan) => plan.enabled),
    (plan) =>
      ensureIndex(cluster, plan).pipe(
        Effect.tap((generation) =>
          Ref.update(cluster.targets, (targets) => new Map([...targets, [plan.name, [generation]]]))
        ),
        // A previous run may have written refs it never refreshed: the first search refreshes.
        Effect.tap(() => Ref.update(cluster.dirty, (dirty) => new Set([...dirty, plan.name]))),
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
      for (const [part, kind] of splitRefs(operation)) {
        for (const target of generations) actions.push({ operation: part, target: kind === "refs" ? refsIndexName(target) : target })
      }
    }
    const written = new Set(operations.map((operation) => operation.index))
    // Marked once the bulk returns (failed too: earlier chunks may have landed), so a
    // `referencing` that cleared the flag before then refreshes again next time.
    const rejections = yield* bulkWrite(cluster, actions).pipe(
      Effect.ensuring(Ref.update(cluster.dirty, (dirty) => new Set([...dirty, ...written])))
    )
    // Companions are left to `referencing`, which refreshes them only when it searches.
    if (options.refresh) yield* refreshIndexes(cluster, [...written].flatMap((index) => targets.get(index) ?? []))
    return rejections
  })

/**
 * A write as the document (without its refs) and the write of its refs to the
 * generation's companion. Refs are rewritten whenever the document carries the member —
 * `[]` when it read no such row — so a document that stopped reading a row stops being
 * found by it; an index without traced tables writes no companion at all.
 */
const splitRefs = (operation: WriteOperation): ReadonlyArray<readonly [WriteOperation, "document" | "refs"]> => {
  if (operation._tag === "Delete") return [[operation, "document"], [operation, "refs"]]
  const { rest, value } = takeTopLevelMember(operation.json, REFS_FIELD)
  if (value === undefined) return [[operation, "document"]]
  return [
    [{ ...operation, json: rest }, "document"],
    [{ ...operation, json: `{${JSON.stringify(REFS_FIELD)}:${value}}` }, "refs"]
  ]
}

/** Deletes every document (and its refs) from the index's write generations, then refreshes them. */
const truncateIn = (cluster: Cluster, index: string): Effect.Effect<void, SinkError> =>
  Effect.gen(function* () {
    const generations = (yield* Ref.get(cluster.targets)).get(index) ?? []
    const physical = generations.flatMap((g) => [g, refsIndexName(g)])
    if (physical.length === 0) return
    yield* call(cluster.client, cluster.sink, `truncate ${index}`, {
      method: "POST",
      path: `/${physical.map(pathPart).join(",")}/_delete_by_query`,
      querystring: { conflicts: "proceed", refresh: "true", wait_for_completion: "true" },
      body: { query: { match_all: {} } }
    })
  })

const referencingIn = (
  cluster: Cluster,
  index: string,
  refs: ReadonlyArray<string>,
  options: ReferenceSearchOptions
): Effect.Effect<ReadonlyArray<string>, SinkError> =>
  Effect.gen(function* () {
    const generations = (yield* Ref.get(cluster.targets)).get(index)
    if (generations === undefined) {
      return yield* Effect.dieMessage(`sink ${cluster.sink.name}: search of index ${index} before ensureIndexes created it`)
    }
    // Cleared before refreshing: a write completing meanwhile marks it again.
    const wasDirty = yield* Ref.modify(cluster.dirty, (dirty): [boolean, ReadonlySet<string>] => [
      dirty.has(index),
      new Set([...dirty].filter((name) => name !== index))
    ])
    const companions = generations.map(refsIndexName)
    if (wasDirty) {
      // Failed or interrupted: whatever was pending may still be unsearchable.
      yield* refreshIndexes(cluster, companions).pipe(
        Effect.onError(() => Ref.update(cluster.dirty, (dirty) => new Set([...dirty, index])))
      )
    }
    return yield* searchReferencing(cluster, companions, refs, options)
  })

/**
 * `referenceSearch` tunes `referencing` (page and terms-chunk sizes); tests shrink it to
 * prove paging.
 */
export const make = (
  sinks: ReadonlyArray<ResolvedOpenSearchSink>,
  prefix: string,
  referenceSearch: ReferenceSearchOptions = defaultReferenceSearch
): Effect.Effect<Sink, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clusters = new Map<string, Cluster>()
    for (const sink of sinks) {
      const client = yield* makeClient(sink)
      const targets = yield* Ref.make<ReadonlyMap<string, ReadonlyArray<string>>>(new Map())
      const dirty = yield* Ref.make<ReadonlySet<string>>(new Set())
      clusters.set(sink.name, { client, sink, prefix, targets, dirty })
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
      seeded: (target) => Effect.flatMap(cluster(target.sink), (c) => markGenerationSeeded(c, target.generation)),
      truncate: (names, index) =>
        Effect.forEach(names, (name) => Effect.flatMap(cluster(name), (c) => truncateIn(c, index)), {
          concurrency: "unbounded",
          discard: true
        }),
      // Every cluster is searched and the answers merged: one still seeding may lack
      // documents another holds, and an extra id only costs a rebuild.
      referencing: (index, refs) =>
        refs.length === 0
          ? Effect.succeed([])
          : Effect.forEach([...clusters.values()], (c) => referencingIn(c, index, refs, referenceSearch), {
              concurrency: "unbounded"
            }).pipe(Effect.map((all) => [...new Set(all.flat())]))
    }
    return sink
  })

export const layer = (sinks: ReadonlyArray<ResolvedOpenSearchSink>, prefix: string): Layer.Layer<SinkTag> =>
  Layer.scoped(SinkTag, make(sinks, prefix))
