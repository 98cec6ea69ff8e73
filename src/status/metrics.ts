/**
 * Every metric flusso exports, under the Prometheus names of the operations guide. They
 * are Effect metrics (one registry per process); `/metrics` renders them through
 * OpenTelemetry's Prometheus serializer and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set,
 * they are pushed over OTLP as well (src/server/metricsExport.ts).
 */
import { Metric, MetricBoundaries } from "effect"

export const changesCaptured = Metric.counter("flusso_changes_captured_total", {
  description: "row changes (and truncates) read from the replication stream",
  incremental: true
})

/** Tagged `table`. */
export const changesIgnored = Metric.counter("flusso_changes_ignored_total", {
  description: "row changes streamed for a table no enabled index reads (the publication carries more than flusso needs)",
  incremental: true
})

export const changesCommitted = Metric.counter("flusso_changes_committed_total", {
  description: "row changes whose documents are flushed and whose position is acknowledged",
  incremental: true
})

/** Tagged `index`. */
export const documentsBuilt = Metric.counter("flusso_documents_built_total", {
  description: "documents built (or found deleted) and written, live and backfill",
  incremental: true
})

/** Tagged `index`. */
export const documentsQuarantined = Metric.counter("flusso_documents_quarantined_total", {
  description: "documents a sink refused and flusso skipped (onError: skip)",
  incremental: true
})

export const batches = Metric.counter("flusso_batches_total", {
  description: "live batches processed",
  incremental: true
})

export const errors = Metric.counter("flusso_errors_total", {
  description: "failures retried or fatal (a failed batch attempt, a failed seeding chunk, a lost connection)",
  incremental: true
})

/** Tagged `index`. */
export const backfillRows = Metric.counter("flusso_backfill_rows_total", {
  description: "root rows seeded",
  incremental: true
})

export const flushDuration = Metric.histogram(
  "flusso_flush_duration_seconds",
  MetricBoundaries.exponential({ start: 0.001, factor: 2, count: 16 }),
  "time to write a batch's documents to every sink and make them durable"
)

export const endToEndLatency = Metric.histogram(
  "flusso_end_to_end_latency_seconds",
  MetricBoundaries.exponential({ start: 0.005, factor: 2, count: 16 }),
  "from a transaction's commit in PostgreSQL to its documents flushed"
)

export const slotLag = Metric.gauge("flusso_replication_slot_lag_bytes", {
  description: "WAL between the server's current position and the slot's confirmed one"
})

export const changesInFlight = Metric.gauge("flusso_changes_in_flight", {
  description: "row changes captured and not yet acknowledged"
})
