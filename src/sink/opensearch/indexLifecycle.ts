/**
 * Index lifecycle in one cluster: find or create the generation of an index shape, point
 * the aliases at it when nothing serves yet, and give a seeded generation its
 * steady-state settings.
 *
 * Design note on aliases: a generation created while the convenience alias already
 * serves another generation (a schema change) is left without aliases here. Aliases move
 * only when a generation is seeded (opensearch.md "Lifecycle"); that swap — refresh,
 * settings, one atomic `_aliases` call moving both aliases, retiring superseded
 * generations (each with its `refsIndexName` companion) — belongs to the seeding step,
 * which will build on `aliasTargets` below.
 */
import type { Client } from "@opensearch-project/opensearch"
import { Effect, Schema } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import { SinkRequestFailed } from "../../errors.js"
import type { SinkError } from "../../errors.js"
import { deriveMapping, indexSettings, refsIndexMappings } from "../../schema/mapping.js"
import type { IndexPlan } from "../../schema/IndexPlan.js"
import { convenienceAliasName, generationName, generationNumber, hashAliasName, refsIndexName } from "./names.js"
import { call as callWithRetry, decodeBody, pathPart } from "./request.js"
import type { Request, Response } from "./request.js"

/** What lifecycle operations need to reach one sink's cluster. */
export interface ClusterContext {
  readonly client: Client
  readonly sink: ResolvedOpenSearchSink
  readonly prefix: string
}

