/**
 * How OpenSearch requests are retried: transient failures only (`SinkUnavailable`),
 * exponential from 100 ms, jittered so many writers do not retry in step, each delay
 * capped at 10 s, at most `maxRetries` times. After that the error surfaces and the
 * engine decides (its own, slower retry keeps the batch unacked).
 */
import { Duration, Effect, Schedule } from "effect"
import type { SinkError } from "../../errors.js"

export interface RetryOptions {
  readonly maxRetries: number
  readonly base?: Duration.DurationInput
  readonly cap?: Duration.DurationInput
}

export const retrySchedule = (options: RetryOptions): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential(options.base ?? Duration.millis(100)).pipe(
    Schedule.jittered,
    // union = the shorter delay of the two: the cap.
    Schedule.union(Schedule.spaced(options.cap ?? Duration.seconds(10))),
    Schedule.intersect(Schedule.recurs(options.maxRetries))
  )

export const retryTransient =
  (options: RetryOptions) =>
  <A, R>(effect: Effect.Effect<A, SinkError, R>): Effect.Effect<A, SinkError, R> =>
    Effect.retry(
      // Every transient failure is logged: an outage must be visible while it is being retried.
      Effect.tapError(effect, (error) =>
        error._tag === "SinkUnavailable" ? Effect.logWarning(`${error.message}; retrying`) : Effect.void
      ),
      {
        schedule: retrySchedule(options),
        while: (error) => error._tag === "SinkUnavailable"
      }
    )
