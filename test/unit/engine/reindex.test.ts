/**
 * A reindex meeting a backfill of the same index: refused while that backfill reads rows,
 * accepted once its rows are durable (it only swaps in then, and whoever reads "seeded"
 * in the checkpoints or /status acts on it).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Queue, Ref } from "effect"
import { run } from "../../../src/engine/Engine.js"
import * as EngineCommand from "../../../src/engine/EngineCommand.js"
import { itemsPlan, layers, makeWorld, type MemoryWorld, eventually, rows } from "../../support/memory.js"

/** The engine seeding `items` at start, reading reindex commands from the returned queue. */
const start = (world: MemoryWorld) =>
  Effect.gen(function*() {
    const commands = yield* Queue.unbounded<EngineCommand.EngineCommand>()
    const fiber = yield* run({ indexes: [itemsPlan], batch: { maxChanges: 100, maxDelayMs: 20 }, backfillChunk: 100, commands }).pipe(
      Effect.provide(layers(world)),
      Effect.fork
    )
    return { commands, fiber }
  })

describe("reindex beside a backfill", () => {
  it.live("waits for a backfill that is swapping in (its rows durable, the checkpoint saying seeded), then builds", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(250))
      const gate = yield* Deferred.make<void>()
      yield* Ref.set(world.swapGate, gate)
      const { commands, fiber } = yield* start(world)
      // The startup backfill has written every row and is swapping items_1 in.
      yield* eventually(Ref.get(world.journal), (j) => j.some((e) => e.step === "swap" && e.generation === "items_1"))

      const command = yield* EngineCommand.request(commands, "items")
      const accepted = yield* Effect.fork(Deferred.await(command.accepted))
      yield* Effect.sleep("50 millis")
      // Not refused while it waits: nothing answered yet.
      expect(accepted.unsafePoll()).toBeNull()
      yield* Ref.set(world.swapGate, undefined)
      yield* Deferred.succeed(gate, undefined)

      expect(yield* Fiber.join(accepted)).toEqual(["items_2"])
      yield* Deferred.await(command.done)
      const journal = yield* Ref.get(world.journal)
      const swaps = journal.flatMap((e) => (e.step === "swap" ? [e.generation] : []))
      expect(swaps).toEqual(["items_1", "items_2"])
      // items_2 was seeded from its own pass, begun after items_1's ended.
      const lastSwapOfFirst = journal.findIndex((e) => e.step === "swap" && e.generation === "items_1")
      const firstSeedOfSecond = journal.findIndex((e) => e.step === "seed" && e.generation === "items_2")
      expect(firstSeedOfSecond).toBeGreaterThan(lastSwapOfFirst)
      expect((yield* Ref.get(world.checkpoints)).get("items_2")?.seeded).toBe(true)
      yield* Fiber.interrupt(fiber)
    }))

  it.live("is refused while the backfill still reads rows, and the backfill goes on", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* Ref.set(world.rows, rows(250))
      // Key reads fail (a database restarting): the pass retries and stays unfinished.
      yield* Ref.set(world.failKeyReads, 1_000_000)
      const { commands, fiber } = yield* start(world)
      yield* eventually(Ref.get(world.failKeyReads), (left) => left < 1_000_000)

      const refused = yield* EngineCommand.reindex(commands, "items").pipe(Effect.exit)
      expect(Exit.isFailure(refused)).toBe(true)
      expect(String(Exit.isFailure(refused) ? refused.cause : "")).toMatch(/being seeded already/)

      yield* Ref.set(world.failKeyReads, 0)
      yield* eventually(Ref.get(world.checkpoints).pipe(Effect.map((m) => m.get("items_1")?.seeded)), (seeded) => seeded === true)
      expect((yield* Ref.get(world.index)).size).toBe(250)
      expect((yield* Ref.get(world.checkpoints)).has("items_2")).toBe(false)
      yield* Fiber.interrupt(fiber)
    }))
})
