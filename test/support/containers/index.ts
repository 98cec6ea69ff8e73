/**
 * The harness's container route (quality.md, step 2 of the resolution order): PostgreSQL
 * and OpenSearch in containers, started with testcontainers on whatever Docker daemon
 * answers. This folder owns it: the knobs (read here, documented in docs/testing.md), one
 * module per service container (postgres.ts, opensearch.ts), and what they share
 * (container.ts). `layer` gives both services, started together and stopped with its scope.
 *
 * Knobs, each the setting testcontainers users already know where there is one:
 *   FLUSSO_TEST_DOCKER            unset: use a daemon when one answers; `1`: require one
 *                                 (fail instead of falling back); `0`: never use one
 *   FLUSSO_TEST_POSTGRES_IMAGE    default postgres:16
 *   FLUSSO_TEST_OPENSEARCH_IMAGE  default opensearchproject/opensearch:2.19.1
 *   FLUSSO_TEST_DOCKER_NETWORK    host | bridge; unset: bridge when the daemon has one;
 *                                 host also means TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
 *                                 unless set (or DOCKER_HOST is remote)
 *   DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED, TESTCONTAINERS_HOST_OVERRIDE, …
 *                                 read by testcontainers itself
 */
import { Context, Data, Duration, Effect, Layer } from "effect"
import { getContainerRuntimeClient } from "testcontainers"
import type { ContainerSettings, ContainerStartError, NetworkMode, RunningService } from "./container.js"
import * as OpenSearch from "./opensearch.js"
import * as Postgres from "./postgres.js"

export { type ContainerSettings, ContainerStartError, LABEL, type RunningService } from "./container.js"
export { OpenSearchContainer } from "./opensearch.js"
export { PostgresContainer } from "./postgres.js"

export const DEFAULT_POSTGRES_IMAGE = "postgres:16"
export const DEFAULT_OPENSEARCH_IMAGE = "opensearchproject/opensearch:2.19.1"

export type DockerUse = "auto" | "required" | "never"

export class ContainerConfigError extends Data.TaggedError("ContainerConfigError")<{
  readonly variable: string
  readonly value: string
  readonly expected: string
}> {
  override get message(): string {
    return `${this.variable}=${this.value} is not valid: expected ${this.expected}`
  }
}

export class NoDockerDaemon extends Data.TaggedError("NoDockerDaemon")<{ readonly cause: unknown }> {
  override get message(): string {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `no Docker daemon answers testcontainers (${cause}); start one (scripts/docker.sh up) or set DOCKER_HOST; a daemon without a bridge network (dockerd --bridge=none) needs FLUSSO_TEST_DOCKER_NETWORK=host`
  }
}

/** FLUSSO_TEST_DOCKER: whether the container route may, must or must not be used. */
export const dockerUse = (env: NodeJS.ProcessEnv = process.env): Effect.Effect<DockerUse, ContainerConfigError> => {
  const value = env.FLUSSO_TEST_DOCKER ?? ""
  if (value === "" || value === "auto") return Effect.succeed("auto")
  if (value === "1" || value === "true") return Effect.succeed("required")
  if (value === "0" || value === "false") return Effect.succeed("never")
  return Effect.fail(new ContainerConfigError({ variable: "FLUSSO_TEST_DOCKER", value, expected: "1, 0 or unset" }))
}

/**
 * Host-network containers answer on the daemon host's loopback. Said up front because
 * testcontainers, when it finds itself inside a container (/.dockerenv) talking to a
 * local socket, looks for the "bridge" network's gateway to reach containers — a daemon
 * without a bridge has none, and the client would not even be created.
 */
const hostOverride = (env: NodeJS.ProcessEnv): void => {
  const local = env.DOCKER_HOST === undefined || env.DOCKER_HOST === "" || env.DOCKER_HOST.startsWith("unix:")
  if (env.FLUSSO_TEST_DOCKER_NETWORK === "host" && local && env.TESTCONTAINERS_HOST_OVERRIDE === undefined) {
    env.TESTCONTAINERS_HOST_OVERRIDE = "127.0.0.1"
  }
}

/** The daemon testcontainers would use (DOCKER_HOST, its config, the usual sockets). */
const runtimeClient = Effect.tryPromise({
  try: () => {
    hostOverride(process.env)
    return getContainerRuntimeClient()
  },
  catch: (cause) => new NoDockerDaemon({ cause })
}).pipe(
  Effect.timeoutFail({ duration: Duration.seconds(15), onTimeout: () => new NoDockerDaemon({ cause: "no answer in 15 s" }) })
)

/** Why no Docker daemon answers testcontainers, or undefined when one does (the route is taken only then). */
export const daemonProblem: Effect.Effect<string | undefined> = runtimeClient.pipe(
  Effect.as(undefined),
  Effect.catchAll((e) => Effect.succeed(e.message))
)

const networkMode = (
  env: NodeJS.ProcessEnv,
  hasBridge: Effect.Effect<boolean>
): Effect.Effect<NetworkMode, ContainerConfigError> => {
  const value = env.FLUSSO_TEST_DOCKER_NETWORK ?? ""
  if (value === "host" || value === "bridge") return Effect.succeed(value)
  if (value !== "") {
    return Effect.fail(new ContainerConfigError({ variable: "FLUSSO_TEST_DOCKER_NETWORK", value, expected: "host or bridge" }))
  }
  // A daemon started with --bridge=none has no "bridge" network to publish ports from.
  return Effect.map(hasBridge, (bridge): NetworkMode => (bridge ? "bridge" : "host"))
}

/** The route's settings from the environment and the daemon it finds. */
export const settingsFromEnv = (
  env: NodeJS.ProcessEnv = process.env
): Effect.Effect<ContainerSettings, ContainerConfigError | NoDockerDaemon> =>
  Effect.gen(function* () {
    const client = yield* runtimeClient
    const hasBridge = Effect.tryPromise(() => client.container.dockerode.listNetworks({ filters: { name: ["bridge"] } })).pipe(
      Effect.map((networks) => networks.some((n) => n.Name === "bridge")),
      Effect.orElseSucceed(() => false)
    )
    return {
      postgresImage: env.FLUSSO_TEST_POSTGRES_IMAGE || DEFAULT_POSTGRES_IMAGE,
      opensearchImage: env.FLUSSO_TEST_OPENSEARCH_IMAGE || DEFAULT_OPENSEARCH_IMAGE,
      network: yield* networkMode(env, hasBridge),
      host: client.info.containerRuntime.host
    }
  })

/** Both services of the route. */
export class ContainerServices extends Context.Tag("flusso/test/ContainerServices")<
  ContainerServices,
  { readonly postgres: RunningService; readonly opensearch: RunningService; readonly settings: ContainerSettings }
>() {}

/** Starts PostgreSQL and OpenSearch side by side; both stop when the layer's scope closes. */
export const layer = (settings: ContainerSettings): Layer.Layer<ContainerServices, ContainerStartError> =>
  Layer.effect(
    ContainerServices,
    Effect.map(Effect.all([Postgres.PostgresContainer, OpenSearch.OpenSearchContainer]), ([postgres, opensearch]) => ({
      postgres,
      opensearch,
      settings
    }))
  ).pipe(Layer.provide(Layer.merge(Postgres.layer(settings), OpenSearch.layer(settings))))

/** The same, with the settings read from the environment. */
export const layerFromEnv: Layer.Layer<ContainerServices, ContainerStartError | ContainerConfigError | NoDockerDaemon> =
  Layer.unwrapEffect(Effect.map(settingsFromEnv(), layer))
