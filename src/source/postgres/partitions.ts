/**
 * Partitioned tables, which PostgreSQL changes in two ways a row stream does not show
 * plainly:
 * - a publication without `publish_via_partition_root` names each change by the partition
 *   it touched: `relationTables` maps a partition to the partitioned tables above it that
 *   an index reads (from the catalog, once per relation and connection);
 * - rows appear and vanish without a row event when a partition is attached, detached,
 *   dropped or truncated (a partition's TRUNCATE is not even published when the
 *   publication publishes via the root): the partition layout (`readLayout`) is watched,
 *   and a change to it that may have changed rows rebuilds the index (`layoutChanges`).
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Option, Schema } from "effect"
import type { SourceMisconfigured, SourceUnavailable } from "../../errors.js"
import type { TableRef } from "../../schema/IndexPlan.js"
import type { RelationTables } from "./replicationStream.js"
import { tableName } from "./documentSql.js"
import { queryRows } from "./sqlErrors.js"

type ReadError = SourceUnavailable | SourceMisconfigured

const NameRow = Schema.Struct({ name: Schema.String })

/**
 * A relation's changes count for itself and its partitioned ancestors, nearest first,
 * as far as an index reads them (`read`, `schema.table`). A relation dropped meanwhile has
 * no ancestors left: its own name.
 */
export const relationTables = (sql: SqlClient, read: ReadonlySet<string>): RelationTables => (relation) =>
  queryRows(sql, `reading the partitions above ${relation.schema}.${relation.name}`,
    `SELECT n.nspname || '.' || c.relname AS name
       FROM pg_partition_ancestors($1::oid::regclass) WITH ORDINALITY AS a(relid, depth)
       JOIN pg_class c ON c.oid = a.relid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      ORDER BY a.depth`,
    [relation.relationOid], NameRow).pipe(
      Effect.map((rows) => {
        const own = `${relation.schema}.${relation.name}`
        const names = rows.length === 0 ? [own] : rows.map((r) => r.name)
        return names.filter((name) => read.has(name))
      })
    )

/**
 * One leaf partition as last seen: its storage (`relfilenode`, new after a TRUNCATE) under
 * the partitioned table an index reads.
 */
const Leaf = Schema.Struct({ oid: Schema.String, name: Schema.String, file: Schema.String })
const Layout = Schema.Record({ key: Schema.String, value: Schema.Array(Leaf) })
type Layout = typeof Layout.Type
const LayoutJson = Schema.parseJson(Layout)

/**
 * The leaf partitions of every partitioned table among `tables`, as JSON text (stable:
 * sorted); null when none is partitioned, so there is nothing to watch.
 */
export const readLayout = (sql: SqlClient, tables: ReadonlyArray<TableRef>): Effect.Effect<string | null, ReadError> =>
  Effect.gen(function*() {
    if (tables.length === 0) return null
    const rows = yield* queryRows(sql, "reading the partitions of the indexed tables",
      `SELECT w.schema || '.' || w.name AS root, l.oid::text AS oid, ln.nspname || '.' || l.relname AS name, l.relfilenode::text AS file
         FROM unnest($1::text[], $2::text[]) AS w(schema, name)
         JOIN pg_namespace n ON n.nspname = w.schema
         JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.name AND c.relkind = 'p'
         LEFT JOIN LATERAL pg_partition_tree(c.oid) t ON t.isleaf
         LEFT JOIN pg_class l ON l.oid = t.relid
         LEFT JOIN pg_namespace ln ON ln.oid = l.relnamespace
        ORDER BY 1, 3`,
      [tables.map((t) => t.schema), tables.map((t) => t.table)], Schema.Struct({
        root: Schema.String,
        oid: Schema.NullOr(Schema.String),
        name: Schema.NullOr(Schema.String),
        file: Schema.NullOr(Schema.String)
      }))
    if (rows.length === 0) return null
    const layout: Record<string, Array<typeof Leaf.Type>> = {}
    for (const row of rows) {
      const leaves = layout[row.root] ??= []
      if (row.oid !== null && row.name !== null && row.file !== null) leaves.push({ oid: row.oid, name: row.name, file: row.file })
    }
    return JSON.stringify(layout)
  })

const decodeLayout = (text: string): Layout | undefined => Option.getOrUndefined(Schema.decodeUnknownOption(LayoutJson)(text))

const RelationRow = Schema.Struct({ schema: Schema.String, name: Schema.String })

/** A relation by OID now: absent when it was dropped; else whether it holds rows. */
const rowsOf = (sql: SqlClient, oid: string): Effect.Effect<"dropped" | "empty" | "populated", ReadError> =>
  Effect.gen(function*() {
    const found = yield* queryRows(sql, "reading a partition",
      "SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid",
      [oid], RelationRow)
    const relation = found[0]
    if (relation === undefined) return "dropped"
    const rows = yield* queryRows(sql, `reading partition ${relation.schema}.${relation.name}`,
      `SELECT EXISTS (SELECT 1 FROM ${tableName({ schema: relation.schema, table: relation.name })})::text AS populated`, [],
      Schema.Struct({ populated: Schema.String })).pipe(
        // Dropped between the two reads: as good as dropped before them.
        Effect.catchIf((error) => error._tag === "SourceMisconfigured", () => Effect.succeed([{ populated: "dropped" }]))
      )
    const populated = rows[0]?.populated
    return populated === "dropped" ? "dropped" : populated === "true" ? "populated" : "empty"
  })

/**
 * Why going from layout `before` to `after` may have changed rows an index reads without
 * a row event — a leaf partition attached with rows, one detached with rows, one dropped
 * (its rows unknown), one truncated or rewritten (new storage); empty when nothing did.
 */
export const layoutChanges = (sql: SqlClient, before: string, after: string): Effect.Effect<ReadonlyArray<string>, ReadError> =>
  Effect.gen(function*() {
    if (before === after) return []
    const was = decodeLayout(before)
    const now = decodeLayout(after)
    if (was === undefined || now === undefined) return ["the recorded partition layout is unreadable"]
    const reasons: Array<string> = []
    for (const root of new Set([...Object.keys(was), ...Object.keys(now)])) {
      const old = new Map((was[root] ?? []).map((leaf) => [leaf.oid, leaf]))
      const current = new Map((now[root] ?? []).map((leaf) => [leaf.oid, leaf]))
      for (const [oid, leaf] of current) {
        const seen = old.get(oid)
        if (seen === undefined) {
          if ((yield* rowsOf(sql, oid)) === "populated") reasons.push(`partition ${leaf.name} of ${root} was attached with rows`)
        } else if (seen.file !== leaf.file) reasons.push(`partition ${leaf.name} of ${root} was truncated or rewritten`)
      }
      for (const [oid, leaf] of old) {
        if (current.has(oid)) continue
        const state = yield* rowsOf(sql, oid)
        if (state === "dropped") reasons.push(`partition ${leaf.name} of ${root} was dropped`)
        else if (state === "populated") reasons.push(`partition ${leaf.name} was detached from ${root} with rows`)
      }
    }
    return reasons
  })
