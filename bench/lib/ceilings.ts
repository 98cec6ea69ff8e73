/**
 * The two ceilings, measured on the same machine in the same run:
 *  (a) raw document SQL — the statement flusso itself runs to build documents
 *      (`documentStatement` from dist/source/postgres/documentSql.js, compiled from the
 *      bench config's plan and the live catalog as PostgresDocumentBuilder does), over
 *      every root key in chunks of 1000, 2 connections in parallel;
 *  (b) raw `_bulk` of those documents, held in memory, into a fresh index with the
 *      mapping and analysis of the index flusso created, 1000 per request, 2 in flight.
 * When the statement cannot be had from dist/ (the engine is being rewritten), an
 * equivalent json_build_object statement written by hand is used, and the result says so.
 */
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import pg from "pg"
import { bulk, call, createIndex, indexDefinition } from "./opensearch.js"
import { errorText, log, now, withTimeout } from "./util.js"

const CHUNK = 1000
const PARALLEL = 2
const REFS_FIELD = "_flusso_refs"

export interface Statement {
  readonly sql: string
  readonly constants: ReadonlyArray<string>
  /** "flusso documentStatement" or "hand-written (…why)". */
  readonly source: string
}

const canonical = "-c DateStyle=ISO,YMD -c TimeZone=UTC -c IntervalStyle=iso_8601"
/** The session flusso's read pool uses: canonical date/time settings, every value kept as text. */
const client = (url: string): pg.Client => {
  const c = new pg.Client({
    connectionString: url,
    options: canonical,
    types: { getTypeParser: () => (value: string | Buffer) => (typeof value === "string" ? value : value.toString("utf8")) }
  })
  c.on("error", () => undefined)
  return c
}

const ts = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
const USER_PAIRS = `'id', r.id, 'name', r.name, 'email', r.email, 'createdAt', ${ts("r.created_at")}, 'score', r.score, 'marker', r.marker`
const HAND_WRITTEN: Record<string, string> = {
  bench_users: `SELECT r.id::text AS k0, json_build_object(${USER_PAIRS},
    'orders', coalesce((SELECT json_agg(json_build_object('status', o.status, 'total', o.total,
        'items', coalesce((SELECT json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity) ORDER BY i.id)
                             FROM items i WHERE i.order_id = o.id), '[]'::json)) ORDER BY o.id)
                        FROM orders o WHERE o.user_id = r.id), '[]'::json),
    'tags', coalesce((SELECT json_agg(json_build_object('name', t.name) ORDER BY t.id)
                      FROM user_tags ut JOIN tags t ON t.id = ut.tag_id WHERE ut.user_id = r.id), '[]'::json),
    'orderCount', (SELECT count(*) FROM orders o WHERE o.user_id = r.id),
    'orderTotal', (SELECT sum(o.total) FROM orders o WHERE o.user_id = r.id))::text AS doc
  FROM users r WHERE r.id = ANY($1::bigint[])`,
  bench_users_flat: `SELECT r.id::text AS k0, json_build_object(${USER_PAIRS})::text AS doc FROM users r WHERE r.id = ANY($1::bigint[])`
}

/** flusso's own document statements for the bench indexes, compiled through dist/ (see the module comment). */
export const flussoStatements = async (
  root: string,
  env: Record<string, string>
): Promise<Map<string, Statement>> => {
  const dist = (p: string) => import(pathToFileURL(path.join(root, "dist", p)).href)
  try {
    process.env["BENCH_INDEXES"] = "bench_users,bench_users_flat"
    const configModule = (await import(pathToFileURL(path.join(root, "bench", "flusso.bench.config.ts")).href)) as { default: unknown }
    const { Effect, Either, Layer } = await import("effect")
    const { validateConfig } = await dist("config/validate.js")
    const { resolveConfig } = await dist("config/resolve.js")
    const PgDatabase = await dist("source/postgres/PgDatabase.js")
    const { compile } = await dist("source/postgres/resolution.js")
    const { documentStatement } = await dist("source/postgres/documentSql.js")
    const validated = validateConfig(configModule.default)
    if (Either.isLeft(validated)) throw new Error(`bench config invalid: ${JSON.stringify(validated.left)}`)
    const resolved = await Effect.runPromise(resolveConfig(validated.right, env))
    const plans = (resolved as { indexes: ReadonlyArray<{ name: string }> }).indexes
    const program = Effect.gen(function*() {
      const catalog = yield* PgDatabase.PgCatalog
      return plans.map((plan) => {
        const { refsTables } = compile(plan, catalog) as { refsTables: ReadonlySet<string> }
        const statement = documentStatement(plan, catalog, refsTables) as { sql: string; constants: ReadonlyArray<string> }
        return [plan.name, { ...statement, source: "flusso documentStatement" }] as const
      })
    }).pipe(
      Effect.provide(PgDatabase.catalogLayer(plans).pipe(Layer.provideMerge(PgDatabase.layer((resolved as { source: unknown }).source)))),
      Effect.scoped
    )
    return new Map(await Effect.runPromise(program as never) as ReadonlyArray<readonly [string, Statement]>)
  } catch (e) {
    const why = errorText(e).split("\n")[0]?.slice(0, 200)
    log(`could not compile flusso's document statement from dist/ (${why}): using the hand-written equivalent`)
    return new Map(Object.entries(HAND_WRITTEN).map(([name, sql]) => [name, { sql, constants: [], source: `hand-written (dist/ wiring failed: ${why})` }]))
  }
}

