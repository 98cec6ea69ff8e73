/**
 * How the CLI logs: stderr only (stdout belongs to the stdout sink and to command output),
 * human lines — coloured on a terminal — or JSON lines, from the least severe level asked
 * for. Every message passes through `redactSecrets` first, so a password inside a URL
 * never reaches a log, whatever printed it.
 */
import { HashMap, Layer, List, Logger, LogLevel } from "effect"
import { redactSecrets } from "../config/resolve.js"
import type { LogLevelName } from "./options.js"

const LEVELS: Record<LogLevelName, LogLevel.LogLevel> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  fatal: LogLevel.Fatal,
  none: LogLevel.None
}

const redact = (message: unknown): unknown =>
  typeof message === "string"
    ? redactSecrets(message)
    : Array.isArray(message)
    ? message.map(redact)
    : message instanceof Error
    ? redactSecrets(message.message)
    : message

/** A logger whose messages and annotations have secrets masked. */
const redacting = <O>(logger: Logger.Logger<unknown, O>): Logger.Logger<unknown, O> =>
  Logger.make((options) =>
    logger.log({
      ...options,
      message: redact(options.message),
      annotations: HashMap.map(options.annotations, (value) => redact(value)),
      spans: options.spans ?? List.empty()
    })
  )

export const loggingLayer = (format: "human" | "json", level: LogLevelName): Layer.Layer<never> => {
  const base = format === "json"
    ? Logger.withConsoleError(Logger.jsonLogger)
    : Logger.prettyLogger({ stderr: true, colors: process.stderr.isTTY === true })
  return Layer.merge(Logger.replace(Logger.defaultLogger, redacting(base)), Logger.minimumLogLevel(LEVELS[level]))
}
