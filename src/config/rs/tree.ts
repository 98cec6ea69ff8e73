/**
 * One tree for both Rust-format files, so every rule reads TOML and YAML alike: maps keep
 * their key order and each node where it stands in its file (1-based line and column).
 * YAML positions come from the parser's node ranges; smol-toml returns plain values, so
 * TOML positions come from a line scan of the source (`tomlPositions`), key by key.
 */
import { Predicate } from "effect"
import { isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Document, type Node as YamlNode } from "yaml"
import { TomlDate } from "smol-toml"

export interface Pos {
  readonly line: number
  readonly column: number
}

export interface Entry {
  readonly key: string
  readonly keyPos: Pos | undefined
  readonly value: Node
}

export type Scalar = string | number | bigint | boolean | null

export type Node =
  | { readonly _tag: "map"; readonly entries: ReadonlyArray<Entry>; readonly pos: Pos | undefined }
  | { readonly _tag: "seq"; readonly items: ReadonlyArray<Node>; readonly pos: Pos | undefined }
  | { readonly _tag: "scalar"; readonly value: Scalar; readonly pos: Pos | undefined }
  /** A TOML datetime: a value no key of the format takes. */
  | { readonly _tag: "datetime"; readonly text: string; readonly pos: Pos | undefined }

export type MapNode = Extract<Node, { _tag: "map" }>

export const entry = (map: MapNode, key: string): Entry | undefined => map.entries.find((e) => e.key === key)

// ---------------------------------------------------------------------------------------
// YAML
// ---------------------------------------------------------------------------------------

export const fromYaml = (doc: Document, lines: LineCounter): Node => {
  const at = (node: { range?: readonly [number, number, number] | null } | null | undefined): Pos | undefined => {
    const offset = node?.range?.[0]
    if (offset === undefined) return undefined
    const { line, col } = lines.linePos(offset)
    return { line, column: col }
  }
  const visit = (node: unknown, depth: number): Node => {
    // An alias is read as the node it names; the depth bound stops a self-referencing alias.
    if (isAlias(node) && depth < 64) return visit(node.resolve(doc), depth + 1)
    if (isMap(node)) {
      const entries: Array<Entry> = []
      for (const pair of node.items) {
        if (!isPair(pair)) continue
        const key = isScalar(pair.key) ? pair.key.value : pair.key
        entries.push({
          key: typeof key === "string" ? key : String(key),
          keyPos: isScalar(pair.key) ? at(pair.key) : undefined,
          value: pair.value === null ? { _tag: "scalar", value: null, pos: at(isScalar(pair.key) ? pair.key : undefined) } : visit(pair.value, depth)
        })
      }
      return { _tag: "map", entries, pos: at(node) }
    }
    if (isSeq(node)) return { _tag: "seq", items: node.items.map((item) => visit(item, depth)), pos: at(node) }
    if (isScalar(node)) {
      const value = node.value
      return {
        _tag: "scalar",
        value:
          typeof value === "string" || typeof value === "number" || typeof value === "bigint" || typeof value === "boolean" || value === null
            ? value
            : String(value),
        pos: at(node)
      }
    }
    return { _tag: "scalar", value: null, pos: undefined }
  }
  return visit(doc.contents as YamlNode | null, 0)
}

// ---------------------------------------------------------------------------------------
// TOML
// ---------------------------------------------------------------------------------------

/** `a.b."c d"` → ["a", "b", "c d"] (keys as TOML writes them: bare, or quoted). */
const splitKey = (text: string): Array<string> => {
  const parts: Array<string> = []
  const pattern = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(\.|$)/y
  let match: RegExpExecArray | null
  while (pattern.lastIndex < text.length && (match = pattern.exec(text)) !== null) {
    parts.push(match[1] ?? match[2] ?? match[3] ?? "")
    if (match[4] === "") break
  }
  return parts
}

/**
 * Where each key of a TOML document is written, by its path (`sinks.primary.batch_size`,
 * `index[1].schema`). A scan, not a parser: it runs only on a document smol-toml has
 * already accepted, and keys it cannot place fall back to their nearest placed ancestor.
 */
export const tomlPositions = (text: string): ReadonlyMap<string, Pos> => {
  const positions = new Map<string, Pos>()
  const arrays = new Map<string, number>()
  let table: Array<string> = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1
    const header = /^(\s*)(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/.exec(raw)
    if (header !== null) {
      const keys = splitKey(header[3] ?? "")
      const column = (header[1]?.length ?? 0) + 1
      if (header[2] === "[[") {
        const base = keys.join(".")
        const n = (arrays.get(base) ?? -1) + 1
        arrays.set(base, n)
        table = [...keys.slice(0, -1), `${keys[keys.length - 1] ?? ""}[${n}]`]
      } else {
        table = keys
      }
      for (let k = 1; k <= table.length; k++) {
        const path = table.slice(0, k).join(".")
        if (!positions.has(path)) positions.set(path, { line, column })
      }
      return
    }
    const assignment = /^(\s*)((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\s-])+?)\s*=/.exec(raw)
    if (assignment === null) return
    const keys = splitKey(assignment[2] ?? "")
    if (keys.length === 0) return
    const column = (assignment[1]?.length ?? 0) + 1
    for (let k = 1; k <= keys.length; k++) {
      const path = [...table, ...keys.slice(0, k)].join(".")
      if (!positions.has(path)) positions.set(path, { line, column })
    }
    // Keys of an inline table on this line: `url = { env = "X" }`.
    const rest = raw.slice(assignment[0].length)
    for (const inner of rest.matchAll(/[{,]\s*([A-Za-z0-9_-]+)\s*=/g)) {
      const path = [...table, ...keys, inner[1] ?? ""].join(".")
      if (!positions.has(path)) positions.set(path, { line, column: assignment[0].length + (inner.index ?? 0) + inner[0].search(/[A-Za-z0-9_-]/) + 1 })
    }
  })
  return positions
}

/** smol-toml's value (integers as BigInt) as a tree, placed by `tomlPositions`. */
export const fromToml = (value: unknown, positions: ReadonlyMap<string, Pos>): Node => {
  const place = (path: ReadonlyArray<string>): Pos | undefined => {
    for (let k = path.length; k > 0; k--) {
      const prefix = path.slice(0, k)
      // An element of an inline array stands where its array's key does.
      const found = positions.get(prefix.join(".")) ?? positions.get(prefix.join(".").replace(/\[\d+\]$/, ""))
      if (found !== undefined) return found
    }
    return undefined
  }
  const visit = (v: unknown, path: ReadonlyArray<string>): Node => {
    const pos = place(path)
    if (v instanceof TomlDate) return { _tag: "datetime", text: v.toISOString(), pos }
    if (Array.isArray(v)) {
      // An array of tables is indexed `name[i]`; an inline array keeps its key's position.
      const last = path[path.length - 1] ?? ""
      return {
        _tag: "seq",
        items: v.map((item, i) => visit(item, [...path.slice(0, -1), `${last}[${i}]`])),
        pos
      }
    }
    if (Predicate.isRecord(v)) {
      return {
        _tag: "map",
        entries: Object.keys(v).map((key) => ({ key, keyPos: place([...path, key]), value: visit(v[key], [...path, key]) })),
        pos
      }
    }
    if (typeof v === "string" || typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") {
      return { _tag: "scalar", value: v, pos }
    }
    return { _tag: "scalar", value: null, pos }
  }
  return visit(value, [])
}
