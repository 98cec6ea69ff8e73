/**
 * The pgoutput stream, through `pg-logical-replication` wrapped so that it behaves:
 * - it never acks by itself (`auto: false`, `timeoutSeconds: 0`: otherwise it confirms
 *   the last *received* position every 10 s, losing unflushed changes on a crash);
 * - we send standby status updates ourselves, on a timer and when the server asks, also
 *   while the stream is paused by back-pressure (the library stops answering keepalives
 *   once its own timer is off);
 * - acks go out as `commitEnd − 1` because the library sends `lsn + 1`: acking a commit's
 *   end that way would make Postgres skip an adjacent next transaction after a restart;
 * - `flowControl` pauses the socket while our handler waits on a full queue;
 * - every column stays the text Postgres sent (the shared canonical type set).
 */
import { Effect, Queue, Ref, Runtime, Schedule, Stream } from "effect"
import pg, { type ClientConfig } from "pg"
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from "pg-logical-replication"
import { SourceMisconfigured, SourceUnavailable } from "../../errors.js"
import type { RowValues, SourceEvent } from "../ChangeSource.js"
import { formatLsn, parseLsn } from "./lsn.js"
import { isTransient } from "./sqlErrors.js"

const identity = (value: unknown): unknown => value

/** pgoutput with every column left as text: relation columns get an identity parser as they are parsed. */
class CanonicalTextPgoutput extends PgoutputPlugin {
  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer)
    if (message.tag === "relation") for (const column of message.columns) column.parser = identity
    return message
  }
}

const toRowValues = (tuple: Record<string, unknown> | null): RowValues | null => {
  if (tuple === null) return null
  const row: Record<string, string | null | undefined> = {}
  for (const [name, value] of Object.entries(tuple)) {
    row[name] = typeof value === "string" || value === null || value === undefined
      ? value
      : Buffer.from(value instanceof Uint8Array ? value : String(value)).toString("utf8")
  }
  return row
}

const tableOf = (relation: Pgoutput.MessageRelation): string => `${relation.schema}.${relation.name}`

/** The library queues parsed messages while our handler runs; a keepalive only means "idle" when that queue is drained. */
const libraryDrained = (service: LogicalReplicationService): boolean => {
  const queued: unknown = Reflect.get(service, "_messageQueue")
  const processing: unknown = Reflect.get(service, "_processing")
  return Array.isArray(queued) && queued.length === 0 && processing === false
}

/** Connects once without replication: the SQLSTATE of a refusal ("57P03": shutting down), undefined when accepted or unreachable otherwise. */
const shutdownProbe = async (config: ClientConfig): Promise<string | undefined> => {
  const client = new pg.Client({ ...config, application_name: "flusso-probe", connectionTimeoutMillis: 5_000 })
  client.on("error", () => undefined)
  try {
    await client.connect()
    return undefined
  } catch (error) {
    const code: unknown = typeof error === "object" && error !== null ? Reflect.get(error, "code") : undefined
    return typeof code === "string" ? code : undefined
  } finally {
    await client.end().catch(() => undefined)
  }
}

export interface ReplicationOptions {
  readonly client: ClientConfig
  readonly slot: string
  readonly publication: string
  /** Position confirmed so far; streaming restarts from the slot's confirmed position anyway. */
  readonly acked: Ref.Ref<bigint>
  /** Events buffered between the socket and the consumer before the socket pauses. */
  readonly bufferSize: number
  /** How often a standby status update is sent (below wal_sender_timeout / 2). */
  readonly statusIntervalMs: number
  /** While the stream is stuck, how often to check whether the server is shutting down (default 2 s). */
  readonly shutdownProbeMs?: number
}

type Failure = SourceUnavailable | SourceMisconfigured

const classifyStreamError = (cause: unknown): Failure => {
  const message = cause instanceof Error ? cause.message : String(cause)
  if (isTransient(cause)) return new SourceUnavailable({ reason: `replication connection: ${message}`, cause })
  return new SourceMisconfigured({
    reason: `replication stream failed: ${message}`,
    fix: /publication .* does not exist/.test(message)
      ? "the slot predates the publication; drop the slot (SELECT pg_drop_replication_slot('<slot>');) and restart flusso to re-seed"
      : "check the source settings (slot, publication) and the role's REPLICATION privilege"
  })
}

