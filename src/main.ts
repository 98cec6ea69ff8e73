#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * The CLI (`node dist/main.js <command>`): a thin composition root that parses and runs
 * one of the commands in src/cli/. Every flag also reads a FLUSSO_* variable (named in
 * `--help`; the flag wins). stdout carries command output and the stdout sink; logs and
 * errors go to stderr — one clear line for a problem the user must fix, never a stack
 * trace. `--help` is flusso's own (cli/help.ts), plain text.
 */
import "./cli/heap.js"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect } from "effect"
import { build, schema } from "./cli/build.js"
import { check } from "./cli/check.js"
import { cluster } from "./cli/cluster.js"
import { helpFor } from "./cli/help.js"
import { migrate } from "./cli/migrate.js"
import { run } from "./cli/run.js"
import { indexes, reindex } from "./cli/serverClient.js"
import { slot } from "./cli/slot.js"
import { VERSION } from "./cli/version.js"
import { redactSecrets } from "./config/resolve.js"

const cli = Command.make("flusso").pipe(
  Command.withDescription("keeps OpenSearch indexes in step with PostgreSQL"),
  Command.withSubcommands([run, check, build, schema, migrate, indexes, reindex, slot, cluster]),
  Command.run({ name: "flusso", version: VERSION })
)

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g
const plain = (args: ReadonlyArray<unknown>) => args.map((arg) => (typeof arg === "string" ? arg.replace(ANSI, "") : arg))

/** Help and messages without colour codes when they do not go to a terminal. */
const withPlainText = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((console) =>
    Effect.withConsole(effect, {
      ...console,
      log: (...args: ReadonlyArray<unknown>) => console.log(...(process.stdout.isTTY === true ? args : plain(args))),
      error: (...args: ReadonlyArray<unknown>) => console.error(...(process.stderr.isTTY === true ? args : plain(args)))
    })
  )

/** `--log-format` (or FLUSSO_LOG_FORMAT) as the command line asks for it, before any parsing. */
const logFormat = (args: ReadonlyArray<string>): string | undefined => {
  const at = args.findIndex((a) => a === "--log-format" || a.startsWith("--log-format="))
  const flag = at < 0 ? undefined : args[at]?.includes("=") ? args[at]?.split("=")[1] : args[at + 1]
  return flag ?? process.env["FLUSSO_LOG_FORMAT"]
}

/**
 * The error that ends the command, as its last line on stderr: `flusso: <what and the fix>`
 * (continued on indented lines when it lists several problems), or — with JSON logs —
 * one more JSON object like the log lines before it, at level FATAL.
 */
const fatalLine = (text: string): string =>
  logFormat(process.argv.slice(2)) === "json"
    ? JSON.stringify({ message: text, logLevel: "FATAL", timestamp: new Date().toISOString(), annotations: {}, spans: {}, fiberId: "main" })
    : `flusso: ${text}`

const message = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" ? error.message : String(error)

const help = helpFor(process.argv.slice(2), VERSION)

;(help !== undefined ? Console.log(help) : cli(process.argv)).pipe(
  // @effect/cli prints its own validation errors (with help); everything else is one line.
  Effect.tapError((error) => (ValidationError.isValidationError(error) ? Effect.void : Console.error(fatalLine(redactSecrets(message(error)))))),
  Effect.tapDefect((cause) => Console.error(fatalLine(`internal error: ${redactSecrets(Cause.pretty(cause))}`))),
  withPlainText,
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
