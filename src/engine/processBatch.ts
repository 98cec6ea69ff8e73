/**
 * One batch, start to finish: resolve the changes to document ids, build each affected
 * document once, write to the sinks (live documents to every sink, seed-only documents
 * to the sinks being seeded), apply the rejection policy, and only then acknowledge the
 * highest commit position the batch covers. A failure leaves the batch unacked, so the
 * source redelivers it; rebuilding from current state makes that harmless.
 */
import { Deferred, Effect } from "effect"
import { DocumentRejected, type EngineError } from "../errors.js"
import { encodeDocumentId, type KeyValues } from "../schema/documentId.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { ChangeSourceTag, type Change } from "../source/ChangeSource.js"
import { DocumentBuilderTag } from "../source/DocumentBuilder.js"
import { type Rejection, SinkTag, type WriteOperation } from "../sink/Sink.js"
import type { SeedChunk, WorkItem } from "./WorkItem.js"

export interface BatchContext {
  readonly plans: ReadonlyMap<string, IndexPlan>
  /** Every sink name: where live changes go. */
  readonly sinks: ReadonlyArray<string>
  /** Whether to make this batch's writes searchable at once (the pipeline has caught up). */
  readonly refresh: () => boolean
  /** Where skipped rejections are recorded. */
  readonly quarantine: (rejection: Rejection) => Effect.Effect<void>
}

export interface BatchOutcome {
  readonly documents: number
  readonly ackedTo: bigint | undefined
}

/** Document ids per index, and which sinks each set goes to. */
interface Target {
  readonly sinks: ReadonlyArray<string>
  readonly ids: Map<string, Set<string>>
}

const addAll = (into: Map<string, Set<string>>, index: string, ids: Iterable<string>) => {
  let set = into.get(index)
  if (set === undefined) into.set(index, set = new Set())
  for (const id of ids) set.add(id)
}

/** Documents built and written per statement and bulk call. */
const BUILD_CHUNK = 2000

/** Every root key of an index, as document ids. */
const allDocumentIds = (plan: IndexPlan) =>
  Effect.gen(function*() {
    const source = yield* ChangeSourceTag
    const ids: Array<string> = []
    let after: KeyValues | null = null
    while (true) {
      const keys: ReadonlyArray<KeyValues> = yield* source.snapshotKeys(plan, after, 10_000)
      const last = keys[keys.length - 1]
      if (last === undefined) return ids
      for (const key of keys) ids.push(encodeDocumentId(key))
      after = last
    }
  })

export const processBatch = (items: ReadonlyArray<WorkItem>, context: BatchContext) =>
  Effect.gen(function*() {
    const source = yield* ChangeSourceTag
    const builder = yield* DocumentBuilderTag
    const sink = yield* SinkTag

    const changes: Array<Change> = []
    const seeds: Array<SeedChunk> = []
    let ackTo: bigint | undefined
    for (const item of items) {
      switch (item._tag) {
        case "RowChange":
        case "TableTruncated":
          changes.push(item)
          break
        case "SeedChunk":
          seeds.push(item)
          break
        case "TransactionCommitted":
        case "SourceIdle":
          if (ackTo === undefined || item.lsn > ackTo) ackTo = item.lsn
          break
      }
    }

    const live: Target = { sinks: context.sinks, ids: new Map() }
    if (changes.length > 0) {
      const resolution = yield* builder.resolve(changes)
      // A truncated root table empties its index before this batch writes current state.
      for (const index of resolution.truncated) {
        if (!context.plans.has(index)) continue
        yield* Effect.logWarning(`root table truncated: removing every document`).pipe(Effect.annotateLogs("index", index))
        yield* sink.truncate(context.sinks, index)
      }
      // A truncated related table changes every document that read it: rebuild them all.
      for (const index of resolution.rebuild) {
        const plan = context.plans.get(index)
        if (plan === undefined) continue
        yield* Effect.logWarning(`related table truncated: rebuilding every document`).pipe(Effect.annotateLogs("index", index))
        addAll(live.ids, index, yield* allDocumentIds(plan))
      }
      for (const [index, ids] of resolution.documents) if (context.plans.has(index)) addAll(live.ids, index, ids)
      for (const [index, refs] of resolution.references) {
        if (context.plans.has(index)) addAll(live.ids, index, yield* sink.referencing(index, [...refs]))
      }
    }
    // A seeded id that is also live goes to every sink with the live ones: built once.
    const seedTargets = new Map<string, Target>()
    for (const seed of seeds) {
      const key = [...seed.sinks].sort().join(",")
      let target = seedTargets.get(key)
      if (target === undefined) seedTargets.set(key, target = { sinks: seed.sinks, ids: new Map() })
      const liveIds = live.ids.get(seed.index)
      addAll(target.ids, seed.index, seed.ids.filter((id) => !liveIds?.has(id)))
    }

    let documents = 0
    const refresh = context.refresh()
    for (const target of [live, ...seedTargets.values()]) {
      for (const [index, ids] of target.ids) {
        const plan = context.plans.get(index)
        if (plan === undefined || ids.size === 0) continue
        // One change can affect many documents (a renamed product, a truncated table):
        // build and write them a chunk at a time so memory stays bounded. Each document is
        // still built once per batch; only the last chunk asks for a refresh.
        const all = [...ids]
        for (let start = 0; start < all.length; start += BUILD_CHUNK) {
          const built = yield* builder.build(plan, all.slice(start, start + BUILD_CHUNK)).pipe(Effect.annotateLogs("index", index))
          documents += built.length
          const operations = built.map((doc): WriteOperation =>
            doc.json === null ? { _tag: "Delete", index, id: doc.id } : { _tag: "Upsert", index, id: doc.id, json: doc.json }
          )
          const last = start + BUILD_CHUNK >= all.length
          const rejections = yield* sink.write(target.sinks, operations, { refresh: refresh && last })
          for (const rejection of rejections) {
            const policy = context.plans.get(rejection.index)?.onError ?? "stop"
            if (policy === "stop") return yield* new DocumentRejected(rejection)
            yield* context.quarantine(rejection)
          }
        }
      }
    }

    for (const seed of seeds) yield* Deferred.succeed(seed.flushed, undefined)
    if (ackTo !== undefined) yield* source.ack(ackTo)
    return { documents, ackedTo: ackTo } satisfies BatchOutcome
  })

/** Fails every seed chunk of a batch that could not be processed, so their backfill stops too. */
export const failSeeds = (items: ReadonlyArray<WorkItem>, error: EngineError) =>
  Effect.forEach(items, (item) => (item._tag === "SeedChunk" ? Deferred.fail(item.flushed, error) : Effect.void), { discard: true })
