/**
 * How OpenSearch requests are retried: transient failures only (`SinkUnavailable`), with
 * flusso's `backoff`, at most `maxRetries` times, each failure logged and counted in
 * `flusso_errors_total`. After that the error surfaces and the
 * engine decides (its own retry keeps the batch unacked and rebuilds it from current state).
 */
import { Effect, Schedule } from "effect"
import { backoff, type BackoffOptions } from "../../backoff.js"
import type { SinkError } from "../../errors.js"
import { failedAttempt } from "../../status/retries.js"

export interface RetryOptions extends BackoffOptions {
  readonly maxRetries: number
}

export const retrySchedule = (options: RetryOptions): Schedule.Schedule<unknown, unknown> =>
  backoff(options).pipe(Schedule.intersect(Schedule.recurs(options.maxRetries)))

export const retryTransient =
  (options: RetryOptions) =>
  <A, R>(effect: Effect.Effect<A, SinkError, R>): Effect.Effect<A, SinkError, R> =>
    Effect.suspend(() => {
      let last: SinkError | undefined
      // Every failure retried here is logged and counted (an outage must be visible while it
      // is being retried); the one that is not retried here surfaces, for the caller to report.
      const schedule = retrySchedule(options).pipe(
        Schedule.whileInput((error: SinkError) => error._tag === "SinkUnavailable"),
        Schedule.onDecision((_, decision) =>
          decision._tag === "Continue" && last !== undefined
            ? Effect.logWarning(`${last.message}; retrying`).pipe(Effect.zipRight(failedAttempt(last.message)))
            : Effect.void
        )
      )
      return Effect.retry(Effect.tapError(effect, (error) => Effect.sync(() => (last = error))), schedule)
    })
