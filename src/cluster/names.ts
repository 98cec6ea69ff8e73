/**
 * What a cluster deployment is called where it is stored and addressed: the schema of its
 * tables, their prefix, the capture singleton, the entity types — all derived from the
 * config, so processes with the same config and slot find each other and nothing else.
 */
import { createHash } from "node:crypto"
import { Either } from "effect"
import type { ResolvedConfig } from "../config/ResolvedConfig.js"
import { formatAddress, parseAddress } from "../server/address.js"

/** A runner that has not refreshed its shard locks (and registration) for this long has lost them. */
export const LOCK_EXPIRATION_SECONDS = 10

/** The schema, in the source database, that holds every deployment's cluster tables. */
export const CLUSTER_SCHEMA = "flusso_cluster"

/** The longest table prefix: `<prefix>_migrations` must stay within PostgreSQL's 63-byte identifiers. */
const MAX_PREFIX = 48

/**
 * The prefix of a deployment's tables (`<prefix>_runners`, `_locks`, `_messages`,
 * `_replies`, `_migrations`): its slot's name — a slot is one deployment's, and a slot
 * name is lowercase letters, digits and underscores, so the tables need no quoting. A
 * long one is cut and given a hash of the whole.
 */
export const tablePrefix = (slot: string): string =>
  slot.length <= MAX_PREFIX ? slot : `${slot.slice(0, MAX_PREFIX - 9)}_${createHash("sha256").update(slot).digest("hex").slice(0, 8)}`

/** Every table @effect/cluster keeps for one deployment. */
export const clusterTables = (prefix: string): ReadonlyArray<string> =>
  ["replies", "messages", "locks", "runners", "migrations"].map((table) => `${prefix}_${table}`)

/** The singleton that captures and acknowledges: one per slot. */
export const captureSingleton = (slot: string): string => `flusso-capture/${slot}`

/** Entity types: a part of a live batch, a chunk of a seeding pass, requests to the capture. */
export const BUILD_ENTITY = "flusso-build"
export const SEED_ENTITY = "flusso-seed"
export const CONTROL_ENTITY = "flusso-control"

/**
 * What must be equal on every runner of a deployment for their work to mix: the shape of
 * every enabled index (its plan hash) and the index prefix. A part sent by a capture with
 * another config (a rolling deploy in progress) waits until a runner with the same one
 * takes it.
 */
export const deploymentFingerprint = (config: ResolvedConfig): string =>
  createHash("sha256")
    .update(JSON.stringify({
      prefix: config.prefix,
      indexes: config.indexes.filter((p) => p.enabled).map((p) => [p.name, p.hash]).sort()
    }))
    .digest("hex")
    .slice(0, 16)

/** A runner's address as the other runners reach it: `host:port`, a real host and port. */
export const parseRunnerAddress = (text: string): Either.Either<{ readonly host: string; readonly port: number }, string> =>
  Either.flatMap(parseAddress(text), (address) => {
    if (address.host === "0.0.0.0" || address.host === "::" || text.trim().startsWith(":")) {
      return Either.left(`"${text}" names no host: the other runners connect to it, so give the host or IP they reach this one at, e.g. 10.0.0.5:34431`)
    }
    if (address.port === 0) return Either.left(`"${text}" has port 0: give the port the other runners connect to, e.g. ${address.host}:34431`)
    return Either.right(address)
  })

export const formatRunnerAddress = formatAddress
