/**
 * Pushing the metrics over OTLP/HTTP (`metricsExport.ts` imports this module only when an
 * endpoint is configured: its HTTP client and serializers are otherwise never loaded).
 */
import * as OtlpMetrics from "@effect/opentelemetry/OtlpMetrics"
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Layer } from "effect"
import { resource } from "./metricsExport.js"

export const layer = (url: string, version: string): Layer.Layer<never> =>
  OtlpMetrics.layer({ url, resource: resource(version), exportInterval: "10 seconds" }).pipe(
    Layer.provide(Layer.merge(NodeHttpClient.layer, OtlpSerialization.layerJson))
  )
