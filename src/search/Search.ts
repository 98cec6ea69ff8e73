/**
 * The search service: runs `SearchRequest`s against one cluster, through the alias `run`
 * serves for each index (`<prefix><index>`, sink/opensearch/names.ts), and hands back
 * typed pages. `Search.layer(config)` connects the way the config's OpenSearch sink does;
 * `Search.layerConnection({ url, prefix })` connects by hand. The OpenSearch client is
 * scoped to the layer; transient failures are retried like the sink's own requests.
 */
import type { Client } from "@opensearch-project/opensearch"
import { Context, Effect, Either, Layer, Option, ParseResult, Schema } from "effect"
import type { Scope } from "effect"
import type { ConfigInvalid, SinkError } from "../errors.js"
import { makeClient } from "../sink/opensearch/client.js"
import { convenienceAliasName } from "../sink/opensearch/names.js"
import { call, pathPart, type Request, type Response } from "../sink/opensearch/request.js"
import { connectionFromConfig, connectionFromParts, type FromConfigOptions, type ResolvedConnection, type SearchConnection } from "./connection.js"
import { BadQuery, IndexNotFound, type SearchError, SearchUnavailable, UnexpectedResponse } from "./errors.js"
import { fillSelected, includesOf } from "./projection.js"
import { type Cursor, DEFAULT_SIZE, queryOf, type Runnable, type SearchableConfig, searchBody, subfieldsOf } from "./SearchRequest.js"

/** One hit: the document (or its projection), its id and its relevance score (0 in filter context). */
export interface Hit<D> {
  readonly id: string
  readonly score: number
  readonly document: D
}

export interface Page<D> {
  /** How many documents match in all (exact). */
  readonly total: number
  readonly hits: ReadonlyArray<Hit<D>>
  /** Pass to `after` for the next page; undefined when this page is the last. */
  readonly next: Cursor | undefined
}

/** The pages of several requests, in their order. */
export type Pages<Rs extends ReadonlyArray<Runnable<unknown>>> = {
  -readonly [K in keyof Rs]: Rs[K] extends Runnable<infer D> ? Page<D> : never
}

export interface SearchService {
  /** One page of hits. */
  readonly search: <D>(request: Runnable<D>) => Effect.Effect<Page<D>, SearchError>
  /** How many documents match the request's conditions. */
  readonly count: (request: Runnable<unknown>) => Effect.Effect<number, SearchError>
  /** The document with this id (its projection, if the request selects), or undefined. */
  readonly get: <D>(request: Runnable<D>, id: string) => Effect.Effect<D | undefined, SearchError>
  /** Several searches in one round trip (`_msearch`); fails with the first that failed. */
  readonly msearch: <const Rs extends ReadonlyArray<Runnable<unknown>>>(requests: Rs) => Effect.Effect<Pages<Rs>, SearchError>
}

// ---------------------------------------------------------------------------------------
// Wire shapes
// ---------------------------------------------------------------------------------------

const CursorValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null)

const SearchHit = Schema.Struct({
  _id: Schema.String,
  _score: Schema.NullOr(Schema.Number),
  _source: Schema.optional(Schema.Unknown),
  sort: Schema.optional(Schema.Array(CursorValue))
})

const ShardFailure = Schema.Struct({ reason: Schema.optional(Schema.Struct({ type: Schema.optional(Schema.String), reason: Schema.optional(Schema.String) })) })

const SearchResponse = Schema.Struct({
  _shards: Schema.optional(Schema.Struct({ failed: Schema.Number, failures: Schema.optional(Schema.Array(ShardFailure)) })),
  hits: Schema.Struct({ total: Schema.Struct({ value: Schema.Number }), hits: Schema.Array(SearchHit) })
})

// `error` as a string or an object: `Unknown` would also take a missing key, and every item has a status.
const ItemError = Schema.Struct({ status: Schema.Number, error: Schema.Union(Schema.String, Schema.Record({ key: Schema.String, value: Schema.Unknown })) })

const MsearchResponse = Schema.Struct({ responses: Schema.Array(Schema.Union(ItemError, SearchResponse)) })

const CountResponse = Schema.Struct({ count: Schema.Number })

const GetResponse = Schema.Union(
  Schema.Struct({ found: Schema.Literal(true), _id: Schema.String, _source: Schema.Unknown }),
  Schema.Struct({ found: Schema.Literal(false) }),
  Schema.Struct({ status: Schema.Literal(404), error: Schema.Unknown })
)

