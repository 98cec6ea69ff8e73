/**
 * The lock: a config compiled by `flusso build` into one portable JSON file, so a deploy
 * runs it (`flusso run --lock`) without the TypeScript toolchain and CI can refuse a
 * config that no longer matches it (`--locked`). Compiling is validation only — no
 * database, no secrets: `env("X")` stays a reference and the reserved variables
 * (DATABASE_URL, …) are applied when the lock runs, never baked in. Reading a lock goes
 * through the same validation as a config file, so its rules and messages are the same.
 */
import { Effect, Either, Predicate, Schema } from "effect"
import { readFile } from "node:fs/promises"
import * as path from "node:path"
import { VERSION } from "../cli/version.js"
import { ConfigInvalid } from "../errors.js"
import { planIndex } from "../schema/planIndex.js"
import { formatParseError } from "./issues.js"
import type { FlussoConfigInput } from "./model.js"
import { FlussoConfig } from "./model.js"
import { validateConfig } from "./validate.js"

/** The lock format this flusso writes and reads; bumped when an older flusso could misread a lock. */
export const LOCK_FORMAT_VERSION = 1

export interface LockFile {
  readonly formatVersion: typeof LOCK_FORMAT_VERSION
  /** The flusso that built it. */
  readonly flusso: string
  /** The validated config, encoded: every default written out, `env("X")` as `{ "_tag": "Env", "name": "X" }`. */
  readonly config: FlussoConfigInput
  /** Each index's content hash (planIndex): which indexes a new lock would rebuild. */
  readonly indexes: { readonly [name: string]: { readonly hash: string } }
}

const encodeConfig = Schema.encodeSync(FlussoConfig)

const LockShape = Schema.Struct({
  formatVersion: Schema.Literal(LOCK_FORMAT_VERSION),
  flusso: Schema.String,
  config: Schema.Unknown,
  indexes: Schema.Record({ key: Schema.String, value: Schema.Struct({ hash: Schema.String }) })
})
const decodeLock = Schema.decodeUnknownEither(LockShape, { errors: "all", onExcessProperty: "error" })

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const rebuild = (file: string): string => `rebuild it: run flusso build -o ${file}`

const hashes = (config: FlussoConfig): LockFile["indexes"] =>
  Object.fromEntries(Object.entries(config.indexes).map(([name, index]) => [name, { hash: planIndex(name, index, config.onError).hash }]))

/**
 * The lock of a validated config (from `validateConfig` / `loadConfig`). Only values the
 * config was given, and its defaults: nothing is read from the environment.
 */
export const compileLock = (config: FlussoConfig): LockFile => ({
  formatVersion: LOCK_FORMAT_VERSION,
  flusso: VERSION,
  config: encodeConfig(config),
  indexes: hashes(config)
})

/**
 * The lock file's text: two-space JSON and a trailing newline. Keys keep the schema's order
 * (and the config's, for indexes, sinks and fields), so equal configs give equal text.
 */
export const lockText = (lock: LockFile): string => `${JSON.stringify(lock, null, 2)}\n`

const readText = (file: string, missing: string): Effect.Effect<string, ConfigInvalid> =>
  Effect.tryPromise({
    try: () => readFile(file, "utf8"),
    catch: (error) =>
      new ConfigInvalid({
        file,
        issues: [
          Predicate.hasProperty(error, "code") && error.code === "ENOENT"
            ? `no such file: ${path.resolve(file)}; ${missing}`
            : `cannot read the lock: ${reason(error)}`
        ]
      })
  })

const parseJson = (text: string): Either.Either<unknown, string> =>
  Either.try({ try: (): unknown => JSON.parse(text), catch: (error) => `cannot parse JSON: ${reason(error)}` })

/** A lock built by this flusso must carry the hashes its config gives; another flusso's are informational. */
const hashIssues = (lock: typeof LockShape.Type, config: FlussoConfig, file: string): Array<string> => {
  if (lock.flusso !== VERSION) return []
  const planned = hashes(config)
  const edited = `the lock was edited by hand; ${rebuild(file)}`
  return [
    ...Object.entries(planned).flatMap(([name, { hash }]) => {
      const locked = lock.indexes[name]?.hash
      return locked === hash
        ? []
        : [
            locked === undefined
              ? `indexes.${name}: missing (config.indexes.${name} has hash ${hash}); ${edited}`
              : `indexes.${name}.hash: is ${locked}, but config.indexes.${name} gives ${hash}; ${edited}`
          ]
    }),
    ...Object.keys(lock.indexes)
      .filter((name) => planned[name] === undefined)
      .map((name) => `indexes.${name}: there is no config.indexes.${name}; ${edited}`)
  ]
}

