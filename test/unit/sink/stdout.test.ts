import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { SinkUnavailable } from "../../../src/errors.js"
import type { ResolvedStdoutSink } from "../../../src/config/ResolvedConfig.js"
import { planIndex } from "../../../src/schema/planIndex.js"
import * as Fanout from "../../../src/sink/fanout.js"
import type { Sink, WriteOperation } from "../../../src/sink/Sink.js"
import * as StdoutSink from "../../../src/sink/stdout/StdoutSink.js"

const console1: ResolvedStdoutSink = { type: "stdout", name: "console", pretty: false }
const users = planIndex("users", { table: "users", schema: "public", primaryKey: "id", enabled: true, fields: { id: { kind: "long" } } }, "stop")

const capture = Effect.map(Ref.make(""), (buffer) => ({
  buffer,
  output: (text: string) => Ref.update(buffer, (b) => b + text)
}))

const operations: ReadonlyArray<WriteOperation> = [
  { _tag: "Upsert", index: "users", id: "1", json: `{"id":9007199254740993,"name":"Ada"}`, version: 1n },
  { _tag: "Delete", index: "users", id: "2", version: 1n }
]

describe("StdoutSink", () => {
  it.effect("prints one envelope per operation with the document embedded verbatim", () =>
    Effect.gen(function* () {
      const { buffer, output } = yield* capture
      const sink = yield* StdoutSink.make([console1], output)
      expect(yield* sink.ensureIndexes([users])).toEqual([
        { sink: "console", index: "users", generation: StdoutSink.stdoutGeneration("users", users.hash), serving: true }
      ])
      expect(yield* sink.write(["console"], operations)).toEqual([])
      yield* sink.write(["console"], operations.slice(0, 1))
      const lines = (yield* Ref.get(buffer)).trimEnd().split("\n")
      expect(lines).toHaveLength(3)
      expect(lines[0]).toMatch(
        /^\{"sink":"console","version":1,"ts":"[^"]+","seq":1,"index":"users","op":"upsert","id":"1","document":\{"id":9007199254740993,"name":"Ada"\},"meta":\{"bytes":36,"fields":2\}\}$/
      )
      expect(lines[1]).toMatch(/^\{"sink":"console","version":1,"ts":"[^"]+","seq":2,"index":"users","op":"delete","id":"2"\}$/)
      expect(lines[2]).toContain(`"seq":3`)
    })
  )

  it.effect("cannot search what it printed: referencing answers nothing", () =>
    Effect.gen(function* () {
      const { output } = yield* capture
      const sink = yield* StdoutSink.make([console1], output)
      yield* sink.write(["console"], operations)
      expect(yield* sink.referencing("users", ["public.orders:1"])).toEqual([])
    })
  )

  it.effect("leaves the refs bookkeeping out of the printed document", () =>
    Effect.gen(function* () {
      const { buffer, output } = yield* capture
      const sink = yield* StdoutSink.make([console1], output)
      yield* sink.write(
        ["console"],
        [{ _tag: "Upsert", index: "users", id: "1", json: `{"id":1,"name":"Ada"}`, refs: `["public.orders:7"]`, version: 1n }])
      const line = (yield* Ref.get(buffer)).trimEnd()
      expect(line).toContain(`"document":{"id":1,"name":"Ada"},"meta":{"bytes":21,"fields":2}}`)
      expect(line).not.toContain("public.orders:7")
    })
  )

  it.effect("pretty-prints when asked, keeping numbers exact", () =>
    Effect.gen(function* () {
      const { buffer, output } = yield* capture
      const sink = yield* StdoutSink.make([{ ...console1, pretty: true }], output)
      yield* sink.write(["console"], operations.slice(0, 1))
      const text = yield* Ref.get(buffer)
      expect(text).toContain(`"document": {\n    "id": 9007199254740993,`)
    })
  )
})

describe("fanout", () => {
  const recording = (
    name: string,
    log: Array<string>,
    fail = false,
    found: ReadonlyArray<string> = []
  ): Sink => ({
    names: [name],
    ensureIndexes: () => Effect.succeed([{ sink: name, index: "users", generation: `${name}_g`, serving: true }]),
    write: (names, ops) =>
      fail
        ? Effect.fail(new SinkUnavailable({ sink: name, reason: "down" }))
        : Effect.sync(() => {
            log.push(`${names.join(",")}:${ops.length}`)
            return []
          }),
    seed: (target, ops) =>
      Effect.sync(() => {
        log.push(`seed ${target.sink}:${ops.length}`)
        return []
      }),
    refresh: (names) => Effect.sync(() => void log.push(`refresh ${names.join(",")}`)),
    reindex: () => Effect.succeed([]),
    seeded: (target) => Effect.sync(() => void log.push(`seeded ${target.sink}`)),
    truncate: () => Effect.void,
    referencing: (index, refs) =>
      fail
        ? Effect.fail(new SinkUnavailable({ sink: name, reason: "down" }))
        : Effect.sync(() => {
            log.push(`${name} referencing ${index} ${refs.join(",")}`)
            return found
          })
  })

  it.effect("routes writes and seeding to the named sinks only", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      const sink = yield* Fanout.make([recording("a", log), recording("b", log)])
      expect(sink.names).toEqual(["a", "b"])
      expect((yield* sink.ensureIndexes([users])).map((t) => t.sink)).toEqual(["a", "b"])
      yield* sink.write(["b"], operations)
      yield* sink.write(["a", "b"], operations.slice(0, 1))
      yield* sink.seeded({ sink: "a", index: "users", generation: "a_g", serving: true })
      expect(log).toEqual(["b:2", "a:1", "b:1", "seeded a"])
    })
  )

  it.effect("fails the write when one member fails", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      const sink = yield* Fanout.make([recording("a", log), recording("b", log, true)])
      const exit = yield* Effect.exit(sink.write(["a", "b"], operations))
      expect(exit._tag === "Failure" && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("SinkUnavailable")
    })
  )

  it.effect("merges every member's referencing answer, without duplicates; no refs asks no one", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      const sink = yield* Fanout.make([
        recording("stdout", log),
        recording("a", log, false, ["1", "2"]),
        recording("b", log, false, ["2", "3"])
      ])
      expect(yield* sink.referencing("users", ["public.orders:7"])).toEqual(["1", "2", "3"])
      expect(log.sort()).toEqual([
        "a referencing users public.orders:7",
        "b referencing users public.orders:7",
        "stdout referencing users public.orders:7"
      ])
      log.length = 0
      expect(yield* sink.referencing("users", [])).toEqual([])
      expect(log).toEqual([])
    })
  )

  it.effect("fails referencing when a member cannot answer (an empty answer would lose rebuilds)", () =>
    Effect.gen(function* () {
      const sink = yield* Fanout.make([recording("a", [], false, ["1"]), recording("b", [], true)])
      const exit = yield* Effect.exit(sink.referencing("users", ["public.orders:7"]))
      expect(exit._tag === "Failure" && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("SinkUnavailable")
    })
  )
})
