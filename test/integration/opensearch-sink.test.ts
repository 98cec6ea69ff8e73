/**
 * The OpenSearch sink and checkpoint store against a real OpenSearch node
 * (FLUSSO_TEST_OPENSEARCH_URL). Each test owns a unique prefix and deletes its indexes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import type { Scope } from "effect"
import { randomBytes } from "node:crypto"
import * as MemoryCheckpointStore from "../../src/checkpoint/MemoryCheckpointStore.js"
import * as OpenSearchCheckpointStore from "../../src/sink/opensearch/OpenSearchCheckpointStore.js"
import type { IndexConfig } from "../../src/config/model.js"
import type { ResolvedOpenSearchSink } from "../../src/config/ResolvedConfig.js"
import { planIndex } from "../../src/schema/planIndex.js"
import type { FieldPlan, IndexPlan, JoinPlan, ScalarPlan } from "../../src/schema/IndexPlan.js"
import * as Fanout from "../../src/sink/fanout.js"
import type { Sink, SinkIndex, WriteOperation } from "../../src/sink/Sink.js"
import { convenienceAliasName, hashAliasName, metaIndexName, refsIndexName } from "../../src/sink/opensearch/names.js"
import * as StdoutSink from "../../src/sink/stdout/StdoutSink.js"
import * as OpenSearchSink from "../../src/sink/opensearch/OpenSearchSink.js"
import { OpenSearchClients } from "../../src/sink/opensearch/OpenSearchClients.js"
import * as OpenSearchClientsModule from "../../src/sink/opensearch/OpenSearchClients.js"
import type { ReferenceSearchOptions } from "../../src/sink/opensearch/references.js"

/** The sink / checkpoint store over clients of their own, as the deployment layer gives them. */
const withClients = (sinks: ReadonlyArray<ResolvedOpenSearchSink>) => Effect.provideServiceEffect(OpenSearchClients, OpenSearchClientsModule.make(sinks))
const makeSink = (sinks: ReadonlyArray<ResolvedOpenSearchSink>, ...rest: [prefix: string, referenceSearch?: ReferenceSearchOptions]) =>
  OpenSearchSink.make(sinks, ...rest).pipe(withClients(sinks))
const makeStore = (sinks: ReadonlyArray<ResolvedOpenSearchSink>, prefix: string) =>
  OpenSearchCheckpointStore.make(sinks, prefix).pipe(withClients(sinks))

const OPENSEARCH_URL = process.env["FLUSSO_TEST_OPENSEARCH_URL"]

const baseUrl = (): string => {
  // A missing service fails the tests; it never skips them.
  if (OPENSEARCH_URL === undefined || OPENSEARCH_URL === "") {
    throw new Error("FLUSSO_TEST_OPENSEARCH_URL is not set (run `bash scripts/services.sh env`)")
  }
  return OPENSEARCH_URL.replace(/\/+$/, "")
}

const sinkConfig = (overrides: Partial<ResolvedOpenSearchSink> = {}): ResolvedOpenSearchSink => ({
  type: "opensearch",
  name: "primary",
  url: baseUrl(),
  username: undefined,
  password: undefined,
  tlsVerify: true,
  batchSize: 1000,
  maxBytes: 10 * 1024 * 1024,
  timeoutSeconds: 30,
  maxRetries: 2,
  numberOfShards: 1,
  numberOfReplicas: 0,
  refreshInterval: "1s",
  textAnalysis: "builtin",
  autoSubfields: true,
  mappingStyle: "flusso",
  ...overrides
})

const plan = (name: string, fields: IndexConfig["fields"]): IndexPlan =>
  planIndex(name, { table: name, schema: "public", primaryKey: "id", enabled: true, fields }, "stop")

/** Raw HTTP for assertions, so what we check is what the cluster holds, byte for byte. */
const raw = (method: string, path: string, body?: unknown) =>
  Effect.promise(async () => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
    })
    return { status: res.status, text: await res.text() }
  })

const json = (method: string, path: string, body?: unknown) =>
  Effect.map(raw(method, path, body), (r) => ({ status: r.status, body: JSON.parse(r.text) as unknown }))

/** Walks parsed JSON by keys / indexes; undefined when the path is not there. */
const at = (value: unknown, ...path: ReadonlyArray<string | number>): unknown =>
  path.reduce<unknown>(
    (current, key) =>
      current !== null && typeof current === "object" ? (current as Record<string | number, unknown>)[key] : undefined,
    value
  )

const keysAt = (value: unknown, ...path: ReadonlyArray<string | number>): Array<string> => {
  const found = at(value, ...path)
  return found !== null && typeof found === "object" ? Object.keys(found) : []
}

/** A unique prefix whose indexes and aliases are deleted when the test's scope closes. */
const testPrefix: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => `t${randomBytes(4).toString("hex")}_`),
  (prefix) =>
    Effect.gen(function* () {
      const aliases = yield* json("GET", `/_alias/${prefix}*?expand_wildcards=all`)
      const actions = keysAt(aliases.status === 200 ? aliases.body : {}).flatMap((index) =>
        keysAt(aliases.body, index, "aliases")
          .filter((alias) => alias.startsWith(prefix))
          .map((alias) => ({ remove: { index, alias } }))
      )
      if (actions.length > 0) yield* raw("POST", "/_aliases", { actions })
      yield* raw("DELETE", `/${prefix}*?expand_wildcards=all&ignore_unavailable=true`)
    })
)

