/**
 * `flusso.toml` (Rust `libs/2-schema/1-config-toml`) → the top of our config model:
 * `[source]`, `[sinks.*]`, `[server]`, `prefix`, `on_error` and the `[[index]]` entries,
 * whose schema files schemaYaml.ts reads. Defaults are the Rust tool's where they differ
 * from ours (`max_retries` 3), so a file means what it meant there.
 */
import { parse, TomlError } from "smol-toml"
import type { EnvRef } from "../model.js"
import { connectionUrl, envOrValue } from "./env.js"
import {
  boolean,
  invalidType,
  missing,
  report,
  type Scope,
  spot,
  spotKeys,
  string,
  type Table,
  table,
  unsigned,
  variant
} from "./reader.js"
import { fromToml, type Node, type Pos, tomlPositions } from "./tree.js"

export interface IndexEntry {
  readonly name: string
  readonly schema: string
  readonly enabled: boolean
  readonly onError: "stop" | "skip" | undefined
  readonly pos: Pos | undefined
}

export interface TomlConfig {
  /** The config without `indexes`, in our model's shape (validated later, with the indexes). */
  readonly config: Record<string, unknown>
  readonly indexes: ReadonlyArray<IndexEntry>
}

const SSL_KEYS = ["ssl_mode", "ssl_root_cert", "ssl_cert", "ssl_key", "ssl_sni_hostname"]

const source = (scope: Scope, node: Node): Record<string, unknown> | undefined => {
  const t = table(scope, node, ["type", "connection_url", "manage_publication", ...SSL_KEYS])
  if (t === undefined) return undefined
  if (!t.has("type")) return missing(scope, t, "type")
  variant(scope, t, "type", ["postgres"])
  for (const key of SSL_KEYS) {
    const e = t.get(key)
    // Later Rust releases read TLS settings here; ours come from the URL, for every connection alike.
    if (e !== undefined) {
      report(scope, e.keyPos, `\`${key}\` is not supported here: put it in \`connection_url\` as a query parameter (\`?sslmode=verify-full&sslrootcert=…\`); it applies to every connection, the replication one included`)
    }
  }
  const url = t.get("connection_url")
  const resolved = url === undefined ? undefined : connectionUrl(scope, url.value)
  const manage = boolean(scope, t, "manage_publication")
  spotKeys(scope, "source", t, { connection_url: "url", manage_publication: "managePublication" }, "source")
  return {
    type: "postgres",
    ...(resolved === undefined ? {} : { url: resolved }),
    ...(manage === undefined ? {} : { managePublication: manage })
  }
}

const OPENSEARCH_KEYS: Readonly<Record<string, string>> = {
  url: "url",
  username: "username",
  password: "password",
  tls_verify: "tlsVerify",
  batch_size: "batchSize",
  max_bytes: "maxBytes",
  timeout_secs: "timeoutSeconds",
  max_retries: "maxRetries",
  pipeline: "pipeline",
  number_of_shards: "numberOfShards",
  number_of_replicas: "numberOfReplicas",
  refresh_interval: "refreshInterval",
  text_analysis: "textAnalysis",
  auto_subfields: "autoSubfields"
}

const secret = (scope: Scope, t: Table, key: string): string | EnvRef | undefined => {
  const e = t.get(key)
  return e === undefined ? undefined : envOrValue(scope, e.value)
}

const defined = (record: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined))

const opensearch = (scope: Scope, t: Table): Record<string, unknown> => {
  if (!t.has("url")) missing(scope, t, "url")
  return defined({
    type: "opensearch",
    url: secret(scope, t, "url"),
    username: secret(scope, t, "username"),
    password: secret(scope, t, "password"),
    tlsVerify: boolean(scope, t, "tls_verify"),
    batchSize: unsigned(scope, t, "batch_size", "u32"),
    maxBytes: unsigned(scope, t, "max_bytes", "u64"),
    timeoutSeconds: unsigned(scope, t, "timeout_secs", "u64"),
    // The Rust default (ours is 5).
    maxRetries: unsigned(scope, t, "max_retries", "u32") ?? 3,
    pipeline: string(scope, t, "pipeline"),
    numberOfShards: unsigned(scope, t, "number_of_shards", "u32"),
    numberOfReplicas: unsigned(scope, t, "number_of_replicas", "u32"),
    refreshInterval: string(scope, t, "refresh_interval"),
    textAnalysis: variant(scope, t, "text_analysis", ["builtin", "icu"]),
    autoSubfields: boolean(scope, t, "auto_subfields"),
    // The index shape a Rust flusso derives from these files (schema/rustMapping.ts).
    mappingStyle: "rust"
  })
}

