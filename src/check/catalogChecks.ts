/**
 * The catalog half of `flusso check`: an index plan against what the database says about
 * its tables, as findings that name the config path, table, column and fix. Pure — the
 * catalog comes in as `TableInfo` (catalog.ts) — so every rule is unit-tested without a
 * database. Errors are exactly what would stop `flusso run` (the start-up checks of
 * catalog.ts and PostgresChangeSource.ts, same type table, same words) or make
 * PostgreSQL fail the document queries; warnings are what runs but loses changes or
 * values; notes explain how deletes are traced.
 */
import { didYouMean } from "../config/issues.js"
import { ScalarKind } from "../config/model.js"
import type { FieldPlan, IndexPlan, PlannedFilter, TableRef } from "../schema/IndexPlan.js"
import { qualify } from "../schema/IndexPlan.js"
import { ACCEPTED, accepts, type ColumnInfo, NUMERIC_TYPES, type TableInfo, tablesOf } from "../source/postgres/catalog.js"
import { sqlName } from "../source/postgres/identifiers.js"
import { noPrimaryKey, quotedName, rootIdentityProblem, weakerPartitionsFix } from "../source/postgres/setupProblems.js"
import { type Finding, finding } from "./CheckReport.js"

// ---------------------------------------------------------------------------------------
// Compatibility tables
// ---------------------------------------------------------------------------------------

/** Whether a scalar kind can read a column, and if not, what would. */
export type Compatibility =
  | { readonly _tag: "Accepted" }
  | {
    readonly _tag: "Refused"
    /** The base types the kind accepts. */
    readonly accepted: ReadonlyArray<string>
    /** The kinds that do accept this column's type (none: only `t.custom`). */
    readonly fitting: ReadonlyArray<ScalarKind>
  }

/** The kinds that read a column of this type, in the order the config language lists them. */
export const fittingKinds = (column: ColumnInfo): ReadonlyArray<ScalarKind> =>
  ScalarKind.literals.filter((kind) => accepts(kind, column))

/** The engine's own table (catalog.ts `ACCEPTED`): a kind the run refuses is refused here too. */
export const scalarCompatibility = (kind: ScalarKind, column: ColumnInfo): Compatibility =>
  accepts(kind, column) ? { _tag: "Accepted" } : { _tag: "Refused", accepted: ACCEPTED[kind], fitting: fittingKinds(column) }

/**
 * How two join key columns compare in SQL (`a.x = b.y`): `same` type, `comparable`
 * (integers of any width and numeric; the text family), `inexact` (floating point against
 * an exact number: equal-looking keys may not match) or `incompatible` (PostgreSQL has no
 * operator: every document query fails).
 */
export type KeyCompatibility = "same" | "comparable" | "inexact" | "incompatible"

const KEY_FAMILY: Readonly<Record<string, string>> = {
  int2: "exact",
  int4: "exact",
  int8: "exact",
  numeric: "exact",
  float4: "float",
  float8: "float",
  text: "text",
  varchar: "text",
  bpchar: "text",
  name: "text",
  citext: "text"
}

const familyOf = (column: ColumnInfo): string => KEY_FAMILY[column.typeName] ?? `type ${column.typeName}`

export const keyCompatibility = (a: ColumnInfo, b: ColumnInfo): KeyCompatibility => {
  if (a.typeName === b.typeName) return "same"
  const fa = familyOf(a)
  const fb = familyOf(b)
  if (fa === fb) return "comparable"
  const numbers = new Set([fa, fb])
  return numbers.has("exact") && numbers.has("float") ? "inexact" : "incompatible"
}

const INTEGRAL_TYPES: ReadonlyArray<string> = ["int2", "int4", "int8"]
const INTEGRAL_KINDS: ReadonlyArray<ScalarKind> = ["short", "integer", "long"]
/** What `sum` and `avg` can add up. */
const SUMMABLE_TYPES: ReadonlyArray<string> = [...NUMERIC_TYPES, "money"]

// ---------------------------------------------------------------------------------------
// Replica identity (setupProblems.ts: the words `run` refuses to start with)
// ---------------------------------------------------------------------------------------

const unkeyed = (name: string): Finding => {
  const problem = noPrimaryKey(name)
  return finding("error", problem.reason, { table: name, fix: problem.fix })
}

