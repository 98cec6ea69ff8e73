/**
 * Rows that change without row events (partitions attached, detached, truncated): the
 * engine records each generation's source layout, rebuilds the index into a new
 * generation when the layout changes under it — while running, or while it was stopped —
 * and records the new layout on the generation it builds, so one change costs one rebuild.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Ref } from "effect"
import { run } from "../../../src/engine/Engine.js"
import { itemsPlan, layers, makeWorld, type MemoryWorld, eventually, rows } from "../../support/memory.js"

const start = (world: MemoryWorld) =>
  run({ indexes: [itemsPlan], batch: { maxChanges: 100, maxDelayMs: 20 }, backfillChunk: 100, layoutPollSeconds: 0.05 }).pipe(
    Effect.provide(layers(world)),
    Effect.fork
  )

const swaps = (world: MemoryWorld) =>
  Ref.get(world.journal).pipe(Effect.map((journal) => journal.flatMap((e) => (e.step === "swap" ? [e.generation] : []))))

describe("the source layout", () => {
  it.live("recorded with the first generation; a change while running rebuilds once into a new generation that records it", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(150))
      yield* Ref.set(world.layout, "A")
      const fiber = yield* start(world)
      yield* eventually(swaps(world), (s) => s.includes("items_1"))
      expect((yield* Ref.get(world.checkpoints)).get("items_1")?.layout).toBe("A")

      yield* Ref.set(world.layout, "B")
      yield* eventually(swaps(world), (s) => s.includes("items_2"))
      const checkpoints = yield* Ref.get(world.checkpoints)
      expect(checkpoints.get("items_2")).toMatchObject({ seeded: true, layout: "B" })
      // Seeded from a pass of its own: every row written into items_2.
      const journal = yield* Ref.get(world.journal)
      const seeded = new Set(journal.flatMap((e) => (e.step === "seed" && e.generation === "items_2" ? e.operations.map((o) => o.id) : [])))
      expect(seeded.size).toBe(150)
      // And only once: the next looks find the layout it was built from.
      yield* Effect.sleep("300 millis")
      expect(yield* swaps(world)).toEqual(["items_1", "items_2"])
      yield* Fiber.interrupt(fiber)
    }))

  it.live("a change made while stopped is found at the next start; none, and nothing is rebuilt", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(10))
      yield* Ref.set(world.layout, "A")
      const first = yield* start(world)
      yield* eventually(swaps(world), (s) => s.includes("items_1"))
      yield* Fiber.interrupt(first)

      // Restarted unchanged: nothing to do.
      const second = yield* start(world)
      yield* Effect.sleep("300 millis")
      expect(yield* swaps(world)).toEqual(["items_1"])
      yield* Fiber.interrupt(second)

      // Changed while stopped: rebuilt at start.
      yield* Ref.set(world.layout, "C")
      const third = yield* start(world)
      yield* eventually(swaps(world), (s) => s.includes("items_2"))
      expect((yield* Ref.get(world.checkpoints)).get("items_2")?.layout).toBe("C")
      yield* Fiber.interrupt(third)
    }))
})
