/**
 * `flusso migrate`: a Rust-format config (as read by ../index.ts, before defaults) written
 * out as an equivalent `flusso.config.ts` — one exported `defineIndex` per index with its
 * `DocumentOf` type, `env("VAR")` for every env reference, and only what differs from our
 * defaults (a column is written when it is not the field's snake_case, which is ours).
 * Loading the output gives the same validated config as loading the TOML.
 */
import { Predicate } from "effect"
import { snakeCase } from "../../../schema/IndexPlan.js"
import { EnvRef } from "../../model.js"

const WIDTH = 100

const RESERVED: ReadonlySet<string> = new Set([
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum", "export",
  "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null", "return", "super",
  "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield", "let", "static", "await",
  "implements", "interface", "package", "private", "protected", "public", "t", "env", "defineConfig", "defineIndex"
])

const camel = (name: string): string => name.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/^_+/, "")
const pascal = (name: string): string => {
  const c = camel(name)
  return c.charAt(0).toUpperCase() + c.slice(1)
}

const key = (k: string): string => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k))

/** A field as its `t.<kind>(...)` call; its options are printed at the depth the call lands on. */
class FieldCall {
  constructor(readonly kind: string, readonly options: Readonly<Record<string, unknown>> | undefined, readonly constant?: unknown) {}
}

/** Source text kept as is (a variable name). */
class Code {
  constructor(readonly text: string) {}
}

const pad = (depth: number): string => "  ".repeat(depth)

/** A value as TypeScript, on one line when it fits in `WIDTH` at its depth, else one entry per line. */
const print = (value: unknown, depth: number, used: Set<string>): string => {
  if (value instanceof Code) return value.text
  if (value instanceof EnvRef) {
    used.add("env")
    return `env(${JSON.stringify(value.name)})`
  }
  if (value instanceof FieldCall) {
    if (value.kind === "constant") return `t.constant(${print(value.constant ?? null, depth, used)})`
    return value.options === undefined ? `t.${value.kind}()` : `t.${value.kind}(${print(value.options, depth, used)})`
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => print(item, depth + 1, used))
    const inline = `[${items.join(", ")}]`
    if (!inline.includes("\n") && inline.length + depth * 2 <= WIDTH) return inline
    return `[\n${items.map((item) => `${pad(depth + 1)}${item}`).join(",\n")}\n${pad(depth)}]`
  }
  if (Predicate.isRecord(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined)
    if (entries.length === 0) return "{}"
    const parts = entries.map(([k, v]) => `${key(k)}: ${print(v, depth + 1, used)}`)
    const inline = `{ ${parts.join(", ")} }`
    if (!inline.includes("\n") && inline.length + depth * 2 <= WIDTH) return inline
    return `{\n${parts.map((part) => `${pad(depth + 1)}${part}`).join(",\n")}\n${pad(depth)}}`
  }
  return JSON.stringify(value) ?? "null"
}

const NESTING: ReadonlySet<string> = new Set(["object", "belongsTo", "hasOne", "hasMany", "manyToMany"])
/** Kinds that read `column`, defaulting to the field name's snake_case in our model. */
const READS_COLUMN: ReadonlySet<string> = new Set([
  "text", "identifier", "keyword", "enum", "uuid", "boolean", "short", "integer", "long", "float", "double", "decimal",
  "date", "timestamp", "binary", "json", "map", "custom"
])

const fieldCall = (name: string, field: unknown): FieldCall => {
  if (!Predicate.isRecord(field) || typeof field["kind"] !== "string") return new FieldCall("json", undefined)
  const kind = field["kind"]
  if (kind === "constant") return new FieldCall(kind, undefined, field["value"])
  const options: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(field)) {
    if (k === "kind" || v === undefined || (k === "required" && v === false)) continue
    // Ours defaults a column to the snake_case of the name (the Rust tool: the name lowercased).
    if (k === "column" && READS_COLUMN.has(kind) && v === snakeCase(name)) continue
    options[k] = k === "fields" && NESTING.has(kind) ? fieldCalls(v) : v
  }
  return new FieldCall(kind, Object.keys(options).length === 0 ? undefined : options)
}

const fieldCalls = (fields: unknown): Record<string, FieldCall> =>
  Predicate.isRecord(fields) ? Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, fieldCall(name, field)])) : {}

const constName = (index: string, taken: Set<string>): string => {
  let name = camel(index)
  if (RESERVED.has(name) || !/^[A-Za-z_$]/.test(name)) name = `${name}Index`
  while (taken.has(name)) name = `${name}_`
  taken.add(name)
  return name
}

/** The TypeScript text of an equivalent `flusso.config.ts`; `from` names the migrated file in its header. */
export const emitConfigTs = (input: Readonly<Record<string, unknown>>, from: string): string => {
  const used = new Set<string>(["defineConfig"])
  const taken = new Set<string>()
  const blocks: Array<string> = []
  const indexes = Predicate.isRecord(input["indexes"]) ? input["indexes"] : {}
  const refs: Record<string, Code> = {}
  for (const [name, index] of Object.entries(indexes)) {
    if (!Predicate.isRecord(index)) continue
    used.add("defineIndex").add("t").add("DocumentOf")
    const variable = constName(name, taken)
    const body = { ...index, fields: fieldCalls(index["fields"]) }
    blocks.push(
      `export const ${variable} = defineIndex(${print(body, 0, used)})\n` +
        `export type ${pascal(name)}Document = DocumentOf<typeof ${variable}>`
    )
    refs[name] = new Code(variable)
  }
  const indexesCode = Object.entries(refs).map(([name, code]) => (key(name) === code.text ? code.text : `${key(name)}: ${code.text}`))
  const { indexes: _indexes, ...rest } = input
  const config = print({ ...rest, indexes: new Code("\u0000") }, 0, used).replace(
    "\u0000",
    indexesCode.length === 0 ? "{}" : `{ ${indexesCode.join(", ")} }`
  )
  const names = ["defineConfig", "defineIndex", "env", "t"].filter((n) => used.has(n))
  const imports = [...names, ...(used.has("DocumentOf") ? ["type DocumentOf"] : [])].join(", ")
  return [
    `/**\n * Migrated from ${from} by \`flusso migrate\`: the same deployment, as TypeScript.\n */`,
    `import { ${imports} } from "flusso"`,
    ...blocks,
    `export default defineConfig(${config})`
  ].join("\n\n") + "\n"
}
