/**
 * The live pipeline's invariants when batches overlap: a later batch's write may finish
 * first, but nothing is acknowledged past a batch still in flight; a change resolved
 * through the sink's refs, and a root-table truncate, see every earlier batch's writes.
 * Batches are made one transaction each (maxChanges 2: a row change and its commit), and
 * the sink is slowed for chosen documents so the order of completion is forced.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Queue, Ref } from "effect"
import { run } from "../../../src/engine/Engine.js"
import { DocumentBuilder } from "../../../src/source/DocumentBuilder.js"
import { Sink } from "../../../src/sink/Sink.js"
import { commit, itemsPlan, layers, makeWorld, type MemoryWorld, rowChange, eventually } from "../../support/memory.js"

type Step =
  | { readonly step: "write start" | "write end"; readonly ids: ReadonlyArray<string> }
  | { readonly step: "referencing" | "truncate" }

interface Probe {
  readonly steps: Ref.Ref<ReadonlyArray<Step>>
  /** Writes of these ids take this long. */
  readonly slow: ReadonlyMap<string, number>
  /** Deletes of these ids resolve through the sink's refs (a related row without its old values). */
  readonly traced: ReadonlySet<string>
  /** Changes of these ids truncate the root table. */
  readonly truncating: ReadonlySet<string>
}

const note = (probe: Probe, step: Step) => Ref.update(probe.steps, (s) => [...s, step])

/** The memory ports, with the sink's writes timed and slowed and the builder's resolution steered. */
const probed = (world: MemoryWorld, probe: Probe) => {
  const base = layers(world)
  const sink = Layer.effect(Sink, Effect.map(Sink, (memory) => ({
    ...memory,
    write: (sinks: ReadonlyArray<string>, operations: Parameters<typeof memory.write>[1]) => {
      const ids = operations.map((o) => o.id)
      const delay = Math.max(0, ...ids.map((id) => probe.slow.get(id) ?? 0))
      return note(probe, { step: "write start", ids }).pipe(
        Effect.zipRight(Effect.sleep(delay)),
        Effect.zipRight(memory.write(sinks, operations)),
        Effect.tap(() => note(probe, { step: "write end", ids }))
      )
    },
    referencing: () => note(probe, { step: "referencing" }).pipe(Effect.as(["1"])),
    truncate: (sinks: ReadonlyArray<string>, index: string) =>
      note(probe, { step: "truncate" }).pipe(Effect.zipRight(memory.truncate(sinks, index)))
  })))
  const builder = Layer.effect(DocumentBuilder, Effect.map(DocumentBuilder, (memory) => ({
    ...memory,
    resolve: (changes: Parameters<typeof memory.resolve>[0]) =>
      Effect.map(memory.resolve(changes), (resolution) => {
        const ids = changes.flatMap((c) => (c._tag === "RowChange" ? [c.old?.["id"] ?? c.new?.["id"] ?? ""] : []))
        const traced = ids.filter((id) => probe.traced.has(id))
        return {
          ...resolution,
          references: traced.length === 0 ? resolution.references : new Map([["items", new Set(traced.map((id) => `public.parts:${id}`))]]),
          truncated: ids.some((id) => probe.truncating.has(id)) ? new Set(["items"]) : resolution.truncated
        }
      })
  })))
  return { overrides: Layer.provide(Layer.merge(sink, builder), base), base }
}

const start = (world: MemoryWorld, probe: Probe) => {
  const { overrides, base } = probed(world, probe)
  return run({ indexes: [itemsPlan], batch: { maxChanges: 2, maxDelayMs: 20 }, skipBackfill: true }).pipe(
    Effect.provide(overrides),
    Effect.provide(base),
    Effect.fork
  )
}

/** The steps so far, and the position the source was acknowledged to. */
const stepsWithAcks = (world: MemoryWorld, probe: Probe) =>
  Effect.gen(function*() {
    const steps = yield* Ref.get(probe.steps)
    return { steps, acked: yield* Ref.get(world.acked) }
  })

const at = (steps: ReadonlyArray<Step>, predicate: (s: Step) => boolean) => steps.findIndex(predicate)
const isWrite = (kind: "write start" | "write end", id: string) => (s: Step) => s.step === kind && s.ids.includes(id)