/** One replication connection's events; fails when the connection drops. */
const connect = (options: ReplicationOptions) =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const events = yield* Effect.acquireRelease(Queue.bounded<SourceEvent>(options.bufferSize), Queue.shutdown)
    const failure = yield* Effect.makeLatch(false)
    let failedWith: Failure | undefined
    const fail = (cause: unknown) => {
      failedWith ??= classifyStreamError(cause)
      Runtime.runSync(runtime)(failure.open)
    }

    const service = new LogicalReplicationService(options.client, {
      acknowledge: { auto: false, timeoutSeconds: 0 },
      flowControl: { enabled: true }
    })
    const sendStatus = Effect.gen(function*() {
      const acked = yield* Ref.get(options.acked)
      if (acked > 0n) yield* Effect.promise(() => service.acknowledge(formatLsn(acked - 1n)).catch(() => false))
    })

    let inTransaction = false
    // Handlers never throw: the library skips a message whose handler throws.
    service.on("data", async (_lsn: string, message: Pgoutput.Message) => {
      const event = ((): SourceEvent | undefined => {
        switch (message.tag) {
          case "begin":
            inTransaction = true
            return undefined
          case "commit":
            inTransaction = false
            return message.commitEndLsn === null ? undefined : {
              _tag: "TransactionCommitted",
              lsn: parseLsn(message.commitEndLsn),
              commitTime: new Date(Number(BigInt(message.commitTime.toString()) / 1000n))
            }
          case "insert":
            return { _tag: "RowChange", table: tableOf(message.relation), op: "insert", new: toRowValues(message.new), old: null }
          case "update":
            return {
              _tag: "RowChange",
              table: tableOf(message.relation),
              op: "update",
              new: toRowValues(message.new),
              old: toRowValues(message.old ?? message.key)
            }
          case "delete":
            return { _tag: "RowChange", table: tableOf(message.relation), op: "delete", new: null, old: toRowValues(message.old ?? message.key) }
          case "truncate":
            return { _tag: "TableTruncated", tables: message.relations.map(tableOf) }
          default:
            return undefined
        }
      })()
      if (event !== undefined) await Runtime.runPromise(runtime)(Queue.offer(events, event)).catch(fail)
    })
    let replyRequested = false
    service.on("heartbeat", (lsn: string, _timestamp: number, shouldRespond: boolean) => {
      const position = parseLsn(lsn)
      // Only between transactions and with nothing still queued in the library is
      // everything before this position delivered: then the slot may advance to it.
      if (!inTransaction && libraryDrained(service)) events.unsafeOffer({ _tag: "SourceIdle", lsn: position })
      // Only the latest keepalive counts: a ping answered with everything confirmed, or a plain one, clears it.
      replyRequested = shouldRespond && Runtime.runSync(runtime)(Ref.get(options.acked)) < position
      if (shouldRespond) Runtime.runFork(runtime)(sendStatus)
    })
    service.on("error", fail)

    yield* Effect.acquireRelease(
      Effect.sync(() => {
        service
          .subscribe(new CanonicalTextPgoutput({ protoVersion: 1, publicationNames: [options.publication] }), options.slot)
          .then(() => fail(new Error("Connection terminated: replication stream ended")), fail)
      }),
      () => Effect.promise(() => service.destroy().catch(() => undefined))
    )
    yield* sendStatus.pipe(Effect.repeat(Schedule.spaced(`${options.statusIntervalMs} millis`)), Effect.forkScoped)

    // A server shutting down (pg_ctl stop/restart -m fast) keeps its walsender until the
    // client confirms everything sent, and meanwhile refuses new connections. Our status
    // updates keep that walsender alive, but a batch that needs a read cannot finish, so
    // nothing gets confirmed: the shutdown would wait forever. So while we are stuck —
    // the socket paused by back-pressure, or the server asking to confirm what we have not
    // flushed — probe with a plain connection; "shutting down" (57P03) means let go of the
    // replication connection; the reconnect Schedule resumes from the slot afterwards.
    let ackedAtLastProbe = -1n
    const probe = Effect.gen(function*() {
      const acked = yield* Ref.get(options.acked)
      const stalled = acked === ackedAtLastProbe
      ackedAtLastProbe = acked
      // Busy but moving is not stuck: only a paused socket with no progress, or an unanswerable ping.
      if (!replyRequested && (libraryDrained(service) || !stalled)) return
      const code = yield* Effect.promise(() => shutdownProbe(options.client))
      if (code === "57P03") fail(new Error("Connection terminated: the server is shutting down; releasing the replication connection"))
    })
    yield* probe.pipe(Effect.repeat(Schedule.spaced(`${options.shutdownProbeMs ?? 2000} millis`)), Effect.forkScoped)

    const failed = failure.await.pipe(Effect.flatMap(() => Effect.fail(failedWith ?? new SourceUnavailable({ reason: "replication stopped" }))))
    return Stream.fromQueue(events).pipe(Stream.merge(Stream.fromEffect(failed), { haltStrategy: "either" }))
  }))

/**
 * Live events, reconnecting after a transient failure with a capped exponential
 * backoff. A reconnect resumes from the slot's confirmed position, so events received
 * but not yet acked are delivered again — harmless, documents are rebuilt from current
 * state.
 */
export const replicationStream = (options: ReplicationOptions): Stream.Stream<SourceEvent, Failure> =>
  connect(options).pipe(
    Stream.tapError((error) =>
      error._tag === "SourceUnavailable" ? Effect.logWarning(`${error.message}; reconnecting`) : Effect.void
    ),
    Stream.retry(
      Schedule.exponential("200 millis", 2).pipe(
        Schedule.jittered,
        Schedule.union(Schedule.spaced("10 seconds")),
        Schedule.whileInput((error: Failure) => error._tag === "SourceUnavailable")
      )
    )
  )

