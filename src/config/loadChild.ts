/**
 * The child process a built flusso imports config modules in (`loadIsolated.ts`). Replies
 * over IPC with the module's default export when it is plain data — validated here as the
 * parent will validate it again — or with the lines saying why not, then exits.
 */
import { Effect, Either, Schema } from "effect"
import { ConfigInvalid } from "../errors.js"
import { importDefault } from "./load.js"
import { type LoadReply, LoadRequest, REQUEST_VARIABLE } from "./loadIsolated.js"
import { validateConfig } from "./validate.js"

const load = Effect.gen(function* () {
  const request = yield* Schema.decodeUnknown(Schema.parseJson(LoadRequest))(process.env[REQUEST_VARIABLE] ?? "").pipe(
    Effect.mapError((error) => new ConfigInvalid({ file: "(config)", issues: [error.message] }))
  )
  const exported = yield* importDefault(request.file, request.shown)
  // Only plain data crosses processes; what is not plain is reported as in process.
  const checked = validateConfig(exported)
  return Either.isLeft(checked)
    ? { _tag: "Invalid", issues: [...checked.left] } satisfies LoadReply
    : { _tag: "Loaded", exported } satisfies LoadReply
})

const send = (message: LoadReply): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) return resolve()
    process.send(message, undefined, {}, () => resolve())
  })

Effect.runPromise(
  load.pipe(Effect.catchAll((error) => Effect.succeed({ _tag: "Invalid", issues: [...error.issues] } satisfies LoadReply)))
).then(
  (message) => send(message),
  (error: unknown) => send({ _tag: "Invalid", issues: [`cannot load the config: ${String(error)}`] })
).finally(() => process.exit(0))
