/**
 * The live change stream: pgoutput messages of one replication connection
 * (`replicationConnection.ts`) as thin `SourceEvent`s, reconnecting after a transient
 * failure. The connection's callbacks are bridged with `Stream.asyncScoped`: a full
 * buffer suspends the message handler, which pauses the socket (back-pressure), and the
 * connection is closed with the stream's scope.
 *
 * Beside the messages, two fibers per connection: standby status updates on a timer (also
 * while the socket is paused, or the server would time us out), and a watch for a server
 * shutting down, which must never wait on us (below).
 */
import { Cause, Chunk, Effect, Exit, Ref, Schedule, Stream } from "effect"
import type { ClientConfig } from "pg"
import pg from "pg"
import type { Pgoutput } from "pg-logical-replication"
import { backoff } from "../../backoff.js"
import { SourceMisconfigured, SourceUnavailable } from "../../errors.js"
import type { Origin, RowValues, SourceEvent } from "../ChangeSource.js"
import { retrying } from "../../status/retries.js"
import { REPLICATION_STREAM } from "../../status/Status.js"
import { parseLsn } from "./lsn.js"
import * as ReplicationConnection from "./replicationConnection.js"
import { isTransient } from "./sqlErrors.js"

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

/**
 * The tables a relation's changes count for (`schema.table`): itself, and — for a
 * partition — the partitioned tables above it that an index reads, since a publication
 * without `publish_via_partition_root` names each change by the partition it touched.
 * Empty when no index reads any of them.
 */
export type RelationTables = (relation: Pgoutput.MessageRelation) => Effect.Effect<ReadonlyArray<string>, Failure>

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
  /** Set while a connection streams. */
  readonly streaming: Ref.Ref<boolean>
  /** Events handed on at once, at most (fewer when no more have arrived). */
  readonly chunkSize: number
  /** Chunks buffered between the socket and the consumer before the socket pauses. */
  readonly bufferSize: number
  /** How often a standby status update is sent (below wal_sender_timeout / 2). */
  readonly statusIntervalMs: number
  /** While the stream is stuck, how often to check whether the server is shutting down (default 1 s). */
  readonly shutdownProbeMs?: number
  /** Where a relation's changes go; by default to the relation itself. */
  readonly relationTables?: RelationTables
  /** Run before each connection; a failure is handled like the connection's own. */
  readonly beforeConnect?: Effect.Effect<void, Failure>
}

type Failure = SourceUnavailable | SourceMisconfigured

const classifyStreamError = (cause: unknown): Failure => {
  if (cause instanceof SourceUnavailable || cause instanceof SourceMisconfigured) return cause
  const message = cause instanceof Error ? cause.message : String(cause)
  if (isTransient(cause)) return new SourceUnavailable({ reason: `replication connection: ${message}`, cause })
  return new SourceMisconfigured({
    reason: `replication stream failed: ${message}`,
    fix: /publication .* does not exist/.test(message)
      ? "the slot predates the publication; drop the slot (SELECT pg_drop_replication_slot('<slot>');) and restart flusso to re-seed"
      : "check the source settings (slot, publication) and the role's REPLICATION privilege"
  })
}

/**
 * The events a message stands for; `begin` only sets the origin of what follows. A row
 * change goes to every table its relation counts for (`routes`, by relation OID); one
 * that counts for none keeps its own name, for the source to count as ignored. A
 * TRUNCATE counts only for the relation itself: a truncated partition empties part of its
 * partitioned table, which the partition watch (`partitionLayout.ts`) rebuilds.
 */
const eventsOf = (message: Pgoutput.Message, origin: Origin, routes: ReadonlyMap<number, ReadonlyArray<string>>): ReadonlyArray<SourceEvent> => {
  const tablesOf = (relation: Pgoutput.MessageRelation): ReadonlyArray<string> => {
    const tables = routes.get(relation.relationOid)
    return tables === undefined || tables.length === 0 ? [tableOf(relation)] : tables
  }
  switch (message.tag) {
    case "commit":
      return message.commitEndLsn === null ? [] : [{
        _tag: "TransactionCommitted",
        lsn: parseLsn(message.commitEndLsn),
        commitTime: new Date(Number(BigInt(message.commitTime.toString()) / 1000n))
      }]
    case "insert": {
      const row = toRowValues(message.new)
      return tablesOf(message.relation).map((table) => ({ _tag: "RowChange", ...origin, table, op: "insert", new: row, old: null }))
    }
    case "update": {
      const row = toRowValues(message.new)
      const old = toRowValues(message.old ?? message.key)
      return tablesOf(message.relation).map((table) => ({ _tag: "RowChange", ...origin, table, op: "update", new: row, old }))
    }
    case "delete": {
      const old = toRowValues(message.old ?? message.key)
      return tablesOf(message.relation).map((table) => ({ _tag: "RowChange", ...origin, table, op: "delete", new: null, old }))
    }
    case "truncate": {
      const tables = message.relations.map(tableOf).filter((table, i) => {
        const relation = message.relations[i]
        const routed = relation === undefined ? undefined : routes.get(relation.relationOid)
        return routed === undefined || routed.includes(table)
      })
      return tables.length === 0 ? [] : [{ _tag: "TableTruncated", ...origin, tables }]
    }
    default:
      return []
  }
}

