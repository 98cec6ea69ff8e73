/**
 * `flusso check` as one Effect: from a validated config to a `CheckReport`. Offline it
 * plans every index and derives its mapping — no secret, no connection. Online it also
 * resolves the source, opens a short-lived read pool and compares the config with the
 * catalog and the replication setup. Nothing the database says ends the check early: an
 * unreachable server is an error finding naming host and port, never the password.
 */
import { SqlClient } from "@effect/sql/SqlClient"
import { Effect, Either, Redacted } from "effect"
import type { FlussoConfig } from "../config/model.js"
import { resolveConfig } from "../config/resolve.js"
import type { ResolvedSource } from "../config/ResolvedConfig.js"
import { type ConfigInvalid, SourceMisconfigured, SourceUnavailable } from "../errors.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { deriveMapping, type MappingOptions } from "../schema/mapping.js"
import { planIndex } from "../schema/planIndex.js"
import * as PgDatabase from "../source/postgres/PgDatabase.js"
import { fixForCode } from "../source/postgres/fixes.js"
import { rootCause } from "../source/postgres/sqlErrors.js"
import { checkCatalog } from "./catalogChecks.js"
import { type CheckReport, type Finding, finding, type IndexSummary, type SourceSummary } from "./CheckReport.js"
import { checkDatabase } from "./databaseChecks.js"
import { readCatalog } from "./readCatalog.js"
import { checkSinks } from "./sinkChecks.js"

export interface CheckOptions {
  /** Config, planning and mappings only: no database, no secrets. */
  readonly offline: boolean
  /** Where `env()` and the reserved variables (DATABASE_URL…) are read from; online only. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Names the config in a ConfigInvalid. */
  readonly file?: string
}

const DEFAULT_MAPPING: MappingOptions = { textAnalysis: "builtin", autoSubfields: true }

/** The first OpenSearch sink's mapping options (defaults without one), and a note for each sink that differs. */
const mappingOptionsOf = (config: FlussoConfig): { readonly options: IndexSummary["mappingOptions"]; readonly notes: ReadonlyArray<Finding> } => {
  const sinks = Object.entries(config.sinks).flatMap(([name, sink]) => (sink.type === "opensearch" ? [{ name, sink }] : []))
  const [first, ...rest] = sinks
  if (first === undefined) return { options: DEFAULT_MAPPING, notes: [] }
  const options = { textAnalysis: first.sink.textAnalysis, autoSubfields: first.sink.autoSubfields, style: first.sink.mappingStyle, sink: first.name }
  const notes = rest
    .filter(({ sink }) => sink.textAnalysis !== options.textAnalysis || sink.autoSubfields !== options.autoSubfields)
    .map(({ name, sink }) =>
      finding("info", `sink ${name} derives its mappings with textAnalysis ${sink.textAnalysis}, autoSubfields ${sink.autoSubfields}; the mappings shown are sink ${first.name}'s`, {
        path: `sinks.${name}`
      })
    )
  return { options, notes }
}

const summarize = (plan: IndexPlan, options: IndexSummary["mappingOptions"]): IndexSummary => ({
  name: plan.name,
  table: plan.qualifiedTable,
  enabled: plan.enabled,
  hash: plan.hash,
  mappingOptions: options,
  mapping: deriveMapping(plan, options)
})

/** Host, port, database and user of a postgres:// URL; the password is never read. */
export const sourceSummary = (url: string): SourceSummary => {
  const parsed = new URL(url)
  const socket = parsed.searchParams.get("host")
  return {
    host: parsed.hostname !== "" ? parsed.hostname : (socket ?? "localhost"),
    port: parsed.port === "" ? 5432 : Number(parsed.port),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || decodeURIComponent(parsed.username) || "postgres",
    user: parsed.username === "" ? "(default)" : decodeURIComponent(parsed.username)
  }
}

/** Defence in depth: no text PostgreSQL sends back may carry the password into the report. */
const scrub = (findings: ReadonlyArray<Finding>, url: string): ReadonlyArray<Finding> => {
  const raw = new URL(url).password
  const secrets = [...new Set([raw, decodeURIComponent(raw)])].filter((s) => s.length >= 4)
  if (secrets.length === 0) return findings
  const clean = (text: string) => secrets.reduce((acc, secret) => acc.split(secret).join("***"), text)
  return findings.map((f) => ({ ...f, message: clean(f.message), ...(f.fix === undefined ? {} : { fix: clean(f.fix) }) }))
}

