/**
 * What `/status` derives: an index's state from its generations, seeding and failure, and
 * the phase from what is being retried (status/Status.ts, indexState.ts, retries.ts).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { indexState } from "../../../src/status/indexState.js"
import { recovered, retrying } from "../../../src/status/retries.js"
import * as StatusLayer from "../../../src/status/Status.js"
import { REPLICATION_STREAM, Status } from "../../../src/status/Status.js"

const generation = (name: string, serving: boolean, seeded: boolean) => ({ sink: "primary", generation: name, serving, seeded })
const progress = (generations: ReadonlyArray<string>) => ({
  generations,
  rowsDone: 10,
  rowsEstimated: 100,
  rowsPerSecond: 5,
  etaSeconds: 18,
  startedAt: "2026-01-01T00:00:00.000Z"
})

describe("an index's state", () => {
  it("is starting, seeding, building <generation>, live or failed", () => {
    expect(indexState({ generations: [], backfill: null }, null)).toBe("starting")
    expect(indexState({ generations: [generation("u_1", true, false)], backfill: progress(["u_1"]) }, null)).toBe("seeding")
    expect(indexState({ generations: [generation("u_1", true, true), generation("u_2", false, false)], backfill: progress(["u_2"]) }, null))
      .toBe("building u_2")
    expect(indexState({ generations: [generation("u_1", true, true)], backfill: null }, null)).toBe("live")
    expect(indexState({ generations: [generation("u_1", true, false)], backfill: null }, "boom")).toBe("failed")
  })
})

describe("the phase while something is retried", () => {
  it("is retrying with the last error until every retried thing recovered; streaming again ends the stream's", () =>
    Effect.gen(function*() {
      const status = yield* Status
      const snapshot = status.snapshot
      yield* status.streaming(true)
      expect((yield* snapshot).phase).toBe("live")
      yield* retrying("preparing the indexes", "sink primary unavailable")
      yield* retrying(REPLICATION_STREAM, "connection lost")
      const during = yield* snapshot
      expect(during.phase).toBe("retrying")
      expect(during.lastError?.message).toBe("the replication stream: connection lost")
      yield* recovered("preparing the indexes")
      expect((yield* snapshot).phase).toBe("retrying")
      yield* status.streaming(true)
      expect((yield* snapshot).phase).toBe("live")
    }).pipe(Effect.provideServiceEffect(Status, StatusLayer.make), Effect.runPromise))

  it("records nothing without a Status (an embedding that has none)", () =>
    Effect.runPromise(retrying("anything", "boom")))
})
