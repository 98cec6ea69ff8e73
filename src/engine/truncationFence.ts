/**
 * Orders a root-table TRUNCATE against seeding writes of the same index. The truncate
 * empties the index with an unversioned delete (every document goes; there is no version
 * to compare), so a seeding chunk whose rows were read before the TRUNCATE committed but
 * whose write lands after the delete would bring those rows back, and nothing would ever
 * remove them again. Each index has an epoch:
 * - a seeding chunk notes the epoch before it reads its rows, and writes only while the
 *   epoch is still that one (checked and registered as in flight in one transaction);
 *   otherwise it is dropped: every row it read was truncated, and rows inserted since
 *   reach the index through the live stream, whose batches write after the truncate;
 * - a truncate moves the epoch on first, so no chunk read before it can begin writing,
 *   then waits for the writes already in flight, then deletes.
 * A write never waits for a truncate and a truncate waits only for writes begun before
 * it: neither can starve the other under a steady stream of the other kind.
 */
import { Effect, Option, STM, TRef } from "effect"

interface IndexFence {
  readonly epoch: number
  /** Writes in flight that began in the current epoch. */
  readonly current: number
  /** Writes in flight that began in an earlier epoch: what a truncate waits for. */
  readonly earlier: number
}

const initial: IndexFence = { epoch: 0, current: 0, earlier: 0 }

export interface TruncationFence {
  /** The index's epoch now: note it before reading the rows a write will carry. */
  readonly epoch: (index: string) => Effect.Effect<number>
  /** `write` if no truncate of the index began since `epoch` (Some), else nothing (None). */
  readonly writeSince: <A, E, R>(index: string, epoch: number, write: Effect.Effect<A, E, R>) => Effect.Effect<Option.Option<A>, E, R>
  /** `truncate`, once no write begun before it is still in flight. */
  readonly truncating: <A, E, R>(index: string, truncate: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

export const make: Effect.Effect<TruncationFence> = Effect.map(
  TRef.make<ReadonlyMap<string, IndexFence>>(new Map()),
  (fences): TruncationFence => {
    const fenceOf = (index: string) => TRef.get(fences).pipe(STM.map((all) => all.get(index) ?? initial))
    const set = (index: string, fence: IndexFence) => TRef.update(fences, (all) => new Map(all).set(index, fence))

    const enter = (index: string, epoch: number) =>
      fenceOf(index).pipe(
        STM.flatMap((fence) => fence.epoch === epoch ? STM.as(set(index, { ...fence, current: fence.current + 1 }), true) : STM.succeed(false)),
        STM.commit
      )
    const leave = (index: string, epoch: number) =>
      fenceOf(index).pipe(
        STM.flatMap((fence) =>
          set(index, fence.epoch === epoch ? { ...fence, current: fence.current - 1 } : { ...fence, earlier: fence.earlier - 1 })
        ),
        STM.commit
      )
    const moveOn = (index: string) =>
      fenceOf(index).pipe(
        STM.flatMap((fence) => set(index, { epoch: fence.epoch + 1, current: 0, earlier: fence.earlier + fence.current })),
        STM.commit
      )
    // Suspends until the count changes to 0 (STM retries when the TRef changes).
    const drained = (index: string) => fenceOf(index).pipe(STM.flatMap((fence) => STM.check(() => fence.earlier === 0)), STM.commit)

    return {
      epoch: (index) => STM.commit(STM.map(fenceOf(index), (fence) => fence.epoch)),
      writeSince: (index, epoch, write) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(enter(index, epoch), (entered) =>
            entered
              ? restore(write).pipe(Effect.map(Option.some), Effect.ensuring(leave(index, epoch)))
              : Effect.succeed(Option.none())
          )
        ),
      truncating: (index, truncate) => moveOn(index).pipe(Effect.zipRight(drained(index)), Effect.zipRight(truncate))
    }
  }
)
