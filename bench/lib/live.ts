/**
 * Live figures, the same for every tool: committing a backlog while the tool is stopped
 * and timing its catch-up until the last change is visible, and the commit →
 * realtime-GET latency at a paced offered rate.
 */
import pg from "pg"
import { mgetMarkers } from "./opensearch.js"
import type { Running } from "./tool.js"
import { log, now, percentile, pollUntil, sleep } from "./util.js"

const CONNECTIONS = 8

const makePool = (url: string, max = CONNECTIONS): pg.Pool => {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 })
  pool.on("error", () => undefined)
  return pool
}

/** Runs `count` statements, each its own transaction (autocommit), over CONNECTIONS connections. */
const commitMany = async (url: string, count: number, statement: (i: number) => [string, ReadonlyArray<unknown>]): Promise<number> => {
  const pool = makePool(url)
  const started = now()
  let next = 0
  try {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const client = await pool.connect()
        try {
          while (next < count) {
            const [text, params] = statement(next++)
            await client.query(text, [...params])
          }
        } finally {
          client.release()
        }
      })
    )
  } finally {
    await pool.end()
  }
  return count / ((now() - started) / 1000)
}

/**
 * Users 1..RESERVED are never touched by the backlogs: user 1 carries the sentinel (the
 * catch-up's last change, see commitSentinel), and the others keep the same rows for both
 * tools, so their documents can be compared (audit.ts).
 */
export const RESERVED = 10
export const SENTINEL_USER = 1

const randomUser = (users: number) => RESERVED + 1 + Math.floor(Math.random() * (users - RESERVED))

/** 20k (or `count`) single-row updates of random users, each its own transaction. */
export const commitRootUpdates = (url: string, users: number, count: number): Promise<number> =>
  commitMany(url, count, () => ["UPDATE users SET score = score + 1 WHERE id = $1", [randomUser(users)]])

/** `count` single-row order inserts for random users (each rebuilds its user's document). */
export const commitChildInserts = async (url: string, users: number, count: number): Promise<number> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const first = Number((await client.query<{ max: string }>("SELECT coalesce(max(id), 0)::text AS max FROM orders")).rows[0]?.max ?? 0) + 1
  await client.end()
  return commitMany(url, count, (i) => [
    "INSERT INTO orders (id, user_id, status, total, placed_at) VALUES ($1, $2, 'pending', 19.99, now())",
    [first + i, randomUser(users)]
  ])
}

export interface Sentinel {
  readonly user: number
  readonly marker: number
  /** The WAL insert position inside its transaction, just before its COMMIT record. */
  readonly lsnBeforeCommit: string
}

/**
 * The catch-up's last change: one transaction after the backlog setting users.marker of
 * SENTINEL_USER to a fresh value. Both tools apply commits in order, so the document showing
 * it means the backlog before it was applied too (the bench checks that, audit.ts).
 */
export const commitSentinel = async (url: string): Promise<Sentinel> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const marker = Date.now() * 100
    await client.query("BEGIN")
    await client.query("UPDATE users SET marker = $2 WHERE id = $1", [SENTINEL_USER, marker])
    const lsn = (await client.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]?.lsn ?? "0/0"
    await client.query("COMMIT")
    return { user: SENTINEL_USER, marker, lsnBeforeCommit: lsn }
  } finally {
    await client.end().catch(() => undefined)
  }
}

export interface CatchUp {
  readonly changes: number
  readonly changesPerSecond: number
  /** From the first captured change in /status to the sentinel visible (realtime GET). */
  readonly seconds: number
  /** From the process start to the first captured change. */
  readonly startupSeconds: number
  readonly sentinel: Sentinel
  /**
   * From the first captured change until the slot's confirmed_flush_lsn passed the
   * sentinel's LSN (polled every 50 ms); null when that did not happen within
   * CONFIRM_GRACE_SECONDS after it was visible. Not the figure: the Rust tool confirms
   * only every 10 s.
   */
  readonly slotConfirmedSeconds: number | null
  readonly statusAtEnd: unknown
}

/**
 * How long after the sentinel is visible the bench waits for the slot to confirm it. The
 * Rust tool confirms at its status interval (10 s); the bench has seen it take 41 s.
 */
const CONFIRM_GRACE_SECONDS = 60

