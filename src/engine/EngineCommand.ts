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
  /** Completes once the rebuild has begun, with the generations being built; fails with why it was refused. */
  readonly accepted: Deferred.Deferred<ReadonlyArray<string>, EngineError | ReindexRefused>
  /** Completes once the new generation serves; fails with why it was not built. */
  readonly done: Deferred.Deferred<void, EngineError | ReindexRefused>
}

export type EngineCommand = Reindex

/** Asks the engine reading `commands` to reindex `index`. */
export const request = (
  commands: Queue.Enqueue<EngineCommand>,
  index: string
): Effect.Effect<Reindex> =>
  Effect.gen(function*() {
    const command: Reindex = {
      _tag: "Reindex",
      index,
      accepted: yield* Deferred.make<ReadonlyArray<string>, EngineError | ReindexRefused>(),
      done: yield* Deferred.make<void, EngineError | ReindexRefused>()
    }
    yield* Queue.offer(commands, command)
    return command
  })

/** Asks the engine reading `commands` to reindex `index`, and waits until the new generation serves. */
export const reindex = (
  commands: Queue.Enqueue<EngineCommand>,
  index: string
): Effect.Effect<void, EngineError | ReindexRefused> => Effect.flatMap(request(commands, index), (command) => Deferred.await(command.done))
