/**
 * Working on documents as JSON *text*. Documents are never parsed and re-serialized on
 * their way out: JSON.parse would round int8 and numeric values through a double and
 * lose digits. These scanners only look at structure (strings, nesting, whitespace), so
 * every value token is copied byte for byte. Hand-written because no library does
 * structure-only JSON rewriting without materializing numbers.
 */

/**
 * The same JSON on one line. A raw CR or LF can only be insignificant whitespace (inside
 * a string it must be escaped), so replacing it with a space keeps the meaning — which is
 * what lets a document sit on one NDJSON line.
 */
export const singleLine = (json: string): string =>
  json.includes("\n") || json.includes("\r") ? json.replace(/[\r\n]/g, " ") : json

/** The number of top-level keys of a JSON object text (0 for anything else). */
export const topLevelKeyCount = (json: string): number => {
  let depth = 0
  let inString = false
  let count = 0
  let sawValue = false
  for (let i = 0; i < json.length; i++) {
    const c = json[i]
    if (inString) {
      if (c === "\\") i++
      else if (c === '"') inString = false
      continue
    }
    switch (c) {
      case '"':
        inString = true
        if (depth === 1) sawValue = true
        break
      case "{":
      case "[":
        depth++
        break
      case "}":
      case "]":
        depth--
        break
      case ",":
        if (depth === 1) count++
        break
      default:
        break
    }
  }
  // n keys have n-1 separating commas; an empty object has neither.
  const trimmed = json.trimStart()
  if (!trimmed.startsWith("{")) return 0
  return sawValue ? count + 1 : 0
}

/**
 * Re-indents JSON text (for `pretty` output) by walking its structure; strings and
 * scalar tokens are copied verbatim.
 */
export const reindent = (json: string, indent = "  "): string => {
  let out = ""
  let depth = 0
  let i = 0
  const newline = () => "\n" + indent.repeat(depth)
  while (i < json.length) {
    const c = json[i] as string
    if (c === '"') {
      let j = i + 1
      while (j < json.length && json[j] !== '"') j += json[j] === "\\" ? 2 : 1
      out += json.slice(i, j + 1)
      i = j + 1
      continue
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++
      continue
    }
    if (c === "{" || c === "[") {
      // Keep empty containers compact: `{}` and `[]`.
      let j = i + 1
      while (j < json.length && /\s/.test(json[j] as string)) j++
      const close = c === "{" ? "}" : "]"
      if (json[j] === close) {
        out += c + close
        i = j + 1
        continue
      }
      depth++
      out += c + newline()
      i++
      continue
    }
    if (c === "}" || c === "]") {
      depth--
      out += newline() + c
      i++
      continue
    }
    if (c === ",") {
      out += "," + newline()
      i++
      continue
    }
    if (c === ":") {
      out += ": "
      i++
      continue
    }
    out += c
    i++
  }
  return out
}
