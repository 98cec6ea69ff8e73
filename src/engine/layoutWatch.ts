/**
 * Rows that come and go without a row event — a partition attached with rows, detached,
 * dropped or truncated — would leave an index stale for good. So each index's source
 * layout (`ChangeSource.layout`) is recorded in the checkpoint of the generation built
 * from it, compared at start and then every few seconds, and a change that may have moved
 * rows rebuilds the index into a new generation while the current one serves. The record
 * is durable: a change made while flusso was down, or just before a crash, is found at
 * the next start.
 */
import { Effect, Option, Ref, Schedule } from "effect"
import type { CheckpointStore } from "../checkpoint/CheckpointStore.js"
import type { EngineError } from "../errors.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import type { ChangeSource } from "../source/ChangeSource.js"
import type { SinkIndex } from "../sink/Sink.js"
import { retryTransient } from "./transient.js"

export interface LayoutWatch {
  /**
   * At start, before any seeding: records the layout on generations that have none, and
   * answers the indexes whose layout changed since their generation was built, with why.
   */
  readonly atStart: (
    targets: ReadonlyArray<{ readonly target: SinkIndex; readonly layout: string | null }>
  ) => Effect.Effect<ReadonlyMap<string, ReadonlyArray<string>>, EngineError>
  /** Generations just started for `plan` (not yet seeded): they are built from the layout as it is now. */
  readonly started: (plan: IndexPlan, fresh: ReadonlyArray<SinkIndex>) => Effect.Effect<void, EngineError>
  /**
   * Every `every`, for each watched index: a layout change that moved no rows is recorded,
   * one that may have is handed to `rebuild` (none when the index is being built already;
   * then it is looked at again next time).
   */
  readonly watch: <R>(every: number, rebuild: Rebuild<R>) => Effect.Effect<void, EngineError, R>
}

/** Rebuilds an index whose rows changed unstreamed, for the reasons given; false when it is being built already. */
export type Rebuild<R> = (plan: IndexPlan, reasons: ReadonlyArray<string>) => Effect.Effect<boolean, EngineError, R>

export const make = (options: {
  readonly plans: ReadonlyArray<IndexPlan>
  readonly source: ChangeSource
  readonly checkpoints: CheckpointStore
}): Effect.Effect<LayoutWatch> =>
  Effect.gen(function*() {
    const { checkpoints, plans, source } = options
    // Per index: the layout its newest generations were built from, and those generations.
    const expected = yield* Ref.make(new Map<string, string>())
    const newest = yield* Ref.make(new Map<string, ReadonlyArray<SinkIndex>>())
    const byName = new Map(plans.map((p) => [p.name, p]))

    const record = (targets: ReadonlyArray<SinkIndex>, layout: string) =>
      Effect.forEach(targets, (target) => retryTransient("recording the source layout", checkpoints.saveLayout(target, layout)), {
        discard: true
      })

    const atStart: LayoutWatch["atStart"] = (entries) =>
      Effect.gen(function*() {
        const changed = new Map<string, ReadonlyArray<string>>()
        for (const plan of plans) {
          const current = yield* retryTransient("reading the source layout", source.layout(plan))
          if (current === null) continue
          const mine = entries.filter((e) => e.target.index === plan.name)
          const reasons = new Set<string>()
          for (const { layout } of mine) {
            if (layout === null) continue
            for (const reason of yield* retryTransient("comparing the source layout", source.layoutChanges(layout, current))) reasons.add(reason)
          }
          yield* Ref.update(newest, (map) => new Map(map).set(plan.name, mine.map((e) => e.target)))
          yield* Ref.update(expected, (map) => new Map(map).set(plan.name, current))
          if (reasons.size > 0) changed.set(plan.name, [...reasons])
          // A generation about to be rebuilt keeps its record: were the rebuild lost in a crash, the next start finds the change again.
          else yield* record(mine.filter((e) => e.layout !== current).map((e) => e.target), current)
        }
        return changed
      })

    const started: LayoutWatch["started"] = (plan, fresh) =>
      Effect.gen(function*() {
        if (fresh.length === 0) return
        const current = yield* retryTransient("reading the source layout", source.layout(plan))
        const sinks = new Set(fresh.map((t) => t.sink))
        yield* Ref.update(newest, (map) => new Map(map).set(plan.name, [...(map.get(plan.name) ?? []).filter((t) => !sinks.has(t.sink)), ...fresh]))
        if (current === null) return
        yield* record(fresh, current)
        yield* Ref.update(expected, (map) => new Map(map).set(plan.name, current))
      })

    /** One look at an index's layout: recorded when no rows moved, rebuilt when they may have. */
    const look = <R>(plan: IndexPlan, rebuild: Rebuild<R>) =>
      Effect.gen(function*() {
        const before = (yield* Ref.get(expected)).get(plan.name)
        if (before === undefined) return
        // A layout that cannot be read now is read at the next look: the sync goes on meanwhile.
        const seen = yield* Effect.gen(function*() {
          const current = yield* source.layout(plan)
          if (current === null || current === before) return undefined
          return { current, reasons: yield* source.layoutChanges(before, current) }
        }).pipe(Effect.catchAll((error) => Effect.as(Effect.logWarning(`reading the source layout failed: ${error.message}`), undefined)))
        if (seen === undefined) return
        if (seen.reasons.length === 0) {
          yield* record((yield* Ref.get(newest)).get(plan.name) ?? [], seen.current)
          yield* Ref.update(expected, (map) => new Map(map).set(plan.name, seen.current))
          return
        }
        // `started` records the layout on the new generations once the rebuild begins (a
        // rebuild that fails fails the run, as seeding does); if the index is being built
        // already, the change is looked at again next time.
        if (!(yield* rebuild(plan, seen.reasons))) yield* Effect.logDebug("the index is being built already; looking again shortly")
      }).pipe(Effect.annotateLogs("index", plan.name))

    const watch = <R>(every: number, rebuild: Rebuild<R>): Effect.Effect<void, EngineError, R> =>
      Effect.gen(function*() {
        const watched = [...(yield* Ref.get(expected)).keys()].flatMap((name) => Option.toArray(Option.fromNullable(byName.get(name))))
        // Each index on its own: one being rebuilt holds up no other.
        yield* Effect.forEach(watched, (plan) => look(plan, rebuild).pipe(Effect.repeat(Schedule.spaced(`${every} seconds`))), {
          concurrency: "unbounded",
          discard: true
        })
      })

    return { atStart, started, watch }
  })
