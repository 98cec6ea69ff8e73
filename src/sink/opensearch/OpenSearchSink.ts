/**
 * The OpenSearch sink: every configured OpenSearch cluster behind the `Sink` port, through
 * the cluster's shared client (`OpenSearchClients`). It remembers which
 * generation(s) each logical index writes to — the serving one and, while a schema
 * change or a reindex seeds it, the one being built — set by `ensureIndexes` and
 * `reindex`, narrowed by `seeded`, so the engine names logical indexes only. A document's
 * refs (`REFS_FIELD`) are split off into the generation's hidden companion index, where
 * `referencing` searches them. The same clusters' meta index keeps the checkpoints
 * (`OpenSearchCheckpointStore.ts`) and the dead-letter list (`OpenSearchQuarantine.ts`): one
 * backend, one module family.
 */
import { Effect, Layer, Ref } from "effect"
import type { Scope } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import type { SinkError } from "../../errors.js"
import type { IndexPlan } from "../../schema/IndexPlan.js"
import { REFS_FIELD } from "../../schema/mapping.js"
import { keepTopLevelMembers } from "../jsonText.js"
import { Sink } from "../Sink.js"
import type { Rejection, SinkIndex, WriteOperation } from "../Sink.js"
import { bulkWrite } from "./bulk.js"
import type { BulkAction } from "./bulk.js"
import { OpenSearchClients } from "./OpenSearchClients.js"
import {
  createNextGeneration,
  deleteGenerations,
  ensureIndex,
  mappedFields,
  markGenerationSeeded,
  promoteGeneration,
  refreshIndexes,
  supersededGenerations,
  writeGenerations
} from "./indexLifecycle.js"
import type { WriteGenerations } from "./indexLifecycle.js"
import { parseGeneration, refsIndexName } from "./names.js"
import { call, pathPart } from "./request.js"
import { defaultReferenceSearch, searchReferencing } from "./references.js"
import type { ReferenceSearchOptions } from "./references.js"
import type { ClusterContext } from "./indexLifecycle.js"

/**
 * Where one logical index's writes go. While a new *shape* is built, the serving
 * generation's strict mapping lacks the new fields: documents go to it trimmed to the
 * top-level fields it maps (`legacyFields`), and what it still refuses (a field whose
 * type changed) is logged, not fatal — it is on its way out, and the new generation,
 * which readers get next, holds the document.
 */
interface Targets extends WriteGenerations {
  readonly legacyFields: ReadonlySet<string> | undefined
}

/** More permits than users of `Cluster.lock` ever hold at once: taking them all excludes every one. */
const ALL_PERMITS = 1_000_000

interface Cluster extends ClusterContext {
  /**
   * Logical index → the generations its writes go to: the serving one and the one being
   * built, so a generation that seeds misses no live change and readers keep the serving one.
   */
  readonly targets: Ref.Ref<ReadonlyMap<string, Targets>>
  /**
   * Held (one permit) by every request naming generations read from `targets`; taken
   * whole to narrow `targets` before superseded generations are deleted: a bulk write
   * still naming a deleted index would re-create it with a dynamic mapping.
   */
  readonly lock: Effect.Semaphore
  /**
   * Logical indexes written since `referencing` last refreshed them: a search must see
   * writes that completed before it, but a refresh of an untouched index is waste.
   */
  readonly dirty: Ref.Ref<ReadonlySet<string>>
  /** Logical indexes written live since the last refresh asked for. */
  readonly unrefreshed: Ref.Ref<ReadonlySet<string>>
  /** Other processes write too (the runners of a cluster): this one cannot know what is unrefreshed, so it assumes everything is. */
  readonly writtenElsewhere: boolean
}

/** Where a logical index's writes go; dies when `ensureIndexes` never named it. */
const targetsOf = (cluster: Cluster, index: string, what: string): Effect.Effect<Targets> =>
  Effect.flatMap(Ref.get(cluster.targets), (targets) => {
    const found = targets.get(index)
    // Writing before ensureIndexes would let OpenSearch auto-create a dynamic index.
    return found === undefined
      ? Effect.dieMessage(`sink ${cluster.sink.name}: ${what} index ${index} before ensureIndexes created it`)
      : Effect.succeed(found)
  })

const setTargets = (cluster: Cluster, index: string, generations: Targets): Effect.Effect<void> =>
  Ref.update(cluster.targets, (targets) => new Map([...targets, [index, generations]]))

