/**
 * Importing a config module off the main thread (a built flusso only: the worker runs
 * `loadWorker.js` next to this file). What the worker hands back is the module's default
 * export as plain data, which the main thread validates as if it had imported it itself.
 */
import { Effect, ParseResult, Schema } from "effect"
import { Worker } from "node:worker_threads"
import { ConfigInvalid } from "../errors.js"

export const WorkerRequest = Schema.Struct({ file: Schema.String, shown: Schema.String })

export const WorkerReply = Schema.Union(
  Schema.TaggedStruct("Loaded", { exported: Schema.Unknown }),
  Schema.TaggedStruct("Invalid", { issues: Schema.Array(Schema.String) })
)
export type WorkerReply = typeof WorkerReply.Type

const WORKER = new URL("./loadWorker.js", import.meta.url)

const inlineScriptOption = (arg: string): boolean =>
  arg === "-e" || arg === "-p" || ["--eval", "--print", "--input-type"].some((option) => arg === option || arg.startsWith(`${option}=`))

/** The default export of module `file` (absolute), imported in a worker thread that ends with it. */
export const importInWorker = (file: string, shown: string): Effect.Effect<unknown, ConfigInvalid> =>
  Effect.async<unknown, ConfigInvalid>((resume) => {
    const worker = new Worker(WORKER, {
      workerData: WorkerRequest.make({ file, shown }),
      // A worker inherits the process's options but refuses those of a script given inline.
      ...(process.execArgv.some(inlineScriptOption) ? { execArgv: [] } : {})
    })
    // The first of message, error and exit answers; the others follow it and are ignored.
    let answered = false
    const answer = (effect: Effect.Effect<unknown, ConfigInvalid>) => {
      if (answered) return
      answered = true
      resume(effect)
    }
    const fail = (issue: string) => answer(Effect.fail(new ConfigInvalid({ file: shown, issues: [issue] })))
    worker.once("message", (message: unknown) => {
      void worker.terminate()
      const reply = Schema.decodeUnknownEither(WorkerReply)(message)
      if (reply._tag === "Left") return fail(`cannot load the config: ${ParseResult.TreeFormatter.formatErrorSync(reply.left)}`)
      answer(
        reply.right._tag === "Loaded"
          ? Effect.succeed(reply.right.exported)
          : Effect.fail(new ConfigInvalid({ file: shown, issues: reply.right.issues }))
      )
    })
    worker.once("error", (error) => fail(`cannot load the config: ${error.message}`))
    worker.once("exit", (code) => fail(`cannot load the config: its loader ended (exit code ${code}) without an answer`))
    return Effect.promise(() => worker.terminate())
  })