const sink = (scope: Scope, name: string, node: Node): Record<string, unknown> | undefined => {
  if (node._tag !== "map") return invalidType(scope, node, "a table")
  const type = node.entries.find((e) => e.key === "type")
  if (type === undefined) return report(scope, node, "missing key `type`")
  const kind = type.value._tag === "scalar" ? type.value.value : undefined
  if (kind === "stdout") {
    const t = table(scope, node, ["type", "pretty"])
    if (t === undefined) return undefined
    spotKeys(scope, `sinks.${name}`, t, { pretty: "pretty" }, `sinks.${name}`)
    return defined({ type: "stdout", pretty: boolean(scope, t, "pretty") })
  }
  if (kind !== "opensearch") {
    const t = table(scope, node, ["type"].concat(Object.keys(OPENSEARCH_KEYS)))
    if (t !== undefined) variant(scope, t, "type", ["opensearch", "stdout"])
    return undefined
  }
  const t = table(scope, node, ["type", ...Object.keys(OPENSEARCH_KEYS)])
  if (t === undefined) return undefined
  spotKeys(scope, `sinks.${name}`, t, OPENSEARCH_KEYS, `sinks.${name}`)
  return opensearch(scope, t)
}

/** `std::net::SocketAddr`: an IP (IPv6 in brackets) and a port; host names are refused, as there. */
const socketAddress = (text: string): boolean => {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/.exec(text)
  if (v4 !== null) return v4.slice(1, 5).every((o) => Number(o) <= 255 && !/^0\d/.test(o)) && Number(v4[5]) <= 65535
  const v6 = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text)
  return v6 !== null && (v6[1] ?? "").includes(":") && URL.canParse(`http://[${v6[1]}]/`) && Number(v6[2]) <= 65535
}

const server = (scope: Scope, node: Node): Record<string, unknown> | undefined => {
  const t = table(scope, node, ["public_address", "private_address"])
  if (t === undefined) return undefined
  const address = (key: string): string | undefined => {
    const value = string(scope, t, key)
    if (value === undefined || socketAddress(value)) return value
    return report(scope, t.get(key)?.value, "invalid socket address syntax")
  }
  spotKeys(scope, "server", t, { public_address: "publicAddress", private_address: "privateAddress" }, "server")
  return defined({ publicAddress: address("public_address"), privateAddress: address("private_address") })
}

const indexEntries = (scope: Scope, node: Node): Array<IndexEntry> => {
  if (node._tag !== "seq") {
    invalidType(scope, node, "a sequence")
    return []
  }
  const entries: Array<IndexEntry> = []
  const seen = new Set<string>()
  node.items.forEach((item, i) => {
    const t = table(scope, item, ["name", "schema", "enabled", "on_error"])
    if (t === undefined) return
    const name = string(scope, t, "name", true)
    const schema = string(scope, t, "schema", true)
    const enabled = boolean(scope, t, "enabled", true)
    const onError = variant(scope, t, "on_error", ["stop", "skip"])
    if (name === undefined || schema === undefined || enabled === undefined) return
    if (seen.has(name)) {
      report(scope, t.get("name")?.value, `duplicate index name \`${name}\``)
      return
    }
    seen.add(name)
    spot(scope, `indexes.${name}`, t.get("name")?.value ?? item)
    spotKeys(scope, `indexes.${name}`, t, { enabled: "enabled", on_error: "onError" }, `index[${i}]`)
    entries.push({ name, schema, enabled, onError, pos: item.pos ?? node.pos })
  })
  return entries
}

const TOP_KEYS = ["source", "prefix", "on_error", "server", "sinks", "index"]

/** Parses the text; a syntax error is smol-toml's own message with its caret snippet. */
export const parseToml = (scope: Scope, text: string): TomlConfig | undefined => {
  let value: unknown
  try {
    value = parse(text, { integersAsBigInt: true })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const pos = error instanceof TomlError ? { line: error.line, column: error.column } : undefined
    return report(scope, pos, message.trimEnd())
  }
  const root = fromToml(value, tomlPositions(text))
  const t = table(scope, root, TOP_KEYS)
  if (t === undefined) return undefined
  const config: Record<string, unknown> = {}
  const src = t.get("source")
  if (src === undefined) missing(scope, t, "source")
  else config["source"] = source(scope, src.value)
  const prefix = string(scope, t, "prefix")
  if (prefix !== undefined) config["prefix"] = prefix
  const onError = variant(scope, t, "on_error", ["stop", "skip"])
  if (onError !== undefined) config["onError"] = onError
  spotKeys(scope, "", t, { prefix: "prefix", on_error: "onError" })
  const srv = t.get("server")
  if (srv !== undefined) config["server"] = server(scope, srv.value)
  const sinks = t.get("sinks")
  if (sinks !== undefined) {
    if (sinks.value._tag !== "map") invalidType(scope, sinks.value, "a table")
    else {
      const all: Record<string, unknown> = {}
      for (const e of sinks.value.entries) {
        spot(scope, `sinks.${e.key}`, e.keyPos ?? e.value.pos)
        const built = sink(scope, e.key, e.value)
        if (built !== undefined) all[e.key] = built
      }
      config["sinks"] = all
    }
  }
  const index = t.get("index")
  return { config, indexes: index === undefined ? [] : indexEntries(scope, index.value) }
}
