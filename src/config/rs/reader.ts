/**
 * Reading the tree the way the Rust flusso's serde structs do (`deny_unknown_fields`
 * everywhere): unknown keys, missing keys and wrong types are reported in serde's words
 * as the Rust tool rewrites them ("key", not "field"; a did-you-mean for a near miss),
 * each at its line and column. Problems are collected, not thrown: a load reports them all.
 */
import { didYouMean } from "../issues.js"
import type { Spots, Where } from "./locations.js"
import type { Entry, MapNode, Node, Pos, Scalar } from "./tree.js"

/** Which Rust load step a problem belongs to; it picks the message prefix (`failed to parse …`). */
export type Stage = "parse" | "convert"

export interface RsIssue {
  readonly stage: Stage
  readonly message: string
  readonly pos: Pos | undefined
}

/** Collects the problems of one file. */
export class Problems {
  readonly issues: Array<RsIssue> = []
  constructor(readonly where: Where) {}
  report(message: string, pos: Pos | undefined, stage: Stage = "parse"): undefined {
    this.issues.push({ stage, message, pos })
    return undefined
  }
}

export interface Scope {
  readonly problems: Problems
  /** `` `keyword` field `email` `` inside a field, empty at the top of a file; prefixes its messages. */
  readonly label: string
  /** Where each path of the model came from, to place the problems validation finds there. */
  readonly spots: Spots
}

/** Notes that model `path` was read from `node` (for validation issues at that path). */
export const spot = (scope: Scope, path: string, at: { readonly pos: Pos | undefined } | Pos | undefined, key?: string): void => {
  const pos = at === undefined ? undefined : "line" in at ? at : at.pos
  scope.spots.set(path, { where: scope.problems.where, label: scope.label, pos, ...(key === undefined ? {} : { key }) })
}

/**
 * Spots for each key of a table read into the model under `path` (`rust key` → `model key`);
 * `rustPath` names the table in messages where no field label does (flusso.toml: `sinks.a`).
 */
export const spotKeys = (scope: Scope, path: string, t: Table, keys: Readonly<Record<string, string>>, rustPath = ""): void => {
  for (const [rust, model] of Object.entries(keys)) {
    const e = t.get(rust)
    if (e !== undefined) spot(scope, path === "" ? model : `${path}.${model}`, e.keyPos ?? e.value.pos, rustPath === "" ? rust : `${rustPath}.${rust}`)
  }
}

export const scoped = (scope: Scope, message: string): string => (scope.label === "" ? message : `${scope.label}: ${message}`)

export const report = (scope: Scope, node: { readonly pos: Pos | undefined } | Pos | undefined, message: string, stage: Stage = "parse"): undefined =>
  scope.problems.report(scoped(scope, message), node === undefined ? undefined : "line" in node ? node : node.pos, stage)

/** serde's list of expected names: "`a`", "`a` or `b`", "one of `a`, `b`, `c`". */
export const expectedList = (names: ReadonlyArray<string>): string => {
  const quoted = names.map((n) => `\`${n}\``)
  if (quoted.length === 0) return "nothing"
  if (quoted.length === 1) return quoted[0] ?? ""
  if (quoted.length === 2) return `${quoted[0]} or ${quoted[1]}`
  return `one of ${quoted.join(", ")}`
}

/** "unknown key `k`, expected …", with the Rust tool's "— did you mean `x`?" for an edit distance of at most 2. */
export const unknownKey = (key: string, allowed: ReadonlyArray<string>): string => {
  const suggestion = didYouMean(key, allowed)
  const expected = allowed.length === 0 ? "there are no keys" : `expected ${expectedList(allowed)}`
  return suggestion !== undefined && suggestion !== key
    ? `unknown key \`${key}\` — did you mean \`${suggestion}\`? ${expected}`
    : `unknown key \`${key}\`, ${expected}`
}

/** serde's name for what was found, as in "invalid type: string \"x\", expected a boolean". */
export const found = (node: Node, secret = false): string => {
  switch (node._tag) {
    case "map":
      return "map"
    case "seq":
      return "sequence"
    case "datetime":
      return "datetime"
    case "scalar": {
      const v: Scalar = node.value
      if (v === null) return "unit value"
      if (typeof v === "string") return secret ? "string" : `string ${JSON.stringify(v)}`
      if (typeof v === "boolean") return `boolean \`${v}\``
      if (typeof v === "bigint" || Number.isInteger(v)) return `integer \`${v}\``
      return `floating point \`${v}\``
    }
  }
}