const upsert = (index: string, id: string, jsonText: string, version = 1n): WriteOperation => ({ _tag: "Upsert", index, id, json: jsonText, version })
const del = (index: string, id: string, version = 1n): WriteOperation => ({ _tag: "Delete", index, id, version })

/** Live writes, then searchable. */
const writeRefreshed = (sink: Sink, names: ReadonlyArray<string>, operations: ReadonlyArray<WriteOperation>) =>
  Effect.zipLeft(sink.write(names, operations), sink.refresh(names))

const setup = (
  plans: ReadonlyArray<IndexPlan>,
  overrides: Partial<ResolvedOpenSearchSink> = {},
  referenceSearch?: ReferenceSearchOptions
) =>
  Effect.gen(function* () {
    const prefix = yield* testPrefix
    const sink = yield* makeSink([sinkConfig(overrides)], prefix, referenceSearch)
    const targets = yield* sink.ensureIndexes(plans)
    return { prefix, sink, targets }
  })

const search = (index: string, body: unknown) =>
  Effect.map(json("POST", `/${index}/_search`, body), (r) =>
    keysAt(r.body, "hits", "hits").map((i) => String(at(r.body, "hits", "hits", i, "_id")))
  )

describe("OpenSearch sink", () => {
  it.scopedLive("ensureIndexes is idempotent, creates a strict unseeded generation and points both aliases at it", () =>
    Effect.gen(function* () {
      const users = plan("users", { id: { kind: "long" }, name: { kind: "text" } })
      const disabled = { ...plan("off", { id: { kind: "long" } }), enabled: false }
      const { prefix, sink, targets } = yield* setup([users, disabled])
      const generation = `${prefix}users_${users.hash}_1`
      // A first run: the generation being seeded is the one that serves.
      expect(targets).toEqual([{ sink: "primary", index: "users", generation, serving: true }])
      expect(yield* sink.ensureIndexes([users, disabled])).toEqual(targets)

      const indices = yield* json("GET", `/_cat/indices/${prefix}*?format=json&h=index`)
      expect(keysAt(indices.body).map((i) => at(indices.body, i, "index"))).toEqual([generation])

      const mapping = yield* json("GET", `/${generation}/_mapping`)
      expect(at(mapping.body, generation, "mappings", "dynamic")).toBe("strict")
      expect(at(mapping.body, generation, "mappings", "properties", "name", "analyzer")).toBe("flusso_text")

      const aliases = yield* json("GET", `/${generation}/_alias`)
      expect(keysAt(aliases.body, generation, "aliases").sort()).toEqual(
        [convenienceAliasName(prefix, "users"), hashAliasName(prefix, "users", users.hash)].sort()
      )

      const settings = yield* json("GET", `/${generation}/_settings`)
      expect(at(settings.body, generation, "settings", "index", "refresh_interval")).toBe("-1")
      // A deleted document's version outlives it long enough to refuse a late write.
      expect(at(settings.body, generation, "settings", "index", "gc_deletes")).toBe("1h")
      expect(at((yield* json("GET", `/${refsIndexName(generation)}/_settings`)).body, refsIndexName(generation), "settings", "index", "gc_deletes")).toBe("1h")
      yield* sink.seeded(targets[0] as SinkIndex)
      const seeded = yield* json("GET", `/${generation}/_settings`)
      expect(at(seeded.body, generation, "settings", "index", "refresh_interval")).toBe("1s")

      // A new shape while the old one serves: its own generation, no alias moved yet.
      const users2 = plan("users", { id: { kind: "long" }, name: { kind: "text" }, age: { kind: "integer" } })
      const [next] = yield* sink.ensureIndexes([users2])
      expect(next?.generation).toBe(`${prefix}users_${users2.hash}_1`)
      expect(next?.serving).toBe(false)
      const served = yield* json("GET", `/_alias/${convenienceAliasName(prefix, "users")}`)
      expect(keysAt(served.body)).toEqual([generation])
    })
  )

  it.scopedLive("upserts and deletes; deleting a missing document is success", () =>
    Effect.gen(function* () {
      const items = plan("items", { id: { kind: "long" }, name: { kind: "keyword" } })
      const { prefix, sink } = yield* setup([items])
      const rejections = yield* writeRefreshed(sink,
        ["primary"],
        [
          upsert("items", "1", `{"id":1,"name":"one"}`),
          upsert("items", "2", `{"id":2,"name":"two"}`),
          upsert("items", "3", `{"id":3,"name":"three"}`),
          upsert("items", "2", `{"id":2,"name":"two again"}`),
          del("items", "3"),
          del("items", "404")
        ])
      expect(rejections).toEqual([])
      const alias = convenienceAliasName(prefix, "items")
      expect((yield* search(alias, { query: { match_all: {} } })).sort()).toEqual(["1", "2"])
      const two = yield* json("GET", `/${alias}/_doc/2`)
      expect(at(two.body, "_source")).toEqual({ id: 2, name: "two again" })
    })
  )

  it.scopedLive("a write older than what a document holds changes nothing and is no rejection; deletes too", () =>
    Effect.gen(function* () {
      const items = plan("items", { id: { kind: "long" }, name: { kind: "keyword" } })
      const { prefix, sink } = yield* setup([items])
      const alias = convenienceAliasName(prefix, "items")
      const source = (id: string) => Effect.map(json("GET", `/${alias}/_doc/${id}`), (r) => at(r.body, "_source"))
      expect(yield* writeRefreshed(sink, ["primary"], [upsert("items", "1", `{"id":1,"name":"new"}`, 200n)])).toEqual([])
      // A request given up on and executed later: an older build.
      expect(yield* writeRefreshed(sink, ["primary"], [upsert("items", "1", `{"id":1,"name":"old"}`, 100n)])).toEqual([])
      expect(yield* source("1")).toEqual({ id: 1, name: "new" })
      // The same version again (a retry of the same batch) is applied.
      expect(yield* writeRefreshed(sink, ["primary"], [upsert("items", "1", `{"id":1,"name":"new, rebuilt"}`, 200n)])).toEqual([])
      expect(yield* source("1")).toEqual({ id: 1, name: "new, rebuilt" })
      // An older delete leaves the newer document; a newer one removes it, and an older
      // write after it does not bring it back.
      expect(yield* writeRefreshed(sink, ["primary"], [del("items", "1", 150n)])).toEqual([])
      expect(yield* source("1")).toEqual({ id: 1, name: "new, rebuilt" })
      expect(yield* writeRefreshed(sink, ["primary"], [del("items", "1", 300n)])).toEqual([])
      expect(yield* writeRefreshed(sink, ["primary"], [upsert("items", "1", `{"id":1,"name":"late"}`, 250n)])).toEqual([])
      expect(yield* source("1")).toBeUndefined()
      expect(yield* writeRefreshed(sink, ["primary"], [upsert("items", "1", `{"id":1,"name":"back"}`, 400n)])).toEqual([])
      expect(yield* source("1")).toEqual({ id: 1, name: "back" })
    })
  )

  it.scopedLive("seed writes only the generation being seeded; live writes go to it and the serving one", () =>
    Effect.gen(function* () {
      const v1 = plan("items", { id: { kind: "long" }, name: { kind: "keyword" } })
      const { prefix, sink } = yield* setup([v1])
      const v2 = plan("items", { id: { kind: "long" }, name: { kind: "keyword" }, n: { kind: "integer" } })
      const [building] = yield* sink.ensureIndexes([v2])
      if (building === undefined) return yield* Effect.dieMessage("no target")
      expect(building.serving).toBe(false)
      yield* sink.seed(building, [upsert("items", "1", `{"id":1,"name":"seeded","n":1}`)])
      yield* sink.write(["primary"], [upsert("items", "2", `{"id":2,"name":"live","n":2}`)])
      const serving = `${prefix}items_${v1.hash}_1`
      yield* raw("POST", `/${serving},${building.generation}/_refresh`)
      expect((yield* search(serving, { query: { match_all: {} } })).sort()).toEqual(["2"])
      expect((yield* search(building.generation, { query: { match_all: {} } })).sort()).toEqual(["1", "2"])
      // The serving generation of the older shape gets the fields it maps.
      expect(at((yield* json("GET", `/${serving}/_doc/2`)).body, "_source")).toEqual({ id: 2, name: "live" })
    })
  )

  it.scopedLive("refresh makes every live write since the last refresh searchable, in the serving generation", () =>
    Effect.gen(function* () {
      const items = plan("items", { id: { kind: "long" } })
      const { prefix, sink, targets } = yield* setup([items])
      yield* sink.seeded(targets[0] as SinkIndex)
      // Refreshed every 1 s: set it off so only an explicit refresh shows writes.
      const generation = (targets[0] as SinkIndex).generation
      yield* json("PUT", `/${generation}/_settings`, { index: { refresh_interval: "-1" } })
      // A scheduled refresh already running when the interval changed can still land after
      // the writes below; an explicit refresh waits for it (refreshes on a shard are serial).
      yield* json("POST", `/${generation}/_refresh`)
      yield* sink.write(["primary"], [upsert("items", "1", `{"id":1}`)])
      yield* sink.write(["primary"], [upsert("items", "2", `{"id":2}`)])
      const alias = convenienceAliasName(prefix, "items")
      expect(yield* search(alias, { query: { match_all: {} } })).toEqual([])
      yield* sink.refresh(["primary"])
      expect((yield* search(alias, { query: { match_all: {} } })).sort()).toEqual(["1", "2"])
    })
  )

  it.scopedLive("keeps every digit of int8 and numeric values: documents are written as text", () =>
    Effect.gen(function* () {
      const nums = plan("nums", { id: { kind: "long" }, big: { kind: "long" }, price: { kind: "decimal" } })
      const { prefix, sink } = yield* setup([nums])
      const document = `{"id":1,"big":9007199254740993,"price":12345678901234567890.123456789}`
      expect(yield* writeRefreshed(sink, ["primary"], [upsert("nums", "1", document)])).toEqual([])
      const source = yield* raw("GET", `/${convenienceAliasName(prefix, "nums")}/_source/1`)
      expect(source.text).toBe(document)
      // The value is indexed exactly too (a double would have made it ...992).
      const hits = yield* search(convenienceAliasName(prefix, "nums"), { query: { term: { big: "9007199254740993" } } })
      expect(hits).toEqual(["1"])
    })
  )

  it.scopedLive("splits writes by batchSize and maxBytes, a larger document alone, in order", () =>
    Effect.gen(function* () {
      const docs = plan("docs", { id: { kind: "long" }, body: { kind: "text" } })
      const { prefix, sink } = yield* setup([docs], { batchSize: 2, maxBytes: 200 })
      const big = "x".repeat(1000)
      const operations: Array<WriteOperation> = []
      for (let i = 1; i <= 7; i++) operations.push(upsert("docs", String(i), `{"id":${i},"body":"doc ${i}"}`))
      operations.push(upsert("docs", "big", `{"id":99,"body":"${big}"}`))
      // Later chunks overwrite and delete what earlier chunks wrote: order survives the split.
      operations.push(upsert("docs", "1", `{"id":1,"body":"rewritten"}`), del("docs", "2"))
      expect(yield* writeRefreshed(sink, ["primary"], operations)).toEqual([])
      const alias = convenienceAliasName(prefix, "docs")
      const ids = yield* search(alias, { size: 100, query: { match_all: {} } })
      expect(ids.sort()).toEqual(["1", "3", "4", "5", "6", "7", "big"])
      expect(at((yield* json("GET", `/${alias}/_doc/1`)).body, "_source", "body")).toBe("rewritten")
    })
  )

  it.scopedLive("returns a mapping-rejected item as a Rejection with its id; the rest is written", () =>
    Effect.gen(function* () {
      const items = plan("items", { id: { kind: "long" }, count: { kind: "integer" } })
      const { prefix, sink } = yield* setup([items])
      const rejections = yield* writeRefreshed(sink,
        ["primary"],
        [
          upsert("items", "ok", `{"id":1,"count":3}`),
          upsert("items", "bad", `{"id":2,"count":"many"}`),
          upsert("items", "stray", `{"id":3,"unknown":true}`)
        ])
      expect(rejections.map((r) => [r.sink, r.index, r.id])).toEqual([
        ["primary", "items", "bad"],
        ["primary", "items", "stray"]
      ])
      expect(rejections[0]?.reason).toContain("mapper_parsing_exception")
      expect(rejections[1]?.reason).toContain("strict_dynamic_mapping_exception")
      expect(yield* search(convenienceAliasName(prefix, "items"), { query: { match_all: {} } })).toEqual(["ok"])
    })
  )

  it.scopedLive("finds an identifier by its parts: C-01234 by c01234, 01234 and C-01234", () =>
    Effect.gen(function* () {
      const parts = plan("parts", { id: { kind: "long" }, code: { kind: "identifier" } })
      const { prefix, sink } = yield* setup([parts])
      yield* writeRefreshed(sink,
        ["primary"],
        [upsert("parts", "1", `{"id":1,"code":"C-01234"}`), upsert("parts", "2", `{"id":2,"code":"D-99999"}`)])
      const alias = convenienceAliasName(prefix, "parts")
      for (const query of ["c01234", "01234", "C-01234"]) {
        expect(yield* search(alias, { query: { match: { code: query } } })).toEqual(["1"])
      }
    })
  )

  it.scopedLive("sorts an enum by declared variant order, unknown values after", () =>
    Effect.gen(function* () {
      const tickets = plan("tickets", {
        id: { kind: "long" },
        priority: { kind: "enum", variants: ["low", "medium", "high", "critical"] }
      })
      const { prefix, sink } = yield* setup([tickets])
      const values = ["high", "zzz", "low", "critical", "aaa", "medium"]
      yield* writeRefreshed(sink,
        ["primary"],
        values.map((v, i) => upsert("tickets", v, `{"id":${i},"priority":"${v}"}`)))
      const sorted = yield* search(convenienceAliasName(prefix, "tickets"), {
        sort: [{ "priority.sort": "asc" }],
        query: { match_all: {} }
      })
      expect(sorted).toEqual(["low", "medium", "high", "critical", "aaa", "zzz"])
    })
  )

  it.scopedLive("accepts canonical dates, microsecond timestamps and times", () =>
    Effect.gen(function* () {
      const events = plan("events", {
        id: { kind: "long" },
        day: { kind: "date" },
        at: { kind: "timestamp" },
        local: { kind: "timestamp" },
        clock: { kind: "timestamp" }
      })
      const { sink } = yield* setup([events])
      const rejections = yield* sink.write(
        ["primary"],
        [
          upsert(
            "events",
            "1",
            `{"id":1,"day":"2024-01-02","at":"2024-01-02T03:04:05.123456Z","local":"2024-01-02T03:04:05.123456","clock":"03:04:05.123456"}`
          )
        ])
      expect(rejections).toEqual([])
    })
  )

  it.scopedLive("fails with SinkRequestFailed (not retried) when OpenSearch refuses a request", () =>
    Effect.gen(function* () {
      const prefix = yield* testPrefix
      // A concrete index squatting on the convenience alias's name: the alias cannot be added.
      yield* raw("PUT", `/${prefix}taken`, {})
      const sink = yield* makeSink([sinkConfig()], prefix)
      const exit = yield* Effect.exit(sink.ensureIndexes([plan("taken", { id: { kind: "long" } })]))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        expect(exit.cause.error._tag).toBe("SinkRequestFailed")
        expect(exit.cause.error._tag === "SinkRequestFailed" && exit.cause.error.status).toBe(400)
        expect(exit.cause.error.message).toContain("invalid_alias_name_exception")
      } else {
        expect.fail(`expected a typed failure, got ${String(exit)}`)
      }
    })
  )

  it.scopedLive("fails with SinkUnavailable after its retries when the cluster cannot be reached", () =>
    Effect.gen(function* () {
      const sink = yield* makeSink([sinkConfig({ url: "http://127.0.0.1:1", maxRetries: 2, timeoutSeconds: 2 })], "tunreachable_")
      const started = Date.now()
      const exit = yield* Effect.exit(sink.ensureIndexes([plan("items", { id: { kind: "long" } })]))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("SinkUnavailable")
      // Two retries with backoff from 100 ms took some time: it did retry.
      expect(Date.now() - started).toBeGreaterThanOrEqual(100)
    })
  )
})

