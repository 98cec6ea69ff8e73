/**
 * The lock (lock.ts): a compiled config round-trips to the same validated config with its
 * env references and defaults, holds nothing it was not given (no environment), and a
 * lock of another format, a hand-edited one or one that no longer matches its config is
 * refused with the path and the command that fixes it.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { VERSION } from "../../../src/cli/version.js"
import { loadConfig } from "../../../src/config/load.js"
import { checkLocked, compileLock, lockText, readLock } from "../../../src/config/lock.js"
import type { FlussoConfig } from "../../../src/config/model.js"
import { EnvRef } from "../../../src/config/model.js"
import { validateConfig } from "../../../src/config/validate.js"
import { planIndex } from "../../../src/schema/planIndex.js"
import { requireBuiltFlusso, ROOT } from "./builtFlusso.js"

const dir = mkdtempSync(path.join(tmpdir(), "flusso-lock-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const write = (name: string, text: string): string => {
  const file = path.join(dir, name)
  writeFileSync(file, text)
  return file
}

const validated = (input: unknown): FlussoConfig => {
  const result = validateConfig(input)
  if (Either.isLeft(result)) throw new Error(result.left.join("\n"))
  return result.right
}

const input = {
  source: { type: "postgres", url: { _tag: "Env", name: "APP_DATABASE_URL" } },
  sinks: {
    primary: { type: "opensearch", url: "http://search:9200", password: new EnvRef({ name: "OS_PASSWORD" }) },
    debug: { type: "stdout" }
  },
  indexes: {
    users: {
      table: "users",
      primaryKey: "id",
      softDelete: { column: "deleted" },
      fields: {
        id: { kind: "long", required: true },
        email: { kind: "keyword", transforms: ["lowercase"], options: { ignore_above: 256 } },
        orders: { kind: "hasMany", table: "orders", foreignKey: "user_id", primaryKey: "id", fields: { total: { kind: "decimal" } } }
      }
    }
  }
}

/** The issue lines of an effect that must fail with ConfigInvalid. */
const issuesOf = <A>(effect: Effect.Effect<A, { readonly issues: ReadonlyArray<string> }>) =>
  effect.pipe(
    Effect.flip,
    Effect.map((error) => error.issues)
  )

describe("compileLock / lockText", () => {
  it("writes the format version, flusso's version, the encoded config with its defaults and each index's hash", () => {
    const config = validated(input)
    const lock = compileLock(config)
    expect(lock.formatVersion).toBe(1)
    expect(lock.flusso).toBe(VERSION)
    expect(lock.indexes).toEqual({ users: { hash: planIndex("users", config.indexes.users!, "stop").hash } })
    expect(lock.config).toMatchObject({
      source: { type: "postgres", url: { _tag: "Env", name: "APP_DATABASE_URL" }, slot: "flusso", publication: "flusso", managePublication: true },
      sinks: { primary: { password: { _tag: "Env", name: "OS_PASSWORD" }, batchSize: 1000, tlsVerify: true }, debug: { pretty: false } },
      indexes: { users: { schema: "public", enabled: true } },
      onError: "stop",
      prefix: "",
      server: { publicAddress: "127.0.0.1:9464" },
      batch: { maxChanges: 1024, maxDelayMs: 50 }
    })
    const text = lockText(lock)
    expect(text.endsWith("}\n")).toBe(true)
    expect(text).toContain('\n  "formatVersion": 1,\n')
    expect(JSON.parse(text)).toEqual(lock)
    // equal configs, equal text: what --locked compares
    expect(lockText(compileLock(validated(input)))).toBe(text)
  })

  it("never applies the environment: env refs stay references, reserved overrides are not read", () => {
    const previous = process.env["DATABASE_URL"]
    process.env["DATABASE_URL"] = "postgres://override@elsewhere/db"
    process.env["APP_DATABASE_URL"] = "postgres://secret@db/app"
    try {
      const text = lockText(compileLock(validated({ ...input, source: { type: "postgres", url: "postgres://literal@db/app" } })))
      expect(text).toContain('"url": "postgres://literal@db/app"')
      expect(text).not.toContain("override")
      const refs = lockText(compileLock(validated(input)))
      expect(refs).not.toContain("secret")
      expect(JSON.parse(refs).config.source.url).toEqual({ _tag: "Env", name: "APP_DATABASE_URL" })
    } finally {
      if (previous === undefined) delete process.env["DATABASE_URL"]
      else process.env["DATABASE_URL"] = previous
      delete process.env["APP_DATABASE_URL"]
    }
  })
})

