/**
 * Keeping the deployment's message tables small. @effect/cluster 0.60 never deletes a
 * message, and storage deduplicates on primary keys for good; flusso's keys carry the
 * capture's incarnation, so nothing older than the capture running now is ever asked
 * for again. The capture therefore
 * - when it starts, drops the parts an earlier capture sent that no runner has answered:
 *   it streams again from the confirmed position and sends them afresh, so they would
 *   only be written twice — or land after a generation change they know nothing of;
 * - every few minutes, deletes answered messages (and their replies) older than ten
 *   minutes.
 * Message ids are snowflakes (milliseconds since 2025 in their high bits), so "older
 * than" is a comparison of ids.
 */
import { MachineId, Snowflake } from "@effect/cluster"
import { Effect, Schedule } from "effect"
import { ClusterDatabase, ClusterDeployment } from "./ClusterRuntime.js"
import { BUILD_ENTITY, SEED_ENTITY } from "./names.js"

/** Answered messages are kept this long (a part sent twice within it is still deduplicated). */
const KEEP_ANSWERED_MS = 10 * 60_000

const idAt = (millis: number): string => String(Snowflake.make({ machineId: MachineId.make(0), sequence: 0, timestamp: millis }))

export const make = Effect.gen(function*() {
  const sql = yield* ClusterDatabase
  const { prefix } = yield* ClusterDeployment
  const messages = `${prefix}_messages`
  const replies = `${prefix}_replies`

  /** Unanswered parts sent before `incarnation` (this capture's first snowflake); how many. */
  const dropEarlierParts = (incarnation: Snowflake.Snowflake) =>
    sql.unsafe(
      `DELETE FROM ${messages} WHERE processed = false AND entity_type IN ($1, $2) AND id < $3 RETURNING id`,
      [BUILD_ENTITY, SEED_ENTITY, String(incarnation)]
    ).pipe(
      Effect.tap((rows) => rows.length === 0 ? Effect.void : Effect.logInfo(`dropped ${rows.length} unanswered parts of an earlier capture: this one sends what they held again`)),
      Effect.map((rows) => rows.length)
    )

  const prune = Effect.suspend(() => {
    const before = idAt(Date.now() - KEEP_ANSWERED_MS)
    return sql.unsafe(`DELETE FROM ${replies} WHERE request_id IN (SELECT id FROM ${messages} WHERE processed AND id < $1)`, [before]).pipe(
      Effect.zipRight(sql.unsafe(`DELETE FROM ${messages} WHERE processed AND id < $1`, [before])),
      // Replies to messages dropped unanswered (an answer may come after the drop).
      Effect.zipRight(sql.unsafe(`DELETE FROM ${replies} r WHERE r.id < $1 AND NOT EXISTS (SELECT 1 FROM ${messages} m WHERE m.id = r.request_id)`, [before]))
    )
  })

  /** `prune` every five minutes, for as long as the capture runs; a failure waits for the next round. */
  const pruning = prune.pipe(
    Effect.catchAll((error) => Effect.logDebug(`pruning answered messages failed: ${error.message}`)),
    Effect.repeat(Schedule.spaced("5 minutes"))
  )

  return { dropEarlierParts, pruning }
})
