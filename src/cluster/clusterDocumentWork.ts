/**
 * DocumentWork for the capture of a cluster: a live batch's documents go out as a few
 * `BuildPart`s per index (`partsOf`), a seeding chunk as one `SeedChunk`, to whichever
 * runners own their entities; a batch is written when every part has answered.
 *
 * Generations: each runner's sink remembers which generations an index writes to, and
 * only the capture creates and swaps them. So every part carries the capture's
 * generation epoch, moved on whenever it starts or swaps a generation, and a runner that
 * read its targets under another epoch reads them again before writing. A change of
 * generations (`guard`: the sink's `reindex` and `seeded`) waits until every live part
 * sent before it has answered and holds new ones back until it is done: no part can then
 * write into a generation being deleted (a bulk write to a deleted index would create it
 * again, with a dynamic mapping), and every later part carries the new epoch.
 */
import { Sharding } from "@effect/cluster"
import { Effect, Option, STM, TRef } from "effect"
import { SourceUnavailable } from "../errors.js"
import type { EngineError } from "../errors.js"
import type { DocumentWork, Staged, WorkDone } from "../engine/DocumentWork.js"
import { encodeDocumentId } from "../schema/documentId.js"
import type { Sink } from "../sink/Sink.js"
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

interface Gate {
  /** Generation changes under way: no new live part goes out. */
  readonly paused: number
  /** Live parts sent and not yet answered. */
  readonly inFlight: number
}

export const make = (options: {
  /** This capture's incarnation: unique forever (a snowflake), so its message keys are. */
  readonly incarnation: string
  readonly fingerprint: string
}): Effect.Effect<ClusterWork, never, Sharding.Sharding> =>
  Effect.gen(function*() {
    const build = yield* BuildEntity.client
    const seedClient = yield* SeedEntity.client
    const gate = yield* TRef.make<Gate>({ paused: 0, inFlight: 0 })
    const epochs = yield* TRef.make(0)
    const epochNow = STM.commit(TRef.get(epochs)).pipe(Effect.map((n) => `${options.incarnation}.${n}`))

    /** `effect` as a live part in flight, once no generation change is under way. */
    const inFlight = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(
          STM.commit(TRef.modify(gate, (g): [boolean, Gate] => (g.paused > 0 ? [false, g] : [true, { ...g, inFlight: g.inFlight + 1 }]))),
          (entered) =>
            entered
              ? restore(effect).pipe(Effect.ensuring(STM.commit(TRef.update(gate, (g) => ({ ...g, inFlight: g.inFlight - 1 })))))
              : restore(STM.commit(STM.flatMap(TRef.get(gate), (g) => STM.check(() => g.paused === 0)))).pipe(
                Effect.zipRight(inFlight(effect))
              )
        ))

    /** `change` with no live part in flight, none sent meanwhile, and the epoch moved on after it. */
    const exclusively = <A, E, R>(change: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.acquireUseRelease(
        STM.commit(TRef.update(gate, (g) => ({ ...g, paused: g.paused + 1 }))),
        () =>
          STM.commit(STM.flatMap(TRef.get(gate), (g) => STM.check(() => g.inFlight === 0))).pipe(
            Effect.zipRight(change),
            Effect.ensuring(STM.commit(TRef.update(epochs, (n) => n + 1)))
          ),
        () => STM.commit(TRef.update(gate, (g) => ({ ...g, paused: g.paused - 1 })))
      )

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
      inFlight(Effect.gen(function*() {
        const epoch = yield* epochNow
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
      reindex: (plan, reindexOptions) => exclusively(sink.reindex(plan, reindexOptions)),
      seeded: (target) => exclusively(sink.seeded(target))
    })

    return { work, guard }
  })
