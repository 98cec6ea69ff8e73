/**
 * What `flusso check` found, as data: each index with the mapping it would get and its
 * content hash, and a flat list of findings, each naming where (index, table, column,
 * config path) and how to fix it. Rendered for people (`formatHuman`, grouped by index,
 * errors first, plain text) or machines (`formatJson`); the exit code follows `hasErrors`.
 */
import type { IndexMappings, MappingOptions } from "../schema/mapping.js"

/** `error` fails the check (flusso would refuse to run, or would miss changes); the others only inform. */
export type Severity = "error" | "warning" | "info"

export interface Finding {
  readonly severity: Severity
  /** The logical index (config key) the finding is about; absent for database-wide findings. */
  readonly index?: string
  /** `schema.table`. */
  readonly table?: string
  readonly column?: string
  /** The config path, like `indexes.users.fields.email`. */
  readonly path?: string
  readonly message: string
  /** What to run or change; SQL is complete, ready to paste. */
  readonly fix?: string
}

export interface FindingDetails {
  readonly index?: string | undefined
  readonly table?: string | undefined
  readonly column?: string | undefined
  readonly path?: string | undefined
  readonly fix?: string | undefined
}

/** A finding with the details that are set (undefined ones left out, so JSON stays lean). */
export const finding = (severity: Severity, message: string, details: FindingDetails = {}): Finding => {
  const out: { -readonly [K in keyof Finding]: Finding[K] } = { severity, message }
  if (details.index !== undefined) out.index = details.index
  if (details.table !== undefined) out.table = details.table
  if (details.column !== undefined) out.column = details.column
  if (details.path !== undefined) out.path = details.path
  if (details.fix !== undefined) out.fix = details.fix
  return out
}

export interface IndexSummary {
  readonly name: string
  /** The root table, `schema.table`. */
  readonly table: string
  readonly enabled: boolean
  /** The content hash naming the index's generation family. */
  readonly hash: string
  /** The options the mapping was derived with, and the OpenSearch sink they came from (none: defaults). */
  readonly mappingOptions: MappingOptions & { readonly sink?: string }
  readonly mapping: IndexMappings
}

/** Where the online checks connected; never a password. */
export interface SourceSummary {
  readonly host: string
  readonly port: number
  readonly database: string
  readonly user: string
}

export interface CheckReport {
  readonly mode: "offline" | "online"
  /** Online only. */
  readonly source?: SourceSummary
  readonly indexes: ReadonlyArray<IndexSummary>
  readonly findings: ReadonlyArray<Finding>
}

export const hasErrors = (report: CheckReport): boolean => report.findings.some((f) => f.severity === "error")

export const countBySeverity = (report: CheckReport): Readonly<Record<Severity, number>> => ({
  error: report.findings.filter((f) => f.severity === "error").length,
  warning: report.findings.filter((f) => f.severity === "warning").length,
  info: report.findings.filter((f) => f.severity === "info").length
})

const RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 }

/** Errors first, then warnings, then notes; otherwise in the order they were found. */
const bySeverity = (findings: ReadonlyArray<Finding>): ReadonlyArray<Finding> =>
  findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => RANK[a.f.severity] - RANK[b.f.severity] || a.i - b.i)
    .map(({ f }) => f)

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

const indent = (text: string, by: string): string =>
  text
    .split("\n")
    .map((line) => (line === "" ? line : `${by}${line}`))
    .join("\n")

const LABEL: Readonly<Record<Severity, string>> = { error: "error:  ", warning: "warning:", info: "note:   " }

const findingLines = (f: Finding): string => {
  const where = f.path ?? (f.table !== undefined ? (f.column !== undefined ? `${f.table}.${f.column}` : f.table) : undefined)
  const head = `${LABEL[f.severity]} ${where !== undefined ? `${where}: ` : ""}${f.message}`
  // Continuation lines align under the message; a multi-line fix keeps its own lines.
  const fix = f.fix === undefined ? "" : `\n${indent(`fix: ${f.fix}`, " ".repeat(LABEL.error.length + 1))}`
  return `${head}${fix}`
}

const describeSource = (source: SourceSummary): string =>
  `PostgreSQL ${source.user}@${source.host}:${source.port}/${source.database}`

/**
 * Plain text (no ANSI): a header, one section per index with its findings, the
 * database-wide findings and the summary — so a failing check reads in a terminal — then,
 * with `mappings`, each index's mapping.
 */
export const formatHuman = (report: CheckReport, options: { readonly mappings?: boolean } = {}): string => {
  const out: Array<string> = []
  out.push(
    report.mode === "offline"
      ? "flusso check (offline: the config alone; the database and the sinks were not consulted)"
      : `flusso check (online${report.source === undefined ? "" : `: ${describeSource(report.source)}`})`
  )
  const known = new Set(report.indexes.map((i) => i.name))
  for (const index of report.indexes) {
    out.push("")
    const state = index.enabled ? "" : ", disabled"
    out.push(`index ${index.name} (table ${index.table}, content hash ${index.hash}${state})`)
    const own = bySeverity(report.findings.filter((f) => f.index === index.name))
    for (const f of own) out.push(indent(findingLines(f), "  "))
    if (own.length === 0) out.push("  no findings")
  }
  const general = bySeverity(report.findings.filter((f) => f.index === undefined || !known.has(f.index)))
  if (general.length > 0) {
    out.push("")
    out.push(report.mode === "offline" ? "config" : "database and sinks")
    for (const f of general) out.push(indent(findingLines(f), "  "))
  }
  const counts = countBySeverity(report)
  out.push("")
  out.push(
    `${plural(counts.error, "error")}, ${plural(counts.warning, "warning")}, ${plural(counts.info, "note")}: ` +
      (counts.error > 0 ? "check failed" : "check passed")
  )
  if (options.mappings === true) {
    for (const index of report.indexes) {
      const mapping = index.mappingOptions
      const from = mapping.sink === undefined ? "defaults" : `sink ${mapping.sink}`
      out.push("")
      out.push(`index ${index.name}: mapping (${from}: textAnalysis ${mapping.textAnalysis}, autoSubfields ${mapping.autoSubfields}${mapping.style === "rust" ? ", Rust flusso style" : ""})`)
      out.push(indent(JSON.stringify(index.mapping, null, 2), "  "))
    }
  }
  return `${out.join("\n")}\n`
}

/** The severity as the human report words it: `info` is a note. */
const WORD: Readonly<Record<Severity, string>> = { error: "error", warning: "warning", info: "note" }

/** The whole report as JSON, with `ok` and the counts up front, in the human report's words (error, warning, note). */
export const formatJson = (report: CheckReport): string => {
  const counts = countBySeverity(report)
  return `${
    JSON.stringify(
      {
        ok: !hasErrors(report),
        counts: { error: counts.error, warning: counts.warning, note: counts.info },
        ...report,
        findings: report.findings.map((f) => ({ ...f, severity: WORD[f.severity] }))
      },
      null,
      2
    )
  }\n`
}