/** The generations with the fields of the serving one when it is of another shape than the one being built. */
const withLegacyFields = (cluster: Cluster, index: string, generations: WriteGenerations): Effect.Effect<Targets, SinkError> => {
  const { serving, building } = generations
  const hashOf = (name: string) => parseGeneration(cluster.prefix, index, name)?.hash
  return serving === undefined || building === undefined || hashOf(serving) === hashOf(building)
    ? Effect.succeed({ ...generations, legacyFields: undefined })
    : Effect.map(mappedFields(cluster, serving), (legacyFields) => ({ ...generations, legacyFields }))
}

/** The generation whose seeding state counts: the one being built, else the serving one. */
const seedingTarget = (cluster: Cluster, index: string, generations: WriteGenerations): SinkIndex => ({
  sink: cluster.sink.name,
  index,
  generation: generations.building ?? generations.serving ?? "",
  serving: generations.building === undefined
})

const ensureAll = (cluster: Cluster, plans: ReadonlyArray<IndexPlan>): Effect.Effect<ReadonlyArray<SinkIndex>, SinkError> =>
  Effect.forEach(
    plans.filter((plan) => plan.enabled),
    (plan) =>
      ensureIndex(cluster, plan).pipe(
        Effect.flatMap((generations) => withLegacyFields(cluster, plan.name, generations)),
        Effect.tap((generations) => setTargets(cluster, plan.name, generations)),
        // A previous run may have written refs it never refreshed: the first search refreshes.
        Effect.tap(() => Ref.update(cluster.dirty, (dirty) => new Set([...dirty, plan.name]))),
        Effect.map((generations) => seedingTarget(cluster, plan.name, generations))
      )
  )

/**
 * A new generation of the plan's shape to build beside the serving one; the one already
 * being built when there is one (a reindex asked twice builds once).
 */
const reindexIn = (cluster: Cluster, plan: IndexPlan, discardBuilding: boolean): Effect.Effect<SinkIndex, SinkError> =>
  Effect.gen(function* () {
    const current = (yield* Ref.get(cluster.targets)).get(plan.name)
    if (current === undefined) {
      return yield* Effect.dieMessage(`sink ${cluster.sink.name}: reindex of ${plan.name} before ensureIndexes created it`)
    }
    if (current.building !== undefined && !discardBuilding) return seedingTarget(cluster, plan.name, current)
    const building = yield* createNextGeneration(cluster, plan)
    // The serving generation keeps its shape, and so what its writes are trimmed to.
    const next = { serving: current.serving, building, legacyFields: current.legacyFields }
    yield* cluster.lock.withPermits(ALL_PERMITS)(setTargets(cluster, plan.name, next))
    if (current.building !== undefined) {
      yield* Effect.logWarning(`dropping ${current.building}, which never served, for ${building}`)
      yield* deleteGenerations(cluster, [current.building])
    }
    return seedingTarget(cluster, plan.name, next)
  })

/**
 * A generation is seeded: refresh it, give it the configured refresh interval, move both
 * aliases to it in one atomic call, write to it alone, then delete the generations it
 * supersedes (but the `keepPreviousGenerations` newest before it). Idempotent, so a run
 * stopped half-way finishes it when the generation is seeded again.
 */
const seededIn = (cluster: Cluster, target: SinkIndex): Effect.Effect<void, SinkError> =>
  Effect.gen(function* () {
    yield* markGenerationSeeded(cluster, target.generation)
    yield* promoteGeneration(cluster, target.index, target.generation)
    yield* cluster.lock.withPermits(ALL_PERMITS)(
      setTargets(cluster, target.index, { serving: target.generation, building: undefined, legacyFields: undefined })
    )
    const superseded = yield* supersededGenerations(
      cluster,
      target.index,
      target.generation,
      cluster.sink.keepPreviousGenerations ?? 0
    )
    if (superseded.length > 0) {
      yield* Effect.logInfo(`${target.generation} serves; deleting ${superseded.join(", ")}`)
      yield* deleteGenerations(cluster, superseded)
    }
  }).pipe(Effect.annotateLogs({ index: target.index, sink: target.sink }))

/**
 * One generation a write goes to. `keep`: the top-level fields a serving generation of an
 * older shape maps — documents go to it trimmed to those, and what it still refuses (a
 * field whose type changed) is logged, not returned: it is on its way out, and the
 * generation readers get next holds the document.
 */
interface Destination {
  readonly generation: string
  readonly keep?: ReadonlySet<string>
}

/** Where a live write of an index goes: every generation it writes to. */
const liveDestinations = (targets: Targets): ReadonlyArray<Destination> =>
  writeGenerations(targets).map((generation) =>
    generation === targets.serving && targets.legacyFields !== undefined && targets.building !== undefined
      ? { generation, keep: targets.legacyFields }
      : { generation })

