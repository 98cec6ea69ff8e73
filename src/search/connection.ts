/**
 * Where a search goes: the OpenSearch sink of a config — its URL and credentials resolved
 * exactly as `run` resolves them (`env()`, then `<SINK>_OPENSEARCH_URL` and friends, then
 * the literal) — and the config's prefix, so the search reads the alias `run` serves; or a
 * connection given by hand for an application that has no config object.
 */
import { Either, Redacted, Schema } from "effect"
import { redactUrl, resolveOpenSearch } from "../config/resolve.js"
import type { ResolvedOpenSearchSink } from "../config/ResolvedConfig.js"
import { validateConfig } from "../config/validate.js"
import { OpenSearchSink } from "../config/model.js"
import { ConfigInvalid } from "../errors.js"
import type { SearchableConfig } from "./SearchRequest.js"

/** A cluster to search, given by hand. */
export interface SearchConnection {
  /** `http://` or `https://`. */
  readonly url: string
  readonly username?: string
  readonly password?: string | Redacted.Redacted<string>
  /** The deployment's `prefix` (default ""): indexes are read through `<prefix><index>`. */
  readonly prefix?: string
  /** Default true. */
  readonly tlsVerify?: boolean
  /** Per request; default 30. */
  readonly timeoutSeconds?: number
  /** Retries of a transient failure (unreachable, 429, 502–504); default 5. */
  readonly maxRetries?: number
  /** Whether the indexes have the derived subfields (`.keyword`, …): the sink's `autoSubfields`, default true. */
  readonly autoSubfields?: boolean
}

export interface FromConfigOptions {
  /** Which sink of the config to search; needed only when it has several OpenSearch sinks. */
  readonly sink?: string
  /** Where `env()` and the override variables are read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

/** A connection ready to open: the sink as the OpenSearch client code takes it, and the prefix. */
export interface ResolvedConnection {
  readonly sink: ResolvedOpenSearchSink
  readonly prefix: string
}

const invalid = (issues: ReadonlyArray<string>) => new ConfigInvalid({ file: "search config", issues })

/** The connection of one OpenSearch sink of `config`. */
export const connectionFromConfig = (
  config: SearchableConfig,
  options: FromConfigOptions = {}
): Either.Either<ResolvedConnection, ConfigInvalid> =>
  Either.gen(function* () {
    const validated = yield* Either.mapLeft(validateConfig(config), invalid)
    const candidates = Object.entries(validated.sinks).filter(([, sink]) => sink.type === "opensearch")
    const names = candidates.map(([name]) => name)
    const name = options.sink ?? (names.length === 1 ? names[0] : undefined)
    if (name === undefined) {
      return yield* Either.left(invalid([
        names.length === 0
          ? "sinks: no OpenSearch sink to search; add one, or connect with Search.layerConnection / SearchClient.connect"
          : `sinks: ${names.length} OpenSearch sinks (${names.join(", ")}); name the one to search with { sink: "${names[0]}" }`
      ]))
    }
    const sink = validated.sinks[name]
    if (sink === undefined || sink.type !== "opensearch") {
      return yield* Either.left(invalid([`sinks.${name}: no OpenSearch sink of that name (the config has: ${names.join(", ") || "none"})`]))
    }
    const resolved = yield* Either.mapLeft(resolveOpenSearch(name, sink, options.env ?? process.env), (issue) => invalid([issue]))
    if (resolved.type !== "opensearch") return yield* Either.left(invalid([`sinks.${name}: not an OpenSearch sink`]))
    return { sink: resolved, prefix: validated.prefix }
  })

/** The defaults of every sink setting a connection given by hand leaves out. */
const sinkDefaults = Schema.decodeSync(OpenSearchSink)({ type: "opensearch" })

/** A connection given by hand, with the sink defaults for the rest. */
export const connectionFromParts = (connection: SearchConnection): Either.Either<ResolvedConnection, ConfigInvalid> => {
  const url = URL.canParse(connection.url) ? new URL(connection.url) : undefined
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    return Either.left(invalid([`url: must be an http:// or https:// URL, got ${JSON.stringify(redactUrl(connection.url))}`]))
  }
  const password = connection.password
  return Either.right({
    sink: {
      ...sinkDefaults,
      name: "search",
      url: connection.url,
      username: connection.username,
      password: password === undefined ? undefined : Redacted.isRedacted(password) ? password : Redacted.make(password),
      tlsVerify: connection.tlsVerify ?? sinkDefaults.tlsVerify,
      timeoutSeconds: connection.timeoutSeconds ?? sinkDefaults.timeoutSeconds,
      maxRetries: connection.maxRetries ?? sinkDefaults.maxRetries,
      autoSubfields: connection.autoSubfields ?? sinkDefaults.autoSubfields
    },
    prefix: connection.prefix ?? ""
  })
}