describe("live pipeline", () => {
  it.live("overlaps writes of consecutive batches but acknowledges only below every batch in flight", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const probe: Probe = { steps: yield* Ref.make<ReadonlyArray<Step>>([]), slow: new Map([["1", 400]]), traced: new Set(), truncating: new Set() }
      yield* Ref.set(world.rows, new Map([["1", `{"id":1}`], ["2", `{"id":2}`]]))
      yield* Queue.offerAll(world.events, [rowChange("update", 1, { xid: 1, commitLsn: 10n }), commit(11n)])
      const fiber = yield* start(world, probe)
      yield* eventually(Ref.get(probe.steps), (s) => at(s, isWrite("write start", "1")) >= 0)
      yield* Queue.offerAll(world.events, [rowChange("update", 2, { xid: 2, commitLsn: 20n }), commit(21n)])
      // Batch 2 is written while batch 1's write is still in flight…
      yield* eventually(Ref.get(probe.steps), (s) => at(s, isWrite("write end", "2")) >= 0)
      const early = yield* stepsWithAcks(world, probe)
      expect(at(early.steps, isWrite("write end", "1"))).toBe(-1)
      // …and nothing is acknowledged until batch 1 is durable too.
      expect(early.acked).toBe(0n)
      yield* eventually(Ref.get(world.acked), (lsn) => lsn === 21n)
      const late = yield* Ref.get(probe.steps)
      expect(at(late, isWrite("write end", "1"))).toBeGreaterThan(at(late, isWrite("write end", "2")))
      yield* Fiber.interrupt(fiber)
      expect([...(yield* Ref.get(world.index)).keys()].sort()).toEqual(["1", "2"])
    }))

  it.live("searches the refs only once every earlier batch is written", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      // Batch 1 writes document 1 (slowly); batch 2 deletes a related row that only the
      // refs document 1 holds can trace: searched before batch 1 landed, it would miss it.
      const probe: Probe = { steps: yield* Ref.make<ReadonlyArray<Step>>([]), slow: new Map([["1", 300]]), traced: new Set(["9"]), truncating: new Set() }
      yield* Ref.set(world.rows, new Map([["1", `{"id":1}`]]))
      yield* Queue.offerAll(world.events, [
        rowChange("update", 1, { xid: 1, commitLsn: 10n }),
        commit(11n),
        rowChange("delete", 9, { xid: 2, commitLsn: 20n }),
        commit(21n)
      ])
      const fiber = yield* start(world, probe)
      yield* eventually(Ref.get(world.acked), (lsn) => lsn === 21n)
      yield* Fiber.interrupt(fiber)
      const steps = yield* Ref.get(probe.steps)
      const searched = at(steps, (s) => s.step === "referencing")
      expect(searched).toBeGreaterThan(at(steps, isWrite("write end", "1")))
    }))

  it.live("truncates only after earlier batches are written, and writes later batches after the truncate", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      const probe: Probe = { steps: yield* Ref.make<ReadonlyArray<Step>>([]), slow: new Map([["1", 300]]), traced: new Set(), truncating: new Set(["5"]) }
      yield* Ref.set(world.rows, new Map([["1", `{"id":1}`], ["3", `{"id":3}`]]))
      yield* Queue.offerAll(world.events, [
        rowChange("update", 1, { xid: 1, commitLsn: 10n }),
        commit(11n),
        rowChange("delete", 5, { xid: 2, commitLsn: 20n }),
        commit(21n),
        rowChange("insert", 3, { xid: 3, commitLsn: 30n }),
        commit(31n)
      ])
      const fiber = yield* start(world, probe)
      yield* eventually(Ref.get(world.acked), (lsn) => lsn === 31n)
      yield* Fiber.interrupt(fiber)
      const steps = yield* Ref.get(probe.steps)
      const truncated = at(steps, (s) => s.step === "truncate")
      expect(truncated).toBeGreaterThan(at(steps, isWrite("write end", "1")))
      expect(at(steps, isWrite("write start", "3"))).toBeGreaterThan(truncated)
      // What the truncate removed stays removed; what came after it is there.
      expect([...(yield* Ref.get(world.index)).keys()]).toEqual(["3"])
    }))
})
