/**
 * The sink half of `flusso check` (online): each OpenSearch sink is probed the way `run`
 * will use it — reachable with its URL and credentials, which version answers, and whether
 * it accepts, under the deployment's prefix, an index with each index's real settings and
 * mapping (the probe index is deleted at once). So a cluster that is down, a user who may
 * not create indexes, or a mapping the cluster refuses (an ICU analyzer without the
 * plugin) is found before `run`, not halfway through it.
 */
import { Effect, Option, Schema } from "effect"
import { randomBytes } from "node:crypto"
import type { ResolvedOpenSearchSink } from "../config/ResolvedConfig.js"
import type { SinkError } from "../errors.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import { deriveMapping, indexSettings } from "../schema/mapping.js"
import { makeClient } from "../sink/opensearch/client.js"
import { pathPart, send } from "../sink/opensearch/request.js"
import { type Finding, finding } from "./CheckReport.js"

const Root = Schema.Struct({
  version: Schema.Struct({ number: Schema.String, distribution: Schema.optional(Schema.String) })
})

/** Where the sink is, without credentials. */
const where = (sink: ResolvedOpenSearchSink): string => {
  try {
    const url = new URL(sink.url)
    return `${url.protocol}//${url.host}`
  } catch {
    return "(an invalid URL)"
  }
}

const envName = (sink: ResolvedOpenSearchSink, what: string) => `${sink.name.toUpperCase()}_OPENSEARCH_${what}`

const refused = (sink: ResolvedOpenSearchSink, error: SinkError, doing: string): Finding => {
  const path = `sinks.${sink.name}`
  if (error._tag === "SinkUnavailable") {
    return finding("error", `cannot reach OpenSearch sink ${sink.name} at ${where(sink)}: ${error.reason}`, {
      path: `${path}.url`,
      fix: `check ${path}.url (or ${envName(sink, "URL")}) and that OpenSearch runs and accepts connections from here`
    })
  }
  if (error._tag === "SinkRequestFailed" && (error.status === 401 || error.status === 403)) {
    return error.status === 401
      ? finding("error", `OpenSearch sink ${sink.name} at ${where(sink)} refused the credentials (HTTP 401)`, {
        path,
        fix: `check ${path}.username and ${path}.password (or ${envName(sink, "USERNAME")}, ${envName(sink, "PASSWORD")})`
      })
      : finding("error", `OpenSearch sink ${sink.name} does not let this user ${doing} (HTTP 403): ${error.body.slice(0, 300)}`, {
        path,
        fix: "grant the user index creation and management (create_index, indices:admin/*, indices:data/*) on the deployment's prefix*"
      })
  }
  return finding("error", `OpenSearch sink ${sink.name} refused to ${doing}: ${error.message.slice(0, 500)}`, { path })
}

const probeSink = (sink: ResolvedOpenSearchSink, plans: ReadonlyArray<IndexPlan>, prefix: string) =>
  Effect.gen(function*() {
    const client = yield* makeClient(sink)
    const root = yield* Effect.either(send(client, sink.name, "GET /", { method: "GET", path: "/" }))
    if (root._tag === "Left") return [refused(sink, root.left, "answer")]
    const info = Schema.decodeUnknownOption(Root)(root.right.body)
    const out: Array<Finding> = []
    if (Option.isNone(info) || (info.value.version.distribution ?? "elasticsearch") !== "opensearch") {
      const version = Option.match(info, { onNone: () => "an unknown server", onSome: (i) => `${i.version.distribution ?? "Elasticsearch"} ${i.version.number}` })
      out.push(finding("error", `sink ${sink.name} at ${where(sink)} is ${version}, not OpenSearch`, { path: `sinks.${sink.name}.url`, fix: "point it at an OpenSearch 2.x cluster" }))
      return out
    }
    out.push(finding("info", `OpenSearch ${info.value.version.number} at ${where(sink)} answers`, { path: `sinks.${sink.name}` }))
    const options = { textAnalysis: sink.textAnalysis, autoSubfields: sink.autoSubfields, style: sink.mappingStyle }
    for (const plan of plans) {
      const probe = `${prefix}flusso_check_${randomBytes(4).toString("hex")}`
      const created = yield* Effect.either(send(client, sink.name, `PUT ${probe}`, {
        method: "PUT",
        path: `/${pathPart(probe)}`,
        body: {
          settings: { index: { number_of_shards: 1, number_of_replicas: 0 }, ...indexSettings(plan, options) },
          mappings: deriveMapping(plan, options)
        }
      }))
      if (created._tag === "Left") {
        out.push({ ...refused(sink, created.left, `create index ${plan.name}`), index: plan.name })
        return out
      }
      yield* Effect.ignore(send(client, sink.name, `DELETE ${probe}`, { method: "DELETE", path: `/${pathPart(probe)}` }))
    }
    if (plans.length > 0) {
      out.push(finding("info", `it lets this user create indexes and accepts every index's settings and mapping (probed with an index under prefix "${prefix}", deleted at once)`, {
        path: `sinks.${sink.name}`
      }))
    }
    return out
  }).pipe(Effect.scoped)

/** The findings of every OpenSearch sink; nothing a sink answers ends the check early. */
export const checkSinks = (
  sinks: ReadonlyArray<ResolvedOpenSearchSink>,
  plans: ReadonlyArray<IndexPlan>,
  prefix: string
): Effect.Effect<ReadonlyArray<Finding>> =>
  Effect.forEach(sinks, (sink) => probeSink(sink, plans.filter((p) => p.enabled), prefix), { concurrency: "unbounded" }).pipe(
    Effect.map((lists) => lists.flat())
  )
