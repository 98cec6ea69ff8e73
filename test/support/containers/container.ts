/**
 * What the two service containers share: the route's settings, a free port below 32768,
 * a wait strategy that asks the service itself from the host, and a scoped start/stop
 * with the container's log tail kept for the error.
 */
import { randomInt } from "node:crypto"
import * as net from "node:net"
import type { Readable } from "node:stream"
import { Data, Effect, type Scope } from "effect"
import { GenericContainer, type StartedTestContainer, type WaitStrategy } from "testcontainers"

export type NetworkMode = "host" | "bridge"

export interface ContainerSettings {
  readonly postgresImage: string
  readonly opensearchImage: string
  /**
   * `host`: the container shares the host's network and binds the chosen port on
   * 127.0.0.1 itself (daemons without a bridge). `bridge`: the same port is published
   * on the host's 127.0.0.1.
   */
  readonly network: NetworkMode
  /** Where published ports answer (testcontainers' notion of the daemon's host). */
  readonly host: string
}

/** A service container that answered. */
export interface RunningService {
  readonly url: string
  readonly containerId: string
  readonly image: string
}

export class ContainerStartError extends Data.TaggedError("ContainerStartError")<{
  readonly service: "postgres" | "opensearch"
  readonly image: string
  readonly cause: unknown
  readonly logTail: string
}> {
  override get message(): string {
    const cause = this.cause instanceof Error ? this.cause.message : String(this.cause)
    const hints = [
      /ryuk/i.test(cause) ? "the reaper image could not be had: set TESTCONTAINERS_RYUK_DISABLED=true" : "",
      /pull|registry|manifest|not found|no such image/i.test(cause)
        ? `image ${this.image} is neither local nor pullable: build the local images (scripts/images/build.sh) and set FLUSSO_TEST_${this.service.toUpperCase()}_IMAGE`
        : ""
    ].filter((h) => h !== "")
    return [
      `the ${this.service} container (${this.image}) did not start: ${cause}`,
      ...hints.map((h) => `hint: ${h}`),
      ...(this.logTail === "" ? [] : [`its log ends:\n${this.logTail}`])
    ].join("\n")
  }
}

const portIsFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

/**
 * A port nobody listens on in [from, to]. Below 32768 (quality.md: a reconnecting client
 * can be handed an ephemeral port as its source port); tried at random so that two runs
 * on one host rarely reach for the same one.
 */
export const freePort = (from: number, to: number): Effect.Effect<number, Error> =>
  Effect.promise(async () => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const port = randomInt(from, to + 1)
      if (await portIsFree(port)) return port
    }
    return undefined
  }).pipe(
    Effect.flatMap((port) =>
      port === undefined ? Effect.fail(new Error(`no free port in ${from}-${to}`)) : Effect.succeed(port)
    )
  )

type WaitContainer = Parameters<WaitStrategy["waitUntilReady"]>[0]

/**
 * Ready when `answers` says so, asked from the host. testcontainers' port and HTTP
 * strategies read the published ports, which a host-network container has none of; the
 * service answering where the tests will reach it is the readiness that matters. Fails
 * at once when the container exits.
 */
export class ServiceAnswers implements WaitStrategy {
  private startupTimeoutMs = 180_000
  private timeoutSet = false
  constructor(
    private readonly what: string,
    private readonly answers: () => Promise<boolean>
  ) {}

  async waitUntilReady(container: WaitContainer): Promise<void> {
    const deadline = Date.now() + this.startupTimeoutMs
    for (;;) {
      if (await this.answers().catch(() => false)) return
      const { State } = await container.inspect()
      if (!State.Running) throw new Error(`${this.what}: the container exited (status ${State.ExitCode}) before it answered`)
      if (Date.now() > deadline) throw new Error(`${this.what} did not answer within ${this.startupTimeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  withStartupTimeout(startupTimeoutMs: number): this {
    this.startupTimeoutMs = startupTimeoutMs
    this.timeoutSet = true
    return this
  }
  isStartupTimeoutSet(): boolean {
    return this.timeoutSet
  }
  getStartupTimeout(): number {
    return this.startupTimeoutMs
  }
}

/** The last lines a container printed, for the error when it does not come up. */
const logTail = (lines: number) => {
  const kept: string[] = []
  return {
    consume: (stream: Readable) => {
      stream.on("data", (chunk: unknown) => {
        const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : ""
        kept.push(...text.split("\n").filter((l) => l.trim() !== ""))
        kept.splice(0, Math.max(0, kept.length - lines))
      })
      stream.on("error", () => undefined)
    },
    text: () => kept.join("\n")
  }
}

/** Every container the harness starts carries this label (`docker ps --filter label=flusso.test`). */
export const LABEL = "flusso.test"

/**
 * Starts `container` (configured by the caller) in the scope and stops and removes it
 * when the scope closes. Ports are the caller's: in host mode the service binds them
 * itself, in bridge mode they are published 1:1 on the host.
 */
export const startContainer = (
  service: "postgres" | "opensearch",
  image: string,
  settings: ContainerSettings,
  ports: ReadonlyArray<number>,
  configure: (c: GenericContainer) => GenericContainer
): Effect.Effect<StartedTestContainer, ContainerStartError, Scope.Scope> => {
  const tail = logTail(30)
  const base = new GenericContainer(image).withLabels({ [LABEL]: service }).withLogConsumer(tail.consume)
  const networked =
    settings.network === "host"
      ? base.withNetworkMode("host")
      : base.withExposedPorts(...ports.map((p) => ({ container: p, host: p })))
  return Effect.acquireRelease(
    Effect.tryPromise({
      try: () => configure(networked).start(),
      catch: (cause) => new ContainerStartError({ service, image, cause, logTail: tail.text() })
    }),
    (started) =>
      Effect.tryPromise(() => started.stop({ timeout: 10_000 })).pipe(
        Effect.catchAll((e) => Effect.logWarning(`stopping the ${service} container failed`, e))
      )
  )
}
