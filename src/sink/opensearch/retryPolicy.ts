/**
 * How OpenSearch requests are retried: transient failures only (`SinkUnavailable`), with
 * flusso's `backoff`, at most `maxRetries` times. After that the error surfaces and the
 * engine decides (its own retry keeps the batch unacked and rebuilds it from current state).
 */
import { Effect, Schedule } from "effect"
import { backoff, type BackoffOptions } from "../../backoff.js"
import type { SinkError } from "../../errors.js"

export interface RetryOptions extends BackoffOptions {
  readonly maxRetries: number
}

export const retrySchedule = (options: RetryOptions): Schedule.Schedule<unknown, unknown> =>
  backoff(options).pipe(Schedule.intersect(Schedule.recurs(options.maxRetries)))

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