/** Why the first statement failed, as the driver says it (`connect ECONNREFUSED …`, `password authentication failed …`). */
const failure = (error: unknown): string => {
  const cause = rootCause(error)
  // PgDatabase.layer's own wording ("cannot connect: …") would repeat the finding's.
  if (cause instanceof SourceUnavailable || cause instanceof SourceMisconfigured) return cause.reason.replace(/^cannot connect( to PostgreSQL)?: /, "")
  const code = typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? ` (${cause.code})` : ""
  const message = cause instanceof Error ? cause.message : String(cause)
  return message.includes(code.slice(2, -1)) ? message : `${message}${code}`
}

const unreachable = (source: SourceSummary, error: unknown): Finding =>
  finding(
    "error",
    `cannot connect to PostgreSQL at ${source.host}:${source.port} (database ${source.database}, user ${source.user}): ${failure(error)}`,
    {
      path: "source.url",
      fix: fixForCode(codeOf(error)) ??
        "check source.url (or DATABASE_URL): host, port, user, password, database — and that PostgreSQL runs and accepts connections from here"
    }
  )

/** The SQLSTATE under a failure, when PostgreSQL sent one. */
const codeOf = (error: unknown): string | undefined => {
  const cause = rootCause(error)
  const inner = cause instanceof SourceUnavailable || cause instanceof SourceMisconfigured ? undefined : cause
  return typeof inner === "object" && inner !== null && "code" in inner && typeof inner.code === "string" ? inner.code : undefined
}

const PROBE = "SELECT 1 AS ok"

/** Every finding the database can give, on a pool opened for this check and closed after it. */
const onlineFindings = (
  source: ResolvedSource,
  plans: ReadonlyArray<IndexPlan>,
  refsKept: boolean
): Effect.Effect<ReadonlyArray<Finding>> => {
  const summary = sourceSummary(Redacted.value(source.url))
  const enabled = plans.filter((p) => p.enabled)
  return Effect.gen(function*() {
    const sql = yield* SqlClient
    const reachable = yield* Effect.either(sql.unsafe(PROBE))
    if (Either.isLeft(reachable)) return [unreachable(summary, reachable.left)]
    const snapshot = yield* Effect.either(readCatalog(sql, enabled))
    if (Either.isLeft(snapshot)) {
      return [finding("error", `could not read the catalog: ${snapshot.left.reason}`, { fix: "fix" in snapshot.left ? snapshot.left.fix : undefined })]
    }
    const { tables, knownTables } = snapshot.right
    const catalog = checkCatalog(plans, tables, { refsKept, knownTables })
    const database = yield* checkDatabase({
      plans: enabled,
      tables,
      publication: source.publication,
      slot: source.slot,
      managePublication: source.managePublication,
      failover: source.failover ?? false
    })
    return [...catalog, ...database]
  }).pipe(
    Effect.provide(PgDatabase.layer(source)),
    Effect.catchAll((error) => Effect.succeed([unreachable(summary, error)])),
    Effect.map((findings) => scrub(findings, Redacted.value(source.url)))
  )
}

/** The report for a config already validated (validate.ts); fails only when online and the source cannot be resolved. */
export const runCheck = (config: FlussoConfig, options: CheckOptions): Effect.Effect<CheckReport, ConfigInvalid> =>
  Effect.gen(function*() {
    const plans = Object.entries(config.indexes).map(([name, index]) => planIndex(name, index, config.onError))
    const mapping = mappingOptionsOf(config)
    const indexes = plans.map((plan) => summarize(plan, mapping.options))
    const general: Array<Finding> = [...mapping.notes]
    if (plans.length === 0) general.push(finding("warning", "no indexes are configured: flusso has nothing to keep in step", { path: "indexes" }))
    if (options.offline) {
      const disabled = plans
        .filter((p) => !p.enabled)
        .map((p) => finding("info", `index ${p.name} is disabled: flusso does not sync it`, { index: p.name, path: `indexes.${p.name}.enabled` }))
      return { mode: "offline", indexes, findings: [...general, ...disabled] }
    }
    const resolved = yield* resolveConfig(config, options.env, options.file)
    const refsKept = Object.values(config.sinks).some((sink) => sink.type === "opensearch")
    const [findings, sinks] = yield* Effect.all([
      onlineFindings(resolved.source, plans, refsKept),
      checkSinks(resolved.sinks.filter((sink) => sink.type === "opensearch"), plans, resolved.prefix)
    ], { concurrency: "unbounded" })
    return { mode: "online", source: sourceSummary(Redacted.value(resolved.source.url)), indexes, findings: [...general, ...findings, ...sinks] }
  })
