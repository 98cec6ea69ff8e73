/**
 * Requests to a running engine, read from the queue `Engine.run` is given: how the CLI,
 * the private HTTP surface or an embedding application asks for work beside the sync.
 */
import { Data, Deferred, Effect, Queue } from "effect"
import type { EngineError } from "../errors.js"

/** A reindex the engine cannot start; the index keeps serving as it was. */
export class ReindexRefused extends Data.TaggedError("ReindexRefused")<{
  readonly index: string
  readonly reason: string
}> {
  override get message() {
    return `cannot reindex ${this.index}: ${this.reason}`
  }
}

/**
 * Rebuild an index into a new generation of its shape, live sync running throughout;
 * readers move to it in one atomic alias swap once it is seeded.
 */
export interface Reindex {
  readonly _tag: "Reindex"
  readonly index: string
  /** Completes once the new generation serves; fails with why it was not built. */
  readonly done: Deferred.Deferred<void, EngineError | ReindexRefused>
}

export type EngineCommand = Reindex

/** Asks the engine reading `commands` to reindex `index`, and waits until the new generation serves. */
export const reindex = (
  commands: Queue.Enqueue<EngineCommand>,
  index: string
): Effect.Effect<void, EngineError | ReindexRefused> =>
  Effect.gen(function*() {
    const done = yield* Deferred.make<void, EngineError | ReindexRefused>()
    yield* Queue.offer(commands, { _tag: "Reindex", index, done })
    yield* Deferred.await(done)
  })
