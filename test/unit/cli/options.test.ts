import { Command, HelpDoc } from "@effect/cli"
import { Option } from "effect"
import { describe, expect, it } from "vitest"
import { build, schema } from "../../../src/cli/build.js"
import { check } from "../../../src/cli/check.js"
import { validateOverrides } from "../../../src/cli/options.js"
import { run } from "../../../src/cli/run.js"
import { indexes, reindex } from "../../../src/cli/serverClient.js"
import { VERSION } from "../../../src/cli/version.js"
import packageJson from "../../../package.json" with { type: "json" }

const none = { slot: Option.none(), publication: Option.none(), managePublication: Option.none(), indexPrefix: Option.none(), publicAddress: Option.none(), privateAddress: Option.none() }

describe("CLI flags", () => {
  it("name their FLUSSO_* twin in --help, for every flag of every command", () => {
    const expected: Record<string, ReadonlyArray<string>> = {
      run: ["FLUSSO_CONFIG", "FLUSSO_LOCK", "FLUSSO_LOCKED", "FLUSSO_SKIP_BACKFILL", "FLUSSO_SLOT", "FLUSSO_PUBLICATION", "FLUSSO_MANAGE_PUBLICATION", "FLUSSO_INDEX_PREFIX", "FLUSSO_PUBLIC_ADDRESS", "FLUSSO_PRIVATE_ADDRESS", "FLUSSO_ADMIN_USER", "FLUSSO_ADMIN_PASSWORD", "FLUSSO_LAG_POLL_SECS", "FLUSSO_PROGRESS_SECS", "FLUSSO_LOG_FORMAT", "FLUSSO_LOG_LEVEL"],
      check: ["FLUSSO_CONFIG", "FLUSSO_OFFLINE", "FLUSSO_FORMAT"],
      build: ["FLUSSO_CONFIG", "FLUSSO_OUTPUT"],
      schema: ["FLUSSO_OUTPUT"],
      indexes: ["FLUSSO_SERVER", "FLUSSO_FORMAT", "FLUSSO_ADMIN_USER", "FLUSSO_ADMIN_PASSWORD"],
      reindex: ["FLUSSO_SERVER", "FLUSSO_WAIT", "FLUSSO_ADMIN_USER", "FLUSSO_ADMIN_PASSWORD"]
    }
    const config = { isCaseSensitive: false, autoCorrectLimit: 2, finalCheckBuiltIn: false, showAllNames: true, showBuiltIns: true, showTypes: true }
    const helps: Record<string, string> = {
      run: HelpDoc.toAnsiText(Command.getHelp(run, config)),
      check: HelpDoc.toAnsiText(Command.getHelp(check, config)),
      build: HelpDoc.toAnsiText(Command.getHelp(build, config)),
      schema: HelpDoc.toAnsiText(Command.getHelp(schema, config)),
      indexes: HelpDoc.toAnsiText(Command.getHelp(indexes, config)),
      reindex: HelpDoc.toAnsiText(Command.getHelp(reindex, config))
    }
    for (const [name, help] of Object.entries(helps)) {
      for (const variable of expected[name] ?? []) expect(help, `${name} --help`).toMatch(new RegExp(`\\(env ${variable}[)=]`))
    }
  })

  it("refuse override values the config would refuse, naming the flag", () => {
    expect(validateOverrides({ ...none, slot: Option.some("good_slot") })).toBeUndefined()
    const bad = validateOverrides({ ...none, slot: Option.some("My Slot"), indexPrefix: Option.some("UPPER"), publicAddress: Option.some("9464") })
    expect(bad?.issues).toHaveLength(3)
    expect(bad?.issues[0]).toMatch(/^--slot: .*\^\[a-z_\]\[a-z0-9_\]\*\$/)
    expect(bad?.issues[1]).toMatch(/^--index-prefix: must be lowercase/)
    expect(bad?.issues[2]).toMatch(/^--public-address: "9464" is not an address/)
  })

  it("report the package's version", () => {
    expect(VERSION).toBe(packageJson.version)
  })
})