const ErrorCause = Schema.Struct({ type: Schema.optional(Schema.String), reason: Schema.optional(Schema.String) })
const ErrorBody = Schema.Struct({
  error: Schema.Union(Schema.String, Schema.Struct({ ...ErrorCause.fields, root_cause: Schema.optional(Schema.Array(ErrorCause)) }))
})

/** The most telling part of an OpenSearch error: its root cause's type and reason. */
const errorReason = (error: unknown): string => {
  const decoded = Schema.decodeUnknownOption(ErrorBody)({ error })
  if (Option.isNone(decoded)) return JSON.stringify(error)
  const body = decoded.value.error
  if (typeof body === "string") return body
  const cause = body.root_cause?.[0] ?? body
  return [cause.type, cause.reason].filter((part) => part !== undefined).join(": ") || JSON.stringify(error)
}

const errorType = (error: unknown): string | undefined => {
  const decoded = Schema.decodeUnknownOption(ErrorBody)({ error })
  return Option.isSome(decoded) && typeof decoded.value.error !== "string" ? decoded.value.error.type : undefined
}

const parseErrorBody = (text: string): unknown => {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === "object" && parsed !== null && "error" in parsed ? parsed.error : text
  } catch {
    return text
  }
}

/** Statuses (and error types) that mean the query itself is wrong. */
const isBadQuery = (status: number, error: unknown): boolean =>
  status === 400 || errorType(error) === "search_phase_execution_exception"

/** A failed item or request, as a search error of `index` read through `alias`. */
const failure = (index: string, alias: string, operation: string, status: number, error: unknown): SearchError =>
  status === 404
    ? new IndexNotFound({ index, alias })
    : isBadQuery(status, error)
      ? new BadQuery({ index, reason: errorReason(error) })
      : new SearchUnavailable({ operation, reason: `HTTP ${status}: ${errorReason(error)}` })

const fromSinkError = (index: string, alias: string, operation: string) => (error: SinkError): SearchError =>
  error._tag === "SinkUnavailable"
    ? new SearchUnavailable({ operation, reason: error.reason, cause: error.cause })
    : failure(index, alias, operation, error.status, parseErrorBody(error.body))

const decode = <A, I>(schema: Schema.Schema<A, I>, index: string, value: unknown, id?: string): Effect.Effect<A, UnexpectedResponse> =>
  Either.match(Schema.decodeUnknownEither(schema)(value), {
    onLeft: (error) =>
      Effect.fail(new UnexpectedResponse({ index, reason: ParseResult.TreeFormatter.formatErrorSync(error), ...(id === undefined ? {} : { id }) })),
    onRight: Effect.succeed
  })

// ---------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------

