/**
 * The DocumentWork port: where the documents of a live batch or of a seeding chunk are
 * built and written. It is the one seam between what must happen in one place, in order
 * — capture, visibility, resolution, acknowledgement, seeding coordination, generation
 * changes, all in the engine — and the heavy work, which may happen anywhere:
 * - in one process, here and now (`localDocumentWork.ts`, what `Engine.run` uses when no
 *   other is provided);
 * - in a cluster, on the runners that own each part (src/cluster/clusterDocumentWork.ts).
 * Either way a reply means durable: every document written with the batch's (or the
 * pass's) version to every sink, refused items listed, the rejection policy left to the
 * engine.
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type { EngineError } from "../errors.js"
import type { KeyValues } from "../schema/documentId.js"
import type { IndexPlan } from "../schema/IndexPlan.js"
import type { Rejection, SinkIndex } from "../sink/Sink.js"

/** The documents one live batch affects, to build and write at its version. */
export interface LiveWork {
  /** The batch's number, unique within one run of the engine. */
  readonly batch: number
  /** The version of every write: the highest commit position in the batch. */
  readonly version: bigint
  /** Document ids per logical index. */
  readonly ids: ReadonlyMap<string, ReadonlySet<string>>
  /** Completes once every earlier batch is settled: a write that must not land before theirs waits for it. */
  readonly afterEarlierBatches: Effect.Effect<void>
}

/** What building and writing did: documents per index, time spent writing, items the sinks refused. */
export interface WorkDone {
  readonly documents: ReadonlyMap<string, number>
  readonly flushMs: number
  readonly rejections: ReadonlyArray<Rejection>
}

/**
 * A live batch after its build stage: what that stage did already (a batch of many
 * documents writes them a chunk at a time as it builds), and the write still to make,
 * which the engine runs in its write stage.
 */
export interface Staged extends WorkDone {
  readonly write: Effect.Effect<WorkDone, EngineError>
}

/** One chunk of a seeding pass: the root keys in (after, upTo], written into `targets` at the pass's version. */
export interface SeedWork {
  readonly plan: IndexPlan
  readonly targets: ReadonlyArray<SinkIndex>
  /** The pass, unique within one run of the engine, and the chunk's number in it (0, 1, …). */
  readonly pass: string
  readonly chunk: number
  readonly after: KeyValues | null
  readonly upTo: KeyValues
  /** The keys the coordinator enumerated in that range (a runner elsewhere reads them again). */
  readonly keys: ReadonlyArray<KeyValues>
  readonly version: bigint
  /**
   * Runs the chunk's write — or, where reading and writing cannot be told apart (another
   * process), the whole chunk — unless a truncate of the root table began since the chunk
   * started; None when it did (the chunk is dropped: what it read was truncated). A
   * truncate begun meanwhile waits for it (`truncationFence.ts`).
   */
  readonly fenced: <A, E, R>(write: Effect.Effect<A, E, R>) => Effect.Effect<Option.Option<A>, E, R>
}

export interface DocumentWork {
  /** Builds a live batch's documents (and writes what it may already); the rest is `Staged.write`. */
  readonly stage: (work: LiveWork) => Effect.Effect<Staged, EngineError>
  /** Builds and writes one seeding chunk; durable when it succeeds (None: dropped by the fence). */
  readonly seed: (work: SeedWork) => Effect.Effect<Option.Option<WorkDone>, EngineError>
  /**
   * How much to keep in flight when the engine's options do not say: live batches in
   * the write stage, seeding chunks per index. Work spread over many processes wants more.
   */
  readonly inFlight: { readonly writes: number; readonly seedChunks: number }
}

/** The service tag: the interface and its tag share the name, as in Effect's own packages. */
export const DocumentWork: Context.Tag<DocumentWork, DocumentWork> = Context.GenericTag<DocumentWork>("flusso/DocumentWork")
