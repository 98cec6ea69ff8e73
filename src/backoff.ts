/**
 * How flusso waits out a transient failure, everywhere it retries (a batch, a bulk
 * request, the replication connection, a seeding pass): exponential from `base`,
 * jittered so many retriers do not move in step, each delay capped. The cap is short
 * (5 s by default) because it bounds how long a recovered service stays unused: the
 * first retry after Postgres or OpenSearch comes back is at most that far away.
 */
import { Duration, Schedule } from "effect"

export interface BackoffOptions {
  readonly base?: Duration.DurationInput
  readonly cap?: Duration.DurationInput
}

export const backoff = (options: BackoffOptions = {}): Schedule.Schedule<Duration.Duration> =>
  Schedule.exponential(options.base ?? Duration.millis(100), 2).pipe(
    Schedule.jittered,
    // union = the shorter delay of the two: the cap.
    Schedule.union(Schedule.spaced(options.cap ?? Duration.seconds(5))),
    Schedule.map(([delay]) => delay)
  )
