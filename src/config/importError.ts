/**
 * Why a config module could not be imported, as a person fixes it: where in the file
 * (`flusso.config.ts:4:65`, from the error's stack, which tsx maps back to the source),
 * what failed in the config's own words (`t.lng is not a function`, not the compiled
 * `import_flusso.t.lng`), and for a misspelt field kind the one meant (`t.long()`).
 */
import { readFileSync } from "node:fs"
import { t } from "./define.js"
import { didYouMean } from "./issues.js"

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** `line:column` of the first stack frame in `file`, if the stack has one. */
const locationIn = (stack: string, file: string): string | undefined => {
  const frame = new RegExp(`(?:file://)?${escape(file)}(?:\\?[^:\\s)]*)?:(\\d+):(\\d+)`).exec(stack)
  return frame === null ? undefined : `${frame[1]}:${frame[2]}`
}

/** `line:column` of `index` in `text`, both from 1. */
const position = (text: string, index: number): string => {
  const before = text.slice(0, index)
  return `${before.split("\n").length}:${index - before.lastIndexOf("\n")}`
}

/**
 * Where the name an error is about first appears in the source: the stack of a config
 * compiled to CommonJS points into compiled code, but `t.lng is not a function` or
 * `lng is not defined` name what to look for.
 */
const locationOfName = (file: string, message: string): string | undefined => {
  const called = /^([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*) is not a function/.exec(message)?.[1]
  const undefinedName = /^([A-Za-z_$][\w$]*) is not defined/.exec(message)?.[1]
  const pattern = called !== undefined
    ? new RegExp(`(?<![\\w$.])${called.split(".").map(escape).join("\\s*\\.\\s*")}\\s*\\(`)
    : undefinedName !== undefined
    ? new RegExp(`(?<![\\w$.])${escape(undefinedName)}(?![\\w$])`)
    : undefined
  if (pattern === undefined) return undefined
  let source: string
  try {
    source = readFileSync(file, "utf8")
  } catch {
    return undefined
  }
  const match = pattern.exec(source)
  return match === null ? undefined : position(source, match.index)
}

export const describeImportError = (error: unknown, file: string, shown: string): string => {
  const raw = error instanceof Error ? error.message : String(error)
  // The queries loading adds to the file's URL, and the names tsx gives imported modules.
  const message = raw.replace(/\?(?:(?:flusso-load|tsx-namespace|namespace)=[\w-]+&?)+/g, "").replace(/\bimport_[A-Za-z0-9_$]+\./g, "")
  const stack = error instanceof Error && typeof error.stack === "string" ? error.stack : ""
  const at = locationIn(stack, file) ?? locationOfName(file, message)
  const kind = /^t\.([A-Za-z_$][\w$]*) is not a function/.exec(message)?.[1]
  const meant = kind === undefined ? undefined : didYouMean(kind, Object.keys(t))
  const hint = kind === undefined ? "" : meant === undefined ? `; the kinds are t.${Object.keys(t).join("(), t.")}()` : `; did you mean t.${meant}()?`
  return `${at === undefined ? "" : `${shown}:${at}: `}${message}${hint}`
}
