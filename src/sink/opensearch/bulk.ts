/**
 * Bulk writes, hand-driven: `helpers.bulk` drops failures silently and cannot say which
 * items failed in a way we can retry or quarantine — both matter here.
 *
 * The NDJSON body is assembled from the documents' JSON text as it came from the
 * builder, so int8/numeric values keep every digit. Requests are split at `batchSize`
 * actions and `maxBytes` bytes, two in flight. Items are matched to results by position.
 *
 * Every action carries its build's version (`version_type=external_gte`): OpenSearch
 * refuses an action older than what the document holds (409), which means something at
 * least as new is there — success. So a request the client gave up on and OpenSearch
 * executes later, after newer writes, changes nothing.
 */
import type { Client } from "@opensearch-project/opensearch"
import { Effect, Schedule, Schema } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import { SinkRequestFailed, SinkUnavailable } from "../../errors.js"
import type { SinkError } from "../../errors.js"
import { singleLine } from "../jsonText.js"
import type { Rejection, WriteOperation } from "../Sink.js"
import { decodeBody, retryableStatus, send } from "./request.js"
import { retrySchedule, retryTransient } from "./retryPolicy.js"

/** One operation aimed at one physical index (a generation). */
export interface BulkAction {
  readonly operation: WriteOperation
  readonly target: string
}

/** An action with its NDJSON lines (trailing newline included) and their size. */
export interface EncodedAction {
  readonly action: BulkAction
  readonly ndjson: string
  readonly bytes: number
}

export const encodeAction = (action: BulkAction): EncodedAction => {
  const { operation, target } = action
  // By hand: a version is a bigint (an LSN), which JSON.stringify refuses and Number would round.
  const meta = `{"_index":${JSON.stringify(target)},"_id":${JSON.stringify(operation.id)},"version":${operation.version.toString()},"version_type":"external_gte"}`
  const ndjson =
    operation._tag === "Upsert"
      ? `{"index":${meta}}\n${singleLine(operation.json)}\n`
      : `{"delete":${meta}}\n`
  return { action, ndjson, bytes: Buffer.byteLength(ndjson) }
}

/**
 * Splits actions, in order, into requests of at most `batchSize` actions and `maxBytes`
 * bytes; an action larger than `maxBytes` goes alone rather than never.
 */
