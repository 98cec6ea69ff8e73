/**
 * PostgreSQL in a container: the native route's server settings (scripts/services.sh) —
 * logical decoding, room for the slots and walsenders of parallel tests — on a free port
 * below 32768, trust auth for the `postgres` user. The command and env are the official
 * `postgres` image's interface, which local/postgres:15 (scripts/images) answers too.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import pg from "pg"
import { type ContainerSettings, ContainerStartError, freePort, type RunningService, ServiceAnswers, startContainer } from "./container.js"

export class PostgresContainer extends Context.Tag("flusso/test/PostgresContainer")<PostgresContainer, RunningService>() {}

/** The same server flags as scripts/services.sh, so both routes test one PostgreSQL. */
const serverFlags = (port: number, listen: string): ReadonlyArray<string> => [
  "-p", String(port),
  ...[
    `listen_addresses=${listen}`,
    "wal_level=logical",
    "max_replication_slots=40",
    "max_wal_senders=40",
    "max_connections=300",
    "wal_sender_timeout=60s",
    // throwaway data: durability only costs time
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off"
  ].flatMap((c) => ["-c", c])
]

const answers = (url: string) => async (): Promise<boolean> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 })
  client.on("error", () => undefined)
  try {
    await client.connect()
    await client.query("select 1")
    return true
  } finally {
    await client.end().catch(() => undefined)
  }
}

export const make = (settings: ContainerSettings): Effect.Effect<RunningService, ContainerStartError, Scope.Scope> =>
  Effect.gen(function* () {
    const image = settings.postgresImage
    const port = yield* freePort(25432, 25999).pipe(
      Effect.mapError((cause) => new ContainerStartError({ service: "postgres", image, cause, logTail: "" }))
    )
    const url = `postgres://postgres@${settings.host}:${port}/postgres`
    // Inside a bridge network the server must listen beyond the container's loopback.
    const listen = settings.network === "host" ? "127.0.0.1" : "*"
    const started = yield* startContainer("postgres", image, settings, [port], (c) =>
      c
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: "trust" })
        .withCommand(["postgres", ...serverFlags(port, listen)])
        // Docker's 64 MB /dev/shm is tight for 300 connections' parallel workers.
        .withSharedMemorySize(256 * 1024 * 1024)
        .withWaitStrategy(new ServiceAnswers(`PostgreSQL at ${settings.host}:${port}`, answers(url)))
    )
    return { url, containerId: started.getId(), image }
  })

export const layer = (settings: ContainerSettings): Layer.Layer<PostgresContainer, ContainerStartError> =>
  Layer.scoped(PostgresContainer, make(settings))
