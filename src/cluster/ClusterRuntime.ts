/**
 * src/cluster/ — one deployment as a cluster of runners on @effect/cluster (`flusso run
 * --cluster`). This folder owns:
 * - ClusterRuntime.ts (here): the sharding runtime of one runner — its socket server at
 *   the runner address, membership, shard locks and durable messages in the deployment's
 *   tables (schema `flusso_cluster` of the source database, through a pool of its own);
 * - protocol.ts, buildEntity.ts, seedEntity.ts: the work runners do for the capture;
 * - clusterDocumentWork.ts: the capture's side of that work (DocumentWork over entities);
 * - capture.ts, slotFence.ts, messageHousekeeping.ts: the capture singleton, and
 *   controlEntity.ts: reindex requests from any runner to it;
 * - clusterStatus.ts, clusterMetrics.ts, shardTenure.ts: what `/status` and `/metrics`
 *   say of the cluster; runnerParts.ts: what every part goes through on a runner;
 * - names.ts: what a deployment is called where it is stored;
 * - runCluster.ts: all of it together for `flusso run --cluster`.
 *
 * The runtime is composed by hand rather than with `NodeClusterSocket.layer`, which reads
 * unprefixed environment variables (HOST, PORT…) for its config and hides the runner
 * storage /status reads.
 */
