/**
 * The contract of `replicationConnection.ts` — the one adapter around pg-logical-replication
 * 2.5 — against a real PostgreSQL. Each case pins a quirk the adapter papers over, so an
 * upgrade of the library that changes one fails here rather than in production:
 * - `confirm(lsn)` makes the server record exactly `lsn` (the library's `acknowledge` adds 1);
 * - the library never confirms by itself (its timer would confirm received, unflushed data);
 * - `drained()` reads the library's private flow-control queue: false while a handler
 *   waits, true once everything received was handled; `backlog()` its length;
 * - a waiting handler pauses the socket, and `close()` still ends the connection at once.
 */
import pg from "pg"
import type { Pgoutput } from "pg-logical-replication"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { formatLsn, parseLsn } from "../../src/source/postgres/lsn.js"
import * as ReplicationConnection from "../../src/source/postgres/replicationConnection.js"
import { waitFor } from "../support/deployment.js"
import { createTestDatabase, type TestDatabase } from "../support/services.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let db: TestDatabase
let client: pg.Client
const query = async (text: string, params: ReadonlyArray<unknown> = []) => (await client.query(text, [...params])).rows

beforeEach(async () => {
  const base = process.env["FLUSSO_TEST_DATABASE_URL"]
  if (!base) throw new Error("FLUSSO_TEST_DATABASE_URL is not set")
  db = await createTestDatabase(base)
  client = new pg.Client({ connectionString: db.url })
  client.on("error", () => undefined)
  await client.connect()
  await query("CREATE TABLE t (id int PRIMARY KEY)")
  await query("CREATE PUBLICATION p FOR TABLE t")
  await query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [db.name])
})

afterEach(async () => {
  await client.end().catch(() => undefined)
  await db.drop()
})

const confirmedFlush = async (): Promise<bigint> => {
  const [row] = await query("SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1", [db.name])
  return parseLsn(String(row?.["lsn"]))
}

const walsenderActive = async (): Promise<boolean> => {
  const [row] = await query("SELECT active FROM pg_replication_slots WHERE slot_name = $1", [db.name])
  return row?.["active"] === true
}

/** Opens the adapter on the test slot, collecting messages; `gate` (when given) holds every insert's handler. */
const open = (gate?: Promise<void>) => {
  const messages: Array<Pgoutput.Message> = []
  const ended: Array<unknown> = []
  const connection = ReplicationConnection.open({ connectionString: db.url, application_name: "contract" }, db.name, "p", {
    onStart: () => undefined,
    onMessage: async (message) => {
      messages.push(message)
      if (gate !== undefined && message.tag === "insert") await gate
    },
    onKeepalive: () => undefined,
    onEnd: (cause) => void ended.push(cause)
  })
  return { connection, messages, ended }
}

const commitEnd = (messages: ReadonlyArray<Pgoutput.Message>): bigint | undefined => {
  for (const message of messages) if (message.tag === "commit" && message.commitEndLsn !== null) return parseLsn(message.commitEndLsn)
  return undefined
}

describe("replication connection (pg-logical-replication adapter)", () => {
  it("confirm(lsn) makes the server record exactly lsn, and nothing is confirmed without it", async () => {
    const { connection, messages } = open()
    try {
      await waitFor("streaming", async () => ((await walsenderActive()) ? true : undefined))
      const before = await confirmedFlush()
      await query("INSERT INTO t VALUES (1)")
      const end = await waitFor("the commit", async () => commitEnd(messages))
      // The library's own timer (10 s by default) would confirm what it received by now.
      await sleep(11_000)
      expect(formatLsn(await confirmedFlush())).toBe(formatLsn(before))
      await connection.confirm(end)
      await waitFor("the confirmation", async () => ((await confirmedFlush()) !== before ? true : undefined))
      expect(formatLsn(await confirmedFlush())).toBe(formatLsn(end))
    } finally {
      await connection.close()
    }
  }, 60_000)

  it("drained() is false while a handler waits and true once everything received is handled; close() ends a paused connection", async () => {
    let open_: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (open_ = resolve))
    const { connection, messages, ended } = open(gate)
    try {
      await waitFor("streaming", async () => ((await walsenderActive()) ? true : undefined))
      await waitFor("idle and drained", async () => (connection.drained() ? true : undefined))
      await query("INSERT INTO t VALUES (1)")
      await query("INSERT INTO t VALUES (2)")
      await waitFor("the first insert to reach its handler", async () => (messages.some((m) => m.tag === "insert") ? true : undefined))
      // The handler waits: the library holds the rest, the socket is paused.
      await sleep(200)
      expect(connection.drained()).toBe(false)
      expect(messages.filter((m) => m.tag === "insert")).toHaveLength(1)
      open_()
      await waitFor("both transactions handled", async () => (messages.filter((m) => m.tag === "commit").length === 2 ? true : undefined))
      await waitFor("drained again", async () => (connection.drained() ? true : undefined))
    } finally {
      await connection.close()
    }
    expect(ended).toEqual([])
  }, 30_000)

  it("close() ends the connection at once while a handler waits (the socket paused), and the walsender goes", async () => {
    const gate = new Promise<void>(() => undefined) // never opens
    const { connection, messages } = open(gate)
    await waitFor("streaming", async () => ((await walsenderActive()) ? true : undefined))
    await query("INSERT INTO t SELECT generate_series(1, 5000)")
    await waitFor("a handler to wait", async () => (messages.some((m) => m.tag === "insert") ? true : undefined))
    await connection.close()
    await waitFor("the walsender to go", async () => ((await walsenderActive()) ? undefined : true), 10_000)
  }, 30_000)

  it("backlog() counts the messages received behind a waiting handler, and is 0 once they are handled", async () => {
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const messages: Array<Pgoutput.Message> = []
    let inserts = 0
    const connection = ReplicationConnection.open({ connectionString: db.url, application_name: "contract" }, db.name, "p", {
      onStart: () => undefined,
      onMessage: async (message) => {
        messages.push(message)
        // Well inside the first read of a 5000-row transaction: what that read holds after it waits.
        if (message.tag === "insert" && ++inserts === 100) await gate
      },
      onKeepalive: () => undefined,
      onEnd: () => undefined
    })
    try {
      await waitFor("streaming", async () => ((await walsenderActive()) ? true : undefined))
      expect(connection.backlog()).toBe(0)
      await query("INSERT INTO t SELECT generate_series(1, 5000)")
      await waitFor("the 100th insert to wait", async () => (inserts === 100 ? true : undefined))
      const behind = await waitFor("messages queued behind it", async () => (connection.backlog() > 0 ? connection.backlog() : undefined))
      // The rest of the transaction waits in the backlog.
      expect(messages.filter((m) => m.tag === "insert")).toHaveLength(100)
      expect(messages.some((m) => m.tag === "commit")).toBe(false)
      expect(behind).toBeGreaterThan(0)
      release()
      await waitFor("the commit", async () => (messages.some((m) => m.tag === "commit") ? true : undefined))
      await waitFor("drained", async () => (connection.drained() ? true : undefined))
      expect(connection.backlog()).toBe(0)
      expect(messages.filter((m) => m.tag === "insert")).toHaveLength(5000)
    } finally {
      await connection.close()
    }
  }, 30_000)
})
