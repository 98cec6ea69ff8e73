import { Effect, Exit, Ref } from "effect"
import { describe, expect, it } from "vitest"
import { SinkRequestFailed, SinkUnavailable } from "../../../src/errors.js"
import { retryableStatus } from "../../../src/sink/opensearch/request.js"
import { retryTransient } from "../../../src/sink/opensearch/retryPolicy.js"

const fast = { base: "1 millis", cap: "2 millis", maxRetries: 3 } as const

/** An effect failing with `error` the first `failures` times it runs; counts its runs. */
const flaky = (runs: Ref.Ref<number>, failures: number, error: SinkUnavailable | SinkRequestFailed) =>
  Ref.updateAndGet(runs, (n) => n + 1).pipe(Effect.flatMap((n) => (n <= failures ? Effect.fail(error) : Effect.succeed(n))))

const unavailable = new SinkUnavailable({ sink: "primary", reason: "connect ECONNREFUSED" })
const refused = new SinkRequestFailed({ sink: "primary", status: 400, operation: "bulk", body: "mapper_parsing_exception" })

describe("OpenSearch retries", () => {
  it("waits out overload and gateway statuses only", () => {
    for (const status of [429, 502, 503, 504]) expect(retryableStatus(status), String(status)).toBe(true)
    for (const status of [200, 400, 401, 403, 404, 409, 413, 500]) expect(retryableStatus(status), String(status)).toBe(false)
  })

  it("retries an unavailable cluster up to maxRetries, then lets the error through", async () => {
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const recovers = yield* Ref.make(0)
      const recovered = yield* retryTransient(fast)(flaky(recovers, 3, unavailable))
      const never = yield* Ref.make(0)
      const gaveUp = yield* Effect.exit(retryTransient(fast)(flaky(never, 100, unavailable)))
      return { recovered, gaveUp, neverRuns: yield* Ref.get(never) }
    }))
    expect(outcome.recovered).toBe(4)
    expect(Exit.isFailure(outcome.gaveUp)).toBe(true)
    expect(outcome.neverRuns).toBe(1 + fast.maxRetries)
  })

  it("never retries a refused request: it would be refused again", async () => {
    const runs = await Effect.runPromise(Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      yield* Effect.exit(retryTransient(fast)(flaky(runs, 100, refused)))
      return yield* Ref.get(runs)
    }))
    expect(runs).toBe(1)
  })
})
