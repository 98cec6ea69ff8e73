/**
 * Where the metrics go: rendered as Prometheus text for `/metrics` — OpenTelemetry's
 * Prometheus serializer over Effect's metric registry (through @effect/opentelemetry),
 * not text formatted by hand — and, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the metrics
 * specific `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) is set, pushed over OTLP/HTTP as well.
 */
import * as Metrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import { Context, Effect, Layer } from "effect"

export interface MetricsTextService {
  /** Every metric in the Prometheus text exposition format. */
  readonly render: Effect.Effect<string>
}

export class MetricsText extends Context.Tag("flusso/MetricsText")<MetricsText, MetricsTextService>() {}

export const resource = (version: string) => ({ serviceName: "flusso", serviceVersion: version })

const prometheus = (version: string): Layer.Layer<MetricsText> =>
  Layer.unwrapEffect(Effect.sync(() => {
    // Never its own server: /metrics is served by flusso's public surface.
    const exporter = new PrometheusExporter({ preventServerStart: true })
    const serializer = new PrometheusSerializer()
    // Effect's own runtime metrics (fibers…) may be in the registry too: only flusso's are ours to export.
    const render = Effect.promise(() => exporter.collect()).pipe(
      Effect.map(({ resourceMetrics }) =>
        serializer.serialize({
          ...resourceMetrics,
          scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({
            ...scope,
            metrics: scope.metrics.filter((metric) => metric.descriptor.name.startsWith("flusso_"))
          }))
        })
      )
    )
    return Layer.succeed(MetricsText, { render }).pipe(
      Layer.provideMerge(Metrics.layer(() => exporter).pipe(Layer.provide(Resource.layer(resource(version)))))
    )
  }))

/** The OTLP/HTTP metrics endpoint the environment names, per the OpenTelemetry conventions. */
export const otlpMetricsUrl = (env: Readonly<Record<string, string | undefined>>): string | undefined => {
  const specific = env["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]?.trim()
  if (specific) return specific
  const base = env["OTEL_EXPORTER_OTLP_ENDPOINT"]?.trim()
  return base ? `${base.replace(/\/+$/, "")}/v1/metrics` : undefined
}

/** OTLP export (an HTTP client, serializers: loaded only when an endpoint is configured). */
const otlp = (url: string, version: string): Layer.Layer<never> =>
  Layer.unwrapEffect(Effect.promise(() => import("./otlpExport.js")).pipe(Effect.map((module) => module.layer(url, version))))

/** `/metrics` text, plus OTLP export when configured. */
export const layer = (options: { readonly version: string; readonly otlpUrl: string | undefined }): Layer.Layer<MetricsText> =>
  options.otlpUrl === undefined ? prometheus(options.version) : Layer.merge(prometheus(options.version), otlp(options.otlpUrl, options.version))