export const invalidType = (scope: Scope, node: Node, expected: string, secret = false): undefined =>
  report(scope, node, `invalid type: ${found(node, secret)}, expected ${expected}`)

/** A map whose keys are checked against `allowed`; what it holds is read key by key. */
export interface Table {
  readonly node: MapNode
  readonly get: (key: string) => Entry | undefined
  readonly has: (key: string) => boolean
}

export const table = (scope: Scope, node: Node, allowed: ReadonlyArray<string>, expected = "a map"): Table | undefined => {
  if (node._tag !== "map") return invalidType(scope, node, expected)
  for (const e of node.entries) {
    if (!allowed.includes(e.key)) report(scope, e.keyPos ?? node.pos, unknownKey(e.key, allowed))
  }
  const get = (key: string) => node.entries.find((e) => e.key === key)
  return { node, get, has: (key) => get(key) !== undefined }
}

export const missing = (scope: Scope, t: Table, key: string): undefined => report(scope, t.node, `missing key \`${key}\``)

const asString = (scope: Scope, node: Node, secret = false): string | undefined =>
  node._tag === "scalar" && typeof node.value === "string" ? node.value : invalidType(scope, node, "a string", secret)

export const string = (scope: Scope, t: Table, key: string, required = false): string | undefined => {
  const e = t.get(key)
  if (e === undefined) return required ? missing(scope, t, key) : undefined
  return asString(scope, e.value)
}

export const boolean = (scope: Scope, t: Table, key: string, required = false): boolean | undefined => {
  const e = t.get(key)
  if (e === undefined) return required ? missing(scope, t, key) : undefined
  return e.value._tag === "scalar" && typeof e.value.value === "boolean" ? e.value.value : invalidType(scope, e.value, "a boolean")
}

/** An unsigned integer of at most `max` (serde's `u16`/`u32`/`u64`). */
export const unsigned = (scope: Scope, t: Table, key: string, type: "u8" | "u16" | "u32" | "u64"): number | undefined => {
  const e = t.get(key)
  if (e === undefined) return undefined
  const v = e.value._tag === "scalar" ? e.value.value : undefined
  const max = { u8: 255n, u16: 65535n, u32: 4294967295n, u64: BigInt(Number.MAX_SAFE_INTEGER) }[type]
  const integer = typeof v === "bigint" ? v : typeof v === "number" && Number.isInteger(v) ? BigInt(v) : undefined
  if (integer === undefined) return invalidType(scope, e.value, type)
  if (integer < 0n || integer > max) return report(scope, e.value, `invalid value: integer \`${integer}\`, expected ${type}`)
  return Number(integer)
}

export const stringList = (scope: Scope, t: Table, key: string, required = false): Array<string> | undefined => {
  const e = t.get(key)
  if (e === undefined) return required ? missing(scope, t, key) : undefined
  if (e.value._tag !== "seq") return invalidType(scope, e.value, "a sequence")
  const out: Array<string> = []
  for (const item of e.value.items) {
    const s = asString(scope, item)
    if (s !== undefined) out.push(s)
  }
  return out
}

/** One of a few words (a serde unit-variant enum): "unknown variant `x`, expected `a` or `b`". */
export const variant = <const V extends string>(scope: Scope, t: Table, key: string, variants: ReadonlyArray<V>): V | undefined => {
  const e = t.get(key)
  if (e === undefined) return undefined
  return variantOf(scope, e.value, variants)
}

export const variantOf = <const V extends string>(scope: Scope, node: Node, variants: ReadonlyArray<V>): V | undefined => {
  const s = asString(scope, node)
  if (s === undefined) return undefined
  const match = variants.find((v) => v === s)
  if (match !== undefined) return match
  const suggestion = didYouMean(s, variants)
  return report(
    scope,
    node,
    `unknown variant \`${s}\`, expected ${expectedList(variants)}${suggestion === undefined ? "" : ` — did you mean \`${suggestion}\`?`}`
  )
}

/** A node as plain JSON data (mapping options, constants): TOML/YAML scalars, lists and maps. */
export const toJson = (node: Node): unknown => {
  switch (node._tag) {
    case "map":
      return Object.fromEntries(node.entries.map((e) => [e.key, toJson(e.value)]))
    case "seq":
      return node.items.map(toJson)
    case "datetime":
      return node.text
    case "scalar":
      return typeof node.value === "bigint" ? Number(node.value) : node.value
  }
}
