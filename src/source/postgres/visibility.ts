/**
 * When a streamed commit can be read. PostgreSQL streams a commit as soon as its WAL is
 * flushed, before the transaction leaves the proc array (with a synchronous standby,
 * until the standby confirms it): a query started in that window still sees the old row
 * versions, so a build would write a stale document, or a tombstone, and nothing would
 * revisit it. `awaitVisible` waits until every given transaction is visible in a fresh
 * snapshot. Visibility only grows — a transaction visible in one snapshot is visible in
 * every snapshot taken later, on any connection — so every read issued afterwards sees
 * the batch's commits, and "row not found" really means deleted.
 *
 * The stream names transactions by their 32-bit xid, snapshots by 64-bit xid8 (epoch in
 * the high half): `fullXid` places an xid in the epoch that puts it nearest the
 * snapshot's xmax, which is right for every xid within 2^31 of it — all live ones
 * (wraparound protection keeps them closer than that). The test is the one of
 * `pg_visible_in_snapshot`, done here so one round trip serves a batch of any size.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import { Clock, Effect, Schedule, Schema } from "effect"
import { backoff } from "../../backoff.js"
import type { SourceMisconfigured, SourceUnavailable } from "../../errors.js"
import { classify, queryRows } from "./sqlErrors.js"

export interface Snapshot {
  readonly xmin: bigint
  readonly xmax: bigint
  readonly inProgress: ReadonlySet<bigint>
}

/** `pg_snapshot` text: `xmin:xmax:xip,xip,…` (the list may be empty). */
export const parseSnapshot = (text: string): Snapshot => {
  const match = /^(\d+):(\d+):([\d,]*)$/.exec(text.trim())
  if (match === null) throw new Error(`not a pg_snapshot: ${text}`)
  const list = match[3] ?? ""
  return {
    xmin: BigInt(match[1] ?? "0"),
    xmax: BigInt(match[2] ?? "0"),
    inProgress: new Set(list === "" ? [] : list.split(",").map((x) => BigInt(x)))
  }
}

const EPOCH = 1n << 32n
const HALF = 1n << 31n

/** The xid8 of a 32-bit xid, in the epoch that puts it within 2^31 of `xmax`. */
export const fullXid = (xid: number, xmax: bigint): bigint => {
  let diff = (BigInt(xid) - (xmax % EPOCH)) % EPOCH
  if (diff < -HALF) diff += EPOCH
  if (diff >= HALF) diff -= EPOCH
  return xmax + diff
}

/** Whether the transaction is visible (no longer running) in the snapshot: `pg_visible_in_snapshot`. */
export const visibleIn = (snapshot: Snapshot, xid: number): boolean => {
  const full = fullXid(xid, snapshot.xmax)
  if (full < snapshot.xmin) return true
  if (full >= snapshot.xmax) return false
  return !snapshot.inProgress.has(full)
}

const SnapshotRow = Schema.Struct({ snapshot: Schema.String })

type VisibilityError = SourceUnavailable | SourceMisconfigured

const readSnapshot = (sql: SqlClient): Effect.Effect<Snapshot, VisibilityError> =>
  queryRows(sql, "reading the current snapshot", "SELECT pg_current_snapshot()::text AS snapshot", [], SnapshotRow).pipe(
    Effect.flatMap((rows) =>
      Effect.try({
        try: () => parseSnapshot(rows[0]?.snapshot ?? ""),
        catch: (error) => classify("reading the current snapshot", error)
      })
    )
  )

/** How often a wait is reported while it lasts. */
const REPORT_EVERY_MS = 5_000

/**
 * Completes once every transaction in `xids` is visible to reads that start afterwards.
 * Polls quickly at first (the usual window is well under a millisecond), then every 50 ms,
 * for as long as it takes — a commit that was streamed is durable and will show — and says
 * so every few seconds.
 */
export const awaitVisible = (sql: SqlClient, xids: ReadonlyArray<number>): Effect.Effect<void, VisibilityError> =>
  xids.length === 0
    ? Effect.void
    : Effect.gen(function*() {
      const driver = yield* Schedule.driver(backoff({ base: "1 millis", cap: "50 millis" }))
      const started = yield* Clock.currentTimeMillis
      let reported = started
      let pending = [...new Set(xids)]
      while (true) {
        const snapshot = yield* readSnapshot(sql)
        pending = pending.filter((xid) => !visibleIn(snapshot, xid))
        if (pending.length === 0) return
        const now = yield* Clock.currentTimeMillis
        if (now - reported >= REPORT_EVERY_MS) {
          reported = now
          yield* Effect.logWarning(
            `waiting ${Math.round((now - started) / 1000)} s for ${pending.length} transaction(s) (xid ${pending.slice(0, 5).join(", ")}) ` +
              "that PostgreSQL has streamed as committed but does not show to queries yet — typically a synchronous " +
              "standby (synchronous_standby_names) that has not confirmed them"
          )
        }
        yield* driver.next(undefined).pipe(Effect.orDie)
      }
    })