describe("OpenSearch checkpoint store", () => {
  it.scopedLive("round-trips cursor and seeded flag through the meta index, durably", () =>
    Effect.gen(function* () {
      const prefix = yield* testPrefix
      const store = yield* makeStore([sinkConfig()], prefix)
      const target: SinkIndex = { sink: "primary", index: "users", generation: `${prefix}users_abcd1234_1`, serving: true }

      expect(yield* store.get(target)).toEqual({ seeded: false, cursor: null, layout: null })
      yield* store.saveCursor(target, ["41"])
      expect(yield* store.get(target)).toEqual({ seeded: false, cursor: ["41"], layout: null })
      yield* store.saveCursor(target, ["tenant \"a\"", "42"])
      expect(yield* store.get(target)).toEqual({ seeded: false, cursor: ["tenant \"a\"", "42"], layout: null })
      yield* store.markSeeded(target)
      expect(yield* store.get(target)).toEqual({ seeded: true, cursor: ["tenant \"a\"", "42"], layout: null })

      // Another generation is independent; a fresh store (a restart) reads the same state.
      const other = { ...target, generation: `${prefix}users_abcd1234_2` }
      expect(yield* store.get(other)).toEqual({ seeded: false, cursor: null, layout: null })
      const restarted = yield* makeStore([sinkConfig()], prefix)
      expect(yield* restarted.get(target)).toEqual({ seeded: true, cursor: ["tenant \"a\"", "42"], layout: null })

      const meta = metaIndexName(prefix)
      const mapping = yield* json("GET", `/${meta}/_mapping`)
      expect(at(mapping.body, meta, "mappings", "dynamic")).toBe("strict")
      const doc = yield* json("GET", `/${meta}/_doc/${encodeURIComponent(`primary:${target.generation}`)}`)
      expect(at(doc.body, "_source")).toMatchObject({ sink: "primary", index: "users", generation: target.generation, seeded: true })
    })
  )

  it.scopedLive("keeps non-OpenSearch sinks (stdout) in memory", () =>
    Effect.gen(function* () {
      const prefix = yield* testPrefix
      const store = yield* makeStore([sinkConfig()], prefix)
      const target: SinkIndex = { sink: "console", index: "users", generation: "users_abcd1234", serving: true }
      yield* store.markSeeded(target)
      expect(yield* store.get(target)).toEqual({ seeded: true, cursor: null, layout: null })
      const meta = yield* raw("HEAD", `/${metaIndexName(prefix)}`)
      expect(meta.status).toBe(404)
    })
  )

  it.effect("MemoryCheckpointStore round-trips", () =>
    Effect.gen(function* () {
      const store = yield* MemoryCheckpointStore.make
      const target: SinkIndex = { sink: "s", index: "i", generation: "g", serving: true }
      yield* store.saveCursor(target, ["1", "2"])
      yield* store.markSeeded(target)
      expect(yield* store.get(target)).toEqual({ seeded: true, cursor: ["1", "2"], layout: null })
      expect(yield* store.get({ ...target, generation: "h" })).toEqual({ seeded: false, cursor: null, layout: null })
    })
  )
})

