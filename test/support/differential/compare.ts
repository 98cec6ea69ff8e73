/**
 * Expected (oracle) vs actual (OpenSearch) documents: which ids are missing, extra or
 * different, and — for the first few differing documents — a readable list of the paths
 * that differ, each with both values. Object key order never matters; array order does.
 * Non-integer numbers compare with a relative tolerance of 1e-12 (an average computed
 * another way may differ in the last bit); everything else compares exactly.
 */

export interface Mismatch {
  readonly id: string
  readonly kind: "missing" | "extra" | "different"
  /** For "different": `path: expected … actual …` lines. */
  readonly paths: ReadonlyArray<string>
  readonly expected: unknown
  readonly actual: unknown
}

export interface Comparison {
  readonly index: string
  readonly expectedCount: number
  readonly actualCount: number
  readonly mismatches: ReadonlyArray<Mismatch>
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const sameNumber = (a: number, b: number) =>
  a === b || (!Number.isInteger(a) || !Number.isInteger(b)) && Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b))

const show = (value: unknown): string => {
  const text = JSON.stringify(value)
  return text === undefined ? "(absent)" : text.length > 160 ? `${text.slice(0, 157)}...` : text
}

/** Every path where `actual` differs from `expected`. */
export const diffPaths = (expected: unknown, actual: unknown, path = "", out: Array<string> = []): Array<string> => {
  if (typeof expected === "number" && typeof actual === "number") {
    if (!sameNumber(expected, actual)) out.push(`${path || "."}: expected ${show(expected)}, got ${show(actual)}`)
    return out
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) {
      out.push(`${path || "."}: expected ${expected.length} element(s), got ${actual.length}`)
    }
    const n = Math.max(expected.length, actual.length)
    for (let i = 0; i < n; i++) {
      if (i >= expected.length) out.push(`${path}[${i}]: unexpected ${show(actual[i])}`)
      else if (i >= actual.length) out.push(`${path}[${i}]: missing ${show(expected[i])}`)
      else diffPaths(expected[i], actual[i], `${path}[${i}]`, out)
    }
    return out
  }
  if (isObject(expected) && isObject(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)])
    for (const key of [...keys].sort()) {
      const sub = path === "" ? key : `${path}.${key}`
      if (!(key in actual)) out.push(`${sub}: missing (expected ${show(expected[key])})`)
      else if (!(key in expected)) out.push(`${sub}: unexpected field ${show(actual[key])}`)
      else diffPaths(expected[key], actual[key], sub, out)
    }
    return out
  }
  if (expected !== actual) out.push(`${path || "."}: expected ${show(expected)}, got ${show(actual)}`)
  return out
}

export const compareIndex = (
  index: string,
  expected: ReadonlyMap<string, unknown>,
  actual: ReadonlyMap<string, unknown>
): Comparison => {
  const mismatches: Array<Mismatch> = []
  const ids = [...new Set([...expected.keys(), ...actual.keys()])].sort(byId)
  for (const id of ids) {
    const e = expected.get(id)
    const a = actual.get(id)
    if (!actual.has(id)) mismatches.push({ id, kind: "missing", paths: [], expected: e, actual: undefined })
    else if (!expected.has(id)) mismatches.push({ id, kind: "extra", paths: [], expected: undefined, actual: a })
    else {
      const paths = diffPaths(e, a)
      if (paths.length > 0) mismatches.push({ id, kind: "different", paths, expected: e, actual: a })
    }
  }
  return { index, expectedCount: expected.size, actualCount: actual.size, mismatches }
}

/** Numeric ids in numeric order, others in text order. */
const byId = (a: string, b: string): number => {
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) {
    const x = BigInt(a)
    const y = BigInt(b)
    return x < y ? -1 : x > y ? 1 : 0
  }
  return a < b ? -1 : a > b ? 1 : 0
}

/** A readable report of the first `limit` mismatches of each index. */
export const report = (comparisons: ReadonlyArray<Comparison>, limit = 5): string => {
  const lines: Array<string> = []
  for (const c of comparisons) {
    if (c.mismatches.length === 0) continue
    const counts = (["missing", "extra", "different"] as const)
      .map((kind) => `${c.mismatches.filter((m) => m.kind === kind).length} ${kind}`)
      .join(", ")
    lines.push(`index ${c.index}: ${c.expectedCount} expected, ${c.actualCount} in OpenSearch — ${counts}`)
    for (const m of c.mismatches.slice(0, limit)) {
      switch (m.kind) {
        case "missing":
          lines.push(`  ${c.index}/${m.id}: MISSING from OpenSearch; expected ${show(m.expected)}`)
          break
        case "extra":
          lines.push(`  ${c.index}/${m.id}: EXTRA document (the database says it is no document): ${show(m.actual)}`)
          break
        case "different":
          lines.push(`  ${c.index}/${m.id}: ${m.paths.length} difference(s)`)
          for (const p of m.paths.slice(0, 12)) lines.push(`    ${p}`)
          if (m.paths.length > 12) lines.push(`    … ${m.paths.length - 12} more`)
      }
    }
    if (c.mismatches.length > limit) lines.push(`  … ${c.mismatches.length - limit} more mismatching document(s)`)
    const first = c.mismatches.find((m) => m.kind === "different")
    if (first !== undefined) {
      lines.push(`  first different document in full, ${c.index}/${first.id}:`)
      lines.push(`    expected: ${JSON.stringify(first.expected)}`)
      lines.push(`    actual:   ${JSON.stringify(first.actual)}`)
    }
  }
  return lines.join("\n")
}
