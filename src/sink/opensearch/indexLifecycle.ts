/**
 * Index lifecycle in one cluster (opensearch.md "Lifecycle"): find or create the
 * generations an index shape writes to, and promote a seeded generation — refresh,
 * steady-state settings, one atomic `_aliases` call moving both aliases to it, then
 * retiring the generations it supersedes (each with its `refsIndexName` companion and
 * its checkpoint entry).
 *
 * Which generation is which is read from the cluster, never remembered: the convenience
 * alias names the *serving* generation; a generation created after it never served, so
 * it is one being built (a schema change or a reindex, resumed after a restart) or, when
 * of neither the current shape nor the serving one's rebuild, an abandoned one.
 */
import type { Client } from "@opensearch-project/opensearch"
import { Effect, Schema } from "effect"
import type { ResolvedOpenSearchSink } from "../../config/ResolvedConfig.js"
import { SinkRequestFailed } from "../../errors.js"
import type { SinkError } from "../../errors.js"
import { deriveMapping, indexSettings, refsIndexMappings } from "../../schema/mapping.js"
import type { IndexPlan } from "../../schema/IndexPlan.js"
import {
  checkpointId,
  convenienceAliasName,
  generationName,
  generationPattern,
  hashAliasName,
  metaIndexName,
  parseGeneration,
  refsIndexName
} from "./names.js"
import { call as callWithRetry, decodeBody, pathPart } from "./request.js"
import type { Request, Response } from "./request.js"

/**
 * How long a deleted document's version outlives it. Writes carry external versions, so
 * a late write (a request given up on, executed after newer ones) is refused while the
 * document's version is known — for a deleted document, only for `index.gc_deletes`
 * (OpenSearch's default is 60 s). An hour outlasts any request we abandon by far; the
 * cost is memory for the deletes of the last hour.
 */
export const DELETE_VERSION_RETENTION = "1h"

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

/** `GET …/_settings/index.creation_date`. */
const CreationDates = Schema.Record({
  key: Schema.String,
  value: Schema.Struct({
    settings: Schema.Struct({ index: Schema.Struct({ creation_date: Schema.NumberFromString }) })
  })
})

export interface Generation {
  readonly name: string
  readonly hash: string
  readonly n: number
  readonly aliases: ReadonlyArray<string>
  /** Epoch millis: orders generations of different shapes. */
  readonly created: number
}

/** Oldest first: by creation time, then number. */
const byAge = (a: Generation, b: Generation) => a.created - b.created || a.n - b.n

/** Every existing generation of a logical index, of any shape, oldest first. */
export const listGenerations = (ctx: ClusterContext, index: string): Effect.Effect<ReadonlyArray<Generation>, SinkError> => {
  const pattern = generationPattern(ctx.prefix, index)
  const querystring = { expand_wildcards: "open,closed", allow_no_indices: true }
  const aliasesOperation = `list generations ${pattern}`
  const datesOperation = `read creation dates of ${pattern}`
  return Effect.all([
    call(ctx, aliasesOperation, { method: "GET", path: `/${pathPart(pattern)}/_alias`, querystring }).pipe(
      Effect.flatMap(decodeBody(AliasesByIndex, ctx.sink.name, aliasesOperation))
    ),
    call(ctx, datesOperation, {
      method: "GET",
      path: `/${pathPart(pattern)}/_settings/index.creation_date`,
      querystring
    }).pipe(Effect.flatMap(decodeBody(CreationDates, ctx.sink.name, datesOperation)))
  ]).pipe(
    Effect.map(([aliases, dates]) =>
      Object.entries(aliases)
        .flatMap(([name, { aliases }]): Array<Generation> => {
          const parsed = parseGeneration(ctx.prefix, index, name)
          const created = dates[name]?.settings.index.creation_date
          // Created between the two reads: seen next time.
          return parsed === undefined || created === undefined
            ? []
            : [{ name, ...parsed, aliases: Object.keys(aliases), created }]
        })
        .sort(byAge)
    )
  )
}

/**
 * Creates an index; one that already exists (a concurrent creator, a rerun) is left as it
 * is. Succeeds with whether this call created it.
 */