/** A document with its refs beside it, as the builder hands them over. */
const upsertWithRefs = (index: string, id: string, document: string, refs: ReadonlyArray<string>): WriteOperation => ({
  _tag: "Upsert",
  index,
  id,
  json: document,
  refs: JSON.stringify(refs),
  version: 1n
})

describe("OpenSearch sink: referencing", () => {
  const items = () => plan("items", { id: { kind: "long" }, name: { kind: "keyword" } })
  // Tiny pages and chunks, so paging and chunking are exercised with a handful of documents.
  const tiny: ReferenceSearchOptions = { pageSize: 2, chunkSize: 3 }

  it.scopedLive("finds documents written just before by any of their refs, across pages and chunks", () =>
    Effect.gen(function* () {
      const { prefix, sink, targets } = yield* setup([items()], {}, tiny)
      const generation = (targets[0] as SinkIndex).generation
      // Nothing written yet: nothing found, no failure.
      expect(yield* sink.referencing("items", ["public.customers:1"])).toEqual([])

      const ids = ["1", "2", "3", "4", "5", "6", "7"]
      yield* sink.write(
        ["primary"],
        // No refresh asked, and the unseeded generation never refreshes on its own.
        ids.map((id) => upsertWithRefs("items", id, `{"id":${id},"name":"n${id}"}`, ["public.customers:1", `public.lines:${id}`]))
      )
      // 7 hits at 2 per page.
      expect([...(yield* sink.referencing("items", ["public.customers:1"]))].sort()).toEqual(ids)
      // 7 refs in chunks of 3; "3" is matched by two chunks and reported once.
      const refs = ["public.lines:1", "public.nothing:1", "public.lines:3", "public.lines:5", "public.lines:3", "public.x:9", "public.lines:7"]
      expect([...(yield* sink.referencing("items", refs))].sort()).toEqual(["1", "3", "5", "7"])
      expect(yield* sink.referencing("items", [])).toEqual([])

      // Written after a search (the index was refreshed and is dirty again): still seen at once.
      // A rewrite drops a ref, a delete drops them all.
      yield* sink.write(
        ["primary"],
        [
          upsertWithRefs("items", "8", `{"id":8,"name":"n8"}`, ["public.customers:1"]),
          upsertWithRefs("items", "2", `{"id":2,"name":"n2"}`, ["public.lines:2"]),
          del("items", "4"),
          // In an index with traced tables every document carries the member, `[]` when it read none of their rows.
          upsertWithRefs("items", "5", `{"id":5,"name":"no refs at all"}`, [])
        ])
      expect([...(yield* sink.referencing("items", ["public.customers:1"]))].sort()).toEqual(["1", "3", "6", "7", "8"])
      expect(yield* sink.referencing("items", ["public.lines:2"])).toEqual(["2"])

      // A search with nothing written since refreshes nothing.
      const refreshes = Effect.map(json("GET", `/${refsIndexName(generation)}/_stats/refresh`), (r) =>
        Number(at(r.body, "_all", "primaries", "refresh", "total"))
      )
      const before = yield* refreshes
      yield* sink.referencing("items", ["public.customers:1"])
      expect(yield* refreshes).toBe(before)

      // Readers never see the refs: not in _source, not in the document mapping, and the
      // hidden companion does not show up in wildcard searches.
      const alias = convenienceAliasName(prefix, "items")
      expect((yield* raw("GET", `/${alias}/_source/1`)).text).toBe(`{"id":1,"name":"n1"}`)
      const mapping = yield* json("GET", `/${generation}/_mapping`)
      expect(keysAt(mapping.body, generation, "mappings", "properties").sort()).toEqual(["id", "name"])
      yield* raw("POST", `/${generation}/_refresh`)
      expect((yield* search(`${prefix}*`, { size: 100, query: { match_all: {} } })).sort()).toEqual(["1", "2", "3", "5", "6", "7", "8"])
    })
  )

  it.scopedLive("answers through a fan-out with a stdout sink, which knows nothing", () =>
    Effect.gen(function* () {
      const prefix = yield* testPrefix
      const opensearch = yield* makeSink([sinkConfig()], prefix)
      const stdout = yield* StdoutSink.make([{ type: "stdout", name: "console", pretty: false }], () => Effect.void)
      const sink = yield* Fanout.make([stdout, opensearch])
      yield* sink.ensureIndexes([items()])
      yield* sink.write(
        ["primary", "console"],
        [upsertWithRefs("items", "1", `{"id":1,"name":"a"}`, ["public.tags:4"])])
      expect(yield* sink.referencing("items", ["public.tags:4"])).toEqual(["1"])
    })
  )
})