/** Deletes of a root table must carry the configured key, or they cannot be resolved (what `run` stops on). */
const rootReplicaIdentity = (plan: IndexPlan, table: TableInfo): ReadonlyArray<Finding> => {
  // No primary key at all is reported once per table by `checkPublishedTables`.
  if (table.replicaIdentity === "d" && table.primaryKey.length === 0) return []
  const problem = rootIdentityProblem(plan, table)
  if (problem === undefined) return []
  const keyed = table.replicaIdentity === "d"
  return [finding("error", problem.reason, {
    index: plan.name,
    table: plan.qualifiedTable,
    path: `indexes.${plan.name}.${keyed ? "primaryKey" : "table"}`,
    fix: problem.fix
  })]
}

/**
 * Once per table every enabled index reads (they are all published): a table without a
 * key, or with REPLICA IDENTITY NOTHING, makes PostgreSQL refuse the application's
 * UPDATEs and DELETEs once it is in the publication.
 */
export const checkPublishedTables = (
  plans: ReadonlyArray<IndexPlan>,
  tables: ReadonlyMap<string, TableInfo>
): ReadonlyArray<Finding> => {
  const roots = new Set(plans.map((p) => p.qualifiedTable))
  const seen = new Set<string>()
  const out: Array<Finding> = []
  for (const ref of plans.flatMap(tablesOf)) {
    const name = qualify(ref)
    const info = tables.get(name)
    if (info === undefined || seen.has(name)) continue
    seen.add(name)
    if (info.replicaIdentity === "d" && info.primaryKey.length === 0) out.push(unkeyed(name))
    if (info.replicaIdentity === "n" && !roots.has(name)) {
      out.push(finding("error", `table ${name} has REPLICA IDENTITY NOTHING: once published, PostgreSQL refuses its UPDATEs and DELETEs`, {
        table: name,
        fix: `ALTER TABLE ${quotedName(name)} REPLICA IDENTITY ${info.primaryKey.length > 0 ? "DEFAULT" : "FULL"};`
      }))
    }
    if (info.partitioned) {
      out.push(finding("info",
        `table ${name} is partitioned: a partition attached with rows, detached, dropped or truncated changes rows without row events; ` +
          "flusso sees it within seconds and rebuilds the indexes that read the table into new generations (the current ones serve meanwhile)",
        { table: name }))
    }
    if (info.weakerPartitions.length > 0) {
      out.push(finding("warning",
        `partitions ${info.weakerPartitions.join(", ")} of ${name} have a weaker REPLICA IDENTITY than the table (PostgreSQL logs a change with its partition's): ` +
          "their deletes carry less of the old row, so flusso traces them through the index",
        { table: name, fix: weakerPartitionsFix(info) }))
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------
// One index against the catalog
// ---------------------------------------------------------------------------------------

export interface CatalogCheckOptions {
  /**
   * Whether some sink keeps the documents' refs (an OpenSearch sink does; stdout does
   * not): without one, a related row's delete or move that carries no link is not traced.
   */
  readonly refsKept: boolean
  /** Every `schema.table` the role can see: the candidates for "did you mean" on a missing table. */
  readonly knownTables?: ReadonlyArray<string>
}

/** The row a field reads from: the root row, or the related row of the enclosing join. */
interface Row {
  readonly info: TableInfo
  /** The key its children's links point at. */
  readonly key: ReadonlyArray<string>
}

const MAX_LISTED = 20

const columnList = (table: TableInfo): string => {
  const names = [...table.columns.keys()]
  return names.length > MAX_LISTED ? `${names.slice(0, MAX_LISTED).join(", ")}, …` : names.join(", ")
}

const kindCall = (kind: ScalarKind): string => `t.${kind}()`

const orList = (items: ReadonlyArray<string>): string =>
  items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1] ?? ""}`

/** A link is in every old row PostgreSQL sends when the table is FULL, or the link is part of its key (resolution.ts `needsRefs`). */
const linkInOldRows = (table: TableInfo, link: ReadonlyArray<string>): boolean =>
  table.replicaIdentity === "f" || link.every((c) => table.primaryKey.includes(c))

/** Every finding for one index, enabled or not (`checkCatalog` skips disabled ones, as the engine does). */
export const checkIndexCatalog = (
  plan: IndexPlan,
  tables: ReadonlyMap<string, TableInfo>,
  options: CatalogCheckOptions
): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  const index = plan.name
  const base = `indexes.${index}`
  const seen = new Set<string>()
  const once = (key: string, f: Finding) => {
    if (seen.has(key)) return
    seen.add(key)
    out.push(f)
  }

  const tableAt = (path: string, ref: TableRef): TableInfo | undefined => {
    const name = qualify(ref)
    const info = tables.get(name)
    if (info !== undefined) return info
    const candidates = (options.knownTables ?? []).filter((t) => t !== name)
    // The qualified name first; else the bare table name, in whatever schema it lives.
    const bare = didYouMean(ref.table, candidates.map((t) => t.slice(t.indexOf(".") + 1)))
    const suggestion = didYouMean(name, candidates) ??
      (bare === undefined ? undefined : candidates.find((t) => t === `${ref.schema}.${bare}`) ?? candidates.find((t) => t.endsWith(`.${bare}`)))
    const [schema, table] = suggestion?.split(".") ?? []
    out.push(finding("error", `table ${name} does not exist (or the role cannot see it)${suggestion ? `; did you mean ${suggestion}?` : ""}`, {
      index,
      table: name,
      path,
      fix: suggestion !== undefined && table !== undefined
        ? `set table: "${table}"${schema !== ref.schema ? ` and schema: "${schema}"` : ""}`
        : `create table ${name}, or set table to an existing one`
    }))
    return undefined
  }

  /** `option` is the config key naming the column, for the fix ("column", "foreignKey", "through.leftKey"…). */
  const columnAt = (path: string, option: string, table: TableInfo, name: string): ColumnInfo | undefined => {
    const info = table.columns.get(name)
    if (info !== undefined) return info
    const suggestion = didYouMean(name, table.columns.keys())
    out.push(finding("error", `column ${table.qualifiedTable}.${name} does not exist${suggestion ? `; did you mean ${suggestion}?` : ""}`, {
      index,
      table: table.qualifiedTable,
      column: name,
      path,
      fix: suggestion !== undefined
        ? `set ${option}: "${suggestion}"`
        : `set ${option} to a column of ${table.qualifiedTable} (${columnList(table)}), or add column ${name} to it`
    }))
    return undefined
  }

  const columnsAt = (path: string, option: string, table: TableInfo, names: ReadonlyArray<string>): ReadonlyArray<ColumnInfo | undefined> =>
    names.map((name) => columnAt(path, option, table, name))

  const filtersAt = (path: string, table: TableInfo, filters: ReadonlyArray<PlannedFilter>) =>
    filters.forEach((f, i) => {
      if (f._tag !== "Raw") columnAt(`${path}[${i}].column`, "column", table, f.column)
    })

  const nullableRequired = (path: string, table: TableInfo, column: ColumnInfo, what: string) => {
    if (!column.nullable) return
    out.push(finding("warning", `${what} is required, but column ${table.qualifiedTable}.${column.name} is nullable: documents get null where the row holds none`, {
      index,
      table: table.qualifiedTable,
      column: column.name,
      path,
      fix: `ALTER TABLE ${quotedName(table.qualifiedTable)} ALTER COLUMN ${sqlName(column.name)} SET NOT NULL; or give the field a default, or drop required`
    }))
  }

  /** Each pair (link column on `linkTable`, key column on `keyTable`) must be comparable. */
  const keyTypes = (
    path: string,
    linkTable: TableInfo,
    links: ReadonlyArray<ColumnInfo | undefined>,
    keyTable: TableInfo,
    keys: ReadonlyArray<ColumnInfo | undefined>
  ) =>
    links.forEach((link, i) => {
      const key = keys[i]
      if (link === undefined || key === undefined) return
      const compatibility = keyCompatibility(link, key)
      if (compatibility === "same" || compatibility === "comparable") return
      const linkName = `${linkTable.qualifiedTable}.${link.name}`
      const keyName = `${keyTable.qualifiedTable}.${key.name}`
      const details = {
        index,
        table: linkTable.qualifiedTable,
        column: link.name,
        path,
        fix: `ALTER TABLE ${quotedName(linkTable.qualifiedTable)} ALTER COLUMN ${sqlName(link.name)} TYPE ${key.type} USING ${sqlName(link.name)}::${key.type}; or join on columns of the same type`
      }
      out.push(compatibility === "incompatible"
        ? finding("error", `join key ${linkName} is ${link.type} but ${keyName} is ${key.type}: PostgreSQL cannot compare them, so every document query fails`, details)
        : finding("warning", `join key ${linkName} is ${link.type} but ${keyName} is ${key.type}: compared as floating point, equal-looking keys may not match`, details))
    })

  /** A foreign key on a related table: is its old value in the deletes and updates PostgreSQL sends? */
  const tracedLink = (path: string, related: TableInfo, link: ReadonlyArray<string>) => {
    if (link.some((c) => !related.columns.has(c)) || linkInOldRows(related, link)) return
    const name = related.qualifiedTable
    const cols = link.join(", ")
    const why = `it lacks REPLICA IDENTITY FULL and ${cols} ${link.length === 1 ? "is" : "are"} not in its primary key`
    const fix = `ALTER TABLE ${quotedName(name)} REPLICA IDENTITY FULL;`
    // Same words as the start-up log (deletes-and-moves.md "The refs companion index").
    once(`refs ${name} ${cols}`, options.refsKept
      ? finding("info", `deletes and moves in ${name} are traced through the index (${why})`, {
        index,
        table: name,
        path,
        fix: `nothing needed; to save the refs and their searches: ${fix}`
      })
      : finding("warning", `deletes and moves in ${name} cannot be traced (${why}), and no OpenSearch sink keeps refs: a deleted or moved row stays in its old parent's document until something else rebuilds it`, {
        index,
        table: name,
        path,
        fix
      }))
  }

  /** A junction's deletes must carry the left key (resolution.ts: else documents keep removed links). */
  const junctionLink = (path: string, junction: TableInfo, leftKey: ReadonlyArray<string>) => {
    if (leftKey.some((c) => !junction.columns.has(c)) || linkInOldRows(junction, leftKey)) return
    const name = junction.qualifiedTable
    once(`junction ${name} ${leftKey.join(",")}`, finding(
      "warning",
      `deletes in junction ${name} carry no ${leftKey.join(", ")}: documents keep removed links until rebuilt`,
      { index, table: name, path, fix: `ALTER TABLE ${quotedName(name)} REPLICA IDENTITY FULL;` }
    ))
  }

  const scalarColumn = (at: string, table: TableInfo, kind: ScalarKind, columnName: string, required: boolean, hasDefault: boolean) => {
    const column = columnAt(at, "column", table, columnName)
    if (column === undefined) return
    const compatibility = scalarCompatibility(kind, column)
    if (compatibility._tag === "Refused") {
      const instead = compatibility.fitting.length > 0
        ? `declare it as ${orList(compatibility.fitting.map(kindCall))}`
        : `declare it as t.custom({ postgres: ["${column.typeName}"], opensearch: … })`
      out.push(finding(
        "error",
        `t.${kind}() cannot read column ${table.qualifiedTable}.${column.name} of type ${column.type}; it accepts ${compatibility.accepted.join(", ")}`,
        {
          index,
          table: table.qualifiedTable,
          column: column.name,
          path: at,
          fix: `${instead}, or set column: to a column of type ${compatibility.accepted.join(" / ")}`
        }
      ))
      return
    }
    if (required && !hasDefault) nullableRequired(at, table, column, `t.${kind}()`)
  }

  /** The related side of a join or aggregate: links, keys, filters; returns the related row. */
  const relatedSide = (at: string, field: Extract<FieldPlan, { _tag: "Join" | "Aggregate" }>, parent: Row): Row | undefined => {
    const related = tableAt(`${at}.table`, field.table)
    // The related key as configured (checked), else the catalog's primary key.
    const relatedKeyNames = field.primaryKey ?? related?.primaryKey ?? []
    const relatedKeyColumns = related === undefined
      ? []
      : field.primaryKey !== undefined
      ? columnsAt(`${at}.primaryKey`, "primaryKey", related, field.primaryKey)
      : related.primaryKey.map((c) => related.columns.get(c))
    const parentKey = parent.key.map((c) => parent.info.columns.get(c))
    if (field._tag === "Join" && field.relation === "belongsTo") {
      const links = columnsAt(`${at}.column`, "column", parent.info, field.column ?? [])
      if (related !== undefined) keyTypes(`${at}.column`, parent.info, links, related, relatedKeyColumns)
      if (field.required) {
        for (const link of links) if (link !== undefined) nullableRequired(`${at}.column`, parent.info, link, `t.belongsTo() ${field.name}`)
      }
    } else if (field.through !== undefined) {
      const through = field.through
      const junction = tableAt(`${at}.through.table`, through.table)
      if (junction !== undefined) {
        const left = columnsAt(`${at}.through.leftKey`, "through.leftKey", junction, through.leftKey)
        const right = columnsAt(`${at}.through.rightKey`, "through.rightKey", junction, through.rightKey)
        keyTypes(`${at}.through.leftKey`, junction, left, parent.info, parentKey)
        if (related !== undefined) keyTypes(`${at}.through.rightKey`, junction, right, related, relatedKeyColumns)
        junctionLink(`${at}.through`, junction, through.leftKey)
      }
    } else if (related !== undefined) {
      const links = columnsAt(`${at}.foreignKey`, "foreignKey", related, field.foreignKey ?? [])
      keyTypes(`${at}.foreignKey`, related, links, parent.info, parentKey)
      tracedLink(`${at}.foreignKey`, related, field.foreignKey ?? [])
    }
    if (related === undefined) return undefined
    filtersAt(`${at}.filters`, related, field.filters)
    return { info: related, key: relatedKeyNames }
  }

  const aggregate = (at: string, field: Extract<FieldPlan, { _tag: "Aggregate" }>, parent: Row) => {
    const related = relatedSide(at, field, parent)
    if (related === undefined) return
    const table = related.info
    if (field.primaryKey === undefined && table.primaryKey.length === 0 && (field.fn === "ids" || field.through !== undefined)) {
      out.push(finding("error", `table ${table.qualifiedTable} has no primary key, and t.${field.fn}() needs the key of its rows`, {
        index,
        table: table.qualifiedTable,
        path: `${at}.primaryKey`,
        fix: `set primaryKey, or add a primary key to ${table.qualifiedTable}`
      }))
    }
    if (field.fn === "ids" && field.elementType === "long") {
      for (const c of related.key) {
        const column = table.columns.get(c)
        if (column !== undefined && !INTEGRAL_TYPES.includes(column.typeName)) {
          out.push(finding("warning", `t.ids({ elementType: "long" }) collects ${table.qualifiedTable}.${c} of type ${column.type}: OpenSearch rejects documents whose ids are not integers`, {
            index,
            table: table.qualifiedTable,
            column: c,
            path: `${at}.elementType`,
            fix: `set elementType: "keyword"`
          }))
        }
      }
    }
    if (field.column === undefined) return
    const column = columnAt(`${at}.column`, "column", table, field.column)
    if (column === undefined) return
    if ((field.fn === "sum" || field.fn === "avg") && !SUMMABLE_TYPES.includes(column.typeName)) {
      out.push(finding("error", `t.${field.fn}() needs a numeric column, ${table.qualifiedTable}.${column.name} is ${column.type}: PostgreSQL cannot ${field.fn === "sum" ? "add it up" : "average it"}`, {
        index,
        table: table.qualifiedTable,
        column: column.name,
        path: `${at}.column`,
        fix: `set column: to a numeric column of ${table.qualifiedTable}`
      }))
      return
    }
    if (field.fn === "sum" || field.fn === "min" || field.fn === "max") {
      const valueType = field.valueType ?? "double"
      // Integral sums are mapped as long whatever their width (mapping.ts).
      const integralSum = field.fn === "sum" && INTEGRAL_KINDS.includes(valueType) && INTEGRAL_TYPES.includes(column.typeName)
      if (!integralSum && !accepts(valueType, column)) {
        const fitting = fittingKinds(column)
        out.push(finding("warning", `t.${field.fn}() is mapped as ${valueType}${field.valueType === undefined ? " (the default)" : ""} but reads ${table.qualifiedTable}.${column.name} of type ${column.type}: OpenSearch may reject or coerce its values`, {
          index,
          table: table.qualifiedTable,
          column: column.name,
          path: `${at}.valueType`,
          fix: fitting.length > 0 ? `set valueType: ${orList(fitting.map((k) => `"${k}"`))}` : `aggregate a column of another type`
        }))
      }
    }
  }

  const visit = (path: string, row: Row, fields: ReadonlyArray<FieldPlan>) => {
    const table = row.info
    for (const field of fields) {
      const at = `${path}.${field.name}`
      switch (field._tag) {
        case "Scalar":
          scalarColumn(at, table, field.kind, field.column, field.required, field.default !== undefined)
          break
        case "Object":
          visit(`${at}.fields`, row, field.fields)
          break
        case "Map": {
          const column = columnAt(at, "column", table, field.column)
          if (column === undefined) break
          if (column.typeName !== "json" && column.typeName !== "jsonb") {
            out.push(finding("error", `t.map() needs a json or jsonb column, ${table.qualifiedTable}.${column.name} is ${column.type}`, {
              index,
              table: table.qualifiedTable,
              column: column.name,
              path: at,
              fix: `set column: to a json or jsonb column, or ALTER TABLE ${quotedName(table.qualifiedTable)} ALTER COLUMN ${sqlName(column.name)} TYPE jsonb USING ${sqlName(column.name)}::jsonb;`
            }))
          } else if (field.required) nullableRequired(at, table, column, "t.map()")
          break
        }
        case "Geo":
          if (field.source._tag === "LatLon") {
            for (const [option, name] of [["lat", field.source.lat], ["lon", field.source.lon]] as const) {
              const column = columnAt(`${at}.${option}`, option, table, name)
              if (column === undefined) continue
              if (!NUMERIC_TYPES.includes(column.typeName)) {
                out.push(finding("error", `t.geo() needs numeric lat/lon columns, ${table.qualifiedTable}.${column.name} is ${column.type}`, {
                  index,
                  table: table.qualifiedTable,
                  column: column.name,
                  path: `${at}.${option}`,
                  fix: `set ${option}: to a numeric column (float8, numeric…)`
                }))
              } else if (field.required) nullableRequired(`${at}.${option}`, table, column, "t.geo()")
            }
          } else {
            const column = columnAt(`${at}.column`, "column", table, field.source.column)
            if (column !== undefined && field.required) nullableRequired(`${at}.column`, table, column, "t.geo()")
          }
          break
        case "Constant":
          break
        case "Custom": {
          const column = columnAt(at, "column", table, field.column)
          if (column === undefined) break
          if (!field.postgres.includes(column.typeName) && !field.postgres.includes(column.type)) {
            out.push(finding("error", `t.custom() accepts ${field.postgres.join(", ")}, column ${table.qualifiedTable}.${column.name} is ${column.type}`, {
              index,
              table: table.qualifiedTable,
              column: column.name,
              path: `${at}.postgres`,
              fix: `add "${column.typeName}" to postgres, or set column: to a column of type ${field.postgres.join(" / ")}`
            }))
          } else if (field.required) nullableRequired(at, table, column, "t.custom()")
          break
        }
        case "Join": {
          const related = relatedSide(at, field, row)
          if (related === undefined) break
          field.orderBy.forEach((o, i) => columnAt(`${at}.orderBy[${i}].column`, "column", related.info, o.column))
          visit(`${at}.fields`, related, field.fields)
          break
        }
        case "Aggregate":
          aggregate(at, field, row)
          break
      }
    }
  }

  const root = tableAt(`${base}.table`, { schema: plan.schema, table: plan.table })
  if (root === undefined) return out
  columnsAt(`${base}.primaryKey`, "primaryKey", root, plan.primaryKey)
  if (plan.softDelete !== undefined) {
    columnAt(`${base}.softDelete.column`, "softDelete.column", root, plan.softDelete.column)
    filtersAt(`${base}.softDelete.when`, root, plan.softDelete.when)
  }
  filtersAt(`${base}.filters`, root, plan.filters)
  if (plan.primaryKey.every((c) => root.columns.has(c))) out.push(...rootReplicaIdentity(plan, root))
  visit(`${base}.fields`, { info: root, key: plan.primaryKey }, plan.fields)
  return out
}

/** The catalog findings of every enabled index, then the per-table ones; disabled indexes get a note. */
export const checkCatalog = (
  plans: ReadonlyArray<IndexPlan>,
  tables: ReadonlyMap<string, TableInfo>,
  options: CatalogCheckOptions
): ReadonlyArray<Finding> => {
  const enabled = plans.filter((p) => p.enabled)
  return [
    ...plans.flatMap((plan) =>
      plan.enabled
        ? checkIndexCatalog(plan, tables, options)
        : [finding("info", `index ${plan.name} is disabled: not checked against the database, and its tables are not published`, {
          index: plan.name,
          path: `indexes.${plan.name}.enabled`
        })]
    ),
    ...checkPublishedTables(enabled, tables)
  ]
}
