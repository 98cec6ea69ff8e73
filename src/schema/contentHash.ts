/**
 * The content hash of an index shape: 8 hex chars of SHA-256 over canonical JSON
 * (object keys sorted, undefined dropped), so equal shapes hash equally whatever the
 * order they were written in.
 */
import { createHash } from "node:crypto"

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (v !== undefined) out[key] = canonical(v)
    }
    return out
  }
  return value
}

export const contentHash = (shape: unknown): string =>
  createHash("sha256").update(JSON.stringify(canonical(shape))).digest("hex").slice(0, 8)
