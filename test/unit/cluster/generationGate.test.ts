/**
 * The capture's generation gate (src/cluster/generationGate.ts): a generation change
 * waits for every live part in flight, holds new parts back while it runs, and moves the
 * epoch on, so a part sent after it makes its runner read the index targets again.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref, TestClock } from "effect"
import * as GenerationGate from "../../../src/cluster/generationGate.js"

describe("GenerationGate", () => {
  it.effect("a change waits for parts in flight, holds new ones back, and moves the epoch on", () =>
    Effect.gen(function*() {
      const gate = yield* GenerationGate.make("capture")
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const note = (entry: string) => Ref.update(log, (l) => [...l, entry])

      const release = yield* Deferred.make<void>()
      const first = yield* Effect.fork(gate.inFlight((epoch) => note(`first sent under ${epoch}`).pipe(Effect.zipRight(Deferred.await(release)), Effect.zipRight(note("first answered")))))
      yield* TestClock.adjust("1 millis")
      const change = yield* Effect.fork(gate.exclusively(note("generation changed")))
      yield* TestClock.adjust("1 millis")
      const second = yield* Effect.fork(gate.inFlight((epoch) => note(`second sent under ${epoch}`)))
      yield* TestClock.adjust("1 millis")
      // The change waits for the first part; the second part waits for the change.
      expect(yield* Ref.get(log)).toEqual(["first sent under capture.0"])

      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(change)
      yield* Fiber.join(second)
      expect(yield* Ref.get(log)).toEqual(["first sent under capture.0", "first answered", "generation changed", "second sent under capture.1"])
    }))

  it.effect("a failed change still moves the epoch on and lets parts go", () =>
    Effect.gen(function*() {
      const gate = yield* GenerationGate.make("c")
      const failed = yield* Effect.flip(gate.exclusively(Effect.fail("refused")))
      expect(failed).toBe("refused")
      expect(yield* gate.inFlight((epoch) => Effect.succeed(epoch))).toBe("c.1")
    }))
})