export const make = (connection: ResolvedConnection): Effect.Effect<SearchService, never, Scope.Scope> =>
  Effect.gen(function* () {
    const client: Client = yield* makeClient(connection.sink)
    const aliasOf = (request: Runnable<unknown>): string => convenienceAliasName(connection.prefix, request.target.name)

    const send = (request: Runnable<unknown>, operation: string, http: Request): Effect.Effect<Response, SearchError> =>
      call(client, connection.sink, operation, http).pipe(
        Effect.mapError(fromSinkError(request.target.name, aliasOf(request), operation))
      )

    /** A request reading derived subfields fails before it is sent when the sink derives none. */
    const checkSubfields = (request: Runnable<unknown>): Effect.Effect<void, BadQuery> => {
      const used = subfieldsOf(request.state)
      return connection.sink.autoSubfields || used.length === 0
        ? Effect.void
        : Effect.fail(new BadQuery({
          index: request.target.name,
          reason: `${[...new Set(used)].join(", ")}: the mapping derives these subfields only with autoSubfields, which sink ${connection.sink.name} turns off; query the field itself`
        }))
    }

    /** A decoded `_search` answer as a typed page. */
    const pageOf = <D>(request: Runnable<D>, response: typeof SearchResponse.Type): Effect.Effect<Page<D>, SearchError> =>
      Effect.gen(function* () {
        const index = request.target.name
        const failed = response._shards?.failed ?? 0
        if (failed > 0) {
          const reasons = (response._shards?.failures ?? []).map((f) => [f.reason?.type, f.reason?.reason].filter(Boolean).join(": "))
          return yield* Effect.fail(new BadQuery({ index, reason: `${failed} shard(s) failed: ${reasons.join("; ") || "no reason given"}` }))
        }
        const { selection } = request.state
        const schema = request.target.schema(selection)
        const hits = yield* Effect.forEach(response.hits.hits, (hit) =>
          Effect.map(
            decode(schema, index, selection === undefined ? hit._source : fillSelected(hit._source, request.target.plan.fields, selection), hit._id),
            // The one cast of a hit: it passed the schema derived from the config its type comes from.
            (document) => ({ id: hit._id, score: hit._score ?? 0, document: document as D })
          ))
        const size = request.state.size ?? DEFAULT_SIZE
        const last = response.hits.hits[response.hits.hits.length - 1]
        return { total: response.hits.total.value, hits, next: hits.length === size && size > 0 ? last?.sort : undefined }
      })

    const search = <D>(request: Runnable<D>): Effect.Effect<Page<D>, SearchError> =>
      Effect.gen(function* () {
        yield* checkSubfields(request)
        const index = request.target.name
        const response = yield* send(request, `search ${index}`, { method: "POST", path: `/${pathPart(aliasOf(request))}/_search`, body: searchBody(request) })
        return yield* pageOf(request, yield* decode(SearchResponse, index, response.body))
      })

    const count = (request: Runnable<unknown>): Effect.Effect<number, SearchError> =>
      Effect.gen(function* () {
        yield* checkSubfields(request)
        const index = request.target.name
        const response = yield* send(request, `count ${index}`, { method: "POST", path: `/${pathPart(aliasOf(request))}/_count`, body: { query: queryOf(request.state) } })
        return (yield* decode(CountResponse, index, response.body)).count
      })

    const get = <D>(request: Runnable<D>, id: string): Effect.Effect<D | undefined, SearchError> =>
      Effect.gen(function* () {
        const index = request.target.name
        const alias = aliasOf(request)
        const { selection } = request.state
        const response = yield* send(request, `get ${index}/${id}`, {
          method: "GET",
          path: `/${pathPart(alias)}/_doc/${encodeURIComponent(id)}`,
          ...(selection === undefined ? {} : { querystring: { _source_includes: includesOf(selection, request.target.plan.fields).join(",") } }),
          ignore: [404]
        })
        const body = yield* decode(GetResponse, index, response.body)
        if ("status" in body) return yield* Effect.fail(new IndexNotFound({ index, alias }))
        if (!body.found) return undefined
        const source = selection === undefined ? body._source : fillSelected(body._source, request.target.plan.fields, selection)
        // As for hits: decoded by the schema of the config `D` is computed from.
        return (yield* decode(request.target.schema(selection), index, source, id)) as D
      })

    const msearch = <const Rs extends ReadonlyArray<Runnable<unknown>>>(requests: Rs): Effect.Effect<Pages<Rs>, SearchError> =>
      Effect.gen(function* () {
        yield* Effect.forEach(requests, checkSubfields, { discard: true })
        const ndjson = requests.map((r) => `${JSON.stringify({ index: aliasOf(r) })}\n${JSON.stringify(searchBody(r))}\n`).join("")
        const names = requests.map((r) => r.target.name).join(", ")
        const first = requests[0]
        // OpenSearch refuses an empty _msearch; no searches, no pages.
        const { responses } = first === undefined
          ? { responses: [] }
          : yield* decode(MsearchResponse, names, (yield* send(first, `msearch ${names}`, { method: "POST", path: "/_msearch", ndjson })).body)
        if (responses.length !== requests.length) {
          return yield* Effect.fail(new UnexpectedResponse({ index: names, reason: `${responses.length} responses to ${requests.length} searches` }))
        }
        const pages = yield* Effect.forEach(requests, (request, i) => {
          const item = responses[i]
          if (item === undefined || "error" in item) {
            return Effect.fail(failure(request.target.name, aliasOf(request), `msearch ${request.target.name}`, item?.status ?? 0, item?.error))
          }
          return pageOf(request, item)
        })
        // Each page was decoded by its own request's schema, in the requests' order.
        return pages as unknown as Pages<Rs>
      })

    return { search, count, get, msearch }
  })

/** The search service, from a config's OpenSearch sink or from a connection given by hand. */
export class Search extends Context.Tag("flusso/Search")<Search, SearchService>() {
  /**
   * Searches the way `config`'s OpenSearch sink connects (`options.sink` when it has
   * several), through the aliases its prefix names. Fails with `ConfigInvalid` when the
   * config would not run.
   */
  static layer(config: SearchableConfig, options?: FromConfigOptions): Layer.Layer<Search, ConfigInvalid> {
    return Layer.scoped(Search, Effect.flatMap(connectionFromConfig(config, options), make))
  }

  /** Searches the cluster at `connection.url`, through the aliases of `connection.prefix`. */
  static layerConnection(connection: SearchConnection): Layer.Layer<Search, ConfigInvalid> {
    return Layer.scoped(Search, Effect.flatMap(connectionFromParts(connection), make))
  }
}
