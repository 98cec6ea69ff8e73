/**
 * From a validated config to a runnable one: every `env()` and reserved environment
 * variable resolved by the precedence in config.md, secrets wrapped in `Redacted`, the
 * default stdout sink added, indexes planned. Also the redaction used when logging URLs.
 */
import { Array as Arr, Effect, Either, Redacted } from "effect"
import { ConfigInvalid } from "../errors.js"
import { planIndex } from "../schema/planIndex.js"
import type { FlussoConfig, OpenSearchSinkConfig } from "./model.js"
import { EnvRef } from "./model.js"
import type { ResolvedConfig, ResolvedSink } from "./ResolvedConfig.js"

type Env = Readonly<Record<string, string | undefined>>

// A blank variable (`DATABASE_URL=` in an env file) means "not set", never an empty URL.
const read = (env: Env, name: string): string | undefined => {
  const value = env[name]
  return value === undefined || value.trim() === "" ? undefined : value
}

const sinkVariable = (sink: string, key: "url" | "username" | "password"): string =>
  `${sink.toUpperCase()}_OPENSEARCH_${key.toUpperCase()}`

/** Each value a reserved variable may override, with that variable. */
const overridable = (config: FlussoConfig): Array<{ readonly value: unknown; readonly variable: string }> => [
  { value: config.source.url, variable: "DATABASE_URL" },
  ...Object.entries(config.sinks).flatMap(([name, sink]) =>
    sink.type === "opensearch"
      ? (["url", "username", "password"] as const).map((key) => ({ value: sink[key], variable: sinkVariable(name, key) }))
      : []
  )
]

/** The reserved variables that override (or supply) a value of this config: names only, for the start log. */
export const appliedOverrides = (config: FlussoConfig, env: Env): ReadonlyArray<string> =>
  overridable(config)
    .filter(({ value, variable }) => !(value instanceof EnvRef) && read(env, variable) !== undefined)
    .map(({ variable }) => variable)

/** Precedence: explicit `env("X")` (unset X is an error), then the reserved variable, then the literal. */
const pick = <L>(env: Env, value: EnvRef | L | undefined, variable: string | undefined): Either.Either<L | string | undefined, string> => {
  if (value instanceof EnvRef) {
    const set = read(env, value.name)
    return set === undefined ? Either.left(`environment variable ${value.name} is not set (env("${value.name}"))`) : Either.right(set)
  }
  const reserved = variable === undefined ? undefined : read(env, variable)
  return Either.right(reserved ?? value)
}

const checkUrl = (url: string, protocols: ReadonlyArray<string>): Either.Either<string, string> => {
  const parsed = URL.canParse(url) ? new URL(url) : undefined
  return parsed !== undefined && protocols.includes(parsed.protocol)
    ? Either.right(url)
    : Either.left(`must be a ${protocols.map((p) => `${p}//`).join(" or ")} URL, got ${redactUrl(url)}`)
}

const at = <A>(path: string, result: Either.Either<A, string>): Either.Either<A, string> =>
  Either.mapLeft(result, (issue) => `${path}: ${issue}`)

const required = <A>(value: A | undefined, hint: string): Either.Either<A, string> =>
  value === undefined ? Either.left(`not set; ${hint}`) : Either.right(value)

const resolveSourceUrl = (config: FlussoConfig, env: Env): Either.Either<string, string> =>
  Either.gen(function* () {
    const value = yield* at(
      "source.url",
      Either.flatMap(pick(env, config.source.url, "DATABASE_URL"), (url) => required(url, "set source.url or DATABASE_URL"))
    )
    if (typeof value === "string") return yield* at("source.url", checkUrl(value, ["postgres:", "postgresql:"]))
    const password = yield* at("source.url.password", pick<string>(env, value.password, undefined))
    const host = value.host.includes(":") && !value.host.startsWith("[") ? `[${value.host}]` : value.host
    const credentials =
      encodeURIComponent(value.user) + (password === undefined ? "" : `:${encodeURIComponent(password)}`)
    return `postgres://${credentials}@${host}:${value.port}/${encodeURIComponent(value.database)}`
  })

/** One OpenSearch sink's connection (also what a search connects with). */
export const resolveOpenSearch = (name: string, sink: OpenSearchSinkConfig, env: Env): Either.Either<ResolvedSink, string> =>
  Either.gen(function* () {
    const value = (key: "url" | "username" | "password") => pick<string>(env, sink[key], sinkVariable(name, key))
    const url = yield* at(
      `sinks.${name}.url`,
      value("url").pipe(
        Either.flatMap((url) => required(url, `set it or ${sinkVariable(name, "url")}`)),
        Either.flatMap((url) => checkUrl(url, ["http:", "https:"]))
      )
    )
    const username = yield* at(`sinks.${name}.username`, value("username"))
    const password = yield* at(`sinks.${name}.password`, value("password"))
    return { ...sink, name, url, username, password: password === undefined ? undefined : Redacted.make(password) }
  })

/** The runnable config; `file` only names the config in error messages. */
export const resolveConfig = (
  config: FlussoConfig,
  env: Env,
  file = "flusso config"
): Effect.Effect<ResolvedConfig, ConfigInvalid> => {
  const source = resolveSourceUrl(config, env)
  const sinks = Object.entries(config.sinks).map(([name, sink]) =>
    sink.type === "opensearch" ? resolveOpenSearch(name, sink, env) : Either.right<ResolvedSink>({ ...sink, name })
  )
  // Every problem at once, not the first: a deploy should not need one run per missing variable.
  const issues = [...Arr.getLefts([source]), ...Arr.getLefts(sinks)]
  if (Either.isLeft(source) || issues.length > 0) return Effect.fail(new ConfigInvalid({ file, issues }))
  const resolvedSinks = Arr.getRights(sinks)
  return Effect.succeed({
    source: {
      url: Redacted.make(source.right),
      slot: config.source.slot,
      publication: config.source.publication,
      managePublication: config.source.managePublication,
      failover: config.source.failover
    },
    sinks: resolvedSinks.length > 0 ? resolvedSinks : [{ type: "stdout", pretty: false, name: "stdout" }],
    indexes: Object.entries(config.indexes).map(([name, index]) => planIndex(name, index, config.onError)),
    prefix: config.prefix,
    onError: config.onError,
    batch: config.batch,
    server: config.server
  })
}

/**
 * Text safe to log: in every URL it holds, the password (`scheme://user:***@`) and any
 * password-like query parameter masked, and nothing else touched. Each URL is matched on
 * its own — never from one `//` to a later `@` — so a message naming a scheme
 * (`postgres:// or postgresql://…`) keeps its words.
 */
export const redactSecrets = (text: string): string =>
  text
    // The password runs to the last @ of the authority: an unencoded @ in it stays hidden.
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#]*@/gi, "$1:***@")
    .replace(/([?&][^=&\s#]*pass[^=&\s#]*=)[^&\s#]*/gi, "$1***")

/** A URL safe to log: its password, and any password query parameter, replaced by `***`. */
export const redactUrl = (url: string): string => {
  if (!URL.canParse(url)) return redactSecrets(url)
  const parsed = new URL(url)
  const secretParams = [...parsed.searchParams.keys()].filter((key) => /pass/i.test(key))
  if (parsed.password === "" && secretParams.length === 0) return url
  if (parsed.password !== "") parsed.password = "***"
  for (const key of secretParams) parsed.searchParams.set(key, "***")
  return parsed.href
}
