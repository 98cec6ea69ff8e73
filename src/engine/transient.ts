/**
 * Which failures the engine waits out — a database or cluster that cannot be reached,
 * times out or is overloaded — and how: `backoff`, for as long as it takes, logging each
 * failure and recording it in `Status` (status/retries.ts), so an outage is visible while
 * it lasts. Anything else ends what failed.
 */
import { Effect, Schedule } from "effect"
import { backoff } from "../backoff.js"
import type { EngineError } from "../errors.js"
import { recovered, retrying } from "../status/retries.js"

export const isTransient = (error: EngineError): boolean => error._tag === "SourceUnavailable" || error._tag === "SinkUnavailable"

/** Retries while the failure is transient: `backoff`, no limit. */
export const whileTransient = backoff().pipe(Schedule.whileInput(isTransient))

/** `effect`, retried from where it stands while it fails transiently; `what` names it in the log and the status. */
export const retryTransient = <A, R>(what: string, effect: Effect.Effect<A, EngineError, R>): Effect.Effect<A, EngineError, R> =>
  Effect.suspend(() => {
    let failed = false
    return effect.pipe(
      Effect.tapError((error) => {
        if (!isTransient(error)) return Effect.void
        failed = true
        return Effect.logWarning(`${what} failed, retrying: ${error.message}`).pipe(Effect.zipRight(retrying(what, error.message)))
      }),
      Effect.retry(whileTransient),
      // Retrying ends however it ends: a success, or a failure that is not waited out.
      Effect.onExit(() => (failed ? recovered(what) : Effect.void))
    )
  })
