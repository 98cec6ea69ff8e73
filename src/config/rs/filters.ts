/**
 * Filters as the Rust format writes them (`{raw}`, `{column, op: is_null|is_not_null}`,
 * `{column, op, value}` with snake_case ops) → our filters. Values are stringified as the
 * Rust tool does (numbers and booleans as text, YAML null as "null"): both bind them as
 * parameters cast to the column's type, so the text form selects the same rows.
 */
import { invalidType, report, type Scope, spotKeys, string, table, variantOf } from "./reader.js"
import type { Node } from "./tree.js"

const NULL_OPS = { is_null: "isNull", is_not_null: "isNotNull" } as const
const VALUE_OPS = {
  eq: "eq",
  neq: "neq",
  lt: "lt",
  lte: "lte",
  gt: "gt",
  gte: "gte",
  in: "in",
  not_in: "notIn",
  like: "like",
  ilike: "ilike",
  between: "between"
} as const
type RustOp = keyof typeof NULL_OPS | keyof typeof VALUE_OPS
const OPS = [...Object.keys(NULL_OPS), ...Object.keys(VALUE_OPS)] as ReadonlyArray<RustOp>

const isNullOp = (op: RustOp): op is keyof typeof NULL_OPS => op in NULL_OPS

/** `yaml_scalar_to_string`: what a filter value means to the Rust tool. */
const text = (node: Node): string => {
  if (node._tag === "datetime") return node.text
  if (node._tag !== "scalar") return ""
  const v = node.value
  return v === null ? "null" : String(v)
}

const filter = (scope: Scope, node: Node, path: string): Record<string, unknown> | undefined => {
  if (node._tag === "map" && node.entries.some((e) => e.key === "raw")) {
    const t = table(scope, node, ["raw"])
    const raw = t === undefined ? undefined : string(scope, t, "raw")
    return raw === undefined ? undefined : { raw }
  }
  const t = table(scope, node, ["column", "op", "value"])
  if (t === undefined) return undefined
  spotKeys(scope, path, t, { column: "column", op: "op", value: "value" })
  const column = string(scope, t, "column", true)
  const opEntry = t.get("op")
  if (opEntry === undefined) return report(scope, t.node, "missing key `op`")
  const op = variantOf(scope, opEntry.value, OPS)
  if (column === undefined || op === undefined) return undefined
  const value = t.get("value")
  if (isNullOp(op)) {
    return value === undefined ? { column, op: NULL_OPS[op] } : report(scope, value.keyPos, `filter op '${op}' takes no \`value\``, "convert")
  }
  if (value === undefined) return report(scope, t.node, `filter op '${op}' requires a value`, "convert")
  if (op === "in" || op === "not_in" || op === "between") {
    if (value.value._tag !== "seq") return report(scope, value.value, `filter op '${op}' requires a sequence value`, "convert")
    const items = value.value.items.map(text)
    if (op === "between" && items.length !== 2) {
      return report(scope, value.value, `filter op 'between' requires exactly 2 values, got ${items.length}`, "convert")
    }
    return { column, op: VALUE_OPS[op], value: items }
  }
  return { column, op: VALUE_OPS[op], value: text(value.value) }
}

/** A `filters` list (root, join, aggregate or `soft_delete.when`) at model path `path`. */
export const filters = (scope: Scope, node: Node, path: string): Array<Record<string, unknown>> => {
  if (node._tag !== "seq") {
    invalidType(scope, node, "a sequence")
    return []
  }
  return node.items.flatMap((item, i) => {
    const built = filter(scope, item, `${path}[${i}]`)
    return built === undefined ? [] : [built]
  })
}
