/**
 * Importing a config module in a short-lived child process (a built flusso only: the child
 * runs `loadChild.js` next to this file). tsx's compiler hooks, its module-hooks thread and
 * the config's own module graph (some 80 MB resident) live and die with that process, and
 * unlike a worker thread's they are given back to the system whole: a long `run` neither
 * carries them nor peaks with them. What the child hands back is the module's default
 * export as plain data, which the parent validates as if it had imported it itself.
 */
import { Effect, ParseResult, Schema } from "effect"
import { fork } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { ConfigInvalid } from "../errors.js"

export const LoadRequest = Schema.Struct({ file: Schema.String, shown: Schema.String })

export const LoadReply = Schema.Union(
  Schema.TaggedStruct("Loaded", { exported: Schema.Unknown }),
  Schema.TaggedStruct("Invalid", { issues: Schema.Array(Schema.String) })
)
export type LoadReply = typeof LoadReply.Type

/** Where the request travels: the child reads it from its environment. */
export const REQUEST_VARIABLE = "FLUSSO_CONFIG_LOAD_REQUEST"

/** dist/config/loadChild.js next to this module as tsc emits it; dist/loadChild.js above the bundle's chunk holding it. */
const CHILD = fileURLToPath(
  [new URL("./loadChild.js", import.meta.url), new URL("../loadChild.js", import.meta.url)].find((url) => existsSync(url)) ??
    new URL("./loadChild.js", import.meta.url)
)

const inlineScriptOption = (arg: string): boolean =>
  arg === "-e" || arg === "-p" || ["--eval", "--print", "--input-type"].some((option) => arg === option || arg.startsWith(`${option}=`))

/** The default export of module `file` (absolute), imported in a child process that ends with it. */
export const importIsolated = (file: string, shown: string): Effect.Effect<unknown, ConfigInvalid> =>
  Effect.async<unknown, ConfigInvalid>((resume) => {
    const child = fork(CHILD, [], {
      env: { ...process.env, [REQUEST_VARIABLE]: JSON.stringify(LoadRequest.make({ file, shown })) },
      // The parent's node options (a profiler…), but not those of a script given inline.
      execArgv: process.execArgv.filter((arg) => !inlineScriptOption(arg)),
      // Structured clone: what a config holds (dates, nested data) arrives as it left.
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    // The first of message, error and exit answers; the others follow it and are ignored.
    let answered = false
    const answer = (effect: Effect.Effect<unknown, ConfigInvalid>) => {
      if (answered) return
      answered = true
      resume(effect)
    }
    const fail = (issue: string) => answer(Effect.fail(new ConfigInvalid({ file: shown, issues: [issue] })))
    child.once("message", (message: unknown) => {
      const reply = Schema.decodeUnknownEither(LoadReply)(message)
      if (reply._tag === "Left") return fail(`cannot load the config: ${ParseResult.TreeFormatter.formatErrorSync(reply.left)}`)
      answer(
        reply.right._tag === "Loaded"
          ? Effect.succeed(reply.right.exported)
          : Effect.fail(new ConfigInvalid({ file: shown, issues: reply.right.issues }))
      )
    })
    child.once("error", (error) => fail(`cannot load the config: ${error.message}`))
    child.once("exit", (code, signal) => fail(`cannot load the config: its loader ended (${signal ?? `exit code ${code}`}) without an answer`))
    return Effect.sync(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    })
  })
