/**
 * One live batch, start to finish: wait until the database shows every transaction of
 * the batch, resolve the changes to document ids, build each affected document once,
 * write to every sink with the batch's version, apply the rejection policy, and only then
 * acknowledge the highest commit position the batch covers. A failure leaves the batch
 * unacked, so the source redelivers it; rebuilding from current state makes that harmless.
 *
 * The version of every write is the highest commit position of the batch's transactions:
 * the build reads a state that holds all of them, so a later batch, which holds later
 * transactions, always writes a higher version (pipeline.md "Ordering and correctness").
 */
import { Duration, Effect } from "effect"
import { DocumentRejected } from "../errors.js"
import { encodeDocumentId, type KeyValues } from "../schema/documentId.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { ChangeSourceTag, type Change, type SourceEvent } from "../source/ChangeSource.js"
import { DocumentBuilderTag } from "../source/DocumentBuilder.js"
import { type Rejection, SinkTag, type WriteOperation } from "../sink/Sink.js"

export interface BatchContext {
  readonly plans: ReadonlyMap<string, IndexPlan>
  /** Every sink name: where live changes go. */
  readonly sinks: ReadonlyArray<string>
  /** Whether to make what was written searchable now (the pipeline keeps up, or it just recovered). */
  readonly refresh: boolean
  /** Where skipped rejections are recorded. */
  readonly quarantine: (rejection: Rejection) => Effect.Effect<void>
}

export interface BatchOutcome {
  /** Row changes (and truncates) the batch covered. */
  readonly changes: number
  /** Documents built and written, per index. */
  readonly documents: ReadonlyMap<string, number>
  /** Milliseconds spent writing to the sinks (the flush). */
  readonly flushMs: number
  readonly ackedTo: bigint | undefined
  /** When each transaction the batch acknowledged committed. */
  readonly commitTimes: ReadonlyArray<Date>
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
      const keys: ReadonlyArray<KeyValues> = yield* source.snapshotKeys(plan, { after, upTo: null, limit: 10_000 })
      const last = keys[keys.length - 1]
      if (last === undefined) return ids
      for (const key of keys) ids.push(encodeDocumentId(key))
      after = last
    }
  })

/** Applies the rejection policy of each refused document's index: `stop` fails, `skip` quarantines. */
export const handleRejections = (
  rejections: ReadonlyArray<Rejection>,
  plans: ReadonlyMap<string, IndexPlan>,
  quarantine: (rejection: Rejection) => Effect.Effect<void>
): Effect.Effect<void, DocumentRejected> =>
  Effect.forEach(rejections, (rejection) =>
    (plans.get(rejection.index)?.onError ?? "stop") === "stop" ? Effect.fail(new DocumentRejected(rejection)) : quarantine(rejection), {
    discard: true
  })

export const processBatch = (items: ReadonlyArray<SourceEvent>, context: BatchContext) =>
  Effect.gen(function*() {
    const source = yield* ChangeSourceTag
    const builder = yield* DocumentBuilderTag
    const sink = yield* SinkTag

    const changes: Array<Change> = []
    const commitTimes: Array<Date> = []
    let ackTo: bigint | undefined
    let version = 0n
    for (const item of items) {
      switch (item._tag) {
        case "RowChange":
        case "TableTruncated":
          changes.push(item)
          if (item.commitLsn > version) version = item.commitLsn
          break
        case "TransactionCommitted":
          commitTimes.push(item.commitTime)
          if (ackTo === undefined || item.lsn > ackTo) ackTo = item.lsn
          break
        case "SourceIdle":
          if (ackTo === undefined || item.lsn > ackTo) ackTo = item.lsn
          break
      }
    }

    const affected = new Map<string, Set<string>>()
    if (changes.length > 0) {
      // Before anything reads: "not found" must mean deleted, not "not committed yet".
      yield* builder.awaitVisible(changes.map((change) => change.xid))
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
        addAll(affected, index, yield* allDocumentIds(plan))
      }
      for (const [index, ids] of resolution.documents) if (context.plans.has(index)) addAll(affected, index, ids)
      for (const [index, refs] of resolution.references) {
        if (context.plans.has(index)) addAll(affected, index, yield* sink.referencing(index, [...refs]))
      }
    }

    const documents = new Map<string, number>()
    let flushMs = 0
    for (const [index, ids] of affected) {
      const plan = context.plans.get(index)
      if (plan === undefined || ids.size === 0) continue
      // One change can affect many documents (a renamed product, a truncated table):
      // build and write them a chunk at a time so memory stays bounded. Each document is
      // still built once per batch.
      const all = [...ids]
      for (let start = 0; start < all.length; start += BUILD_CHUNK) {
        const built = yield* builder.build(plan, all.slice(start, start + BUILD_CHUNK)).pipe(Effect.annotateLogs("index", index))
        documents.set(index, (documents.get(index) ?? 0) + built.length)
        const operations = built.map((doc): WriteOperation =>
          doc.json === null ? { _tag: "Delete", index, id: doc.id, version } : { _tag: "Upsert", index, id: doc.id, json: doc.json, version }
        )
        const [took, rejections] = yield* Effect.timed(sink.write(context.sinks, operations))
        flushMs += Duration.toMillis(took)
        yield* handleRejections(rejections, context.plans, context.quarantine)
      }
    }

    if (context.refresh) yield* sink.refresh(context.sinks)
    if (ackTo !== undefined) yield* source.ack(ackTo)
    return { changes: changes.length, documents, flushMs, ackedTo: ackTo, commitTimes } satisfies BatchOutcome
  })