/** Writes `operations`, each to the destinations of its index; succeeds with the items refused. */
const writeActions = (
  cluster: Cluster,
  operations: ReadonlyArray<WriteOperation>,
  destinationsOf: (index: string) => ReadonlyArray<Destination>
): Effect.Effect<ReadonlyArray<Rejection>, SinkError> => {
  const actions: Array<BulkAction> = []
  const legacyActions: Array<BulkAction> = []
  for (const operation of operations) {
    const destinations = destinationsOf(operation.index)
    for (const [part, kind] of splitRefs(operation)) {
      for (const { generation, keep } of destinations) {
        const target = kind === "refs" ? refsIndexName(generation) : generation
        if (keep === undefined) actions.push({ operation: part, target })
        else {
          const trimmed = kind === "document" && part._tag === "Upsert" ? { ...part, json: keepTopLevelMembers(part.json, keep) } : part
          legacyActions.push({ operation: trimmed, target })
        }
      }
    }
  }
  const written = new Set(operations.map((operation) => operation.index))
  // Marked once the bulk returns (failed too: earlier chunks may have landed), so a
  // `referencing` that cleared the flag before then refreshes again next time.
  return Effect.zipLeft(
    bulkWrite(cluster, actions),
    legacyActions.length === 0
      ? Effect.void
      : Effect.flatMap(bulkWrite(cluster, legacyActions), (refused) =>
          Effect.forEach(
            refused,
            (r) =>
              Effect.logWarning(`the generation being replaced refused document ${r.id}: ${r.reason}`).pipe(
                Effect.annotateLogs("index", r.index)
              ),
            { discard: true }
          )
        )
  ).pipe(Effect.ensuring(Ref.update(cluster.dirty, (dirty) => new Set([...dirty, ...written]))))
}

/** Live writes: every generation each index writes to. */
const writeTo = (cluster: Cluster, operations: ReadonlyArray<WriteOperation>): Effect.Effect<ReadonlyArray<Rejection>, SinkError> =>
  Effect.gen(function* () {
    const targets = new Map<string, Targets>()
    for (const index of new Set(operations.map((operation) => operation.index))) {
      targets.set(index, yield* targetsOf(cluster, index, "write to"))
    }
    yield* Ref.update(cluster.unrefreshed, (pending) => new Set([...pending, ...targets.keys()]))
    return yield* writeActions(cluster, operations, (index) => {
      const found = targets.get(index)
      return found === undefined ? [] : liveDestinations(found)
    })
  }).pipe(cluster.lock.withPermits(1))

/**
 * A refresh of the serving generation of every index written live since the last one —
 * not only the latest batch's: batches written while the pipeline was behind were not
 * refreshed. Generations being built are left alone: nobody reads them until they are
 * seeded (and refreshed then); companions are left to `referencing`, which refreshes
 * them when it searches.
 */
const refreshIn = (cluster: Cluster): Effect.Effect<void, SinkError> =>
  Effect.gen(function* () {
    const all = yield* Ref.get(cluster.targets)
    const pending = cluster.writtenElsewhere ? new Set(all.keys()) : yield* Ref.getAndSet(cluster.unrefreshed, new Set())
    if (pending.size === 0) return
    const serving = [...pending].flatMap((index) => {
      const generation = all.get(index)?.serving
      return generation === undefined ? [] : [generation]
    })
    yield* refreshIndexes(cluster, serving).pipe(
      Effect.onError(() => Ref.update(cluster.unrefreshed, (again) => new Set([...again, ...pending])))
    )
  }).pipe(cluster.lock.withPermits(1))

/** Backfill writes: only the generation being seeded (and its refs companion). */
const seedInto = (cluster: Cluster, target: SinkIndex, operations: ReadonlyArray<WriteOperation>) =>
  writeActions(cluster, operations, () => [{ generation: target.generation }]).pipe(cluster.lock.withPermits(1))

/**
 * A write as the document (without its refs) and the write of its refs to the
 * generation's companion. Refs are rewritten whenever the document carries the member —
 * `[]` when it read no such row — so a document that stopped reading a row stops being
 * found by it; an index without traced tables writes no companion at all.
 */
const splitRefs = (operation: WriteOperation): ReadonlyArray<readonly [WriteOperation, "document" | "refs"]> => {
  if (operation._tag === "Delete") return [[operation, "document"], [operation, "refs"]]
  if (operation.refs === undefined) return [[operation, "document"]]
  return [[operation, "document"], [{ ...operation, json: `{${REFS_MEMBER}${operation.refs}}` }, "refs"]]
}

const REFS_MEMBER = `${JSON.stringify(REFS_FIELD)}:`

