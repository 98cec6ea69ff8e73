/**
 * `--help` is written by hand (src/cli/help.ts): these keep it in step with the flags each
 * command really declares, and free of the generated help's boilerplate.
 */
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Usage from "@effect/cli/Usage"
import { describe, expect, it } from "vitest"
import { build, schema } from "../../../src/cli/build.js"
import { check } from "../../../src/cli/check.js"
import { COMMANDS, commandHelp, helpFor } from "../../../src/cli/help.js"
import { migrate } from "../../../src/cli/migrate.js"
import { run } from "../../../src/cli/run.js"
import { indexes, reindex } from "../../../src/cli/serverClient.js"
import { drop } from "../../../src/cli/slot.js"
import { drop as clusterDrop } from "../../../src/cli/cluster.js"

/** Every `--flag` a command's parser accepts, from @effect/cli's own usage. */
const declared = (usage: Usage.Usage): ReadonlyArray<string> =>
  [...HelpDoc.toAnsiText(Usage.getHelp(usage)).matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]).sort()

const written = (path: ReadonlyArray<string>): ReadonlyArray<string> => {
  const help = COMMANDS.find((c) => c.path.join(" ") === path.join(" "))
  if (help === undefined) throw new Error(`no help for ${path.join(" ")}`)
  return help.flags.flatMap((f) => [...f.flag.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0])).filter((f) => f !== "--help").sort()
}

describe("--help", () => {
  it("lists exactly the flags each command declares", () => {
    const commands: ReadonlyArray<readonly [ReadonlyArray<string>, Usage.Usage]> = [
      [["run"], Command.getUsage(run)], [["check"], Command.getUsage(check)], [["build"], Command.getUsage(build)],
      [["schema"], Command.getUsage(schema)], [["migrate"], Command.getUsage(migrate)], [["indexes"], Command.getUsage(indexes)],
      [["reindex"], Command.getUsage(reindex)], [["slot", "drop"], Command.getUsage(drop)], [["cluster", "drop"], Command.getUsage(clusterDrop)]
    ]
    for (const [path, usage] of commands) expect(written(path), path.join(" ")).toEqual(declared(usage))
  })

  it("reads like a tool's own help: usage as flusso <command>, one line per flag with its default and variable", () => {
    const help = helpFor(["run", "--help"], "0.0.0") ?? ""
    expect(help).toContain("Usage: flusso run [flags]")
    expect(help).toMatch(/^ {2}--config F +the deployment config.*\[default: flusso\.config\.ts, else flusso\.lock\.json\] \[env: FLUSSO_CONFIG\]$/m)
    expect(help).toMatch(/^ {2}--progress-secs N +.*\[default: 10\] \[env: FLUSSO_PROGRESS_SECS\]$/m)
    for (const boilerplate of ["A user-defined piece of text.", "This setting is optional.", "--wizard", "--completions", "A true or false value."]) {
      expect(help).not.toContain(boilerplate)
    }
    expect(help.match(/--log-level/g)).toHaveLength(1)
    expect(help).not.toMatch(/ {40}/)
    for (const command of COMMANDS) expect(commandHelp(command, "0.0.0").split("\n").every((line) => line === line.trimEnd())).toBe(true)
  })

  it("answers flusso, flusso --help, flusso <command> -h and flusso slot", () => {
    expect(helpFor([], "1.2.3")).toContain("Usage: flusso <command> [flags]")
    expect(helpFor(["--help"], "1.2.3")).toContain("Commands:")
    expect(helpFor(["check", "-h"], "1.2.3")).toContain("Usage: flusso check [flags]")
    expect(helpFor(["slot", "drop", "--help"], "1.2.3")).toContain("Usage: flusso slot drop [flags]")
    expect(helpFor(["slot"], "1.2.3")).toContain("Usage: flusso slot drop [flags]")
    expect(helpFor(["run", "--config", "x.ts"], "1.2.3")).toBeUndefined()
  })
})
