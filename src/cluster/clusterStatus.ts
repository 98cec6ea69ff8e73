/**
 * What a runner tells `/status` and `/metrics` about its cluster, read every second: the
 * runners registered and healthy (the runner storage), and which one holds the capture
 * (the lock row of the capture's shard, while it is fresher than a lock's expiry — a
 * runner that died or froze with it is shown until its lease lapses, then `null` until
 * another takes it over).
 */
import { RunnerStorage } from "@effect/cluster"
import { Effect, Layer, Metric, Schedule, Schema } from "effect"
import { formatAddress } from "../server/address.js"
import { Status } from "../status/Status.js"
import * as ClusterMetrics from "./clusterMetrics.js"
import { ClusterDatabase, ClusterDeployment } from "./ClusterRuntime.js"

const HolderRow = Schema.Struct({ address: Schema.String })

/** `host:port` as the cluster tables write it (an IPv6 host unbracketed), as flusso writes addresses. */
const display = (stored: string): string => {
  const at = stored.lastIndexOf(":")
  const port = Number(stored.slice(at + 1))
  return at < 0 || !Number.isInteger(port) ? stored : formatAddress({ host: stored.slice(0, at), port })
}

export const layer = Layer.scopedDiscard(
  Effect.gen(function*() {
    const storage = yield* RunnerStorage.RunnerStorage
    const sql = yield* ClusterDatabase
    const deployment = yield* ClusterDeployment
    const status = yield* Status
    const look = Effect.gen(function*() {
      const runners = (yield* storage.getRunners).filter(([, healthy]) => healthy).map(([runner]) => formatAddress(runner.address))
      const holder = yield* sql.unsafe(
        `SELECT address FROM ${deployment.prefix}_locks WHERE shard_id = $1 AND acquired_at > now() - make_interval(secs => $2)`,
        [deployment.captureShard, deployment.lockExpirationSeconds]
      ).pipe(Effect.flatMap(Schema.decodeUnknown(Schema.Array(HolderRow))))
      const captureRunner = holder[0] === undefined ? null : display(holder[0].address)
      yield* status.cluster({ runner: display(deployment.self), runners: [...runners].sort(), captureRunner })
      yield* Metric.set(ClusterMetrics.runners, runners.length)
    })
    yield* look.pipe(
      Effect.catchAllCause((cause) => Effect.logDebug("reading the cluster's runners failed", cause)),
      Effect.repeat(Schedule.spaced("1 second")),
      Effect.forkScoped
    )
  })
)
