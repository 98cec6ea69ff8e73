/**
 * A TRUNCATE of the root table while the index is being seeded: the truncate empties the
 * index with an unversioned delete, so a seeding chunk that read its rows before the
 * TRUNCATE committed must not land after it (nothing would remove those rows again).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option, Queue, Ref } from "effect"
import { run } from "../../../src/engine/Engine.js"
import * as TruncationFence from "../../../src/engine/truncationFence.js"
import type { SourceEvent } from "../../../src/source/ChangeSource.js"
import { commit, itemsPlan, layers, makeWorld, eventually, rows } from "../../support/memory.js"

const truncateItems: SourceEvent = { _tag: "TableTruncated", xid: 2, commitLsn: 5n, tables: ["public.items"] }

describe("TRUNCATE of the root table during seeding", () => {
  it.live("a chunk read before it is dropped rather than written after it", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(10))
      const gate = yield* Deferred.make<void>()
      yield* Ref.set(world.buildGate, gate)
      const fiber = yield* run({ indexes: [itemsPlan], batch: { maxChanges: 100, maxDelayMs: 5 }, backfillChunk: 100 }).pipe(
        Effect.provide(layers(world)),
        Effect.fork
      )
      // The seeding chunk has read rows 1..10 and waits before writing them.
      yield* eventually(Ref.get(world.journal), (j) => j.some((e) => e.step === "build" && e.ids.length === 10))
      yield* Ref.set(world.buildGate, undefined)

      // TRUNCATE items commits; the live pipeline empties the index.
      yield* Ref.set(world.rows, new Map())
      yield* Queue.offerAll(world.events, [truncateItems, commit(6n)])
      yield* eventually(Ref.get(world.journal), (j) => j.some((e) => e.step === "truncate"))

      // The chunk goes on; the pass ends and swaps in.
      yield* Deferred.succeed(gate, undefined)
      yield* eventually(Ref.get(world.checkpoints), (c) => c.get("items_1")?.seeded === true)
      yield* eventually(Ref.get(world.acked), (lsn) => lsn >= 6n)

      expect([...(yield* Ref.get(world.index)).keys()]).toEqual([])
      const journal = yield* Ref.get(world.journal)
      expect(journal.filter((e) => e.step === "seed")).toEqual([])
      yield* Fiber.interrupt(fiber)
    }))

  it.live("a chunk read after it is written as usual", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const fiber = yield* run({ indexes: [itemsPlan], batch: { maxChanges: 100, maxDelayMs: 5 }, skipBackfill: true }).pipe(
        Effect.provide(layers(world)),
        Effect.fork
      )
      yield* Queue.offerAll(world.events, [truncateItems, commit(6n)])
      yield* eventually(Ref.get(world.journal), (j) => j.some((e) => e.step === "truncate"))
      yield* eventually(Ref.get(world.acked), (lsn) => lsn >= 6n)
      yield* Fiber.interrupt(fiber)

      // A reseed after the truncate (rows inserted since): every chunk lands.
      yield* Ref.set(world.rows, rows(3))
      const again = yield* run({ indexes: [itemsPlan], batch: { maxChanges: 100, maxDelayMs: 5 }, backfillChunk: 2 }).pipe(
        Effect.provide(layers(world)),
        Effect.fork
      )
      yield* eventually(Ref.get(world.checkpoints), (c) => c.get("items_1")?.seeded === true)
      expect([...(yield* Ref.get(world.index)).keys()].sort()).toEqual(["1", "2", "3"])
      yield* Fiber.interrupt(again)
    }))
})

describe("TruncationFence", () => {
  it.live("a truncate waits for writes begun before it, not for writes begun after it; a write read before it is refused", () =>
    Effect.gen(function*() {
      const fence = yield* TruncationFence.make
      const order = yield* Ref.make<ReadonlyArray<string>>([])
      const note = (what: string) => Ref.update(order, (o) => [...o, what])

      const before = yield* fence.epoch("items")
      const entered = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const oldWrite = Deferred.succeed(entered, undefined).pipe(Effect.zipRight(Deferred.await(release)), Effect.zipRight(note("old write")))
      const inFlight = yield* Effect.fork(fence.writeSince("items", before, oldWrite))
      yield* Deferred.await(entered)
      const truncate = yield* Effect.fork(fence.truncating("items", note("truncate")))
      yield* Effect.sleep("50 millis")
      expect(truncate.unsafePoll()).toBeNull()

      // Read before the truncate began: refused, while the truncate still waits.
      expect(yield* fence.writeSince("items", before, note("stale write"))).toEqual(Option.none())
      // Read after it began: written at once, not held behind it.
      const after = yield* fence.epoch("items")
      expect(after).toBeGreaterThan(before)
      expect(Option.isSome(yield* fence.writeSince("items", after, note("new write")))).toBe(true)
      expect(truncate.unsafePoll()).toBeNull()

      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(inFlight)
      yield* Fiber.join(truncate)
      expect(yield* Ref.get(order)).toEqual(["new write", "old write", "truncate"])
      // Other indexes are not fenced.
      expect(Option.isSome(yield* fence.writeSince("orders", 0, Effect.void))).toBe(true)
    }))
})