import {
  EntityId,
  RunnerAddress,
  RunnerHealth,
  Runners,
  type RunnerStorage,
  Sharding,
  ShardingConfig,
  SocketRunner,
  SqlMessageStorage,
  SqlRunnerStorage
} from "@effect/cluster"
import { NodeClusterSocket } from "@effect/platform-node"
import { RpcSerialization } from "@effect/rpc"
import * as PgClient from "@effect/sql-pg/PgClient"
import { SqlClient } from "@effect/sql/SqlClient"
import { Cause, Context, Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"
import { readFileSync } from "node:fs"
import pg from "pg"
import { backoff } from "../backoff.js"
import type { ResolvedConfig } from "../config/ResolvedConfig.js"
import { RunnerListenFailed, SourceUnavailable } from "../errors.js"
import { captureSingleton, CLUSTER_SCHEMA, LOCK_EXPIRATION_SECONDS, tablePrefix } from "./names.js"

/**
 * Timings (measured: a capture SIGKILLed or SIGSTOPped is taken over 8–11 s later):
 * a runner that stops refreshing its shard locks loses them after `LOCK_EXPIRATION`;
 * the others look at assignments every second and at unprocessed messages every two;
 * a reply is looked for every 200 ms when it cannot come over the socket.
 */
export const LOCK_EXPIRATION = Duration.seconds(LOCK_EXPIRATION_SECONDS)
const timings = {
  shardLockExpiration: LOCK_EXPIRATION,
  shardLockRefreshInterval: Duration.seconds(3),
  refreshAssignmentsInterval: Duration.seconds(1),
  entityMessagePollInterval: Duration.seconds(2),
  runnerHealthCheckInterval: Duration.seconds(5),
  entityTerminationTimeout: Duration.seconds(5),
  entityReplyPollInterval: Duration.millis(200)
}

/** Shards the entities and the capture are spread over; each runner holds about its share. */
export const SHARDS = 60

export type RunnerHealthCheck = "ping" | "k8s"

export interface ClusterRuntimeOptions {
  readonly config: ResolvedConfig
  readonly address: { readonly host: string; readonly port: number }
  /**
   * How runners decide another one is gone: `ping` (it answers on its runner address) or
   * `k8s` (its pod is ready, read from the Kubernetes API: the runner host must be the
   * pod IP and the service account must be allowed to list the pods of its namespace).
   */
  readonly health: RunnerHealthCheck
  readonly k8s?: { readonly namespace?: string | undefined; readonly labelSelector?: string | undefined }
}

/** The cluster's own connection pool (search_path `flusso_cluster`), for what flusso reads of the cluster tables itself. */
export class ClusterDatabase extends Context.Tag("flusso/ClusterDatabase")<ClusterDatabase, SqlClient>() {}

/** Who this runner is, and where its deployment is stored. */
export interface ClusterDeploymentInfo {
  /** This runner's address, `host:port`, as the cluster tables write it. */
  readonly self: string
  /** The prefix of the deployment's tables. */
  readonly prefix: string
  /** The shard the capture singleton lives in (`group:n`), as the lock table writes it. */
  readonly captureShard: string
  readonly lockExpirationSeconds: number
  readonly shards: number
}

export class ClusterDeployment extends Context.Tag("flusso/ClusterDeployment")<ClusterDeployment, ClusterDeploymentInfo>() {}

/**
 * A runner frozen inside one of @effect/cluster's transactions (SIGSTOP, a stalled VM)
 * keeps its row locks on the message tables: every other runner's reassignment of its
 * shards and the new capture's clean-up would wait behind it until it wakes (seen in the
 * failover test). The server ends such a session after this long — well inside the lock
 * expiry, so the takeover is not delayed; a live runner's transactions are a few
 * statements sent back to back.
 */
const IDLE_IN_TRANSACTION_MS = 5_000

/**
 * The pg config of the cluster pool: the source URL with its query parameters, and a
 * session whose search_path is the cluster schema and whose time zone is UTC (the lock
 * table compares `timestamp without time zone` values with `now()`: every runner must
 * agree on the zone), and whose transactions cannot outlive a frozen runner
 * (`IDLE_IN_TRANSACTION_MS`). No text type parsers: @effect/cluster reads booleans and integers.
 */
const poolConfig = (url: Redacted.Redacted<string>, applicationName: string): pg.PoolConfig => {
  const parsed = new URL(Redacted.value(url))
  const userOptions = parsed.searchParams.get("options")
  parsed.searchParams.delete("options")
  const session = `-c search_path=${CLUSTER_SCHEMA} -c TimeZone=UTC -c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`
  return {
    connectionString: parsed.toString(),
    options: userOptions ? `${userOptions} ${session}` : session,
    application_name: applicationName,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    // The lock connection, the storage and reply loops, and the parts being saved and answered.
    max: 10
  }
}

const sqlLayer = (options: ClusterRuntimeOptions, self: string) =>
  PgClient.layerFromPool({
    acquire: Effect.acquireRelease(
      Effect.sync(() => {
        const pool = new pg.Pool(poolConfig(options.config.source.url, `flusso-cluster ${self}`))
        // An idle connection dropped by the server must not crash the process.
        pool.on("error", () => undefined)
        return pool
      }),
      (pool) => Effect.promise(() => pool.end().catch(() => undefined))
    )
  })

/** The schema, created on first start; runners starting together race for it, so a refusal is retried. */
const ensureSchema = Layer.effectDiscard(
  Effect.flatMap(SqlClient, (sql) => sql.unsafe(`CREATE SCHEMA IF NOT EXISTS ${CLUSTER_SCHEMA}`)).pipe(
    Effect.retry({ times: 5, schedule: Schedule.spaced("200 millis") })
  )
)

/** The namespace of the pod this runs in (its service account's), so listing pods needs a Role, not a ClusterRole. */
const POD_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

const podNamespace = (): string | undefined => {
  try {
    return readFileSync(POD_NAMESPACE_FILE, "utf8").trim() || undefined
  } catch {
    return undefined // not in a pod: every namespace's pods are listed
  }
}

const health = (options: ClusterRuntimeOptions) =>
  options.health === "k8s"
    ? Layer.suspend(() => RunnerHealth.layerK8s({ namespace: podNamespace(), ...options.k8s })).pipe(Layer.provide(NodeClusterSocket.layerK8sHttpClient))
    : RunnerHealth.layerPing.pipe(Layer.provide(Runners.layerRpc), Layer.provide(NodeClusterSocket.layerClientProtocol))

export const layer = (options: ClusterRuntimeOptions) => {
  const { host, port } = options.address
  const self = `${host}:${port}`
  const prefix = tablePrefix(options.config.source.slot)
  const config = ShardingConfig.layer({
    runnerAddress: Option.some(RunnerAddress.make(host, port)),
    shardsPerGroup: SHARDS,
    // Advisory locks are held by a session: a frozen runner's session keeps them, so its
    // shards would never move. Lock rows with an expiry do.
    shardLockDisableAdvisory: true,
    ...timings
  })
  const sql = ensureSchema.pipe(Layer.provideMerge(sqlLayer(options, self)))
  const runtime = SocketRunner.layer.pipe(
    Layer.provide([NodeClusterSocket.layerSocketServer, NodeClusterSocket.layerClientProtocol]),
    Layer.provide(health(options)),
    Layer.provideMerge(SqlMessageStorage.layerWith({ prefix })),
    Layer.provideMerge(Layer.orDie(SqlRunnerStorage.layerWith({ prefix }))),
    Layer.provide(RpcSerialization.layerMsgPack),
    Layer.provideMerge(config)
  )
  const deployment = Layer.effect(
    ClusterDeployment,
    Effect.map(Sharding.Sharding, (sharding): ClusterDeploymentInfo => ({
      self,
      prefix,
      captureShard: sharding.getShardId(EntityId.make(captureSingleton(options.config.source.slot)), "default").toString(),
      lockExpirationSeconds: Duration.toSeconds(LOCK_EXPIRATION),
      shards: SHARDS
    }))
  )
  const database = Layer.effect(ClusterDatabase, SqlClient)
  return Layer.mergeAll(deployment, database).pipe(
    Layer.provideMerge(runtime),
    Layer.provide(sql),
    // Runners starting together race to create the same tables (a CREATE … IF NOT EXISTS
    // can still collide, and @effect/cluster's migrations die on it): any failure to start
    // but a taken address is tried again, like a database that is not up yet.
    Layer.catchAllCause((cause): Layer.Layer<unknown, RunnerListenFailed | SourceUnavailable> => {
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure) && failure.value._tag === "SocketServerError") {
        const reason = failure.value.cause instanceof Error ? failure.value.cause.message : failure.value.message
        return Layer.fail(new RunnerListenFailed({ address: self, reason }))
      }
      // Interrupted (the runner stops while joining): stays an interruption.
      if (Cause.isInterruptedOnly(cause)) return Layer.failCause(Cause.flatMap(cause, () => Cause.empty))
      return Layer.fail(new SourceUnavailable({ reason: `joining the cluster: ${Cause.pretty(cause)}`, cause }))
    }),
    Layer.tapError((error) => (error._tag === "SourceUnavailable" ? Effect.logWarning(`${error.message}; trying again`) : Effect.void)),
    Layer.retry(backoff().pipe(Schedule.whileInput((error: RunnerListenFailed | SourceUnavailable) => error._tag === "SourceUnavailable")))
  ) satisfies Layer.Layer<
    Sharding.Sharding | RunnerStorage.RunnerStorage | ClusterDatabase | ClusterDeployment,
    RunnerListenFailed | SourceUnavailable
  >
}
