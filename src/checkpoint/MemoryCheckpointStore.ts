/**
 * A CheckpointStore in a `Ref`: progress lasts as long as the process. Right for tests
 * and for sinks with nothing durable to keep it beside (stdout: re-seeded every run).
 */
import { Effect, Layer, Ref } from "effect"
import type { SinkIndex } from "../sink/Sink.js"
import { CheckpointStore } from "./CheckpointStore.js"
import type { Checkpoint } from "./CheckpointStore.js"

const unseeded: Checkpoint = { seeded: false, cursor: null, layout: null }

const keyOf = (target: SinkIndex): string => `${target.sink}:${target.generation}`

export const make: Effect.Effect<CheckpointStore> = Effect.map(
  Ref.make<ReadonlyMap<string, Checkpoint>>(new Map()),
  (entries): CheckpointStore => {
    const update = (target: SinkIndex, f: (current: Checkpoint) => Checkpoint) =>
      Ref.update(entries, (map) => new Map([...map, [keyOf(target), f(map.get(keyOf(target)) ?? unseeded)]]))
    return {
      get: (target) => Effect.map(Ref.get(entries), (map) => map.get(keyOf(target)) ?? unseeded),
      saveCursor: (target, cursor) => update(target, (current) => ({ ...current, cursor })),
      markSeeded: (target) => update(target, (current) => ({ ...current, seeded: true })),
      saveLayout: (target, layout) => update(target, (current) => ({ ...current, layout }))
    }
  }
)

export const layer: Layer.Layer<CheckpointStore> = Layer.effect(CheckpointStore, make)
