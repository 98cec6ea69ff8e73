/**
 * Which failures the engine waits out — a database or cluster that cannot be reached,
 * times out or is overloaded — and how: `backoff`, for as long as it takes, logging each
 * failure so an outage is visible while it lasts. Anything else ends what failed.
 */
import { Effect, Schedule } from "effect"
import { backoff } from "../backoff.js"
import type { EngineError } from "../errors.js"

export const isTransient = (error: EngineError): boolean => error._tag === "SourceUnavailable" || error._tag === "SinkUnavailable"

/** Retries while the failure is transient: `backoff`, no limit. */
export const whileTransient = backoff().pipe(Schedule.whileInput(isTransient))

/** `effect`, retried from where it stands while it fails transiently; `what` names it in the log. */
export const retryTransient = <A, R>(what: string, effect: Effect.Effect<A, EngineError, R>): Effect.Effect<A, EngineError, R> =>
  effect.pipe(
    Effect.tapError((error) => (isTransient(error) ? Effect.logWarning(`${what} failed, retrying: ${error.message}`) : Effect.void)),
    Effect.retry(whileTransient)
  )