export const createIndexIfMissing = (
  ctx: ClusterContext,
  name: string,
  body: Readonly<Record<string, unknown>>
): Effect.Effect<boolean, SinkError> => {
  const operation = `create index ${name}`
  return call(ctx, operation, { method: "PUT", path: `/${pathPart(name)}`, body, ignore: [400] }).pipe(
    Effect.flatMap((response) => {
      if (response.statusCode !== 400) return Effect.succeed(true)
      const refused = new SinkRequestFailed({
        sink: ctx.sink.name,
        status: 400,
        operation,
        body: JSON.stringify(response.body)
      })
      return Schema.decodeUnknown(ErrorBody)(response.body).pipe(
        Effect.mapError(() => refused),
        Effect.flatMap((body) =>
          body.error.type === "resource_already_exists_exception" ? Effect.succeed(false) : Effect.fail(refused)
        )
      )
    })
  )
}

/**
 * Creates a generation, unseeded: no periodic refreshes until it is seeded. Progress a
 * checkpoint entry of that name may still record (its index was deleted by hand) is
 * forgotten, so seeding starts from the first key into the empty index.
 */
const createGeneration = (ctx: ClusterContext, plan: IndexPlan, name: string): Effect.Effect<void, SinkError> => {
  const mappingOptions = { textAnalysis: ctx.sink.textAnalysis, autoSubfields: ctx.sink.autoSubfields, style: ctx.sink.mappingStyle }
  return createIndexIfMissing(ctx, name, {
    settings: {
      index: {
        number_of_shards: ctx.sink.numberOfShards,
        number_of_replicas: ctx.sink.numberOfReplicas,
        refresh_interval: "-1",
        gc_deletes: DELETE_VERSION_RETENTION
      },
      ...indexSettings(plan, mappingOptions)
    },
    mappings: deriveMapping(plan, mappingOptions)
  }).pipe(Effect.flatMap((created) => (created ? forgetCheckpoints(ctx, [name]) : Effect.void)))
}

/** Deletes the checkpoint entries of generations (in the meta index the CheckpointStore keeps here). */
const forgetCheckpoints = (ctx: ClusterContext, generations: ReadonlyArray<string>): Effect.Effect<void, SinkError> =>
  Effect.forEach(
    generations,
    (generation) => {
      const id = checkpointId(ctx.sink.name, generation)
      // 404: no entry, or no meta index yet.
      return call(ctx, `delete checkpoint ${id}`, {
        method: "DELETE",
        path: `/${pathPart(metaIndexName(ctx.prefix))}/_doc/${pathPart(id)}`,
        ignore: [404]
      })
    },
    { discard: true }
  )

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
        gc_deletes: DELETE_VERSION_RETENTION,
        hidden: true
      }
    },
    mappings: refsIndexMappings
  })

type AliasAction =
  | { readonly add: { readonly index: string; readonly alias: string } }
  | { readonly remove: { readonly index: string; readonly alias: string } }

/** One `_aliases` call: its actions apply atomically. */
const updateAliases = (ctx: ClusterContext, actions: ReadonlyArray<AliasAction>): Effect.Effect<void, SinkError> =>
  actions.length === 0
    ? Effect.void
    : call(ctx, "update aliases", { method: "POST", path: "/_aliases", body: { actions } }).pipe(
        Effect.flatMap(decodeBody(Acknowledged, ctx.sink.name, "update aliases")),
        Effect.asVoid
      )

/** Deletes generations with their refs companions (absent ones are skipped) and their checkpoint entries. */
export const deleteGenerations = (ctx: ClusterContext, generations: ReadonlyArray<string>): Effect.Effect<void, SinkError> =>
  generations.length === 0
    ? Effect.void
    : call(ctx, `delete ${generations.join(",")}`, {
        method: "DELETE",
        path: `/${generations.flatMap((g) => [g, refsIndexName(g)]).map(pathPart).join(",")}`,
        querystring: { ignore_unavailable: true }
      }).pipe(Effect.zipRight(forgetCheckpoints(ctx, generations)))

/**
 * Where a logical index's writes go, as found in the cluster: the serving generation
 * (when there is one) and the generation being built (when there is one), last.
 */
export interface WriteGenerations {
  readonly serving: string | undefined
  readonly building: string | undefined
}

export const writeGenerations = (targets: WriteGenerations): ReadonlyArray<string> => [
  ...(targets.serving === undefined ? [] : [targets.serving]),
  ...(targets.building === undefined || targets.building === targets.serving ? [] : [targets.building])
]

