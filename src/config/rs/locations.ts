/**
 * Where a problem is, in the Rust tool's words: every message is prefixed as its loader
 * prefixes it (`failed to parse config \`flusso.toml\`: …`, `failed to convert schema
 * \`users\` from \`schemas/users.schema.yml\`: …`) and ends with its line and column. The
 * shared validation (validate.ts) reports model paths (`indexes.users.fields.email.column`);
 * `placeIssue` turns each back into the file, field and key it was read from.
 */
import type { Pos } from "./tree.js"

export type Where =
  | { readonly _tag: "config"; readonly file: string }
  | { readonly _tag: "schema"; readonly name: string; readonly file: string }

export interface Spot {
  readonly where: Where
  /** The field a message is about (`` `keyword` field `email` ``), or "". */
  readonly label: string
  readonly pos: Pos | undefined
  /** The Rust key read at this path (`column`), when the spot is a key's, not a field's. */
  readonly key?: string
}

/** model path → where it was read. */
export type Spots = Map<string, Spot>

export const prefix = (where: Where, stage: "read" | "parse" | "convert"): string =>
  where._tag === "config"
    ? `failed to ${stage === "read" ? "read" : "parse"} config \`${where.file}\``
    : `failed to ${stage} schema \`${where.name}\` from \`${where.file}\``

export const at = (pos: Pos | undefined): string => (pos === undefined ? "" : ` (line ${pos.line}, column ${pos.column})`)

export const render = (where: Where, stage: "read" | "parse" | "convert", message: string, pos: Pos | undefined): string =>
  `${prefix(where, stage)}: ${message}${at(pos)}`

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** Our model's key names in a path remainder, as the Rust format spells them. */
const RUST_KEYS: Record<string, string> = { timeoutSeconds: "timeout_secs", url: "url", softDelete: "soft_delete", notIn: "not_in" }
const rustKey = (key: string): string => RUST_KEYS[key] ?? snake(key)

/** `indexes.users.fields.email.column: must match …` → the same problem placed in its file. */
export const placeIssue = (issue: string, spots: Spots, fallback: Where): string => {
  const colon = issue.indexOf(": ")
  const path = colon < 0 ? "" : issue.slice(0, colon)
  if (path === "" || /\s/.test(path)) return render(fallback, fallback._tag === "config" ? "parse" : "convert", issue, undefined)
  const message = issue.slice(colon + 2)
  // The longest path read from a file that the issue's path starts with.
  let best: { readonly path: string; readonly spot: Spot } | undefined
  for (const [candidate, spot] of spots) {
    const within = path === candidate || path.startsWith(`${candidate}.`) || path.startsWith(`${candidate}[`)
    if (within && (best === undefined || candidate.length > best.path.length)) best = { path: candidate, spot }
  }
  if (best === undefined) return render(fallback, "parse", issue, undefined)
  const rest = [
    ...(best.spot.key === undefined ? [] : [best.spot.key]),
    ...path
      .slice(best.path.length)
      .split(".")
      .filter((k) => k !== "")
      .map((k) => k.replace(/^[A-Za-z]+/, rustKey))
  ].join(".")
  const label = best.spot.label
  const text = [label, rest, message].filter((part) => part !== "").join(": ")
  return render(best.spot.where, best.spot.where._tag === "config" ? "parse" : "convert", text, best.spot.pos)
}
