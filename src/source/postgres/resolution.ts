/**
 * Which documents a batch of row changes affects (postgres.md, "Resolution"). Every
 * table an index reads is compiled into entries — how a changed row of that table leads
 * to the rows of its parent node — and every join node into an ascent step from its keys
 * to its parent's keys, against current state, up to the root keys. All changes of a
 * batch go through set-based queries, one per entry and level, never one per row.
 *
 * A deleted or moved row's *previous* parent is known from the old row when Postgres
 * sends it (REPLICA IDENTITY FULL, or link columns inside the key). Otherwise the row is
 * traced through the refs the documents hold (`_flusso_refs`): the caller asks the sink
 * which documents reference it.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Schema } from "effect"
import type { SourceMisconfigured, SourceUnavailable } from "../../errors.js"
import { encodeDocumentId, type KeyValues } from "../../schema/documentId.js"
import type { FieldPlan, IndexPlan, TableRef } from "../../schema/IndexPlan.js"
import { qualify } from "../../schema/IndexPlan.js"
import { sqlTable } from "./identifiers.js"
import type { Change, RowValues } from "../ChangeSource.js"
import type { Resolution } from "../DocumentBuilder.js"
import { type Catalog, col, keyIn, tableName } from "./documentSql.js"
import { classify, queryRows } from "./sqlErrors.js"

/** A query from keys of one node (parameters `$1…$n`: text arrays) to keys of its parent (k0…). */
interface Step {
  readonly sql: string
}

/** A node of the relation tree: the root, or a join whose rows have fields of their own. */
interface Node {
  /** Undefined for the root. */
  readonly up: Step | undefined
  readonly parent: Node | undefined
}

/** How a changed row of `table` leads to keys of `target` (the parent node's rows). */
type Entry =
  | { readonly _tag: "Root"; readonly table: string; readonly key: ReadonlyArray<string> }
  /** The parent's key is in the row itself (a foreign key, a junction's left key). */
  | {
    readonly _tag: "Link"
    readonly table: string
    readonly link: ReadonlyArray<string>
    readonly rowKey: ReadonlyArray<string>
    readonly refs: boolean
    readonly target: Node
  }
  /** The parent rows point at this row: found by a query on current state. */
  | { readonly _tag: "Lookup"; readonly table: string; readonly rowKey: ReadonlyArray<string>; readonly step: Step; readonly target: Node }

/** `SELECT <select columns as k0…> FROM table t WHERE <match columns> IN ($1…)`. */
const step = (catalog: Catalog, table: TableRef, select: ReadonlyArray<string>, match: ReadonlyArray<string>): Step => ({
  sql: `SELECT DISTINCT ${select.map((c, i) => `${col("t", c)}::text AS k${i}`).join(", ")}
  FROM ${tableName(table)} AS t
 WHERE ${keyIn(match, match.map((c) => catalog.column(table, c).type), "t", 1)}`
})

export interface IndexResolution {
  readonly plan: IndexPlan
  readonly entries: ReadonlyArray<Entry>
  /** Tables traced through refs (see documentSql's RefsPlan). */
  readonly refsTables: ReadonlySet<string>
  /** Configurations whose deletes or moves cannot be traced, each with its fix. */
  readonly diagnostics: ReadonlyArray<string>
}

/**
 * A table needs refs when its rows' old link values may be missing from the stream: its
 * replica identity is not FULL and the link columns are not all part of its key.
 */
const needsRefs = (catalog: Catalog, table: TableRef, link: ReadonlyArray<string>): boolean => {
  const info = catalog.table(table)
  return info.replicaIdentity !== "f" && !link.every((c) => info.primaryKey.includes(c))
}

export const compile = (plan: IndexPlan, catalog: Catalog): IndexResolution => {
  const entries: Array<Entry> = [{ _tag: "Root", table: plan.qualifiedTable, key: plan.primaryKey }]
  const refsTables = new Set<string>()
  const diagnostics: Array<string> = []
  const root: Node = { up: undefined, parent: undefined }

  const visit = (fields: ReadonlyArray<FieldPlan>, parentTable: TableRef, parentKey: ReadonlyArray<string>, parent: Node) => {
    for (const field of fields) {
      if (field._tag === "Object") visit(field.fields, parentTable, parentKey, parent)
      if (field._tag !== "Join" && field._tag !== "Aggregate") continue
      const key = catalog.keyOf(field.table, field.primaryKey)
      const table = qualify(field.table)
      let up: Step
      if (field._tag === "Join" && field.relation === "belongsTo") {
        // Parent rows point at this row with `column`.
        up = step(catalog, parentTable, parentKey, field.column ?? [])
        entries.push({ _tag: "Lookup", table, rowKey: key, step: up, target: parent })
      } else if (field.through !== undefined) {
        up = step(catalog, field.through.table, field.through.leftKey, field.through.rightKey)
        entries.push({ _tag: "Lookup", table, rowKey: key, step: up, target: parent })
        const junction = field.through.table
        if (needsRefs(catalog, junction, field.through.leftKey)) {
          diagnostics.push(
            `deletes in junction ${qualify(junction)} carry no ${field.through.leftKey.join(", ")}: documents keep removed links until rebuilt; fix: ALTER TABLE ${sqlTable(junction)} REPLICA IDENTITY FULL;`
          )
        }
        entries.push({
          _tag: "Link",
          table: qualify(junction),
          link: field.through.leftKey,
          rowKey: catalog.table(junction).primaryKey,
          refs: false,
          target: parent
        })
      } else {
        const link = field.foreignKey ?? []
        up = step(catalog, field.table, link, key)
        const refs = needsRefs(catalog, field.table, link)
        if (refs) refsTables.add(table)
        entries.push({ _tag: "Link", table, link, rowKey: key, refs, target: parent })
      }
      if (field._tag === "Join") visit(field.fields, field.table, key, { up, parent })
    }
  }
  visit(plan.fields, { schema: plan.schema, table: plan.table }, plan.primaryKey, root)
  return { plan, entries, refsTables, diagnostics }
}