/** Deletes every document (and its refs) from the index's write generations, then refreshes them. */
const truncateIn = (cluster: Cluster, index: string): Effect.Effect<void, SinkError> =>
  Effect.gen(function* () {
    const generations = (yield* Ref.get(cluster.targets)).get(index)
    const physical = (generations === undefined ? [] : writeGenerations(generations)).flatMap((g) => [g, refsIndexName(g)])
    if (physical.length === 0) return
    // _delete_by_query deletes only what a search sees: without a refresh first, documents
    // written since the last refresh (batches run while more was queued) survive the truncate.
    yield* call(cluster.client, cluster.sink, `refresh before truncate ${index}`, {
      method: "POST",
      path: `/${physical.map(pathPart).join(",")}/_refresh`
    })
    yield* call(cluster.client, cluster.sink, `truncate ${index}`, {
      method: "POST",
      path: `/${physical.map(pathPart).join(",")}/_delete_by_query`,
      querystring: { conflicts: "proceed", refresh: "true", wait_for_completion: "true" },
      body: { query: { match_all: {} } }
    })
  }).pipe(cluster.lock.withPermits(1))

const referencingIn = (
  cluster: Cluster,
  index: string,
  refs: ReadonlyArray<string>,
  options: ReferenceSearchOptions
): Effect.Effect<ReadonlyArray<string>, SinkError> =>
  Effect.gen(function* () {
    const generations = writeGenerations(yield* targetsOf(cluster, index, "search of"))
    // Cleared before refreshing: a write completing meanwhile marks it again.
    const wasDirty = yield* Ref.modify(cluster.dirty, (dirty): [boolean, ReadonlySet<string>] => [
      cluster.writtenElsewhere || dirty.has(index),
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
  }).pipe(cluster.lock.withPermits(1))

/**
 * `referenceSearch` tunes `referencing` (page and terms-chunk sizes); tests shrink it to
 * prove paging. `writtenElsewhere`: other processes write to the same indexes (a
 * cluster's runners), so `refresh` and `referencing` cannot go by what this one wrote.
 */
export const make = (
  sinks: ReadonlyArray<ResolvedOpenSearchSink>,
  prefix: string,
  referenceSearch: ReferenceSearchOptions = defaultReferenceSearch,
  options: { readonly writtenElsewhere?: boolean } = {}
): Effect.Effect<Sink, never, Scope.Scope | OpenSearchClients> =>
  Effect.gen(function* () {
    const clients = yield* OpenSearchClients
    const clusters = new Map<string, Cluster>()
    for (const sink of sinks) {
      const client = clients.of(sink)
      const targets = yield* Ref.make<ReadonlyMap<string, Targets>>(new Map())
      const dirty = yield* Ref.make<ReadonlySet<string>>(new Set())
      const unrefreshed = yield* Ref.make<ReadonlySet<string>>(new Set())
      const lock = yield* Effect.makeSemaphore(ALL_PERMITS)
      clusters.set(sink.name, { client, sink, prefix, targets, lock, dirty, unrefreshed, writtenElsewhere: options.writtenElsewhere ?? false })
    }
    const cluster = (name: string): Effect.Effect<Cluster> => {
      const found = clusters.get(name)
      return found === undefined ? Effect.dieMessage(`unknown OpenSearch sink ${name}`) : Effect.succeed(found)
    }

    const sink: Sink = {
      names: [...clusters.keys()],
      ensureIndexes: (plans) =>
        Effect.forEach([...clusters.values()], (c) => ensureAll(c, plans)).pipe(Effect.map((all) => all.flat())),
      seed: (target, operations) => Effect.flatMap(cluster(target.sink), (c) => seedInto(c, target, operations)),
      write: (names, operations) =>
        Effect.forEach(
          names,
          (name) => Effect.flatMap(cluster(name), (c) => writeTo(c, operations)),
          { concurrency: "unbounded" }
        ).pipe(Effect.map((all) => all.flat())),
      refresh: (names) =>
        Effect.forEach(names, (name) => Effect.flatMap(cluster(name), refreshIn), { concurrency: "unbounded", discard: true }),
      reindex: (plan, options) => Effect.forEach([...clusters.values()], (c) => reindexIn(c, plan, options?.discardBuilding ?? false)),
      seeded: (target) => Effect.flatMap(cluster(target.sink), (c) => seededIn(c, target)),
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

export const layer = (sinks: ReadonlyArray<ResolvedOpenSearchSink>, prefix: string): Layer.Layer<Sink, never, OpenSearchClients> =>
  Layer.scoped(Sink, make(sinks, prefix))