// Tree plans by hand: the mapping depends on the plan only, not on how a config spells it.
const scalarField = (name: string, kind: ScalarPlan["kind"], variants?: ReadonlyArray<string>): ScalarPlan => ({
  _tag: "Scalar",
  name,
  kind,
  column: name,
  required: false,
  transforms: [],
  default: undefined,
  variants,
  options: undefined
})

const joinField = (name: string, relation: JoinPlan["relation"], fields: ReadonlyArray<FieldPlan>): JoinPlan => ({
  _tag: "Join",
  name,
  relation,
  table: { schema: "public", table: name },
  primaryKey: ["id"],
  column: relation === "belongsTo" ? [`${name}_id`] : undefined,
  foreignKey: relation === "hasOne" || relation === "hasMany" ? ["parent_id"] : undefined,
  through: relation === "manyToMany" ? { table: { schema: "public", table: `${name}_links` }, leftKey: ["a"], rightKey: ["b"] } : undefined,
  filters: [],
  orderBy: [],
  limit: undefined,
  required: false,
  fields,
  options: undefined
})

const aggregateField = (
  name: string,
  fn: "count" | "sum" | "avg" | "min" | "max" | "ids",
  types: { readonly valueType?: ScalarPlan["kind"]; readonly elementType?: "long" | "keyword" } = {}
): FieldPlan => ({
  _tag: "Aggregate",
  name,
  fn,
  table: { schema: "public", table: "lines" },
  primaryKey: undefined,
  foreignKey: ["order_id"],
  through: undefined,
  column: fn === "count" || fn === "ids" ? undefined : "qty",
  valueType: types.valueType,
  elementType: types.elementType,
  filters: [],
  options: undefined
})