/**
 * Times a started tool catching up with a backlog of `changes` committed before it
 * started, followed by `sentinel`: from the first progress (changesCaptured > 0 in
 * /status, polled every 20 ms) until a realtime GET (every 20 ms) shows the sentinel.
 * Then waits for the slot to confirm it, so that the next start does not replay the
 * backlog (a tool that confirms late would otherwise begin the next phase with it).
 */
export const measureCatchUp = async (opts: {
  readonly running: Running
  readonly url: string
  readonly opensearchUrl: string
  readonly alias: string
  readonly sentinel: Sentinel
  readonly changes: number
  readonly timeoutSeconds: number
}): Promise<CatchUp> => {
  const { running, sentinel } = opts
  const client = new pg.Client({ connectionString: opts.url })
  client.on("error", () => undefined)
  await client.connect()
  try {
    const firstProgress = await pollUntil("the first captured change", Math.min(opts.timeoutSeconds, 120), 20, async () => {
      const s = await running.progress()
      return s !== undefined && s.changesCaptured > 0 ? now() : undefined
    })
    const startupSeconds = (Date.now() - running.startedAt) / 1000 - (now() - firstProgress) / 1000
    const visible = await pollUntil(`user ${sentinel.user}'s document to show marker ${sentinel.marker}`, opts.timeoutSeconds, 20, async () => {
      if (!running.running) await running.progress() // fails with the exit and the last log lines
      const seen = await mgetMarkers(opts.opensearchUrl, opts.alias, [String(sentinel.user)]).catch(() => undefined)
      const marker = seen?.get(String(sentinel.user))
      return marker !== undefined && marker !== null && marker >= sentinel.marker ? now() : undefined
    })
    const confirmed = await pollUntil(`the slot to confirm ${sentinel.lsnBeforeCommit}`, CONFIRM_GRACE_SECONDS, 50, async () => {
      const r = await client.query<{ done: boolean }>(
        "SELECT coalesce(confirmed_flush_lsn >= $1::pg_lsn, false) AS done FROM pg_replication_slots WHERE slot_name = $2",
        [sentinel.lsnBeforeCommit, running.deployment.slot]
      )
      return r.rows[0]?.done === true ? now() : undefined
    }).catch(() => null)
    if (confirmed === null) log(`warning: ${running.deployment.label}: the slot did not confirm the sentinel within ${CONFIRM_GRACE_SECONDS} s; the next start may replay changes`)
    const seconds = (visible - firstProgress) / 1000
    return {
      changes: opts.changes,
      changesPerSecond: opts.changes / seconds,
      seconds,
      startupSeconds,
      sentinel,
      slotConfirmedSeconds: confirmed === null ? null : (confirmed - firstProgress) / 1000,
      statusAtEnd: (await running.progress())?.raw ?? null
    }
  } finally {
    await client.end().catch(() => undefined)
  }
}

export interface Latency {
  readonly offeredPerSecond: number
  readonly achievedPerSecond: number
  readonly seconds: number
  readonly updatesSent: number
  readonly updatesCommitted: number
  /** Sampled updates seen, at any time up to the end of the drain (the percentiles are over these). */
  readonly samples: number
  /** Sampled updates seen no later than IN_TIME_MS after the load stopped. */
  readonly samplesInTime: number
  /** Sampled updates never seen within the drain time. */
  readonly unseen: number
  /** The first of them: user and the marker its update set. */
  readonly unseenExamples: ReadonlyArray<{ readonly id: string; readonly marker: number }>
  /**
   * Updates due inside the measured window that were picked for sampling (every k-th,
   * ≈200/s), less those whose user was still in flight from an earlier sample.
   */
  readonly expectedSamples: number
  /** Picked updates not sampled because their user's earlier sample was still in flight (only on small datasets). */
  readonly skippedInFlight: number
  /**
   * samplesInTime ≥ 95 % of expectedSamples: the tool kept up with the offered rate. A tool
   * that falls behind still shows every sample during the 30 s drain, but late: its lag at
   * the end of the load leaves the last seconds' samples out of samplesInTime.
   */
  readonly rateHeld: boolean
  readonly p50Ms: number | null
  readonly p90Ms: number | null
  readonly p99Ms: number | null
  readonly maxMs: number | null
  /** Commit round trip as the load generator saw it (due time → COMMIT returned), p99. */
  readonly commitP99Ms: number | null
  /** Mean duration of one `_mget` poll (the resolution of the visibility time). */
  readonly pollMeanMs: number | null
  /** The tool's own latency histogram over the run, from /metrics (Tool.ownLatencyMetric says which). */
  readonly own: (HistogramDelta & { readonly metric: string; readonly meaning: string }) | null
}

