/**
 * One pgoutput replication connection, through `pg-logical-replication` 2.5, reduced to
 * what the stream needs. Every quirk of the library lives here, each pinned by the
 * contract test (test/integration/replication-connection.test.ts):
 * - it must never confirm by itself (`auto: false`, `timeoutSeconds: 0`): otherwise it
 *   confirms the last *received* position every 10 s, losing unflushed changes on a crash;
 *   with its timer off it no longer answers keepalives, so `confirm` is ours to send;
 * - `acknowledge(lsn)` reports `lsn + 1`: `confirm(lsn)` sends `lsn − 1`, so the server
 *   records exactly `lsn` (a commit's end; one more would skip an adjacent transaction);
 * - with `flowControl` it queues messages and pauses the socket while our handler awaits:
 *   back-pressure, but that queue (how long, whether drained) is only in its private fields;
 * - a handler that throws makes it skip the message: handlers must not throw;
 * - it never reconnects, and a failure leaves `isStop()` false: the stream reconnects;
 * - relation columns get a type parser here that keeps the text Postgres sent.
 */
import type { ClientConfig } from "pg"
// Its parts by path: the package's index also loads the decoderbufs plugin, and with it protobufjs.
import { LogicalReplicationService } from "pg-logical-replication/dist/logical-replication-service.js"
import { type Pgoutput, PgoutputPlugin } from "pg-logical-replication/dist/output-plugins/pgoutput/index.js"
import { formatLsn, parseLsn } from "./lsn.js"

const identity = (value: unknown): unknown => value

/** pgoutput with every column left as text: relation columns get an identity parser as they are parsed. */
class CanonicalTextPgoutput extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer)
    if (message.tag === "relation") for (const column of message.columns) column.parser = identity
    return message
  }
}

export interface ReplicationHandlers {
  /** The server started streaming (START_REPLICATION accepted). */
  readonly onStart: () => void
  /** Awaited before the next message: while it waits the socket is paused. Must not throw. */
  readonly onMessage: (message: Pgoutput.Message) => Promise<void>
  /** A primary keepalive: the server's WAL end, and whether it asks for a status update now. */
  readonly onKeepalive: (walEnd: bigint, replyRequested: boolean) => void
  /** The connection failed or ended; called at most once. */
  readonly onEnd: (cause: unknown) => void
}

export interface ReplicationConnection {
  /** Sends a standby status update confirming everything up to `lsn` (written, flushed, applied). */
  readonly confirm: (lsn: bigint) => Promise<void>
  /** Whether every message received so far was handed to `onMessage` and handled. */
  readonly drained: () => boolean
  /** Messages received and waiting for `onMessage` (not counting the one being handled). */
  readonly backlog: () => number
  /** Closes the connection at once (its socket is destroyed, paused or not). */
  readonly close: () => Promise<void>
}

/** Opens the connection and starts streaming `slot` from its confirmed position. */
export const open = (
  client: ClientConfig,
  slot: string,
  publication: string,
  handlers: ReplicationHandlers
): ReplicationConnection => {
  const service = new LogicalReplicationService(client, {
    acknowledge: { auto: false, timeoutSeconds: 0 },
    flowControl: { enabled: true }
  })
  let ended = false
  const end = (cause: unknown) => {
    if (ended) return
    ended = true
    handlers.onEnd(cause)
  }
  // Private: if the library renames it, `drained` stays false (no idle acks) and `backlog` 0
  // (each message handed on alone) — slower, never wrong.
  const messageQueue = (): unknown => Reflect.get(service, "_messageQueue")
  service.on("data", (_lsn: string, message: Pgoutput.Message) => handlers.onMessage(message))
  service.on("heartbeat", (lsn: string, _timestamp: number, shouldRespond: boolean) =>
    handlers.onKeepalive(parseLsn(lsn), shouldRespond))
  service.on("error", end)
  service.on("start", () => handlers.onStart())
  service
    .subscribe(new CanonicalTextPgoutput({ protoVersion: 1, publicationNames: [publication] }), slot)
    .then(() => end(new Error("Connection terminated: replication stream ended")), end)

  return {
    confirm: async (lsn) => {
      if (lsn > 0n) await service.acknowledge(formatLsn(lsn - 1n)).catch(() => false)
    },
    drained: () => {
      const queued = messageQueue()
      return Array.isArray(queued) && queued.length === 0 && Reflect.get(service, "_processing") === false
    },
    backlog: () => {
      const queued = messageQueue()
      return Array.isArray(queued) ? queued.length : 0
    },
    close: () => {
      ended = true
      // `stop` ends the client; with START_REPLICATION active, pg destroys the socket
      // rather than waiting for the server, so a paused socket cannot hold it.
      return service.destroy().then(() => undefined, () => undefined)
    }
  }
}
