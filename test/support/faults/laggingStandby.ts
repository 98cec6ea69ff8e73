/**
 * A synchronous standby played by the test, to hold open the window between "a commit's WAL
 * is flushed (so logical decoding already streams it)" and "the commit is visible to other
 * sessions". With `synchronous_standby_names` naming a standby and `synchronous_commit = on`,
 * a committing backend flushes its WAL locally, then waits in SyncRepWaitForLSN until the
 * standby reports that position flushed; only then does the transaction become visible. This
 * standby is a physical replication client that reads the WAL stream and reports positions
 * as it is told to: at once, after a delay, or not at all (`hold`) until `release`.
 *
 * Why synchronous_commit is also set per role: the test clusters start with
 * `-c synchronous_commit=off`, and a command-line setting outranks postgresql.auto.conf
 * (what ALTER SYSTEM writes), so `ALTER SYSTEM SET synchronous_commit` alone changes nothing.
 * `ALTER ROLE ALL SET` outranks the command line, for sessions opened after `start`.
 */
import pg from "pg"

export interface LaggingStandby {
  /** The application_name it connects with (what synchronous_standby_names names). */
  readonly name: string
  /** Stop confirming: every commit waiting for this standby stays invisible until release/setDelay. */
  readonly hold: () => void
  /** Confirm everything received so far, and from now on confirm with the current delay again. */
  readonly release: () => void
  /** Confirm each received WAL position `ms` milliseconds after it arrived (0 = at once). */
  readonly setDelay: (ms: number) => void
  /** Disconnects (commits waiting for it then wait forever unless synchronous_standby_names is cleared: `stop` clears it first). */
  readonly stop: () => Promise<void>
}

/** Milliseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000
const STATUS_INTERVAL_MS = 1_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const parseLsn = (text: string): bigint => {
  const [hi, lo] = text.split("/")
  if (hi === undefined || lo === undefined) throw new Error(`not an LSN: ${text}`)
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`)
}
const formatLsn = (lsn: bigint): string => `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`

/** Standby status update: 'r', write/flush/apply ("last byte + 1"), client time (µs since 2000), reply-requested. */
const statusUpdate = (confirmed: bigint): Buffer => {
  const message = Buffer.alloc(34)
  message.write("r", 0, "latin1")
  message.writeBigUInt64BE(confirmed, 1)
  message.writeBigUInt64BE(confirmed, 9)
  message.writeBigUInt64BE(confirmed, 17)
  message.writeBigInt64BE(BigInt(Date.now() - PG_EPOCH_MS) * 1000n, 25)
  message.writeUInt8(0, 33)
  return message
}