export interface HistogramDelta {
  readonly count: number
  readonly meanMs: number | null
  /** Upper bounds of the buckets holding the 50th / 99th percentile. */
  readonly p50AtMostMs: number | null
  readonly p99AtMostMs: number | null
}

interface Histogram {
  readonly buckets: ReadonlyArray<readonly [number, number]>
  readonly sum: number
  readonly count: number
}

/** One Prometheus histogram (summed over its labels) from /metrics text. */
export const parseHistogram = (text: string, name: string): Histogram => {
  const buckets = new Map<number, number>()
  let sum = 0
  let count = 0
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue
    const value = Number(line.slice(line.lastIndexOf(" ") + 1))
    const le = /le="([^"]+)"/.exec(line)?.[1]
    if (line.startsWith(`${name}_bucket`) && le !== undefined) {
      const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le)
      buckets.set(bound, (buckets.get(bound) ?? 0) + value)
    } else if (line.startsWith(`${name}_sum`)) sum += value
    else if (line.startsWith(`${name}_count`)) count += value
  }
  return { buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]), sum, count }
}

const histogramDelta = (before: Histogram, after: Histogram): HistogramDelta => {
  const count = after.count - before.count
  const prior = new Map(before.buckets)
  const at = (q: number) => {
    if (count <= 0) return null
    for (const [bound, cumulative] of after.buckets) {
      if (cumulative - (prior.get(bound) ?? 0) >= q * count) return bound === Number.POSITIVE_INFINITY ? null : Math.round(bound * 1000)
    }
    return null
  }
  return { count, meanMs: count > 0 ? Math.round(((after.sum - before.sum) / count) * 10000) / 10 : null, p50AtMostMs: at(0.5), p99AtMostMs: at(0.99) }
}


/** A sample seen later than this after the load stopped means the tool had fallen behind the offered rate. */
const IN_TIME_MS = 2000

/**
 * Open-loop load at `rate` updates/s for `warmupSeconds + seconds` over CONNECTIONS
 * connections: update i is due at start + i/rate whether or not earlier ones finished.
 * Each sets users.marker to a fresh increasing value; every k-th update (≈200/s) is
 * sampled: after its COMMIT returns, a poller `_mget`s the sampled ids in flight (realtime
 * GET) every few ms and records when the document shows that marker (or a later one).
 */
