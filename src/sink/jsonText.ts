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

const isWhitespace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\n" || c === "\r"

const skipWhitespace = (json: string, from: number): number => {
  let i = from
  while (i < json.length && isWhitespace(json[i])) i++
  return i
}

/** The index just past the string literal starting at `from` (a `"`). */
const skipString = (json: string, from: number): number => {
  let i = from + 1
  while (i < json.length && json[i] !== '"') i += json[i] === "\\" ? 2 : 1
  return i + 1
}

/** The index just past the value starting at `from`: a string, a container, or a scalar token. */
const skipValue = (json: string, from: number): number => {
  const c = json[from]
  if (c === '"') return skipString(json, from)
  if (c === "{" || c === "[") {
    let depth = 0
    let i = from
    while (i < json.length) {
      const d = json[i]
      if (d === '"') {
        i = skipString(json, i)
        continue
      }
      if (d === "{" || d === "[") depth++
      else if (d === "}" || d === "]") {
        depth--
        if (depth === 0) return i + 1
      }
      i++
    }
    return i
  }
  let i = from
  while (i < json.length && !isWhitespace(json[i]) && json[i] !== "," && json[i] !== "}" && json[i] !== "]") i++
  return i
}

/** A key's string literal decoded (keys may be escaped: `"\u005fid"`); undefined when malformed. */
const keyName = (literal: string): string | undefined => {
  try {
    const name: unknown = JSON.parse(literal)
    return typeof name === "string" ? name : undefined
  } catch {
    return undefined
  }
}

/**
 * The JSON object text with only the top-level members whose keys `keep` holds (the
 * document as an index of an older shape, without the fields it does not map); values
 * are copied byte for byte. Anything but an object text is returned as it is.
 */
export const keepTopLevelMembers = (json: string, keep: ReadonlySet<string>): string => {
  let i = skipWhitespace(json, 0)
  if (json[i] !== "{") return json
  i = skipWhitespace(json, i + 1)
  const members: Array<string> = []
  while (i < json.length && json[i] === '"') {
    const memberStart = i
    const keyEnd = skipString(json, i)
    const colon = skipWhitespace(json, keyEnd)
    if (json[colon] !== ":") return json
    const valueEnd = skipValue(json, skipWhitespace(json, colon + 1))
    const key = keyName(json.slice(memberStart, keyEnd))
    if (key !== undefined && keep.has(key)) members.push(json.slice(memberStart, valueEnd))
    const after = skipWhitespace(json, valueEnd)
    if (json[after] !== ",") break
    i = skipWhitespace(json, after + 1)
  }
  return `{${members.join(",")}}`
}
