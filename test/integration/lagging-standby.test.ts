/**
 * The lagging synchronous standby (test/support/faults/laggingStandby.ts) on a PostgreSQL of
 * this file's own: while it holds, a commit's WAL is flushed yet the commit neither returns
 * nor becomes visible to other sessions; release, a delay, and stop each let commits through.
 * The only timing check is "did not settle while held".
 */
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { waitFor } from "../support/deployment.js"
import { type DedicatedServices, startDedicatedServices } from "../support/faults/dedicatedServices.js"
import { type LaggingStandby, startLaggingStandby } from "../support/faults/laggingStandby.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const PENDING = Symbol("pending")
/** What `promise` settled with within `ms`, or PENDING. */
const within = <A>(promise: Promise<A>, ms: number): Promise<A | typeof PENDING> =>
  Promise.race([promise, sleep(ms).then((): typeof PENDING => PENDING)])

describe("lagging synchronous standby", () => {
  let services: DedicatedServices
  let standby: LaggingStandby | undefined
  const clients: Array<pg.Client> = []

  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: services.databaseUrl })
    client.on("error", () => undefined)
    await client.connect()
    clients.push(client)
    return client
  }
  const count = async (client: pg.Client): Promise<number> =>
    Number((await client.query("SELECT count(*)::int AS n FROM held")).rows[0].n)

  let writer: pg.Client
  let reader: pg.Client

  beforeAll(async () => {
    services = await startDedicatedServices({ postgresOnly: true })
    standby = await startLaggingStandby(services.databaseUrl)
    // Opened after the standby: these sessions get synchronous_commit = on.
    writer = await connect()
    reader = await connect()
    await writer.query("CREATE TABLE held (id int PRIMARY KEY)")
  })

  afterAll(async () => {
    await standby?.stop().catch(() => undefined)
    for (const client of clients) await client.end().catch(() => undefined)
    await services?.down()
  })

  it("while held, a commit is flushed but neither returns nor is visible; release lets it through", async () => {
    const s = standby!
    expect((await writer.query("SHOW synchronous_commit")).rows[0].synchronous_commit).toBe("on")
    expect((await writer.query("SHOW synchronous_standby_names")).rows[0].synchronous_standby_names).toBe(s.name)

    s.hold()
    await writer.query("BEGIN")
    await writer.query("INSERT INTO held VALUES (1)")
    const inserted: string = (await writer.query("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0].lsn
    const writerPid: number = (await writer.query("SELECT pg_backend_pid() AS pid")).rows[0].pid
    const commit = writer.query("COMMIT")
    expect(await within(commit, 1_000)).toBe(PENDING)

    expect(await count(reader)).toBe(0)
    const flushedPast = await reader.query("SELECT pg_current_wal_flush_lsn() > $1::pg_lsn AS past", [inserted])
    expect(flushedPast.rows[0].past).toBe(true)
    const waiting = await reader.query("SELECT wait_event FROM pg_stat_activity WHERE pid = $1", [writerPid])
    expect(waiting.rows[0].wait_event).toBe("SyncRep")

    s.release()
    await commit
    expect(await count(reader)).toBe(1)

    // An autocommit statement waits the same way.
    s.hold()
    const insert = writer.query("INSERT INTO held VALUES (2)")
    expect(await within(insert, 1_000)).toBe(PENDING)
    expect(await count(reader)).toBe(1)
    s.release()
    await insert
    expect(await count(reader)).toBe(2)
  })

  it("with a delay, commits complete and are visible", async () => {
    standby!.setDelay(50)
    for (const id of [10, 11, 12, 13, 14]) await writer.query("INSERT INTO held VALUES ($1)", [id])
    expect(await count(reader)).toBe(7)
  })

  it("stop leaves the cluster usable", async () => {
    const s = standby!
    s.hold()
    const blocked = writer.query("INSERT INTO held VALUES (15)")
    expect(await within(blocked, 1_000)).toBe(PENDING)
    // Stopping while held releases the commit that was waiting (settings cleared first).
    await s.stop()
    standby = undefined
    await blocked
    const fresh = await connect()
    expect((await fresh.query("SHOW synchronous_standby_names")).rows[0].synchronous_standby_names).toBe("")
    // Both the session opened with synchronous_commit = on and a fresh one commit (no hang).
    await writer.query("INSERT INTO held VALUES (20)")
    await fresh.query("INSERT INTO held VALUES (21)")
    expect(await count(reader)).toBe(10)
    // The walsender exits soon after the disconnect.
    await waitFor("the standby's walsender to exit", async () => {
      const { rows } = await reader.query("SELECT count(*)::int AS n FROM pg_stat_replication WHERE application_name = $1", [s.name])
      return Number(rows[0].n) === 0 ? true : undefined
    }, 10_000)
  })
})