export const measureLatency = async (opts: {
  readonly url: string
  readonly opensearchUrl: string
  readonly alias: string
  readonly users: number
  readonly rate: number
  readonly seconds: number
  readonly warmupSeconds: number
  readonly drainSeconds: number
  readonly running: Running
  readonly ownMetric: { readonly name: string; readonly meaning: string } | null
}): Promise<Latency> => {
  const { rate, users } = opts
  const pool = makePool(opts.url)
  // Warm the connections so the first updates do not pay for the connect.
  await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query("SELECT 1")))
  const sampleEvery = Math.max(1, Math.round(rate / 200))
  const totalMs = (opts.warmupSeconds + opts.seconds) * 1000
  const warmupMs = opts.warmupSeconds * 1000
  let markerBase = Date.now() * 100
  const inflight = new Map<string, { marker: number; committedAt: number }>()
  const latencies: Array<number> = []
  /** When each sample was seen (now()). */
  const seenAt: Array<number> = []
  const commitTimes: Array<number> = []
  let sent = 0
  let committed = 0
  let committedInWindow = 0
  let failures = 0
  let expectedSamples = 0
  let skippedInFlight = 0
  let firstError: unknown
  // A random permutation of the users, walked in order, so ids in flight rarely repeat.
  const order = Array.from({ length: users }, (_, i) => i + 1)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[order[i], order[j]] = [order[j] as number, order[i] as number]
  }

  const metricsBefore = await opts.running.metrics()
  let loadDone = false
  const pending = new Set<Promise<void>>()
  const start = now()
  const fire = (i: number, due: number) => {
    const id = order[i % order.length] as number
    const marker = ++markerBase
    if (due - start >= warmupMs && due - start < totalMs && i % sampleEvery === 0) expectedSamples++
    const p = pool
      .query("UPDATE users SET marker = $2 WHERE id = $1", [id, marker])
      .then(() => {
        const t = now()
        committed++
        if (t - start >= warmupMs && t - start <= totalMs) committedInWindow++
        if (due - start >= warmupMs && due - start < totalMs) {
          commitTimes.push(t - due)
          const key = String(id)
          if (i % sampleEvery === 0) {
            if (inflight.has(key)) skippedInFlight++ // only on a small dataset: the same user again before the last was seen
            else inflight.set(key, { marker, committedAt: t })
          }
        }
      })
      .catch((e: unknown) => {
        failures++
        firstError ??= e
      })
      .finally(() => pending.delete(p))
    pending.add(p)
  }

  const pollDurations: Array<number> = []
  const poller = (async () => {
    let drainEnd = Number.POSITIVE_INFINITY
    for (;;) {
      if (loadDone && drainEnd === Number.POSITIVE_INFINITY) drainEnd = now() + opts.drainSeconds * 1000
      if (loadDone && (inflight.size === 0 || now() > drainEnd)) return
      if (inflight.size === 0) {
        await sleep(2)
        continue
      }
      const ids = [...inflight.keys()].slice(0, 1000)
      const t0 = now()
      let markers: Map<string, number | null>
      try {
        markers = await mgetMarkers(opts.opensearchUrl, opts.alias, ids)
      } catch {
        await sleep(20)
        continue
      }
      const t = now()
      pollDurations.push(t - t0)
      for (const id of ids) {
        const expected = inflight.get(id)
        const seen = markers.get(id)
        if (expected !== undefined && seen !== undefined && seen !== null && seen >= expected.marker) {
          latencies.push(t - expected.committedAt)
          seenAt.push(t)
          inflight.delete(id)
        }
      }
      await sleep(5)
    }
  })()

  // The pacer: every millisecond or so, send what is due.
  for (;;) {
    const elapsed = now() - start
    if (elapsed >= totalMs) break
    const due = Math.min(Math.floor((elapsed * rate) / 1000), Math.ceil((totalMs * rate) / 1000) - 1)
    while (sent <= due) {
      fire(sent, start + (sent * 1000) / rate)
      sent++
    }
    if (!opts.running.running) break
    await sleep(1)
  }
  const windowEnd = now()
  await Promise.race([Promise.all([...pending]), sleep(30_000)])
  loadDone = true
  await poller
  await pool.end().catch(() => undefined)
  const metricsAfter = await opts.running.metrics()
  const metric = opts.ownMetric
  const own = metric === null || metricsBefore === undefined || metricsAfter === undefined
    ? null
    : { metric: metric.name, meaning: metric.meaning, ...histogramDelta(parseHistogram(metricsBefore, metric.name), parseHistogram(metricsAfter, metric.name)) }
  if (failures > 0) log(`latency @${rate}/s: ${failures} updates failed, e.g. ${String(firstError)}`)
  if (!opts.running.running) throw new Error(`the tool stopped during the latency run; last log lines:\n${opts.running.tail()}`)

  const samplesInTime = seenAt.filter((t) => t <= windowEnd + IN_TIME_MS).length
  const sorted = latencies.sort((a, b) => a - b)
  const commitSorted = commitTimes.sort((a, b) => a - b)
  const windowSeconds = (Math.min(windowEnd - start, totalMs) - warmupMs) / 1000
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10)
  return {
    offeredPerSecond: rate,
    achievedPerSecond: committedInWindow / windowSeconds,
    seconds: windowSeconds,
    updatesSent: sent,
    updatesCommitted: committed,
    samples: sorted.length,
    samplesInTime,
    unseen: inflight.size,
    unseenExamples: [...inflight.entries()].slice(0, 20).map(([id, { marker }]) => ({ id, marker })),
    expectedSamples: expectedSamples - skippedInFlight,
    skippedInFlight,
    rateHeld: samplesInTime >= 0.95 * (expectedSamples - skippedInFlight),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? null),
    commitP99Ms: round(percentile(commitSorted, 99)),
    pollMeanMs: round(pollDurations.length === 0 ? null : pollDurations.reduce((a, b) => a + b, 0) / pollDurations.length),
    own
  }
}
