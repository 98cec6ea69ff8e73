/**
 * Finding the documents that read a related row: a terms query on `REFS_FIELD` in the
 * refs companions of the generations an index writes to (ids there are the documents'
 * ids). Used when a related row is deleted from a table without REPLICA IDENTITY FULL,
 * whose delete carries only its key.
 */
import { Effect, Ref, Schema } from "effect"
import type { SinkError } from "../../errors.js"
import { REFS_FIELD } from "../../schema/mapping.js"
import type { ClusterContext } from "./indexLifecycle.js"
import { decodeBody, pathPart, send } from "./request.js"
import type { Request } from "./request.js"
import { retryTransient } from "./retryPolicy.js"

export interface ReferenceSearchOptions {
  /** Hits per scroll page. */
  readonly pageSize: number
  /** Refs per terms query; OpenSearch refuses more than `index.max_terms_count` (65536). */
  readonly chunkSize: number
}

export const defaultReferenceSearch: ReferenceSearchOptions = { pageSize: 1000, chunkSize: 1000 }

/** How long a scroll context lives between two pages. */
const SCROLL_KEEP_ALIVE = "1m"

const ScrollPage = Schema.Struct({
  _scroll_id: Schema.optional(Schema.String),
  hits: Schema.Struct({ hits: Schema.Array(Schema.Struct({ _id: Schema.String })) })
})

const indexList = (indexes: ReadonlyArray<string>): string => indexes.map(pathPart).join(",")

/**
 * Every id matching one chunk of refs, page by page through a scroll (sorted by `_doc`,
 * the cheapest order; portable across OpenSearch 2.x and 3.x, unlike sorting on `_id`).
 * A scroll page is not idempotent — a retried page after a lost response would skip
 * hits — so pages are sent once and a transient failure restarts the whole scan.
 */
const scanChunk = (
  ctx: ClusterContext,
  indexes: ReadonlyArray<string>,
  refs: ReadonlyArray<string>,
  pageSize: number
): Effect.Effect<ReadonlyArray<string>, SinkError> => {
  const operation = `search ${REFS_FIELD} of ${indexes.join(",")}`
  const page = (request: Request) =>
    send(ctx.client, ctx.sink.name, operation, request).pipe(Effect.flatMap(decodeBody(ScrollPage, ctx.sink.name, operation)))
  return Effect.gen(function* () {
    const scrollId = yield* Ref.make<string | undefined>(undefined)
    const clear = Ref.get(scrollId).pipe(
      Effect.flatMap((id) =>
        id === undefined
          ? Effect.void
          : send(ctx.client, ctx.sink.name, "clear scroll", {
              method: "DELETE",
              path: "/_search/scroll",
              body: { scroll_id: [id] },
              ignore: [404]
            })
      ),
      // Unreleased contexts expire with their keep-alive; not worth failing the answer for.
      Effect.ignore
    )
    const remember = (current: typeof ScrollPage.Type) =>
      current._scroll_id === undefined ? Effect.void : Ref.set(scrollId, current._scroll_id)
    const scan = Effect.gen(function* () {
      const ids: Array<string> = []
      let current = yield* page({
        method: "POST",
        path: `/${indexList(indexes)}/_search`,
        querystring: { scroll: SCROLL_KEEP_ALIVE, ignore_unavailable: true },
        body: {
          size: pageSize,
          _source: false,
          sort: ["_doc"],
          query: { terms: { [REFS_FIELD]: refs } }
        }
      })
      yield* remember(current)
      // The scroll API's contract: pages until one comes back empty.
      while (current.hits.hits.length > 0) {
        for (const hit of current.hits.hits) ids.push(hit._id)
        const id = current._scroll_id
        if (id === undefined) break
        current = yield* page({ method: "POST", path: "/_search/scroll", body: { scroll: SCROLL_KEEP_ALIVE, scroll_id: id } })
        yield* remember(current)
      }
      return ids
    })
    return yield* scan.pipe(Effect.ensuring(clear))
  }).pipe(retryTransient({ maxRetries: ctx.sink.maxRetries }))
}

/** The distinct ids of documents in `indexes` whose refs hold any of `refs`. */
export const searchReferencing = (
  ctx: ClusterContext,
  indexes: ReadonlyArray<string>,
  refs: ReadonlyArray<string>,
  options: ReferenceSearchOptions
): Effect.Effect<ReadonlyArray<string>, SinkError> => {
  if (indexes.length === 0 || refs.length === 0) return Effect.succeed([])
  const chunks: Array<ReadonlyArray<string>> = []
  for (let i = 0; i < refs.length; i += options.chunkSize) chunks.push(refs.slice(i, i + options.chunkSize))
  return Effect.forEach(chunks, (chunk) => scanChunk(ctx, indexes, chunk, options.pageSize)).pipe(
    // A document in two generations, or matching refs of two chunks, is one id.
    Effect.map((perChunk) => [...new Set(perChunk.flat())])
  )
}