/** `GET …/_alias`: index name → its aliases. */
const AliasesByIndex = Schema.Record({
  key: Schema.String,
  value: Schema.Struct({ aliases: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
})

const ErrorBody = Schema.Struct({ error: Schema.Struct({ type: Schema.String }) })

const Acknowledged = Schema.Struct({ acknowledged: Schema.Boolean })

const call = (ctx: ClusterContext, operation: string, request: Request): Effect.Effect<Response, SinkError> =>
  callWithRetry(ctx.client, ctx.sink, operation, request)

/** The indexes an alias points at (empty when the alias does not exist). */
export const aliasTargets = (ctx: ClusterContext, alias: string): Effect.Effect<ReadonlyArray<string>, SinkError> =>
  call(ctx, `get alias ${alias}`, { method: "GET", path: `/_alias/${pathPart(alias)}`, ignore: [404] }).pipe(
    Effect.flatMap((response) =>
      response.statusCode === 404
        ? Effect.succeed<ReadonlyArray<string>>([])
        : decodeBody(AliasesByIndex, ctx.sink.name, `get alias ${alias}`)(response).pipe(
            Effect.map((byIndex) => Object.keys(byIndex).filter((index) => alias in (byIndex[index]?.aliases ?? {})))
          )
    )
  )

interface Generation {
  readonly name: string
  readonly n: number
  readonly aliases: ReadonlyArray<string>
}

/** Every existing generation of one shape with its aliases, lowest n first. */
const listGenerations = (ctx: ClusterContext, plan: IndexPlan): Effect.Effect<ReadonlyArray<Generation>, SinkError> => {
  const pattern = `${hashAliasName(ctx.prefix, plan.name, plan.hash)}_*`
  const operation = `list generations ${pattern}`
  return call(ctx, operation, {
    method: "GET",
    path: `/${pathPart(pattern)}/_alias`,
    querystring: { expand_wildcards: "open,closed", allow_no_indices: true }
  }).pipe(
    Effect.flatMap(decodeBody(AliasesByIndex, ctx.sink.name, operation)),
    Effect.map((byIndex) =>
      Object.entries(byIndex)
        .flatMap(([name, { aliases }]) => {
          const n = generationNumber(ctx.prefix, plan.name, plan.hash, name)
          return n === undefined ? [] : [{ name, n, aliases: Object.keys(aliases) }]
        })
        .sort((a, b) => a.n - b.n)
    )
  )
}

/** Creates an index; one that already exists (a concurrent creator, a rerun) is left as it is. */
export const createIndexIfMissing = (
  ctx: ClusterContext,
  name: string,
  body: Readonly<Record<string, unknown>>
): Effect.Effect<void, SinkError> => {
  const operation = `create index ${name}`
  return call(ctx, operation, { method: "PUT", path: `/${pathPart(name)}`, body, ignore: [400] }).pipe(
    Effect.flatMap((response) => {
      if (response.statusCode !== 400) return Effect.void
      const refused = new SinkRequestFailed({
        sink: ctx.sink.name,
        status: 400,
        operation,
        body: JSON.stringify(response.body)
      })
      return Schema.decodeUnknown(ErrorBody)(response.body).pipe(
        Effect.mapError(() => refused),
        Effect.flatMap((body) =>
          body.error.type === "resource_already_exists_exception" ? Effect.void : Effect.fail(refused)
        )
      )
    })
  )
}

/** Creates a generation, unseeded: no periodic refreshes until it is seeded. */
const createGeneration = (ctx: ClusterContext, plan: IndexPlan, name: string): Effect.Effect<void, SinkError> => {
  const mappingOptions = { textAnalysis: ctx.sink.textAnalysis, autoSubfields: ctx.sink.autoSubfields }
  return createIndexIfMissing(ctx, name, {
    settings: {
      index: {
        number_of_shards: ctx.sink.numberOfShards,
        number_of_replicas: ctx.sink.numberOfReplicas,
        refresh_interval: "-1"
      },
      ...indexSettings(plan, mappingOptions)
    },
    mappings: deriveMapping(plan, mappingOptions)
  })
}

/**
 * The generation's refs companion. Hidden, so wildcard searches (`users*`) never see it;
 * never refreshed on a timer: `referencing` refreshes it when it was written to.
 * Ensured for existing generations too (one created before companions existed).
 */
const ensureRefsIndex = (ctx: ClusterContext, generation: string): Effect.Effect<void, SinkError> =>
  createIndexIfMissing(ctx, refsIndexName(generation), {
    settings: {
      index: {
        number_of_shards: 1,
        number_of_replicas: ctx.sink.numberOfReplicas,
        refresh_interval: "-1",
        hidden: true
      }
    },
    mappings: refsIndexMappings
  })

const updateAliases = (
  ctx: ClusterContext,
  actions: ReadonlyArray<{ readonly add: { readonly index: string; readonly alias: string } }>
): Effect.Effect<void, SinkError> =>
  actions.length === 0
    ? Effect.void
    : call(ctx, "update aliases", { method: "POST", path: "/_aliases", body: { actions } }).pipe(
        Effect.flatMap(decodeBody(Acknowledged, ctx.sink.name, "update aliases")),
        Effect.asVoid
      )

/**
 * Idempotent: the generation of `plan`'s shape, created when there is none. The serving
 * generation of the shape (the hash alias) wins; else the newest existing one (a run
 * that stopped between creating and aliasing); else `_1`. An existing index's mapping
 * is never touched. Both aliases are pointed at it when nothing serves the convenience
 * alias yet (one atomic call, so readers never see one alias without the other).
 */
export const ensureIndex = (ctx: ClusterContext, plan: IndexPlan): Effect.Effect<string, SinkError> =>
  Effect.gen(function* () {
    const hashAlias = hashAliasName(ctx.prefix, plan.name, plan.hash)
    const convenienceAlias = convenienceAliasName(ctx.prefix, plan.name)
    const generations = yield* listGenerations(ctx, plan)
    const serving = generations.find((g) => g.aliases.includes(hashAlias))
    const newest = generations.at(-1)
    const generation = serving?.name ?? newest?.name ?? generationName(ctx.prefix, plan.name, plan.hash, 1)
    if (serving === undefined && newest === undefined) yield* createGeneration(ctx, plan, generation)
    yield* ensureRefsIndex(ctx, generation)

    const servingConvenience = yield* aliasTargets(ctx, convenienceAlias)
    if (servingConvenience.length === 0) {
      yield* updateAliases(ctx, [
        { add: { index: generation, alias: hashAlias } },
        { add: { index: generation, alias: convenienceAlias } }
      ])
    } else if (servingConvenience.includes(generation) && serving === undefined) {
      yield* updateAliases(ctx, [{ add: { index: generation, alias: hashAlias } }])
    }
    return generation
  })

/** A seeded generation: the configured refresh interval, and what was written is searchable now. */
export const markGenerationSeeded = (ctx: ClusterContext, generation: string): Effect.Effect<void, SinkError> =>
  Effect.gen(function* () {
    yield* call(ctx, `update settings of ${generation}`, {
      method: "PUT",
      path: `/${pathPart(generation)}/_settings`,
      body: { index: { refresh_interval: ctx.sink.refreshInterval } }
    }).pipe(Effect.flatMap(decodeBody(Acknowledged, ctx.sink.name, `update settings of ${generation}`)))
    yield* call(ctx, `refresh ${generation}`, { method: "POST", path: `/${pathPart(generation)}/_refresh` })
  })

/**
 * Makes everything written so far to `indexes` searchable (search is near-real-time). A
 * refresh of the whole index, not the `refresh` parameter of a bulk request, which covers
 * only the shards that one request touched.
 */
export const refreshIndexes = (ctx: ClusterContext, indexes: ReadonlyArray<string>): Effect.Effect<void, SinkError> =>
  indexes.length === 0
    ? Effect.void
    : call(ctx, `refresh ${indexes.join(",")}`, {
        method: "POST",
        path: `/${indexes.map(pathPart).join(",")}/_refresh`,
        // A generation retired meanwhile has nothing left to show.
        querystring: { ignore_unavailable: true }
      }).pipe(Effect.asVoid)