/** The values of `columns` in a row, when every one was sent. */
const valuesOf = (row: RowValues | null, columns: ReadonlyArray<string>): KeyValues | undefined => {
  if (row === null) return undefined
  const values: Array<string> = []
  for (const column of columns) {
    const value = row[column]
    if (typeof value !== "string") return undefined
    values.push(value)
  }
  return values
}

const KeyRow = Schema.Record({ key: Schema.String, value: Schema.NullOr(Schema.String) })

/** Keys of one node, deduplicated by their encoded form. */
class KeySet {
  readonly byId = new Map<string, KeyValues>()
  add(key: KeyValues | undefined) {
    if (key !== undefined) this.byId.set(encodeDocumentId(key), key)
  }
  get size() {
    return this.byId.size
  }
  /** Parallel text arrays, one per key column: the parameters of a Step. */
  columns(arity: number): Array<Array<string>> {
    const columns: Array<Array<string>> = Array.from({ length: arity }, () => [])
    for (const key of this.byId.values()) key.forEach((v, i) => columns[i]?.push(v))
    return columns
  }
}

type ResolveError = SourceUnavailable | SourceMisconfigured

const runStep = (sql: SqlClient, s: Step, keys: KeySet, arity: number, what: string): Effect.Effect<KeySet, ResolveError> =>
  queryRows(sql, what, s.sql, keys.columns(arity), KeyRow).pipe(
    Effect.map((rows) => {
      const out = new KeySet()
      for (const row of rows) {
        const key = Array.from({ length: Object.keys(row).length }, (_, i) => row[`k${i}`])
        // A NULL link (an orphan row) leads nowhere; the other rows still do.
        if (key.every((value): value is string => typeof value === "string")) out.add(key)
      }
      return out
    })
  )

/** Changes → affected document ids and refs to look up, for every index. */
export const resolve = (
  sql: SqlClient,
  indexes: ReadonlyArray<IndexResolution>,
  changes: ReadonlyArray<Change>
): Effect.Effect<Resolution, ResolveError> =>
  Effect.gen(function*() {
    const documents = new Map<string, Set<string>>()
    const references = new Map<string, Set<string>>()
    const rowChanges = changes.flatMap((c) => (c._tag === "RowChange" ? [c] : []))
    const truncatedTables = new Set(changes.flatMap((c) => (c._tag === "TableTruncated" ? c.tables : [])))
    const truncated = new Set<string>()
    const rebuild = new Set<string>()
    for (const { plan, entries } of indexes) {
      if (truncatedTables.has(plan.qualifiedTable)) truncated.add(plan.name)
      if (entries.some((e) => e._tag !== "Root" && truncatedTables.has(e.table))) rebuild.add(plan.name)
      const ids = new Set<string>()
      const refs = new Set<string>()
      // Keys reached per target node, ascended together.
      const reached = new Map<Node, KeySet>()
      const reach = (node: Node, key: KeyValues | undefined) => {
        let set = reached.get(node)
        if (set === undefined) reached.set(node, set = new KeySet())
        set.add(key)
      }
      for (const entry of entries) {
        const mine = rowChanges.filter((c) => c.table === entry.table)
        if (mine.length === 0) continue
        switch (entry._tag) {
          case "Root":
            for (const change of mine) {
              for (const row of [change.new, change.old]) {
                const key = valuesOf(row, entry.key)
                if (key !== undefined) ids.add(encodeDocumentId(key))
              }
            }
            break
          case "Link":
            for (const change of mine) {
              reach(entry.target, valuesOf(change.new, entry.link))
              const old = valuesOf(change.old, entry.link)
              reach(entry.target, old)
              // Without the old link a delete or a move hides its previous parent: use the refs.
              if (old === undefined && change.op !== "insert" && entry.refs) {
                const rowKey = valuesOf(change.old, entry.rowKey) ?? valuesOf(change.new, entry.rowKey)
                if (rowKey !== undefined) refs.add(`${entry.table}:${encodeDocumentId(rowKey)}`)
              }
            }
            break
          case "Lookup": {
            const keys = new KeySet()
            for (const change of mine) {
              keys.add(valuesOf(change.new, entry.rowKey))
              keys.add(valuesOf(change.old, entry.rowKey))
            }
            if (keys.size === 0) break
            const parents = yield* runStep(sql, entry.step, keys, entry.rowKey.length, `resolving changes of ${entry.table}`)
            for (const key of parents.byId.values()) reach(entry.target, key)
          }
        }
      }
      // Ascend level by level to the root; a node's keys become its parent's via its Step.
      let frontier = reached
      while (frontier.size > 0) {
        const next = new Map<Node, KeySet>()
        for (const [node, keys] of frontier) {
          if (keys.size === 0) continue
          if (node.up === undefined || node.parent === undefined) {
            for (const id of keys.byId.keys()) ids.add(id)
            continue
          }
          const arity = keys.byId.values().next().value?.length ?? 0
          const parents = yield* runStep(sql, node.up, keys, arity, `resolving the documents of index ${plan.name}`)
          let set = next.get(node.parent)
          if (set === undefined) next.set(node.parent, set = new KeySet())
          for (const key of parents.byId.values()) set.add(key)
        }
        frontier = next
      }
      if (ids.size > 0) documents.set(plan.name, ids)
      if (refs.size > 0) references.set(plan.name, refs)
    }
    return { documents, references, truncated, rebuild }
  })
