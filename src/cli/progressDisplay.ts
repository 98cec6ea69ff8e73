/**
 * Seeding progress for the person running the CLI, from `Status`: on a terminal a live
 * bar per seeding index (redrawn on stderr), otherwise a log line per index a second
 * into its pass and then every `everySeconds` — rows done / estimated total, rate, ETA. The figures are the ones
 * `/status` serves.
 */
import { Clock, Effect, Schedule } from "effect"
import { type BackfillProgress, Status } from "../status/Status.js"

/** How far into a pass its first progress line comes: soon enough that a short pass shows one. */
const FIRST_LINE_AFTER_MS = 1000

const number = (n: number): string => n.toLocaleString("en-US")

const duration = (seconds: number): string => {
  if (seconds < 60) return `${seconds} s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`
}

/** `12,345 / ~100,000 rows (12%), 5,120 rows/s, ETA 18 s` */
export const describeProgress = (progress: BackfillProgress): string => {
  const total = progress.rowsEstimated
  const share = total !== null && total > 0 ? ` (${Math.min(100, Math.floor((progress.rowsDone / total) * 100))}%)` : ""
  const eta = progress.etaSeconds === null ? "" : `, ETA ${duration(progress.etaSeconds)}`
  return `${number(progress.rowsDone)} / ${total === null ? "?" : `~${number(total)}`} rows${share}, ${number(progress.rowsPerSecond)} rows/s${eta}`
}

const bar = (progress: BackfillProgress, width = 24): string => {
  const total = progress.rowsEstimated
  const filled = total !== null && total > 0 ? Math.min(width, Math.round((progress.rowsDone / total) * width)) : 0
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`
}

/** Runs until interrupted. */
export const showProgress = (options: { readonly terminal: boolean; readonly everySeconds: number }) =>
  Effect.gen(function*() {
    const status = yield* Status
    let drawn = false
    const seeding = Effect.map(status.snapshot, (snapshot) =>
      snapshot.indexes.flatMap((index) => (index.backfill === null ? [] : [{ name: index.name, progress: index.backfill }])))

    if (!options.terminal) {
      // Per index: when its pass started and when its last line was logged. The first line
      // comes a second into a pass (long before --progress-secs), then one every everySeconds.
      const logged = new Map<string, { readonly pass: string; readonly at: number }>()
      return yield* Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        for (const { name, progress } of yield* seeding) {
          const last = logged.get(name)
          const due = last === undefined || last.pass !== progress.startedAt
            ? now - Date.parse(progress.startedAt) >= FIRST_LINE_AFTER_MS
            : now - last.at >= options.everySeconds * 1000
          if (!due) continue
          logged.set(name, { pass: progress.startedAt, at: now })
          yield* Effect.logInfo(`seeding: ${describeProgress(progress)}`).pipe(Effect.annotateLogs("index", name))
        }
      }).pipe(Effect.repeat(Schedule.spaced("250 millis")), Effect.asVoid)
    }
    const draw = Effect.flatMap(seeding, (list) =>
      Effect.sync(() => {
        if (list.length === 0) {
          if (drawn) process.stderr.write("\r\x1b[2K")
          drawn = false
          return
        }
        const line = list.map(({ name, progress }) => `${name} ${bar(progress)} ${describeProgress(progress)}`).join("  ")
        process.stderr.write(`\r\x1b[2K${line.slice(0, Math.max(20, (process.stderr.columns ?? 120) - 1))}`)
        drawn = true
      }))
    return yield* draw.pipe(Effect.repeat(Schedule.spaced("250 millis")), Effect.asVoid)
  })