const constantField = (name: string, value: unknown): FieldPlan => ({ _tag: "Constant", name, value, options: undefined })

const everyKind: IndexPlan = {
  name: "orders",
  schema: "public",
  table: "orders",
  qualifiedTable: "public.orders",
  primaryKey: ["id"],
  softDelete: undefined,
  filters: [],
  enabled: true,
  onError: "stop",
  hash: "0e0e0e0e",
  fields: [
    scalarField("id", "long"),
    scalarField("title", "text"),
    { _tag: "Object", name: "address", fields: [scalarField("city", "keyword"), scalarField("zip", "keyword")], options: undefined },
    { _tag: "Map", name: "attrs", column: "attrs", values: "keyword", required: false, options: undefined },
    { _tag: "Map", name: "dims", column: "dims", values: "double", required: false, options: undefined },
    { _tag: "Geo", name: "at", source: { _tag: "LatLon", lat: "lat", lon: "lon" }, required: false, options: undefined },
    { _tag: "Geo", name: "place", source: { _tag: "Column", column: "place" }, required: false, options: undefined },
    constantField("origin", "erp"),
    constantField("version", 2),
    constantField("ratio", 0.5),
    constantField("live", true),
    constantField("nothing", null),
    joinField("customer", "belongsTo", [
      scalarField("id", "long"),
      scalarField("name", "text"),
      scalarField("tier", "enum", ["silver", "gold"]),
      joinField("company", "belongsTo", [scalarField("id", "long"), scalarField("name", "keyword")])
    ]),
    joinField("invoice", "hasOne", [scalarField("id", "long"), scalarField("total", "decimal")]),
    joinField("lines", "hasMany", [
      scalarField("id", "long"),
      scalarField("sku", "keyword"),
      scalarField("qty", "integer"),
      { _tag: "Map", name: "attrs", column: "attrs", values: "keyword", required: false, options: undefined },
      joinField("labels", "manyToMany", [scalarField("id", "long"), scalarField("label", "keyword")])
    ]),
    joinField("tags", "manyToMany", [scalarField("id", "long"), scalarField("label", "keyword")]),
    aggregateField("lineCount", "count"),
    aggregateField("qtySum", "sum", { valueType: "integer" }),
    aggregateField("qtyAvg", "avg"),
    aggregateField("qtyMin", "min", { valueType: "integer" }),
    aggregateField("lastShipped", "max", { valueType: "timestamp" }),
    aggregateField("lineIds", "ids", { elementType: "long" }),
    aggregateField("skus", "ids", { elementType: "keyword" })
  ]
}

