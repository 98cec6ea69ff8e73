/**
 * The worker thread a built flusso imports config modules in (`loadInWorker.ts`): tsx's
 * compiler hooks, its module-hooks thread and the config's own module graph live and die
 * with this thread, so a long `run` does not carry them (some 70 MB resident). Replies
 * with the module's default export when it is plain data — validated here as the main
 * thread will validate it again — or with the lines saying why not.
 */
import { Effect, Either, Schema } from "effect"
import { parentPort, workerData } from "node:worker_threads"
import { ConfigInvalid } from "../errors.js"
import { importDefault } from "./load.js"
import { type WorkerReply, WorkerRequest } from "./loadInWorker.js"
import { validateConfig } from "./validate.js"

const load = Effect.gen(function* () {
  const request = yield* Schema.decodeUnknown(WorkerRequest)(workerData).pipe(
    Effect.mapError((error) => new ConfigInvalid({ file: "(config)", issues: [error.message] }))
  )
  const exported = yield* importDefault(request.file, request.shown)
  // Only plain data crosses threads; what is not plain is reported as in process.
  const checked = validateConfig(exported)
  return Either.isLeft(checked)
    ? { _tag: "Invalid", issues: [...checked.left] } satisfies WorkerReply
    : { _tag: "Loaded", exported } satisfies WorkerReply
})

const reply: Promise<WorkerReply> = Effect.runPromise(
  load.pipe(Effect.catchAll((error) => Effect.succeed({ _tag: "Invalid", issues: [...error.issues] } satisfies WorkerReply)))
)
reply.then(
  (message) => parentPort?.postMessage(message),
  (error: unknown) => parentPort?.postMessage({ _tag: "Invalid", issues: [`cannot load the config: ${String(error)}`] } satisfies WorkerReply)
)
