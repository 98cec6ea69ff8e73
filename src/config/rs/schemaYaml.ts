/**
 * One `*.schema.yml` (Rust `libs/2-schema/1-index-yaml`) → one index of our model. The
 * YAML is parsed with node ranges kept (a `LineCounter`), so every problem — a field's
 * too, which the Rust tool cannot place — carries its line and column.
 */
import { LineCounter, parseDocument } from "yaml"
import { fields } from "./fields.js"
import { filters } from "./filters.js"
import { missing, report, type Scope, spot, spotKeys, string, table } from "./reader.js"
import { fromYaml } from "./tree.js"

const ROOT_KEYS = ["version", "table", "schema", "primary_key", "doc_id", "soft_delete", "filters", "fields"]

/** The index read from `text`, or undefined when it has problems (reported to `scope`). */
export const parseSchemaYaml = (
  scope: Scope,
  text: string,
  path: string,
  entry: { readonly enabled: boolean; readonly onError: "stop" | "skip" | undefined }
): Record<string, unknown> | undefined => {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines })
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const [start] = error.linePos ?? []
      report(scope, start === undefined ? undefined : { line: start.line, column: start.col }, error.message.replace(/ at line \d+, column \d+.*$/s, ""))
    }
    return undefined
  }
  const root = fromYaml(doc, lines)
  const t = table(scope, root, ROOT_KEYS, "a YAML mapping")
  if (t === undefined) return undefined
  const before = scope.problems.issues.length

  const version = t.get("version")
  if (version === undefined) missing(scope, t, "version")
  else if (version.value._tag !== "scalar" || typeof version.value.value !== "number" || !Number.isInteger(version.value.value)) {
    report(scope, version.value, "invalid type: expected u8")
  } else if (version.value.value !== 1) {
    report(scope, version.value, `unsupported schema version ${version.value.value}; supported versions: 1`)
  }

  const docId = t.get("doc_id")
  if (docId !== undefined) {
    report(scope, docId.keyPos, "`doc_id` is not supported yet — the document `_id` is always derived from `primary_key`. Remove `doc_id` from the schema.", "convert")
  }

  const tableName = string(scope, t, "table", true)
  const primaryKey = string(scope, t, "primary_key")
  if (!t.has("primary_key")) {
    // The Rust tool falls back to the catalog's key; ours is decided without a database.
    report(scope, t.node, "missing key `primary_key`: name the root table's key column (flusso decides the document id without a database)", "convert")
  }
  spot(scope, path, t.node)
  spotKeys(scope, path, t, { table: "table", schema: "schema", primary_key: "primaryKey", soft_delete: "softDelete", filters: "filters" })

  const softDeleteEntry = t.get("soft_delete")
  const softDelete = ((): Record<string, unknown> | undefined => {
    if (softDeleteEntry === undefined) return undefined
    const sd = table(scope, softDeleteEntry.value, ["column", "field", "when"])
    if (sd === undefined) return undefined
    spotKeys(scope, `${path}.softDelete`, sd, { column: "column", field: "field", when: "when" })
    const when = sd.get("when")
    return Object.fromEntries(
      Object.entries({
        column: string(scope, sd, "column"),
        field: string(scope, sd, "field"),
        when: when === undefined ? undefined : filters(scope, when.value, `${path}.softDelete.when`)
      }).filter(([, v]) => v !== undefined)
    )
  })()

  const rootFilters = t.get("filters")
  const fieldsEntry = t.get("fields")
  if (fieldsEntry === undefined) missing(scope, t, "fields")
  const index = Object.fromEntries(
    Object.entries({
      table: tableName,
      schema: string(scope, t, "schema"),
      primaryKey,
      softDelete,
      filters: rootFilters === undefined ? undefined : filters(scope, rootFilters.value, `${path}.filters`),
      enabled: entry.enabled,
      onError: entry.onError,
      fields: fieldsEntry === undefined ? {} : fields(scope, fieldsEntry.value, path)
    }).filter(([, v]) => v !== undefined)
  )
  return scope.problems.issues.length === before ? index : undefined
}