/**
 * Gives generations made before writes were versioned (and their companions) the delete
 * retention versioned writes need; a dynamic setting, so no reindex.
 */
const ensureDeleteRetention = (ctx: ClusterContext, generations: ReadonlyArray<string>): Effect.Effect<void, SinkError> => {
  const physical = generations.flatMap((g) => [g, refsIndexName(g)])
  const operation = `set index.gc_deletes of ${physical.join(",")}`
  return physical.length === 0
    ? Effect.void
    : call(ctx, operation, {
        method: "PUT",
        path: `/${physical.map(pathPart).join(",")}/_settings`,
        querystring: { ignore_unavailable: true },
        body: { index: { gc_deletes: DELETE_VERSION_RETENTION } }
      }).pipe(Effect.flatMap(decodeBody(Acknowledged, ctx.sink.name, operation)), Effect.asVoid)
}

/**
 * Idempotent: the generations `plan`'s writes go to, created when missing. An existing
 * index's mapping is never touched.
 *
 * - Nothing serves the convenience alias yet (a first run): the shape's generation —
 *   the hash-aliased one, else the newest, else a new `_1` — gets both aliases at once
 *   (one atomic call) and is the only target, serving while it seeds.
 * - A generation of this shape serves: it is the target, with a newer one of the same
 *   shape that never served (a reindex a stop interrupted) as the one being built.
 * - Another shape serves (a schema change): it keeps serving; a generation of this shape
 *   that never served is resumed, else a new one (the next number of the shape) is
 *   created, unseeded and without aliases, and is the one being built.
 *
 * Generations created after the serving one that are not being built are abandoned
 * work (a schema change reverted before it was seeded): deleted, as their content is stale.
 */
export const ensureIndex = (ctx: ClusterContext, plan: IndexPlan): Effect.Effect<WriteGenerations, SinkError> =>
  findOrCreateGenerations(ctx, plan).pipe(
    Effect.tap((generations) => ensureDeleteRetention(ctx, writeGenerations(generations)))
  )

const findOrCreateGenerations = (ctx: ClusterContext, plan: IndexPlan): Effect.Effect<WriteGenerations, SinkError> =>
  Effect.gen(function* () {
    const hashAlias = hashAliasName(ctx.prefix, plan.name, plan.hash)
    const convenienceAlias = convenienceAliasName(ctx.prefix, plan.name)
    const all = yield* listGenerations(ctx, plan.name)
    const mine = all.filter((g) => g.hash === plan.hash).sort((a, b) => a.n - b.n)
    const servingName = (yield* aliasTargets(ctx, convenienceAlias))[0]

    if (servingName === undefined) {
      const generation =
        mine.find((g) => g.aliases.includes(hashAlias))?.name ??
        mine.at(-1)?.name ??
        generationName(ctx.prefix, plan.name, plan.hash, 1)
      if (mine.length === 0) yield* createGeneration(ctx, plan, generation)
      yield* ensureRefsIndex(ctx, generation)
      yield* updateAliases(ctx, [
        { add: { index: generation, alias: hashAlias } },
        { add: { index: generation, alias: convenienceAlias } }
      ])
      return { serving: generation, building: undefined }
    }

    const serving = all.find((g) => g.name === servingName)
    const neverServed = serving === undefined ? [] : all.filter((g) => byAge(g, serving) > 0)
    const resumed = neverServed.filter((g) => g.hash === plan.hash).at(-1)
    const abandoned = neverServed.filter((g) => g !== resumed).map((g) => g.name)
    if (abandoned.length > 0) {
      yield* Effect.logWarning(`deleting generations that never served: ${abandoned.join(", ")}`)
      yield* deleteGenerations(ctx, abandoned)
    }

    if (serving?.hash === plan.hash) {
      yield* ensureRefsIndex(ctx, serving.name)
      if (!serving.aliases.includes(hashAlias)) yield* updateAliases(ctx, [{ add: { index: serving.name, alias: hashAlias } }])
      if (resumed !== undefined) yield* ensureRefsIndex(ctx, resumed.name)
      return { serving: serving.name, building: resumed?.name }
    }

    const building = resumed?.name ?? generationName(ctx.prefix, plan.name, plan.hash, (mine.at(-1)?.n ?? 0) + 1)
    if (resumed === undefined) yield* createGeneration(ctx, plan, building)
    yield* ensureRefsIndex(ctx, building)
    // An alias on something that is no generation of ours is moved, never written through.
    if (serving !== undefined) yield* ensureRefsIndex(ctx, serving.name)
    return { serving: serving?.name, building }
  })

