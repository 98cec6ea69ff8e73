/**
 * Telling `Status` that something fails transiently and is retried, from wherever the
 * retry happens — an engine stage, a layer waiting for its database, the replication
 * stream reconnecting: `/status` shows the `retrying` phase, the failure is counted in
 * `flusso_errors_total` and kept as `lastError`. Without a `Status` in context (a unit
 * test, an embedding that does not want one) nothing is recorded.
 */
import { Effect, Option } from "effect"
import { Status } from "./Status.js"

const withStatus = (f: (status: Status["Type"]) => Effect.Effect<void>): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(Status), Option.match({ onNone: () => Effect.void, onSome: f }))

/** `what` failed with `message` and will be tried again. */
export const retrying = (what: string, message: string): Effect.Effect<void> =>
  withStatus((status) => status.retrying(what, true).pipe(Effect.zipRight(status.failed(`${what}: ${message}`))))

/** `what` succeeded after failing. */
export const recovered = (what: string): Effect.Effect<void> => withStatus((status) => status.retrying(what, false))

/** One failed attempt of something retried at once where it failed (a request): counted and kept as the last error. */
export const failedAttempt = (message: string): Effect.Effect<void> => withStatus((status) => status.failed(message))