/** One short-lived superuser session; synchronous_commit off so its own commits never wait for us. */
const admin = async (url: string, statements: ReadonlyArray<string>): Promise<Array<pg.QueryResult>> => {
  const client = new pg.Client({ connectionString: url })
  client.on("error", () => undefined)
  await client.connect()
  try {
    await client.query("SET synchronous_commit = off")
    const results: Array<pg.QueryResult> = []
    // One statement per query: ALTER SYSTEM refuses to run in a (implicit) transaction block.
    for (const statement of statements) results.push(await client.query(statement))
    return results
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Polls pg_stat_replication (one session) until `name` is streaming as the sync standby; fails early on `failed()`. */
const waitUntilSync = async (url: string, name: string, failed: () => unknown): Promise<void> => {
  const client = new pg.Client({ connectionString: url })
  client.on("error", () => undefined)
  await client.connect()
  try {
    const deadline = Date.now() + 30_000
    for (;;) {
      const failure = failed()
      if (failure !== undefined) throw failure
      const { rows } = await client.query("SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1", [name])
      const row = rows[0]
      if (row?.state === "streaming" && row?.sync_state === "sync") return
      if (Date.now() > deadline) throw new Error(`standby ${name} not sync after 30 s: ${JSON.stringify(row)}`)
      await sleep(50)
    }
  } finally {
    await client.end().catch(() => undefined)
  }
}

const RESET = [
  "ALTER SYSTEM RESET synchronous_standby_names",
  "ALTER SYSTEM RESET synchronous_commit",
  "ALTER ROLE ALL RESET synchronous_commit",
  "SELECT pg_reload_conf()"
]

/** What `pg` has at runtime but its types leave out. */
interface CopyBothConnection {
  on(event: "copyData", listener: (message: { chunk: Buffer }) => void): void
  once(event: "replicationStart", listener: () => void): void
  sendCopyFromChunk(chunk: Buffer): void
}

let counter = 0

/**
 * Makes the cluster at `superuserUrl` (a dedicated one: this changes server-wide settings)
 * treat a replication client played by the test as its synchronous standby, then connects it
 * (PHYSICAL, no slot, from `pg_current_wal_flush_lsn()`). Resolves once pg_stat_replication
 * shows it `streaming` with sync_state `sync`. Sessions opened before this keep their
 * synchronous_commit (off on the test clusters) and do not wait.
 */
export const startLaggingStandby = async (
  superuserUrl: string,
  options: { readonly name?: string; readonly delayMs?: number } = {}
): Promise<LaggingStandby> => {
  const name = options.name ?? `lagging_standby_${process.pid}_${++counter}`
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`standby name must be [A-Za-z0-9_]+: ${name}`)
  let delayMs = options.delayMs ?? 0
  let held = false
  let stopped = false

  const [, , , , current] = await admin(superuserUrl, [
    `ALTER SYSTEM SET synchronous_standby_names = '${name}'`,
    "ALTER SYSTEM SET synchronous_commit = 'on'",
    "ALTER ROLE ALL SET synchronous_commit = 'on'",
    "SELECT pg_reload_conf()",
    "SELECT pg_current_wal_flush_lsn()::text AS lsn"
  ])
  const start = parseLsn(String(current?.rows[0]?.lsn))
  /** End ("last byte + 1") of the WAL received so far. */
  let received = start
  /** What we report as written, flushed and applied; never goes back. */
  let confirmed = start

  const config: pg.ClientConfig & { replication: boolean } = { connectionString: superuserUrl, application_name: name, replication: true }
  const client = new pg.Client(config)
  // After stop (or a server restart) the connection's errors are expected; nobody must crash on them.
  let failure: unknown
  client.on("error", (error) => (failure ??= error))
  const connection = client.connection as unknown as CopyBothConnection
  const send = () => {
    if (!stopped) connection.sendCopyFromChunk(statusUpdate(confirmed))
  }
  const confirm = (lsn: bigint) => {
    if (stopped || held || lsn <= confirmed) return
    confirmed = lsn
    send()
  }
  const arrived = (lsn: bigint) => {
    if (lsn > received) received = lsn
    if (held) return
    if (delayMs === 0) confirm(lsn)
    else setTimeout(() => confirm(lsn), delayMs)
  }

  const cleanupOnFailure = async (error: unknown): Promise<never> => {
    stopped = true
    await admin(superuserUrl, RESET).catch(() => undefined)
    await client.end().catch(() => undefined)
    throw error
  }

  let timer: NodeJS.Timeout | undefined
  try {
    await client.connect()
    connection.on("copyData", ({ chunk }) => {
      const kind = chunk[0]
      if (kind === 0x77) {
        // XLogData: 'w', dataStart, walEnd, sendTime, then the WAL bytes.
        arrived(chunk.readBigUInt64BE(1) + BigInt(chunk.length - 25))
      } else if (kind === 0x6b) {
        // Keepalive: 'k', walEnd (all sent so far), sendTime, replyRequested.
        const walEnd = chunk.readBigUInt64BE(1)
        if (walEnd > received) arrived(walEnd)
        if (chunk[17] === 1) send()
      }
    })
    // The walsender counts a standby as a sync candidate only once it has reported a flush position.
    connection.once("replicationStart", send)
    client.query(`START_REPLICATION PHYSICAL ${formatLsn(start)}`).then(
      () => (failure ??= new Error("replication stream ended")),
      (error: unknown) => (failure ??= error)
    )
    // Below wal_sender_timeout, also when idle or held (same position again releases nothing).
    timer = setInterval(send, STATUS_INTERVAL_MS)

    await waitUntilSync(superuserUrl, name, () => failure)
  } catch (error) {
    clearInterval(timer)
    return cleanupOnFailure(error)
  }

  return {
    name,
    hold: () => {
      held = true
    },
    release: () => {
      held = false
      confirm(received)
    },
    setDelay: (ms) => {
      held = false
      delayMs = ms
      arrived(received)
    },
    stop: async () => {
      if (stopped) return
      // Clear the settings first: the checkpointer then wakes every commit waiting for us
      // (held ones too), and none waits for a standby that is gone.
      await admin(superuserUrl, RESET)
      stopped = true
      clearInterval(timer)
      await client.end().catch(() => undefined)
    }
  }
}
