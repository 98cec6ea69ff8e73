/**
 * The capture's generation epoch, and the gate between live parts and generation changes.
 * Each runner's sink remembers which generations an index writes to, and only the capture
 * creates and swaps them, so:
 * - every live part carries the epoch it was sent under, and a runner that read its
 *   targets under another epoch reads them again before writing;
 * - a generation change (starting one, swapping one in and deleting those it supersedes)
 *   waits until every part in flight has answered, holds new parts back while it runs,
 *   and moves the epoch on before they go: no part can write into a generation after it
 *   is deleted (a bulk write to a deleted index is refused, or creates it again with a
 *   dynamic mapping), and every later part makes its runner read the targets again.
 */
import { Effect, STM, TRef } from "effect"

export interface GenerationGate {
  /** `part` in flight under the epoch it is given, once no generation change is under way. */
  readonly inFlight: <A, E, R>(part: (epoch: string) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** `change` with no part in flight and none sent meanwhile; the epoch moves on after it (however it ends). */
  readonly exclusively: <A, E, R>(change: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

interface State {
  /** Generation changes under way: no new part goes out. */
  readonly paused: number
  /** Parts sent and not yet answered. */
  readonly inFlight: number
  readonly epoch: number
}

/** `name` makes the epochs of one gate unique among all gates (the capture's incarnation). */
export const make = (name: string): Effect.Effect<GenerationGate> =>
  Effect.map(TRef.make<State>({ paused: 0, inFlight: 0, epoch: 0 }), (state): GenerationGate => {
    const enter = STM.commit(
      TRef.modify(state, (s): [number | undefined, State] => (s.paused > 0 ? [undefined, s] : [s.epoch, { ...s, inFlight: s.inFlight + 1 }]))
    )
    const leave = STM.commit(TRef.update(state, (s) => ({ ...s, inFlight: s.inFlight - 1 })))
    const unpaused = STM.commit(STM.flatMap(TRef.get(state), (s) => STM.check(() => s.paused === 0)))
    const drained = STM.commit(STM.flatMap(TRef.get(state), (s) => STM.check(() => s.inFlight === 0)))

    const inFlight: GenerationGate["inFlight"] = (part) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(enter, (epoch) =>
          epoch === undefined
            ? restore(unpaused).pipe(Effect.zipRight(inFlight(part)))
            : restore(part(`${name}.${epoch}`)).pipe(Effect.ensuring(leave))
        )
      )

    const exclusively: GenerationGate["exclusively"] = (change) =>
      Effect.acquireUseRelease(
        STM.commit(TRef.update(state, (s) => ({ ...s, paused: s.paused + 1 }))),
        () => drained.pipe(Effect.zipRight(change), Effect.ensuring(STM.commit(TRef.update(state, (s) => ({ ...s, epoch: s.epoch + 1 }))))),
        () => STM.commit(TRef.update(state, (s) => ({ ...s, paused: s.paused - 1 })))
      )

    return { inFlight, exclusively }
  })
