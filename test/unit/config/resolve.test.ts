import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, Schema } from "effect"
import { env } from "flusso"
import { FlussoConfig, type FlussoConfigInput } from "../../../src/config/model.js"
import { appliedOverrides, redactUrl, resolveConfig } from "../../../src/config/resolve.js"

const config = (input: FlussoConfigInput): FlussoConfig => Schema.decodeUnknownSync(FlussoConfig)(input)

const withSink = config({
  source: { type: "postgres", url: "postgres://app:literal@db:5432/app" },
  sinks: { primary: { type: "opensearch", url: "http://os:9200", username: "admin", password: env("OS_SECRET") } }
})

describe("resolveConfig", () => {
  it.effect("uses the literal when nothing overrides it, secrets redacted", () =>
    Effect.gen(function* () {
      const resolved = yield* resolveConfig(withSink, { OS_SECRET: "s3cret" })
      expect(Redacted.value(resolved.source.url)).toBe("postgres://app:literal@db:5432/app")
      expect(String(resolved.source.url)).not.toContain("literal")
      expect(resolved.sinks).toEqual([
        expect.objectContaining({ name: "primary", type: "opensearch", url: "http://os:9200", username: "admin" })
      ])
      const [sink] = resolved.sinks
      expect(sink?.type === "opensearch" && sink.password !== undefined && Redacted.value(sink.password)).toBe("s3cret")
      expect(JSON.stringify(resolved)).not.toContain("s3cret")
    }))

  it.effect("lets reserved variables override literals but not an explicit env()", () =>
    Effect.gen(function* () {
      const vars = {
        OS_SECRET: "explicit",
        DATABASE_URL: "postgresql://other@db2/app?sslmode=require",
        PRIMARY_OPENSEARCH_URL: "https://os2:9200",
        PRIMARY_OPENSEARCH_USERNAME: "reader",
        PRIMARY_OPENSEARCH_PASSWORD: "reserved"
      }
      const resolved = yield* resolveConfig(withSink, vars)
      expect(Redacted.value(resolved.source.url)).toBe("postgresql://other@db2/app?sslmode=require")
      const [sink] = resolved.sinks
      expect(sink).toMatchObject({ url: "https://os2:9200", username: "reader" })
      expect(sink?.type === "opensearch" && sink.password !== undefined && Redacted.value(sink.password)).toBe("explicit")
      expect(appliedOverrides(withSink, vars)).toEqual([
        "DATABASE_URL",
        "PRIMARY_OPENSEARCH_URL",
        "PRIMARY_OPENSEARCH_USERNAME"
      ])
    }))

  it.effect("reports every unset variable and missing value by path", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        resolveConfig(
          config({
            source: { type: "postgres", url: env("APP_DB") },
            sinks: { a: { type: "opensearch" }, b: { type: "opensearch", url: "ftp://x" } }
          }),
          { APP_DB: "  " },
          "flusso.config.ts"
        )
      )
      expect(error.file).toBe("flusso.config.ts")
      expect(error.issues).toEqual([
        'source.url: environment variable APP_DB is not set (env("APP_DB"))',
        "sinks.a.url: not set; set it or A_OPENSEARCH_URL",
        "sinks.b.url: must be a http:// or https:// URL, got ftp://x"
      ])
      const noUrl = yield* Effect.flip(resolveConfig(config({ source: { type: "postgres" } }), {}))
      expect(noUrl.issues).toEqual(["source.url: not set; set source.url or DATABASE_URL"])
      const notPostgres = yield* Effect.flip(resolveConfig(config({ source: { type: "postgres", url: "mysql://u:pw@h/d" } }), {}))
      expect(notPostgres.issues).toEqual(["source.url: must be a postgres:// or postgresql:// URL, got mysql://u:***@h/d"])
    }))

  it.effect("builds the source URL from parts, encoding each component", () =>
    Effect.gen(function* () {
      const parts = config({
        source: { type: "postgres", url: { host: "::1", user: "app user", password: env("PGPASS"), database: "my/db" } }
      })
      const resolved = yield* resolveConfig(parts, { PGPASS: "p@ss:w/rd" })
      expect(Redacted.value(resolved.source.url)).toBe("postgres://app%20user:p%40ss%3Aw%2Frd@[::1]:5432/my%2Fdb")
      const defaults = yield* resolveConfig(config({ source: { type: "postgres", url: { database: "app" } } }), {})
      expect(Redacted.value(defaults.source.url)).toBe("postgres://postgres@127.0.0.1:5432/app")
    }))

  it.effect("adds a stdout sink when none is configured and plans the indexes", () =>
    Effect.gen(function* () {
      const resolved = yield* resolveConfig(
        config({
          source: { type: "postgres", url: "postgres://localhost/app" },
          onError: "skip",
          indexes: { users: { table: "users", primaryKey: "id", fields: { fullName: { kind: "text" } } } }
        }),
        {}
      )
      expect(resolved.sinks).toEqual([{ type: "stdout", pretty: false, name: "stdout" }])
      expect(resolved.indexes).toEqual([
        expect.objectContaining({ name: "users", qualifiedTable: "public.users", primaryKey: ["id"], onError: "skip" })
      ])
      expect(resolved.indexes[0]?.fields[0]).toMatchObject({ _tag: "Scalar", column: "full_name" })
    }))
})

describe("redactUrl", () => {
  it("hides passwords in the user info and the query", () => {
    expect(redactUrl("postgres://app:secret@db:5432/app?sslmode=require")).toBe(
      "postgres://app:***@db:5432/app?sslmode=require"
    )
    expect(redactUrl("postgres://db/app?user=a&password=secret")).toBe("postgres://db/app?user=a&password=***")
    expect(redactUrl("https://admin:p%40ss@os:9200")).toBe("https://admin:***@os:9200/")
    expect(redactUrl("http://os:9200")).toBe("http://os:9200")
    expect(redactUrl("not a url://u:secret@host")).not.toContain("secret")
  })
})
