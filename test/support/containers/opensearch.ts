/**
 * OpenSearch 2.19 in a container: one node, security off, the native route's settings
 * (scripts/services.sh: single-node discovery, no disk watermarks, no auto-created
 * indexes, 1 GB heap), HTTP and transport on free ports below 32768 and a cluster name of
 * its own, so that on the host network it neither collides with nor joins another node.
 * Settings go in as env vars named like the setting — the official image's interface,
 * which local/opensearch:2.19.1 (scripts/images) answers too.
 */
import { randomBytes } from "node:crypto"
import { Context, Effect, Layer, type Scope } from "effect"
import { type ContainerSettings, ContainerStartError, freePort, type RunningService, ServiceAnswers, startContainer } from "./container.js"

export class OpenSearchContainer extends Context.Tag("flusso/test/OpenSearchContainer")<OpenSearchContainer, RunningService>() {}

const answers = (url: string) => async (): Promise<boolean> => {
  const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, { signal: AbortSignal.timeout(3_000) })
  await res.body?.cancel()
  return res.ok
}

export const make = (settings: ContainerSettings): Effect.Effect<RunningService, ContainerStartError, Scope.Scope> =>
  Effect.gen(function* () {
    const image = settings.opensearchImage
    const ports = yield* Effect.all([freePort(29200, 29299), freePort(29300, 29399)]).pipe(
      Effect.mapError((cause) => new ContainerStartError({ service: "opensearch", image, cause, logTail: "" }))
    )
    const [httpPort, transportPort] = ports
    const url = `http://${settings.host}:${httpPort}`
    const started = yield* startContainer("opensearch", image, settings, [httpPort], (c) =>
      c
        .withEnvironment({
          "cluster.name": `flusso-test-${randomBytes(4).toString("hex")}`,
          "discovery.type": "single-node",
          "http.port": String(httpPort),
          "transport.port": String(transportPort),
          "network.host": settings.network === "host" ? "127.0.0.1" : "0.0.0.0",
          "cluster.routing.allocation.disk.threshold_enabled": "false",
          "action.auto_create_index": "false",
          "bootstrap.memory_lock": "false",
          DISABLE_SECURITY_PLUGIN: "true",
          // 2.12+ demands an admin password unless the demo security config is skipped.
          DISABLE_INSTALL_DEMO_CONFIG: "true",
          OPENSEARCH_JAVA_OPTS: "-Xms1g -Xmx1g"
        })
        .withWaitStrategy(new ServiceAnswers(`OpenSearch at ${url}`, answers(url)))
    )
    return { url, containerId: started.getId(), image }
  })

export const layer = (settings: ContainerSettings): Layer.Layer<OpenSearchContainer, ContainerStartError> =>
  Layer.scoped(OpenSearchContainer, make(settings))
