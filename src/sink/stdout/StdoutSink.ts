/**
 * The stdout sink: one JSON envelope per operation (config.md "sinks"), for piping into
 * other tools or watching a deployment without a cluster. The document is embedded as
 * the JSON text the builder produced, never re-serialized, so big numbers stay exact.
 * Its seeded state lives in the CheckpointStore like any sink's.
 */
import { Clock, Effect, Layer, Ref } from "effect"
import type { ResolvedStdoutSink } from "../../config/ResolvedConfig.js"
import { reindent, singleLine, topLevelKeyCount } from "../jsonText.js"
import { Sink } from "../Sink.js"
import type { SinkIndex, WriteOperation } from "../Sink.js"

export const ENVELOPE_VERSION = 1

/** Where envelopes go; stdout in production, a buffer in tests. */
export type Output = (text: string) => Effect.Effect<void>

/** Writes to process.stdout and waits until the stream took it (back-pressure). */
export const processStdout: Output = (text) =>
  Effect.async<void>((resume) => {
    process.stdout.write(text, () => resume(Effect.void))
  })

export const envelope = (
  sink: ResolvedStdoutSink,
  operation: WriteOperation,
  seq: number,
  ts: string
): string => {
  // The refs (`operation.refs`) are flusso's bookkeeping, not part of the document.
  const document = operation._tag === "Upsert" ? operation.json : ""
  const head = JSON.stringify({
    sink: sink.name,
    version: ENVELOPE_VERSION,
    ts,
    seq,
    index: operation.index,
    op: operation._tag === "Upsert" ? "upsert" : "delete",
    id: operation.id
  })
  const line =
    operation._tag === "Upsert"
      ? `${head.slice(0, -1)},"document":${singleLine(document)},"meta":${JSON.stringify({
          bytes: Buffer.byteLength(document),
          fields: topLevelKeyCount(document)
        })}}`
      : head
  return sink.pretty ? reindent(line) : line
}

/** Generation name under which the CheckpointStore keeps a stdout index's progress. */
export const stdoutGeneration = (index: string, hash: string): string => `${index}_${hash}`

export const make = (sinks: ReadonlyArray<ResolvedStdoutSink>, output: Output = processStdout): Effect.Effect<Sink> =>
  Effect.gen(function* () {
    const counters = new Map<string, Ref.Ref<number>>()
    for (const sink of sinks) counters.set(sink.name, yield* Ref.make(0))
    const byName = new Map(sinks.map((sink) => [sink.name, sink]))

    const writeTo = (name: string, operations: ReadonlyArray<WriteOperation>) =>
      Effect.gen(function* () {
        const sink = byName.get(name)
        const counter = counters.get(name)
        if (sink === undefined || counter === undefined) return yield* Effect.dieMessage(`unknown stdout sink ${name}`)
        if (operations.length === 0) return
        const ts = new Date(yield* Clock.currentTimeMillis).toISOString()
        const first = yield* Ref.getAndUpdate(counter, (n) => n + operations.length)
        const text = operations.map((operation, i) => envelope(sink, operation, first + i + 1, ts) + "\n").join("")
        yield* output(text)
      })

    const sink: Sink = {
      names: sinks.map((s) => s.name),
      ensureIndexes: (plans) =>
        Effect.succeed(
          sinks.flatMap((s) =>
            plans
              .filter((plan) => plan.enabled)
              .map((plan): SinkIndex => ({ sink: s.name, index: plan.name, generation: stdoutGeneration(plan.name, plan.hash), serving: true }))
          )
        ),
      write: (names, operations) =>
        Effect.forEach(names, (name) => writeTo(name, operations), { discard: true }).pipe(Effect.as([])),
      seed: (target, operations) => writeTo(target.sink, operations).pipe(Effect.as([])),
      // Every envelope is out once written.
      refresh: () => Effect.void,
      // A stream has no generations to rebuild.
      reindex: () => Effect.succeed([]),
      seeded: () => Effect.void,
      // A consumer of the stream sees the TRUNCATE as the deletes it cannot be sent: say so.
      truncate: (_names, index) => Effect.logWarning(`stdout sink: index ${index} was truncated at the source; earlier upserts are void`),
      // Printed envelopes cannot be searched: a stdout-only deployment cannot find the
      // documents a related-row delete affects when the table lacks REPLICA IDENTITY FULL.
      referencing: () => Effect.succeed([])
    }
    return sink
  })

export const layer = (sinks: ReadonlyArray<ResolvedStdoutSink>, output: Output = processStdout): Layer.Layer<Sink> =>
  Layer.effect(Sink, make(sinks, output))
