import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Metric, Queue, Ref } from "effect"
import { run } from "../../../src/engine/Engine.js"
import { documentsQuarantined } from "../../../src/status/metrics.js"
import type { IndexPlan } from "../../../src/schema/IndexPlan.js"
import { commit, itemsPlan, type JournalEntry, layers, makeWorld, type MemoryWorld, rowChange, eventually } from "../../support/memory.js"

const start = (world: MemoryWorld, plan: IndexPlan = itemsPlan, skipBackfill = true, maxChanges = 1000) =>
  run({ indexes: [plan], batch: { maxChanges, maxDelayMs: 20 }, skipBackfill, backfillChunk: 1000 }).pipe(
    Effect.provide(layers(world)),
    Effect.fork
  )

/** Polls until `check` holds (fails the test after ~5 s). */
const acks = (journal: ReadonlyArray<JournalEntry>) => journal.flatMap((e) => (e.step === "ack" ? [e.lsn] : []))
const writtenIds = (entry: JournalEntry) => (entry.step === "write" ? entry.operations.map((o) => o.id) : [])
const rows = (n: number, from = 1) => new Map(Array.from({ length: n }, (_, i) => [String(i + from), `{"id":${i + from}}`]))

describe("engine", () => {
  it.live("acks a commit only after the write that made its documents durable", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, new Map([["1", "{\"id\":1}"], ["2", "{\"id\":2}"]]))
      yield* Ref.set(world.failWrites, 2)
      yield* Queue.offerAll(world.events, [rowChange("insert", 1), rowChange("insert", 2), commit(10n)])
      const fiber = yield* start(world)
      const journal = yield* eventually(Ref.get(world.journal), (j) => acks(j).length > 0)
      yield* Fiber.interrupt(fiber)
      const ackAt = journal.findIndex((e) => e.step === "ack")
      const writeAt = journal.findIndex((e) => writtenIds(e).includes("1") && writtenIds(e).includes("2"))
      expect(writeAt).toBeGreaterThanOrEqual(0)
      expect(ackAt).toBeGreaterThan(writeAt)
      expect(acks(journal)).toEqual([10n])
    }))

  it.live("never acks while the sink keeps failing", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, new Map([["1", "{\"id\":1}"]]))
      yield* Ref.set(world.failWrites, 1_000_000)
      yield* Queue.offerAll(world.events, [rowChange("insert", 1), commit(10n)])
      const fiber = yield* start(world)
      // The write is retried, proving the batch was attempted several times (its build,
      // which succeeded, is not redone: each stage retries from where it stands).
      yield* eventually(Ref.get(world.failWrites), (left) => left <= 1_000_000 - 3)
      yield* Fiber.interrupt(fiber)
      expect(acks(yield* Ref.get(world.journal))).toEqual([])
      expect((yield* Ref.get(world.index)).size).toBe(0)
    }))

  it.live("builds a document touched many times in one batch once", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, new Map([["7", "{\"id\":7,\"v\":5}"]]))
      yield* Queue.offerAll(world.events, [
        rowChange("insert", 7),
        ...[1, 2, 3, 4].map(() => rowChange("update", 7)),
        commit(20n)
      ])
      const fiber = yield* start(world)
      const journal = yield* eventually(Ref.get(world.journal), (j) => acks(j).length > 0)
      yield* Fiber.interrupt(fiber)
      const builds = journal.flatMap((e) => (e.step === "build" ? e.ids : []))
      expect(builds).toEqual(["7"])
      expect((yield* Ref.get(world.index)).get("7")).toBe("{\"id\":7,\"v\":5}")
    }))

  it.live("redelivers an unacked batch after a restart and re-applies it idempotently", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, new Map([["1", "{\"id\":1,\"v\":\"a\"}"], ["3", "{\"id\":3}"]]))
      yield* Ref.set(world.index, new Map([["2", "{\"id\":2}"]]))
      const batch = [rowChange("update", 1), rowChange("delete", 2), rowChange("insert", 3), commit(30n)]
      // First run: the sink is down, nothing is acked; the process is stopped.
      yield* Ref.set(world.failWrites, 1_000_000)
      yield* Queue.offerAll(world.events, batch)
      const first = yield* start(world)
      yield* eventually(Ref.get(world.journal), (j) => j.some((e) => e.step === "build"))
      yield* Fiber.interrupt(first)
      expect(acks(yield* Ref.get(world.journal))).toEqual([])
      // Restart: the source redelivers the same unacked changes, twice over for good measure.
      yield* Ref.set(world.failWrites, 0)
      yield* Queue.takeAll(world.events)
      yield* Queue.offerAll(world.events, [...batch, ...batch])
      const second = yield* start(world)
      yield* eventually(Ref.get(world.journal), (j) => acks(j).length > 0)
      yield* Fiber.interrupt(second)
      expect([...(yield* Ref.get(world.index)).entries()].sort()).toEqual([
        ["1", "{\"id\":1,\"v\":\"a\"}"],
        ["3", "{\"id\":3}"]
      ])
      expect(acks(yield* Ref.get(world.journal)).every((lsn) => lsn === 30n)).toBe(true)
    }))

  it.live("stops on a rejected document under onError stop, without acking", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, new Map([["1", "{}"], ["2", "{}"]]))
      yield* Ref.set(world.poison, new Set(["2"]))
      yield* Queue.offerAll(world.events, [rowChange("insert", 1), rowChange("insert", 2), commit(40n)])
      const fiber = yield* start(world)
      const exit = yield* Fiber.await(fiber).pipe(Effect.timeout("5 seconds"))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) expect(String(exit.cause)).toContain("DocumentRejected")
      expect(acks(yield* Ref.get(world.journal))).toEqual([])
    }))

  it.live("quarantines a rejected document under onError skip and acks the rest", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, new Map([["1", "{}"], ["2", "{}"]]))
      yield* Ref.set(world.poison, new Set(["2"]))
      yield* Queue.offerAll(world.events, [rowChange("insert", 1), rowChange("insert", 2), commit(50n)])
      const counter = Metric.tagged(documentsQuarantined, "index", "items")
      const before = (yield* Metric.value(counter)).count
      const fiber = yield* start(world, { ...itemsPlan, onError: "skip" })
      yield* eventually(Ref.get(world.journal), (j) => acks(j).length > 0)
      yield* Fiber.interrupt(fiber)
      expect([...(yield* Ref.get(world.index)).keys()]).toEqual(["1"])
      expect(acks(yield* Ref.get(world.journal))).toEqual([50n])
      expect((yield* Metric.value(counter)).count - before).toBe(1)
    }))

  it.live("seeds every existing row in chunks, checkpoints, and does not re-seed after a restart", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, new Map(Array.from({ length: 2500 }, (_, i) => [String(i + 1), `{"id":${i + 1}}`])))
      const first = yield* start(world, itemsPlan, false)
      const checkpoint = yield* eventually(
        Ref.get(world.checkpoints).pipe(Effect.map((m) => m.get("items_1"))),
        (c) => c?.seeded === true
      )
      yield* Fiber.interrupt(first)
      expect(checkpoint?.cursor).toEqual(["2500"])
      expect((yield* Ref.get(world.index)).size).toBe(2500)
      const builds = (yield* Ref.get(world.journal)).filter((e) => e.step === "build").length
      expect(builds).toBe(3)

      const second = yield* start(world, itemsPlan, false)
      yield* Effect.sleep("200 millis")
      yield* Fiber.interrupt(second)
      expect((yield* Ref.get(world.journal)).filter((e) => e.step === "build").length).toBe(3)
    }))

  it.live("waits until every transaction of the batch is visible before it resolves or builds anything", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(3))
      yield* Queue.offerAll(world.events, [
        rowChange("insert", 1, { xid: 700, commitLsn: 100n }),
        commit(110n),
        rowChange("update", 2, { xid: 701, commitLsn: 120n }),
        rowChange("delete", 3, { xid: 701, commitLsn: 120n }),
        commit(130n)
      ])
      const fiber = yield* start(world)
      const journal = yield* eventually(Ref.get(world.journal), (j) => acks(j).includes(130n))
      yield* Fiber.interrupt(fiber)
      const firstBuild = journal.findIndex((e) => e.step === "build")
      const waits = journal.slice(0, firstBuild).flatMap((e) => (e.step === "visible" ? e.xids : []))
      expect(new Set(waits)).toEqual(new Set([700, 701]))
    }))

  it.live("writes every document of a batch with the batch's highest commit position as its version", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(2))
      yield* Queue.offerAll(world.events, [
        rowChange("insert", 1, { xid: 700, commitLsn: 100n }),
        commit(110n),
        rowChange("delete", 2, { xid: 701, commitLsn: 120n }),
        commit(130n)
      ])
      const fiber = yield* start(world)
      const journal = yield* eventually(Ref.get(world.journal), (j) => acks(j).includes(130n))
      yield* Fiber.interrupt(fiber)
      const versions = journal.flatMap((e) => (e.step === "write" ? e.operations.map((o) => o.version) : []))
      expect(versions).toEqual([120n, 120n])
    }))

  it.live("a seeding pass ends at the highest key it saw when it began, however fast rows keep coming", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(2500))
      // Every read of keys, 1,500 more rows appear: more than a chunk. An unbounded pass never ends.
      yield* Ref.set(world.insertsPerKeyRead, 1500)
      const fiber = yield* start(world, itemsPlan, false)
      const checkpoint = yield* eventually(
        Ref.get(world.checkpoints).pipe(Effect.map((m) => m.get("items_1"))),
        (c) => c?.seeded === true
      )
      yield* Fiber.interrupt(fiber)
      expect(checkpoint?.cursor).toEqual(["2500"])
      const journal = yield* Ref.get(world.journal)
      const reads = journal.flatMap((e) => (e.step === "keys" ? [e] : []))
      expect(reads.every((r) => r.upTo === "2500")).toBe(true)
      expect(reads.length).toBeLessThanOrEqual(3)
      const seeded = new Set(journal.flatMap((e) => (e.step === "seed" ? e.operations.map((o) => o.id) : [])))
      expect(seeded.size).toBe(2500)
    }))

  it.live("seeds with the confirmed position minus one: a live write of a later commit wins in either order", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.acked, 500n)
      yield* Ref.set(world.rows, new Map([["1", `{"id":1,"v":"seen by the backfill"}`]]))
      // The live write of a commit at 500 (not acked when the pass began) landed first.
      yield* Ref.set(world.index, new Map([["1", `{"id":1,"v":"live"}`]]))
      yield* Ref.set(world.versions, new Map([["1", 500n]]))
      const fiber = yield* start(world, itemsPlan, false)
      yield* eventually(Ref.get(world.checkpoints).pipe(Effect.map((m) => m.get("items_1"))), (c) => c?.seeded === true)
      yield* Fiber.interrupt(fiber)
      const journal = yield* Ref.get(world.journal)
      expect(journal.flatMap((e) => (e.step === "seed" ? e.operations.map((o) => o.version) : []))).toEqual([499n])
      expect((yield* Ref.get(world.index)).get("1")).toBe(`{"id":1,"v":"live"}`)
      // Nothing of the backfill went through the live path.
      expect(journal.some((e) => e.step === "write")).toBe(false)
    }))

  it.live("a seeding pass retries a transient failure from its cursor instead of ending the run", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(2500))
      // The first key read works, then the database restarts: two reads fail.
      const fiber = yield* start(world, itemsPlan, false)
      yield* eventually(Ref.get(world.journal), (j) => j.some((e) => e.step === "keys"))
      yield* Ref.set(world.failKeyReads, 2)
      const checkpoint = yield* eventually(
        Ref.get(world.checkpoints).pipe(Effect.map((m) => m.get("items_1"))),
        (c) => c?.seeded === true
      )
      expect(fiber.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(fiber)
      expect(checkpoint?.cursor).toEqual(["2500"])
      expect((yield* Ref.get(world.index)).size).toBe(2500)
    }))

  it.live("refreshes after a batch that did not fill, not after a full one, and after one that needed retries", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(20))
      // maxChanges 4: eight events make two full batches.
      yield* Queue.offerAll(world.events, [1, 2, 3].flatMap((id) => [rowChange("update", id)]).concat([commit(10n)]))
      yield* Queue.offerAll(world.events, [4, 5, 6].flatMap((id) => [rowChange("update", id)]).concat([commit(20n)]))
      const fiber = yield* start(world, itemsPlan, true, 4)
      yield* eventually(Ref.get(world.journal), (j) => acks(j).includes(20n))
      expect((yield* Ref.get(world.journal)).some((e) => e.step === "refresh")).toBe(false)
      // A batch that closes on time is refreshed.
      yield* Queue.offerAll(world.events, [rowChange("update", 7), commit(30n)])
      // Once written; acknowledging does not wait for it.
      const journal = yield* eventually(Ref.get(world.journal), (j) => j.some((e) => e.step === "refresh"))
      expect(journal.findIndex((e) => e.step === "refresh")).toBeGreaterThan(journal.findIndex((e) => writtenIds(e).includes("7")))
      // A full batch that failed once is refreshed when it finally succeeds.
      yield* Ref.set(world.journal, [])
      yield* Ref.set(world.failWrites, 1)
      yield* Queue.offerAll(world.events, [8, 9, 10].map((id) => rowChange("update", id)).concat([commit(40n)]))
      yield* eventually(Ref.get(world.journal), (j) => acks(j).includes(40n))
      // Once the pause after the previous refresh is over.
      yield* eventually(Ref.get(world.journal), (j) => j.some((e) => e.step === "refresh"))
      yield* Fiber.interrupt(fiber)
    }))
})
