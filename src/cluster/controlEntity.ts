/**
 * Reindex requests in a cluster: the private surface of any runner takes them, but only
 * the capture's engine can act on them (generations are started and swapped once per
 * deployment, there). So a runner's requests go to the `flusso-control` entity, which
 * lives in the capture's shard — on the runner holding the capture — and hands them to
 * that runner's engine, answering once the rebuild has begun. The request's `done` is
 * completed with that answer too: how the rebuild ends is known on the capture runner
 * (its `/indexes`, its log), not on the runner that was asked.
 */
import { Cause, Deferred, Duration, Effect, Exit, Layer, Option, type Queue, Stream } from "effect"
import { type EngineCommand, request, ReindexRefused } from "../engine/EngineCommand.js"
import { SourceUnavailable } from "../errors.js"
import { captureSingleton } from "./names.js"
import { ControlEntity, ReindexNotStarted } from "./protocol.js"

/** How long the capture runner waits for its engine to take a request (it may be starting). */
const ACCEPT_TIMEOUT = Duration.seconds(8)

/** The handler, on the runner holding the capture: the request goes to its engine (`captureCommands`). */
export const layer = (captureCommands: Queue.Enqueue<EngineCommand>) =>
  ControlEntity.toLayer({
    StartReindex: ({ payload }) =>
      Effect.flatMap(request(captureCommands, payload.index), (command) => Deferred.await(command.accepted)).pipe(
        Effect.timeoutFail({
          duration: ACCEPT_TIMEOUT,
          onTimeout: () => new ReindexNotStarted({ reason: "the capture is not running yet (still starting?); try again", unknownIndex: false, notRunning: true })
        }),
        Effect.catchAll((error) =>
          Effect.fail(
            error instanceof ReindexNotStarted
              ? error
              : new ReindexNotStarted({
                reason: error instanceof ReindexRefused ? error.reason : error.message,
                unknownIndex: error instanceof ReindexRefused && error.reason.startsWith("no enabled index"),
                notRunning: false
              })
          )
        )
      )
  })

/**
 * Reads this runner's requests (`requests`, what its private surface sends) and forwards
 * each to the capture, completing it with the answer.
 */
export const forwarding = (slot: string, requests: Queue.Dequeue<EngineCommand>) =>
  Layer.scopedDiscard(
    Effect.gen(function*() {
      const control = yield* ControlEntity.client
      const forward = (command: EngineCommand) =>
        control(captureSingleton(slot)).StartReindex({ index: command.index }).pipe(
          Effect.exit,
          Effect.flatMap((exit) => {
            const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
            // Not running yet: left unanswered, so the surface says "not running yet; try again" (503), as one process does.
            if (Option.isSome(failure) && failure.value._tag === "ReindexNotStarted" && failure.value.notRunning) return Effect.void
            const answer = Exit.mapError(exit, (error) =>
              error._tag === "ReindexNotStarted"
                ? new ReindexRefused({ index: command.index, reason: error.unknownIndex ? "no enabled index has that name" : error.reason })
                : new SourceUnavailable({ reason: `the capture could not be asked: ${error.message}` }))
            return Effect.all([Deferred.done(command.accepted, answer), Deferred.done(command.done, Exit.asVoid(answer))], { discard: true })
          })
        )
      yield* Stream.fromQueue(requests).pipe(
        Stream.mapEffect(forward, { concurrency: "unbounded" }),
        Stream.runDrain,
        Effect.forkScoped
      )
    })
  )
