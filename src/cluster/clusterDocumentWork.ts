/**
 * DocumentWork for the capture of a cluster: a live batch's documents go out as a few
 * `BuildPart`s per index (`partsOf`), a seeding chunk as one `SeedChunk`, to whichever
 * runners own their entities; a batch is written when every part has answered.
 * Every live part carries the capture's generation epoch, and the sink's generation
 * changes (`guard`: its `reindex` and `seeded`) go through the gate of generationGate.ts.
 */
import { Sharding } from "@effect/cluster"
import { Effect, Option } from "effect"
import { SourceUnavailable } from "../errors.js"
import type { EngineError } from "../errors.js"
import type { DocumentWork, Staged, WorkDone } from "../engine/DocumentWork.js"
import { encodeDocumentId } from "../schema/documentId.js"
import type { Sink } from "../sink/Sink.js"
import * as GenerationGate from "./generationGate.js"
import { BuildEntity, type PartDone, PartFailed, partsOf, SEED_SLOTS, SeedEntity } from "./protocol.js"

/** Live batches in flight and seeding chunks per index: the work is spread, so more than in one process. */
export const CLUSTER_IN_FLIGHT = { writes: 6, seedChunks: 6 } as const

/** How long a part refused by a runner with another config waits before it is sent again. */
const OTHER_DEPLOYMENT_PAUSE = "5 seconds"

export interface ClusterWork {
  readonly work: DocumentWork
  /** The sink as the capture's engine must see it: generation changes drain live parts and move the epoch. */
  readonly guard: (sink: Sink) => Sink
}

export const make = (options: {
  /** This capture's incarnation: unique forever (a snowflake), so its message keys are. */
  readonly incarnation: string
  readonly fingerprint: string
}): Effect.Effect<ClusterWork, never, Sharding.Sharding> =>
  Effect.gen(function*() {
    const build = yield* BuildEntity.client
    const seedClient = yield* SeedEntity.client
    const gate = yield* GenerationGate.make(options.incarnation)

    /**
     * One message and its answer: storage unreachable is transient (sent again under the
     * same key, which storage deduplicates); a runner with another config is waited out
     * under a new key; any other failure is the engine error it was.
     */
    const send = <A>(what: string, call: (key: string) => Effect.Effect<A, PartFailed | { readonly _tag: "PersistenceError" | "MailboxFull" | "AlreadyProcessingMessage"; readonly message: string }>) =>
      (key: string): Effect.Effect<A, EngineError> => {
        const attempt = (n: number): Effect.Effect<A, EngineError> =>
          call(n === 0 ? key : `${key}~${n}`).pipe(
            Effect.catchAll((error): Effect.Effect<A, EngineError> => {
              if (error instanceof PartFailed) {
                if (error.failure._tag !== "OtherDeployment") return Effect.fail(error.toEngineError())
                return Effect.logWarning(`${error.message}; ${what} is sent again in ${OTHER_DEPLOYMENT_PAUSE}`).pipe(
                  Effect.zipRight(Effect.sleep(OTHER_DEPLOYMENT_PAUSE)),
                  Effect.zipRight(attempt(n + 1))
                )
              }
              return Effect.fail(new SourceUnavailable({ reason: `the cluster could not take ${what}: ${error.message}`, cause: error }))
            })
          )
        return attempt(0)
      }

    const add = (into: Map<string, number>, index: string, count: number) => into.set(index, (into.get(index) ?? 0) + count)

    const dispatch = (batch: number, version: bigint, ids: ReadonlyMap<string, ReadonlySet<string>>): Effect.Effect<WorkDone, EngineError> =>
      gate.inFlight((epoch) => Effect.gen(function*() {
        const parts = [...ids].flatMap(([index, documents]) => partsOf(index, batch, documents).map((part) => ({ index, ...part })))
        const started = Date.now()
        const replies = yield* Effect.forEach(
          parts,
          ({ entity, ...part }) =>
            send(`a part of batch ${batch} (${entity})`, (key) =>
              build(entity).BuildPart({ key, deployment: options.fingerprint, index: part.index, version, epoch, ids: part.ids }))(
              `${options.incarnation}/${batch}`
            ).pipe(Effect.map((reply: PartDone) => ({ index: part.index, reply }))),
          { concurrency: "unbounded" }
        )
        const documents = new Map<string, number>()
        for (const { index, reply } of replies) add(documents, index, reply.documents)
        return { documents, flushMs: Date.now() - started, rejections: replies.flatMap(({ reply }) => reply.rejections) } satisfies WorkDone
      }))

    const none: WorkDone = { documents: new Map(), flushMs: 0, rejections: [] }

    const work: DocumentWork = {
      // Nothing is built here: the whole batch goes out in the write stage.
      stage: (live) =>
        Effect.succeed({ ...none, write: live.ids.size === 0 ? Effect.succeed(none) : dispatch(live.batch, live.version, live.ids) } satisfies Staged),
      seed: (chunk) =>
        chunk.fenced(
          send(`seeding chunk ${chunk.chunk} of ${chunk.plan.name}`, (key) =>
            seedClient(`${chunk.plan.name}/${chunk.chunk % SEED_SLOTS}`).SeedChunk({
              key,
              deployment: options.fingerprint,
              index: chunk.plan.name,
              version: chunk.version,
              targets: chunk.targets,
              after: chunk.after,
              upTo: chunk.upTo
            }))(`${options.incarnation}/${chunk.pass}/${chunk.after === null ? "" : encodeDocumentId(chunk.after)}/${encodeDocumentId(chunk.upTo)}`)
        ).pipe(
          Effect.map(Option.map((reply): WorkDone => ({
            documents: new Map([[chunk.plan.name, reply.documents]]),
            flushMs: reply.flushMs,
            rejections: reply.rejections
          })))
        ),
      inFlight: CLUSTER_IN_FLIGHT
    }

    const guard = (sink: Sink): Sink => ({
      ...sink,
      reindex: (plan, reindexOptions) => gate.exclusively(sink.reindex(plan, reindexOptions)),
      seeded: (target) => gate.exclusively(sink.seeded(target))
    })

    return { work, guard }
  })