/**
 * The config of a lock file, validated exactly as a config file is (the issue paths are
 * those of the config, i.e. under `config` in the lock). A lock of another format is
 * refused with the command that rebuilds it.
 */
export const readLock = (file: string): Effect.Effect<FlussoConfig, ConfigInvalid> =>
  Effect.gen(function* () {
    const invalid = (issues: ReadonlyArray<string>) => new ConfigInvalid({ file, issues })
    const text = yield* readText(file, `build it: run flusso build -o ${file}`)
    const json = yield* Either.mapLeft(parseJson(text), (issue) => invalid([`${issue}; ${rebuild(file)}`]))
    if (!Predicate.isRecord(json) || !("formatVersion" in json)) {
      return yield* invalid([`not a flusso lock (no formatVersion); ${rebuild(file)}`])
    }
    if (json.formatVersion !== LOCK_FORMAT_VERSION) {
      const by = typeof json.flusso === "string" ? ` (built by flusso ${json.flusso})` : ""
      return yield* invalid([
        `formatVersion: is ${JSON.stringify(json.formatVersion) ?? String(json.formatVersion)}${by}, but flusso ${VERSION} reads lock format ${LOCK_FORMAT_VERSION} only; ${rebuild(file)}`
      ])
    }
    const lock = yield* Either.mapLeft(decodeLock(json), (error) => invalid([...formatParseError(error), rebuild(file)]))
    const config = yield* Either.mapLeft(validateConfig(lock.config), (issues) =>
      invalid([...issues, `the config in this lock (under "config") is invalid: do not edit a lock; fix the config and ${rebuild(file)}`])
    )
    const mismatched = hashIssues(lock, config, file)
    return mismatched.length === 0 ? config : yield* invalid(mismatched)
  })

/** The paths where two JSON values differ, at most `limit` of them. */
const differences = (a: unknown, b: unknown, at: string, limit: number): Array<string> => {
  if (Object.is(a, b)) return []
  const children: Array<readonly [string, unknown, unknown]> | undefined =
    Array.isArray(a) && Array.isArray(b)
      ? Array.from({ length: Math.max(a.length, b.length) }, (_, i) => [`${at}[${i}]`, a[i], b[i]] as const)
      : Predicate.isRecord(a) && Predicate.isRecord(b) && !Array.isArray(a) && !Array.isArray(b)
        ? [...new Set([...Object.keys(a), ...Object.keys(b)])].map((key) => [at === "" ? key : `${at}.${key}`, a[key], b[key]] as const)
        : undefined
  if (children === undefined) return [at === "" ? "the whole file" : at]
  const found: Array<string> = []
  for (const [child, x, y] of children) {
    if (found.length >= limit) break
    found.push(...differences(x, y, child, limit - found.length))
  }
  return found
}

/** What changed between the lock on disk and the one the config compiles to, for the message. */
const describeChanges = (existing: string, compiled: string): string => {
  const [before, after] = [parseJson(existing), parseJson(compiled)]
  if (Either.isLeft(before) || Either.isLeft(after)) return "the file is not valid JSON"
  const limit = 6
  const paths = differences(before.right, after.right, "", limit)
  if (paths.length === 0) return "only its formatting differs"
  return `changed: ${paths.join(", ")}${paths.length === limit ? ", …" : ""}`
}

/**
 * For `run --locked`: fails unless `file` holds exactly the lock `config` compiles to, naming
 * what differs and how to bring the lock up to date.
 */
export const checkLocked = (config: FlussoConfig, file: string): Effect.Effect<void, ConfigInvalid> =>
  Effect.gen(function* () {
    const compiled = lockText(compileLock(config))
    const existing = yield* readText(file, `--locked compares the config with its lock: build it with flusso build -o ${file} and commit it`)
    if (existing === compiled) return
    return yield* new ConfigInvalid({
      file,
      issues: [
        `the lock is out of date: the config compiles to a different lock (${describeChanges(existing, compiled)}); ` +
          `${rebuild(file)} and commit it, or run without --locked`
      ]
    })
  })
