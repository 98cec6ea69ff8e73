import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import * as MetricsExport from "../../../src/server/metricsExport.js"
import * as Metrics from "../../../src/status/metrics.js"

describe("metrics export", () => {
  it.effect("renders every flusso metric in the Prometheus text format, under its documented name", () =>
    Effect.gen(function*() {
      yield* Metric.increment(Metrics.changesCaptured)
      yield* Metric.incrementBy(Metric.tagged(Metrics.documentsBuilt, "index", "users"), 3)
      yield* Metric.update(Metrics.endToEndLatency, 0.042)
      yield* Metric.set(Metrics.slotLag, 1234)
      const text = yield* Effect.flatMap(MetricsExport.MetricsText, (m) => m.render)
      expect(text).toMatch(/^# TYPE flusso_changes_captured_total counter$/m)
      expect(text).toMatch(/^flusso_documents_built_total\{index="users"[^}]*\} 3/m)
      expect(text).toMatch(/^flusso_replication_slot_lag_bytes(\{[^}]*\})? 1234/m)
      expect(text).toMatch(/^# TYPE flusso_end_to_end_latency_seconds histogram$/m)
      expect(text).toMatch(/^flusso_end_to_end_latency_seconds_bucket\{[^}]*le="0\.08"[^}]*\} 1/m)
      expect(text).toMatch(/^flusso_end_to_end_latency_seconds_count(\{[^}]*\})? 1/m)
      // Only flusso's metrics; no name gets a second suffix.
      expect(text).not.toContain("effect_fiber")
      expect(text).not.toContain("_total_total")
    }).pipe(Effect.provide(MetricsExport.layer({ version: "test", otlpUrl: undefined }))))

  it("derives the OTLP metrics URL from the OpenTelemetry variables", () => {
    expect(MetricsExport.otlpMetricsUrl({})).toBeUndefined()
    expect(MetricsExport.otlpMetricsUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })).toBe("http://collector:4318/v1/metrics")
    expect(MetricsExport.otlpMetricsUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://b/m" })).toBe("http://b/m")
  })
})