/** One replication connection's events; fails when the connection drops. */
const connect = (options: ReplicationOptions): Stream.Stream<SourceEvent, Failure> =>
  Stream.asyncScoped<SourceEvent, Failure>((emit) =>
    Effect.gen(function*() {
      let origin: Origin = { xid: 0, commitLsn: 0n }
      let inTransaction = false
      let idlePending = false
      // The latest keepalive asked for a position we have not confirmed.
      let replyRequested = false
      let failed = false
      // Events decoded and not yet emitted.
      const pending: Array<SourceEvent> = []
      // Where each relation's changes go (relation messages come before a relation's first change on a connection).
      const routes = new Map<number, ReadonlyArray<string>>()

      const connection: ReplicationConnection.ReplicationConnection = yield* Effect.acquireRelease(
        Effect.sync(() =>
          ReplicationConnection.open(options.client, options.slot, options.publication, {
            onStart: () => Effect.runSync(Ref.set(options.streaming, true)),
            onMessage: async (message) => {
              if (message.tag === "begin") {
                inTransaction = true
                origin = { xid: message.xid, commitLsn: message.commitLsn === null ? 0n : parseLsn(message.commitLsn) }
              } else if (message.tag === "relation") {
                if (options.relationTables !== undefined) {
                  const exit = await Effect.runPromiseExit(options.relationTables(message))
                  if (Exit.isFailure(exit)) return fail(Cause.squash(exit.cause))
                  routes.set(message.relationOid, exit.value)
                }
              } else {
                if (message.tag === "commit") inTransaction = false
                for (const event of eventsOf(message, origin, routes)) pending.push(event)
              }
              // Handed on in chunks: one emit per message costs more than decoding it. Nothing
              // is held back once the library's queue is empty, so whenever the connection is
              // drained (see onKeepalive) every event received has been emitted.
              if (pending.length >= options.chunkSize || (pending.length > 0 && connection.backlog() === 0)) {
                await emit.chunk(Chunk.unsafeFromArray(pending.splice(0)))
              }
            },
            onKeepalive: (walEnd, shouldRespond) => {
              // Only between transactions and with nothing still queued in the library is
              // everything before this position delivered: then the slot may advance to it.
              if (!inTransaction && !idlePending && connection.drained()) {
                idlePending = true
                void emit.single({ _tag: "SourceIdle", lsn: walEnd }).finally(() => (idlePending = false))
              }
              // Only the latest keepalive counts: a ping answered with everything confirmed, or a plain one, clears it.
              const acked = Effect.runSync(Ref.get(options.acked))
              replyRequested = shouldRespond && acked < walEnd
              if (shouldRespond) void connection.confirm(acked)
            },
            onEnd: (cause) => fail(cause)
          })
        ),
        (connection) => Ref.set(options.streaming, false).pipe(Effect.zipRight(Effect.promise(() => connection.close())))
      )
      // Closes the connection at once — the consumer may not pull for a while (a full
      // queue behind a failing batch), and the server may be waiting for it to go — then
      // ends the stream with the failure once what was emitted before it is consumed.
      function fail(cause: unknown): void {
        if (failed) return
        failed = true
        Effect.runSync(Ref.set(options.streaming, false))
        void connection.close().then(() => emit.fail(classifyStreamError(cause)))
      }

      const sendStatus = Ref.get(options.acked).pipe(Effect.flatMap((acked) => Effect.promise(() => connection.confirm(acked))))
      yield* sendStatus.pipe(Effect.repeat(Schedule.spaced(`${options.statusIntervalMs} millis`)), Effect.forkScoped)

      // A server shutting down (pg_ctl stop/restart -m fast) keeps its walsender until the
      // client confirms everything sent, and meanwhile refuses new connections. A batch
      // that needs a read cannot finish then, so what was sent is never confirmed: the
      // shutdown would wait on us forever. So while we are stuck — the socket paused by
      // back-pressure with no progress, or the server asking to confirm what is not
      // flushed — probe with a plain connection; "shutting down" (57P03) means let go of
      // the replication connection. The reconnect resumes from the slot afterwards.
      let ackedAtLastProbe = -1n
      const probe = Effect.gen(function*() {
        const acked = yield* Ref.get(options.acked)
        const stalled = acked === ackedAtLastProbe
        ackedAtLastProbe = acked
        if (!replyRequested && (connection.drained() || !stalled)) return
        const code = yield* Effect.promise(() => shutdownProbe(options.client))
        if (code === "57P03") fail(new Error("Connection terminated: the server is shutting down; releasing the replication connection"))
      })
      yield* probe.pipe(Effect.repeat(Schedule.spaced(`${options.shutdownProbeMs ?? 1000} millis`)), Effect.forkScoped)
    }), { bufferSize: options.bufferSize, strategy: "suspend" })

/**
 * A reconnect, logged and recorded in the status. A slot another walsender holds is
 * another flusso streaming from it (55006): this one waits, and says so — it is not
 * PostgreSQL being unavailable.
 */
const reportReconnect = (slot: string, error: SourceUnavailable) => {
  const holder = /replication slot .* is active for PID (\d+)/.exec(error.reason)
  const message = holder === null
    ? error.message
    : `replication slot ${slot} is in use by another flusso (walsender pid ${holder[1]}): waiting until it stops; to run both, give this one a --slot of its own`
  return Effect.logWarning(holder === null ? `${message}; reconnecting` : message).pipe(Effect.zipRight(retrying(REPLICATION_STREAM, message)))
}

/**
 * Live events, reconnecting after a transient failure (`backoff`). A reconnect resumes
 * from the slot's confirmed position, so events received but not yet acked are delivered
 * again — harmless, documents are rebuilt from current state.
 */
export const replicationStream = (options: ReplicationOptions): Stream.Stream<SourceEvent, Failure> =>
  (options.beforeConnect === undefined ? connect(options) : Stream.unwrap(Effect.as(options.beforeConnect, connect(options)))).pipe(
    Stream.tapError((error) =>
      error._tag === "SourceUnavailable" ? reportReconnect(options.slot, error) : Effect.void
    ),
    Stream.retry(backoff({ base: "200 millis" }).pipe(Schedule.whileInput((error: Failure) => error._tag === "SourceUnavailable")))
  )