export interface SqlCeiling {
  readonly docsPerSecond: number
  readonly docs: number
  readonly seconds: number
  readonly averageBytes: number
  readonly statementSource: string
}

/** (a): every root key in chunks of CHUNK through `statement`, PARALLEL connections. Returns the docs too. */
export const sqlCeiling = async (
  url: string,
  statement: Statement,
  timeoutSeconds: number
): Promise<{ figure: SqlCeiling; docs: Array<{ id: string; doc: string }> }> => {
  const clients = Array.from({ length: PARALLEL }, () => client(url))
  await Promise.all(clients.map((c) => c.connect()))
  try {
    const first = clients[0] as pg.Client
    const keys = (await first.query<{ id: string }>("SELECT id::text AS id FROM users ORDER BY id")).rows.map((r) => r.id)
    const chunks: Array<Array<string>> = []
    for (let i = 0; i < keys.length; i += CHUNK) chunks.push(keys.slice(i, i + CHUNK))
    const results: Array<Array<{ id: string; doc: string }>> = new Array(chunks.length)
    let next = 0
    const started = now()
    await withTimeout(
      "the document SQL ceiling",
      timeoutSeconds,
      Promise.all(
        clients.map(async (c) => {
          while (next < chunks.length) {
            const i = next++
            const rows = await c.query<{ k0: string; doc: string }>(statement.sql, [chunks[i], ...statement.constants])
            results[i] = rows.rows.map((r) => ({ id: r.k0, doc: r.doc }))
          }
        })
      )
    )
    const seconds = (now() - started) / 1000
    const docs = results.flat()
    const bytes = docs.reduce((sum, d) => sum + Buffer.byteLength(d.doc), 0)
    return {
      figure: { docsPerSecond: docs.length / seconds, docs: docs.length, seconds, averageBytes: Math.round(bytes / Math.max(1, docs.length)), statementSource: statement.source },
      docs
    }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)))
  }
}

export interface BulkCeiling {
  readonly docsPerSecond: number
  readonly docs: number
  readonly seconds: number
  readonly requestBytes: number
  readonly mappingFrom: string
}

/** (b): the documents of (a), refs cut out, `_bulk`ed into a fresh index with flusso's mapping; PARALLEL requests in flight. */
export const bulkCeiling = async (
  opensearchUrl: string,
  alias: string,
  target: string,
  docs: ReadonlyArray<{ id: string; doc: string }>,
  timeoutSeconds: number
): Promise<BulkCeiling> => {
  const definition = await indexDefinition(opensearchUrl, alias)
  await call(opensearchUrl, "DELETE", `/${target}?ignore_unavailable=true`)
  await createIndex(opensearchUrl, target, definition.mappings, definition.analysis)
  // Bodies built before the clock starts: the ceiling is OpenSearch's, not ours.
  const bodies: Array<string> = []
  let bytes = 0
  for (let i = 0; i < docs.length; i += CHUNK) {
    let body = ""
    for (const { id, doc } of docs.slice(i, i + CHUNK)) {
      let source = doc
      if (doc.includes(REFS_FIELD)) {
        const parsed = JSON.parse(doc) as Record<string, unknown>
        delete parsed[REFS_FIELD]
        source = JSON.stringify(parsed)
      }
      body += `{"index":{"_id":${JSON.stringify(id)}}}\n${source}\n`
    }
    bytes += Buffer.byteLength(body)
    bodies.push(body)
  }
  let next = 0
  const started = now()
  try {
    await withTimeout(
      "the raw _bulk ceiling",
      timeoutSeconds,
      Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < bodies.length) await bulk(opensearchUrl, target, bodies[next++] as string)
        })
      )
    )
    const seconds = (now() - started) / 1000
    return { docsPerSecond: docs.length / seconds, docs: docs.length, seconds, requestBytes: Math.round(bytes / Math.max(1, bodies.length)), mappingFrom: definition.index }
  } finally {
    await call(opensearchUrl, "DELETE", `/${target}?ignore_unavailable=true`).catch(() => undefined)
  }
}