export const chunkActions = (
  actions: ReadonlyArray<EncodedAction>,
  limits: { readonly batchSize: number; readonly maxBytes: number }
): ReadonlyArray<ReadonlyArray<EncodedAction>> => {
  const chunks: Array<Array<EncodedAction>> = []
  let current: Array<EncodedAction> = []
  let bytes = 0
  for (const action of actions) {
    if (current.length > 0 && (current.length >= limits.batchSize || bytes + action.bytes > limits.maxBytes)) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(action)
    bytes += action.bytes
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

const ItemCause = Schema.Struct({ type: Schema.String, reason: Schema.optional(Schema.NullOr(Schema.String)) })

const ItemError = Schema.Union(
  Schema.String,
  Schema.Struct({
    type: Schema.String,
    reason: Schema.optional(Schema.NullOr(Schema.String)),
    caused_by: Schema.optional(ItemCause)
  })
)

const ItemResult = Schema.Struct({
  status: Schema.Number,
  result: Schema.optional(Schema.String),
  error: Schema.optional(ItemError)
})
type ItemResult = typeof ItemResult.Type

const BulkItem = Schema.Struct({
  index: Schema.optional(ItemResult),
  create: Schema.optional(ItemResult),
  update: Schema.optional(ItemResult),
  delete: Schema.optional(ItemResult)
})

const BulkResponse = Schema.Struct({ errors: Schema.Boolean, items: Schema.Array(Schema.Unknown) })
const decodeItem = Schema.decodeUnknownEither(BulkItem)

/**
 * Only what `outcome` reads comes back: a response naming every item's index, id,
 * version and shards is most of a bulk request's cost to parse.
 */
const BULK_FILTER = "errors,items.*.status,items.*.error"

type ItemOutcome = { readonly _tag: "Ok" } | { readonly _tag: "Retry" } | { readonly _tag: "Rejected"; readonly reason: string }

const describeError = (error: typeof ItemError.Type | undefined): string => {
  if (error === undefined) return "unknown error"
  if (typeof error === "string") return error
  const head = `${error.type}: ${error.reason ?? ""}`
  return error.caused_by === undefined ? head : `${head} (caused by ${error.caused_by.type}: ${error.caused_by.reason ?? ""})`
}

const outcome = (action: BulkAction, item: ItemResult): ItemOutcome => {
  if (item.status >= 200 && item.status < 300) return { _tag: "Ok" }
  // Deleting what is not there reaches the desired state: success, never a rejection.
  if (action.operation._tag === "Delete" && item.status === 404) return { _tag: "Ok" }
  const type = item.error === undefined || typeof item.error === "string" ? undefined : item.error.type
  // The document holds a newer build (or this very one): nothing older may replace it.
  if (item.status === 409 && type === "version_conflict_engine_exception") return { _tag: "Ok" }
  if (retryableStatus(item.status) || type === "es_rejected_execution_exception") return { _tag: "Retry" }
  return { _tag: "Rejected", reason: `HTTP ${item.status}: ${describeError(item.error)}` }
}

const documentKey = (action: BulkAction): string => `${action.target}\u0000${action.operation.id}`

interface PassResult {
  readonly rejections: ReadonlyArray<Rejection>
  /** Actions to send again, in their original order. */
  readonly retry: ReadonlyArray<EncodedAction>
}

/**
 * Sorts one response into rejections and actions to retry. A retried action is re-sent
 * together with every later action of the same document in the request, so a write that
 * succeeded after a throttled one cannot be overtaken by it.
 */
const sortResults = (
  sink: string,
  pending: ReadonlyArray<EncodedAction>,
  outcomes: ReadonlyArray<ItemOutcome>
): PassResult => {
  const throttled = new Set<string>()
  const retry: Array<EncodedAction> = []
  const rejections: Array<Rejection> = []
  pending.forEach((encoded, i) => {
    const result = outcomes[i] ?? { _tag: "Ok" }
    const key = documentKey(encoded.action)
    if (result._tag === "Retry" || throttled.has(key)) {
      throttled.add(key)
      retry.push(encoded)
    } else if (result._tag === "Rejected") {
      const { index, id } = encoded.action.operation
      rejections.push({ sink, index, id, reason: result.reason })
    }
  })
  return { rejections, retry }
}

export interface BulkContext {
  readonly client: Client
  readonly sink: ResolvedOpenSearchSink
}

/** One request: transport-level failures retried here; item-level outcomes returned. */
const sendOnce = (ctx: BulkContext, pending: ReadonlyArray<EncodedAction>): Effect.Effect<PassResult, SinkError> => {
  const sink = ctx.sink.name
  const operation = `bulk of ${pending.length} actions`
  return send(ctx.client, sink, operation, {
    method: "POST",
    path: "/_bulk",
    querystring: { filter_path: BULK_FILTER, ...(ctx.sink.pipeline !== undefined ? { pipeline: ctx.sink.pipeline } : {}) },
    ndjson: pending.map((a) => a.ndjson).join("")
  }).pipe(
    retryTransient({ maxRetries: ctx.sink.maxRetries }),
    Effect.flatMap(decodeBody(BulkResponse, sink, operation)),
    Effect.flatMap((response) => {
      if (response.items.length !== pending.length) {
        return Effect.fail(
          new SinkRequestFailed({
            sink,
            status: 200,
            operation,
            body: `bulk response has ${response.items.length} items for ${pending.length} actions`
          })
        )
      }
      // Without errors every item succeeded: nothing to look at one by one.
      if (!response.errors) return Effect.succeed({ rejections: [], retry: [] })
      const outcomes = response.items.map((raw, i): ItemOutcome => {
        const item = decodeItem(raw)
        const result = item._tag === "Left" ? undefined : item.right.index ?? item.right.create ?? item.right.update ?? item.right.delete
        const action = pending[i]
        return result === undefined || action === undefined
          ? { _tag: "Rejected", reason: "bulk response item without a result" }
          : outcome(action.action, result)
      })
      return Effect.succeed(sortResults(sink, pending, outcomes))
    })
  )
}

/** One chunk until every action is settled: throttled items are retried alone, with backoff. */
const sendChunk = (ctx: BulkContext, chunk: ReadonlyArray<EncodedAction>): Effect.Effect<ReadonlyArray<Rejection>, SinkError> =>
  Effect.gen(function* () {
    const driver = yield* Schedule.driver(retrySchedule({ maxRetries: ctx.sink.maxRetries }))
    const rejections: Array<Rejection> = []
    let pending = chunk
    while (pending.length > 0) {
      const pass = yield* sendOnce(ctx, pending)
      rejections.push(...pass.rejections)
      if (pass.retry.length > 0) {
        const stillThrottled = pass.retry.length
        yield* driver.next(undefined).pipe(
          Effect.mapError(
            () =>
              new SinkUnavailable({
                sink: ctx.sink.name,
                reason: `${stillThrottled} bulk items still throttled after ${ctx.sink.maxRetries} retries`
              })
          )
        )
      }
      pending = pass.retry
    }
    return rejections
  })

/** Bulk requests of one write in flight at once. */
const REQUESTS_IN_FLIGHT = 2

/**
 * Writes every action and returns the items OpenSearch refused. The requests of one write
 * run two at a time: each action carries its version, so which lands first does not
 * matter (a write holds one action per document and index). Refreshing is the caller's
 * (`refreshIndexes`): a bulk request's `refresh` covers only the shards it touched, not
 * what earlier requests wrote to other shards.
 */
export const bulkWrite = (
  ctx: BulkContext,
  actions: ReadonlyArray<BulkAction>
): Effect.Effect<ReadonlyArray<Rejection>, SinkError> => {
  const chunks = chunkActions(actions.map(encodeAction), ctx.sink)
  return Effect.forEach(chunks, (chunk) => sendChunk(ctx, chunk), { concurrency: REQUESTS_IN_FLIGHT }).pipe(
    Effect.map((perChunk) => perChunk.flat())
  )
}
