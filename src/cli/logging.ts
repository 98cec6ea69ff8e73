/**
 * How the CLI logs: stderr only (stdout belongs to the stdout sink and to command output),
 * one human line per entry — coloured on a terminal, annotations as `key=value` — or one
 * JSON object per line, from the least severe level asked for. Every message passes through `redactSecrets` first, so a password inside a URL
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

const COLOURS: Readonly<Record<string, string>> = { WARN: "\u001b[33m", ERROR: "\u001b[31m", FATAL: "\u001b[31;1m", DEBUG: "\u001b[2m", TRACE: "\u001b[2m" }

const text = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value) ?? String(value))

/**
 * One line per entry, so a line can be grepped for its index:
 * `[21:40:07.788] WARN  preparing the indexes failed, retrying: …  index=users sink=primary`
 * (time UTC; annotations last, as key=value). Coloured on a terminal.
 */
const humanLogger = (colours: boolean) =>
  Logger.make<unknown, void>(({ annotations, date, logLevel, message }) => {
    const body = Array.isArray(message) ? message.map(text).join(" ") : text(message)
    const notes = [...HashMap.toEntries(annotations)].map(([key, value]) => `${key}=${text(value)}`).join(" ")
    const label = logLevel.label
    const colour = colours ? COLOURS[label] : undefined
    const head = `[${date.toISOString().slice(11, 23)}] ${colour === undefined ? label.padEnd(5) : `${colour}${label.padEnd(5)}\u001b[0m`}`
    const tail = notes === "" ? "" : colours ? `  \u001b[2m${notes}\u001b[0m` : `  ${notes}`
    process.stderr.write(`${head} ${body}${tail}\n`)
  })

export const loggingLayer = (format: "human" | "json", level: LogLevelName): Layer.Layer<never> => {
  const base = format === "json" ? Logger.withConsoleError(Logger.jsonLogger) : humanLogger(process.stderr.isTTY === true)
  return Layer.merge(Logger.replace(Logger.defaultLogger, redacting(base)), Logger.minimumLogLevel(LEVELS[level]))
}