const Mappings = Schema.Record({
  key: Schema.String,
  value: Schema.Struct({
    mappings: Schema.Struct({ properties: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })) })
  })
})

/** The top-level fields a generation maps (what a document of an older shape may hold). */
export const mappedFields = (ctx: ClusterContext, generation: string): Effect.Effect<ReadonlySet<string>, SinkError> => {
  const operation = `read mapping of ${generation}`
  return call(ctx, operation, { method: "GET", path: `/${pathPart(generation)}/_mapping` }).pipe(
    Effect.flatMap(decodeBody(Mappings, ctx.sink.name, operation)),
    Effect.map((byIndex) => new Set(Object.keys(byIndex[generation]?.mappings.properties ?? {})))
  )
}

/**
 * A generation of `plan`'s shape numbered after every existing one, created unseeded
 * beside the serving one (a reindex). n is never reused: deleted generations' numbers
 * are below the newest kept.
 */
export const createNextGeneration = (ctx: ClusterContext, plan: IndexPlan): Effect.Effect<string, SinkError> =>
  Effect.gen(function* () {
    const mine = (yield* listGenerations(ctx, plan.name)).filter((g) => g.hash === plan.hash)
    const generation = generationName(ctx.prefix, plan.name, plan.hash, Math.max(0, ...mine.map((g) => g.n)) + 1)
    yield* createGeneration(ctx, plan, generation)
    yield* ensureRefsIndex(ctx, generation)
    return generation
  })

/**
 * Makes a seeded generation the serving one, in one atomic `_aliases` call: the
 * convenience alias and its shape's hash alias move to it from wherever they pointed.
 * Hash aliases of other shapes stay (and go when their generation is deleted).
 */
export const promoteGeneration = (ctx: ClusterContext, index: string, generation: string): Effect.Effect<void, SinkError> =>
  Effect.gen(function* () {
    const parsed = parseGeneration(ctx.prefix, index, generation)
    if (parsed === undefined) return yield* Effect.dieMessage(`${generation} is not a generation of index ${index}`)
    const aliases = [convenienceAliasName(ctx.prefix, index), hashAliasName(ctx.prefix, index, parsed.hash)]
    const actions: Array<AliasAction> = []
    for (const alias of aliases) {
      for (const other of yield* aliasTargets(ctx, alias)) {
        if (other !== generation) actions.push({ remove: { index: other, alias } })
      }
      actions.push({ add: { index: generation, alias } })
    }
    yield* updateAliases(ctx, actions)
  })

/**
 * The generations of `index` that the serving `generation` supersedes: every other one
 * but the `keep` newest created before it (the previous ones, for a rollback by hand).
 */
export const supersededGenerations = (
  ctx: ClusterContext,
  index: string,
  generation: string,
  keep: number
): Effect.Effect<ReadonlyArray<string>, SinkError> =>
  Effect.map(listGenerations(ctx, index), (all) => {
    const self = all.find((g) => g.name === generation)
    const others = all.filter((g) => g.name !== generation)
    const previous = self === undefined ? [] : others.filter((g) => byAge(g, self) < 0)
    const kept = new Set(previous.slice(Math.max(0, previous.length - keep)).map((g) => g.name))
    return others.filter((g) => !kept.has(g.name)).map((g) => g.name)
  })

/** A seeded generation: what was written is searchable now, and the configured refresh interval from here on. */
export const markGenerationSeeded = (ctx: ClusterContext, generation: string): Effect.Effect<void, SinkError> =>
  Effect.gen(function* () {
    yield* call(ctx, `refresh ${generation}`, { method: "POST", path: `/${pathPart(generation)}/_refresh` })
    yield* call(ctx, `update settings of ${generation}`, {
      method: "PUT",
      path: `/${pathPart(generation)}/_settings`,
      body: { index: { refresh_interval: ctx.sink.refreshInterval } }
    }).pipe(Effect.flatMap(decodeBody(Acknowledged, ctx.sink.name, `update settings of ${generation}`)))
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
