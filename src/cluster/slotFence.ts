/**
 * Fencing the capture. Only the runner whose row in the deployment's lock table names it
 * for the capture's shard may stream from the slot, and so acknowledge: a runner frozen
 * past its lease (SIGSTOP, a stalled VM) wakes to find the row names another.
 * - Before every replication connection (the first, and each reconnect) the capture
 *   checks the row, then ends whatever session still holds the slot — a former capture
 *   that died with its socket open, or one frozen — and waits until the slot is free.
 *   The session it ended belonged to a frozen runner, whose connection is then dead: it
 *   cannot acknowledge anything when it wakes, and its own reconnect fails this check.
 * - While it runs, the capture reads the row every second and stops as soon as it names
 *   another runner (@effect/cluster would notice at its next lock refresh, a few
 *   seconds later): a woken runner's capture does not go on dispatching, seeding or
 *   swapping generations.
 */
import { Duration, Effect, Schema } from "effect"
import { SourceUnavailable } from "../errors.js"
import { ClusterDatabase, ClusterDeployment } from "./ClusterRuntime.js"

const LockRow = Schema.Struct({ address: Schema.String })
const SlotRow = Schema.Struct({ active_pid: Schema.NullOr(Schema.Number) })

/** How long the capture waits for a slot it asked to be freed before it tries again. */
const FREEING = Duration.seconds(10)

export interface SlotFence {
  /** Whether the lock row of the capture's shard names this runner now. */
  readonly holding: Effect.Effect<boolean, SourceUnavailable>
  /** Completes once this runner holds the capture (checked every second). */
  readonly awaitHolding: Effect.Effect<void>
  /** Before a replication connection: refuses unless holding; ends any other session on the slot and waits until it is free. */
  readonly beforeStreaming: Effect.Effect<void, SourceUnavailable>
}

export const make = (slot: string) =>
  Effect.gen(function*() {
    const sql = yield* ClusterDatabase
    const deployment = yield* ClusterDeployment
    const unavailable = (what: string) => (cause: unknown) => new SourceUnavailable({ reason: `${what}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

    const holding: SlotFence["holding"] = sql
      .unsafe(`SELECT address FROM ${deployment.prefix}_locks WHERE shard_id = $1`, [deployment.captureShard])
      .pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(LockRow))),
        Effect.map((rows) => rows[0]?.address === deployment.self),
        Effect.mapError(unavailable("reading the capture's lock"))
      )

    const awaitHolding: SlotFence["awaitHolding"] = Effect.gen(function*() {
      for (;;) {
        if (yield* Effect.orElseSucceed(holding, () => false)) return
        yield* Effect.sleep("1 second")
      }
    })

    const activePid = sql.unsafe(`SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1`, [slot]).pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(SlotRow))),
      Effect.map((rows) => rows[0]?.active_pid ?? null),
      Effect.mapError(unavailable(`reading slot ${slot}`))
    )

    const beforeStreaming: SlotFence["beforeStreaming"] = Effect.gen(function*() {
      if (!(yield* holding)) {
        return yield* new SourceUnavailable({ reason: `this runner (${deployment.self}) no longer holds the capture of slot ${slot}` })
      }
      const deadline = Date.now() + Duration.toMillis(FREEING)
      let ended: number | null = null
      for (;;) {
        const pid = yield* activePid
        if (pid === null) return
        if (pid !== ended) {
          yield* Effect.logWarning(
            `ending the replication session (pid ${pid}) that holds slot ${slot}: a former capture of this deployment` +
              " (or a flusso without --cluster on the same slot, which must not run beside a cluster)"
          )
          yield* sql.unsafe(`SELECT pg_terminate_backend($1)`, [pid]).pipe(Effect.mapError(unavailable(`ending session ${pid} on slot ${slot}`)))
          ended = pid
        }
        if (Date.now() > deadline) return yield* new SourceUnavailable({ reason: `slot ${slot} is still held by session ${pid}` })
        yield* Effect.sleep("200 millis")
      }
    })

    return { holding, awaitHolding, beforeStreaming } satisfies SlotFence
  })
