/**
 * `{ env = "VAR" }` references and the source's connection URL, as the Rust flusso reads
 * them (`env_value.rs`, `entities/source.rs`). A reference becomes our `env("VAR")`
 * (`EnvRef`), so resolution — and its precedence over DATABASE_URL and
 * `<SINK>_OPENSEARCH_*` — is the one every config gets (resolve.ts), at run/check time.
 * Messages never echo a literal: it may be a secret.
 */
import { EnvRef } from "../model.js"
import { report, type Scope, table, unsigned, string as stringKey } from "./reader.js"
import type { Node } from "./tree.js"

const ENV_SHAPE = 'expected a string value or an env reference `{ env = "VAR" }`'

/** A literal string or `{ env = "VAR" }`. */
export const envOrValue = (scope: Scope, node: Node): string | EnvRef | undefined => {
  if (node._tag === "scalar" && typeof node.value === "string") return node.value
  if (node._tag !== "map") return report(scope, node, ENV_SHAPE)
  const env = node.entries.find((e) => e.key === "env")
  const others = node.entries.filter((e) => e.key !== "env")
  const [other] = others
  if (env === undefined) {
    return other === undefined ? report(scope, node, ENV_SHAPE) : report(scope, other.keyPos ?? node.pos, `unknown key \`${other.key}\` — expected \`env\``)
  }
  if (other !== undefined) {
    return report(scope, other.keyPos ?? node.pos, `unexpected key \`${other.key}\` in env reference — write it as \`{ env = "VAR" }\``)
  }
  return env.value._tag === "scalar" && typeof env.value.value === "string"
    ? new EnvRef({ name: env.value.value })
    : report(scope, env.value, ENV_SHAPE)
}

const CONNECTION_SHAPE =
  'a connection URL string, an env reference `{ env = "VAR" }`, or a connection-parts table `{ host, port, user, password, database }`'

const kind = (node: Node): string => {
  switch (node._tag) {
    case "seq":
      return "an array"
    case "map":
      return "a table"
    case "datetime":
      return "a datetime"
    case "scalar":
      return typeof node.value === "string"
        ? "a string"
        : typeof node.value === "boolean"
          ? "a boolean"
          : typeof node.value === "bigint"
            ? "an integer"
            : "a float"
  }
}

export interface ConnectionParts {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password?: string | EnvRef
  readonly database: string
}

/** `[source] connection_url`: a URL string, `{ env = "VAR" }`, or the connection parts. */
export const connectionUrl = (scope: Scope, node: Node): string | EnvRef | ConnectionParts | undefined => {
  if (node._tag === "scalar" && typeof node.value === "string") return node.value
  if (node._tag !== "map") return report(scope, node, `expected ${CONNECTION_SHAPE}, found ${kind(node)}`)
  if (node.entries.some((e) => e.key === "env")) return envOrValue(scope, node)
  const parts = table(scope, node, ["host", "port", "user", "password", "database"])
  if (parts === undefined) return undefined
  const database = stringKey(scope, parts, "database", true)
  const password = parts.get("password")
  const secret = password === undefined ? undefined : envOrValue(scope, password.value)
  if (database === undefined) return undefined
  return {
    host: stringKey(scope, parts, "host") ?? "127.0.0.1",
    port: unsigned(scope, parts, "port", "u16") ?? 5432,
    user: stringKey(scope, parts, "user") ?? "postgres",
    ...(secret === undefined ? {} : { password: secret }),
    database
  }
}
