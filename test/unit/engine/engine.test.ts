import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Metric, Queue, Ref, Schedule } from "effect"
import { documentsQuarantined, run } from "../../../src/engine/Engine.js"
import type { IndexPlan } from "../../../src/schema/IndexPlan.js"
import { commit, itemsPlan, type JournalEntry, layers, makeWorld, type MemoryWorld, rowChange } from "../../support/memory.js"

const start = (world: MemoryWorld, plan: IndexPlan = itemsPlan, skipBackfill = true) =>
  run({ indexes: [plan], batch: { maxChanges: 1000, maxDelayMs: 20 }, skipBackfill, backfillChunk: 1000 }).pipe(
    Effect.provide(layers(world)),
    Effect.fork
  )

/** Polls until `check` holds (fails the test after ~5 s). */
const eventually = <A>(effect: Effect.Effect<A>, check: (a: A) => boolean) =>
  effect.pipe(
    Effect.filterOrFail(check, () => new Error("condition not reached")),
    Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("5 seconds"))),
    Effect.orDie
  )

const acks = (journal: ReadonlyArray<JournalEntry>) => journal.flatMap((e) => (e.step === "ack" ? [e.lsn] : []))
const writtenIds = (entry: JournalEntry) => (entry.step === "write" ? entry.operations.map((o) => o.id) : [])

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
      // Builds are retried, proving the batch was attempted several times.
      yield* eventually(Ref.get(world.journal), (j) => j.filter((e) => e.step === "build").length >= 3)
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
})