describe("readLock", () => {
  it.effect("round-trips: compile → text → read gives the validated config, env refs and defaults included", () =>
    Effect.gen(function* () {
      const config = validated(input)
      const file = write("roundtrip.lock.json", lockText(compileLock(config)))
      const read = yield* readLock(file)
      expect(read).toEqual(config)
      expect(read.source.url).toBeInstanceOf(EnvRef)
      expect(read.sinks.primary).toMatchObject({ password: new EnvRef({ name: "OS_PASSWORD" }), batchSize: 1000 })
      expect(read.indexes.users?.schema).toBe("public")
    }))

  it.effect("round-trips the repository's example flusso.config.ts", () =>
    Effect.gen(function* () {
      requireBuiltFlusso()
      const config = yield* loadConfig(path.join(ROOT, "flusso.config.ts"))
      const file = write("example.lock.json", lockText(compileLock(config)))
      expect(yield* readLock(file)).toEqual(config)
      yield* checkLocked(config, file)
    }))

  it.effect("refuses another format version, saying how to rebuild", () =>
    Effect.gen(function* () {
      const lock = { ...compileLock(validated(input)), formatVersion: 2, flusso: "9.0.0" }
      const file = write("future.lock.json", JSON.stringify(lock))
      const error = yield* Effect.flip(readLock(file))
      expect(error.file).toBe(file)
      expect(error.issues).toEqual([
        `formatVersion: is 2 (built by flusso 9.0.0), but flusso ${VERSION} reads lock format 1 only; rebuild it: run flusso build -o ${file}`
      ])
      expect(yield* issuesOf(readLock(write("none.lock.json", "{}")))).toEqual([
        `not a flusso lock (no formatVersion); rebuild it: run flusso build -o ${path.join(dir, "none.lock.json")}`
      ])
    }))

  it.effect("reports a missing file and bad JSON with the fix", () =>
    Effect.gen(function* () {
      const missing = path.join(dir, "absent.lock.json")
      expect(yield* issuesOf(readLock(missing))).toEqual([`no such file: ${missing}; build it: run flusso build -o ${missing}`])
      const bad = write("bad.lock.json", "{ \"formatVersion\": ")
      expect((yield* issuesOf(readLock(bad)))[0]).toMatch(/^cannot parse JSON: .*; rebuild it: run flusso build -o /)
    }))

  it.effect("validates a tampered config exactly as a config file, with the same paths", () =>
    Effect.gen(function* () {
      const lock = compileLock(validated(input))
      const tampered = JSON.parse(lockText(lock))
      tampered.config.indexes.users.fields.email.kind = "keywrd"
      tampered.config.sinks.primary.batchSize = "many"
      tampered.config.indexes.users.fields.orders.limit = 0
      const file = write("tampered.lock.json", JSON.stringify(tampered))
      const issues = yield* issuesOf(readLock(file))
      const direct = Either.match(validateConfig(tampered.config), { onLeft: (issues) => issues, onRight: () => [] })
      expect(direct.length).toBeGreaterThan(0)
      expect(issues).toEqual([
        ...direct,
        `the config in this lock (under "config") is invalid: do not edit a lock; fix the config and rebuild it: run flusso build -o ${file}`
      ])
      expect(issues).toContainEqual(expect.stringMatching(/^indexes\.users\.fields\.email\.kind: Expected .*actual "keywrd"; did you mean "keyword"\?$/))
      expect(issues).toContain("sinks.primary.batchSize: Expected a number, actual \"many\"")
      expect(issues).toContain("indexes.users.fields.orders.limit: must be a positive integer")
    }))

  it.effect("refuses a lock whose hashes its config does not give, and unknown lock keys", () =>
    Effect.gen(function* () {
      const edited = JSON.parse(lockText(compileLock(validated(input))))
      edited.config.indexes.users.table = "people"
      const file = write("edited.lock.json", JSON.stringify(edited))
      const [issue] = yield* issuesOf(readLock(file))
      expect(issue).toMatch(/^indexes\.users\.hash: is [0-9a-f]{8}, but config\.indexes\.users gives [0-9a-f]{8}; the lock was edited by hand; rebuild it: run flusso build -o /)
      // A lock built by another flusso: its hashes are that flusso's, not checked.
      writeFileSync(file, JSON.stringify({ ...edited, flusso: "0.0.1" }))
      expect((yield* readLock(file)).indexes.users?.table).toBe("people")
      writeFileSync(file, JSON.stringify({ ...edited, signature: "x" }))
      expect(yield* issuesOf(readLock(file))).toEqual([
        "signature: unknown key; expected one of `formatVersion`, `flusso`, `config`, `indexes`",
        `rebuild it: run flusso build -o ${file}`
      ])
    }))
})

describe("checkLocked", () => {
  it.effect("passes on the lock the config compiles to and names what changed otherwise", () =>
    Effect.gen(function* () {
      const config = validated(input)
      const file = write("checked.lock.json", lockText(compileLock(config)))
      yield* checkLocked(config, file)

      const changed = validated({ ...input, prefix: "prod_", indexes: { users: { ...input.indexes.users, table: "people" } } })
      const error = yield* Effect.flip(checkLocked(changed, file))
      expect(error.file).toBe(file)
      expect(error.issues).toEqual([
        "the lock is out of date: the config compiles to a different lock " +
          "(changed: config.indexes.users.table, config.prefix, indexes.users.hash); " +
          `rebuild it: run flusso build -o ${file} and commit it, or run without --locked`
      ])
      expect(error.message).toContain(`invalid config ${file}:`)

      // Text is compared: a hand-formatted lock is out of date too, and says so.
      writeFileSync(file, JSON.stringify(compileLock(config)))
      expect((yield* issuesOf(checkLocked(config, file)))[0]).toContain("(only its formatting differs)")
      expect(readFileSync(file, "utf8")).not.toBe(lockText(compileLock(config)))
    }))

  it.effect("fails without a lock, saying how to make one", () =>
    Effect.gen(function* () {
      const missing = path.join(dir, "never.lock.json")
      expect(yield* issuesOf(checkLocked(validated(input), missing))).toEqual([
        `no such file: ${missing}; --locked compares the config with its lock: build it with flusso build -o ${missing} and commit it`
      ])
    }))
})