describe("mapping derivation on a real cluster", () => {
  const first =
    `{"id":1,"title":"Blue widget","address":{"city":"Turin","zip":"10100"},"attrs":{"color":"blue","size":"L"},` +
    `"dims":{"w":1.5,"h":2},"at":{"lat":45.07,"lon":7.68},"place":[7.68,45.07],"origin":"erp","version":2,` +
    `"ratio":0.5,"live":true,"nothing":null,` +
    `"customer":{"id":7,"name":"Ada Lovelace","tier":"gold","company":{"id":3,"name":"Acme"}},` +
    `"invoice":{"id":9,"total":12.50},` +
    `"lines":[{"id":11,"sku":"A","qty":2,"attrs":{"color":"red"},"labels":[{"id":1,"label":"fragile"}]},` +
    `{"id":12,"sku":"B","qty":5,"attrs":{},"labels":[]}],` +
    `"tags":[{"id":1,"label":"red"},{"id":2,"label":"sale"}],` +
    `"lineCount":2,"qtySum":7,"qtyAvg":3.5000000000000000001,"qtyMin":2,"lastShipped":"2024-01-02T03:04:05.123456Z",` +
    `"lineIds":[11,12],"skus":["A","B"]}`
  const second =
    `{"id":2,"title":"Red widget","address":{"city":"Milan","zip":"20100"},"attrs":{},"dims":{},` +
    `"at":null,"place":"45.46,9.19","origin":"erp","version":2,"ratio":0.5,"live":true,"nothing":null,` +
    `"customer":{"id":8,"name":"Grace Hopper","tier":"silver","company":null},"invoice":null,` +
    `"lines":[{"id":13,"sku":"A","qty":5,"attrs":{},"labels":[]}],"tags":[],` +
    `"lineCount":1,"qtySum":5,"qtyAvg":5,"qtyMin":5,"lastShipped":null,"lineIds":[13],"skus":["A"]}`

  it.scopedLive("creates an index with every field kind that accepts representative documents", () =>
    Effect.gen(function* () {
      const { prefix, sink, targets } = yield* setup([everyKind])
      const generation = (targets[0] as SinkIndex).generation
      const rejections = yield* writeRefreshed(sink,
        ["primary"],
        [
          upsertWithRefs("orders", "1", first, ["public.customers:7", "public.companies:3", "public.lines:11", "public.lines:12"]),
          upsertWithRefs("orders", "2", second, ["public.customers:8", "public.lines:13"])
        ])
      expect(rejections).toEqual([])
      const alias = convenienceAliasName(prefix, "orders")

      // Stored as written, byte for byte, and without the refs.
      expect((yield* raw("GET", `/${alias}/_source/1`)).text).toBe(first)

      const properties = at((yield* json("GET", `/${generation}/_mapping`)).body, generation, "mappings", "properties")
      const typeOf = (...path: ReadonlyArray<string>) => at(properties, ...path, "type")
      expect(typeOf("lines")).toBe("nested")
      expect(typeOf("lines", "properties", "labels")).toBe("nested")
      expect(typeOf("tags")).toBe("nested")
      // `object` is the default type: OpenSearch reports it by leaving it out.
      for (const name of ["address", "customer", "invoice"]) {
        expect(typeOf(name)).toBeUndefined()
        expect(at(properties, name, "properties")).toBeDefined()
      }
      expect(typeOf("customer", "properties", "company", "properties", "name")).toBe("keyword")
      // Map values follow the leaf kind, however deep the map sits.
      expect(typeOf("attrs", "properties", "color")).toBe("keyword")
      expect(typeOf("dims", "properties", "h")).toBe("double")
      expect(typeOf("lines", "properties", "attrs", "properties", "color")).toBe("keyword")
      expect([typeOf("at"), typeOf("place")]).toEqual(["geo_point", "geo_point"])
      expect(["origin", "version", "ratio", "live", "nothing"].map((name) => typeOf(name))).toEqual([
        "keyword",
        "long",
        "double",
        "boolean",
        "keyword"
      ])
      expect(["lineCount", "qtySum", "qtyAvg", "qtyMin", "lastShipped", "lineIds", "skus"].map((name) => typeOf(name))).toEqual([
        "long",
        "long",
        "double",
        "integer",
        "date",
        "long",
        "keyword"
      ])

      // Both conditions on the same line: only document 2 has an "A" line with qty 5.
      const line = (sku: string, qty: number) => ({
        query: {
          nested: { path: "lines", query: { bool: { must: [{ term: { "lines.sku": sku } }, { term: { "lines.qty": qty } }] } } }
        }
      })
      expect(yield* search(alias, line("A", 5))).toEqual(["2"])
      expect(yield* search(alias, line("A", 2))).toEqual(["1"])
      expect(yield* search(alias, line("B", 2))).toEqual([])
      // Two levels of nesting.
      expect(
        yield* search(alias, {
          query: { nested: { path: "lines.labels", query: { term: { "lines.labels.label": "fragile" } } } }
        })
      ).toEqual(["1"])

      // Both geo forms are points.
      const near = (field: string, lat: number, lon: number) => ({
        query: { geo_distance: { distance: "5km", [field]: { lat, lon } } }
      })
      expect(yield* search(alias, near("at", 45.07, 7.68))).toEqual(["1"])
      expect(yield* search(alias, near("place", 45.07, 7.68))).toEqual(["1"])
      expect(yield* search(alias, near("place", 45.46, 9.19))).toEqual(["2"])

      // A nested enum sorts by declared order (silver before gold), not alphabetically.
      expect(yield* search(alias, { sort: [{ "customer.tier.sort": "asc" }], query: { match_all: {} } })).toEqual(["2", "1"])
      expect(yield* search(alias, { query: { term: { "customer.company.name": "Acme" } } })).toEqual(["1"])
      expect(yield* search(alias, { query: { range: { lastShipped: { gte: "2024-01-01" } } } })).toEqual(["1"])

      // The refs are searchable (through the sink) but nowhere in what readers get.
      expect(yield* sink.referencing("orders", ["public.lines:13"])).toEqual(["2"])
      expect([...(yield* sink.referencing("orders", ["public.lines:12", "public.customers:8"]))].sort()).toEqual(["1", "2"])
      const hits = yield* json("POST", `/${alias}/_search`, { query: { match_all: {} } })
      for (const i of keysAt(hits.body, "hits", "hits")) {
        expect(keysAt(hits.body, "hits", "hits", i, "_source")).not.toContain("_flusso_refs")
      }
    })
  )
})

