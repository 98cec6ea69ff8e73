/**
 * Every metric of metrics.ts exported from the start: a counter reads 0 and a histogram
 * has no observations until something happens, instead of being absent — so a dashboard
 * or an alert on, say, `flusso_errors_total` reads 0 rather than "no data". The ones
 * tagged `index` get a series per enabled index. A metric added to metrics.ts is listed
 * here too.
 */
import { Effect, Metric } from "effect"
import * as Metrics from "./metrics.js"

const untagged: ReadonlyArray<Effect.Effect<unknown>> = [
  Metric.value(Metrics.changesCaptured),
  // Tagged `table` when a change is ignored (no table is known before); untagged at 0 until then.
  Metric.value(Metrics.changesIgnored),
  Metric.value(Metrics.changesCommitted),
  Metric.value(Metrics.batches),
  Metric.value(Metrics.errors),
  Metric.value(Metrics.slotLag),
  Metric.value(Metrics.changesInFlight),
  Metric.value(Metrics.flushDuration),
  Metric.value(Metrics.endToEndLatency)
]

const perIndex = [Metrics.documentsBuilt, Metrics.documentsQuarantined, Metrics.backfillRows]

/** Registers (reading a metric creates it, at zero) without changing any value. */
export const registerMetrics = (indexes: ReadonlyArray<string>): Effect.Effect<void> =>
  Effect.all(
    [
      ...untagged,
      ...perIndex.flatMap((metric) => indexes.map((index) => Metric.value(Metric.tagged(metric, "index", index))))
    ],
    { discard: true }
  )
