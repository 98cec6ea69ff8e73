/**
 * What a typed search sends (no services): the `_search` body each operator, combinator,
 * sort and projection builds; the tiebreaker every sort ends in; the connection a config
 * resolves to; and how hits are checked against the config.
 */
import { Either, Redacted, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { defineConfig, defineIndex, env, t } from "flusso"
import { and, byScore, ConfigInvalid, not, or, raw, rawSort, searchIndex } from "flusso/search"
import config from "../../../flusso.config.js"
import { connectionFromConfig, connectionFromParts } from "../../../src/search/connection.js"
import { fieldsSchema } from "../../../src/search/documentSchema.js"
import { fillSelected, includesOf, selectionOf } from "../../../src/search/projection.js"
import { searchBody } from "../../../src/search/SearchRequest.js"

const users = searchIndex(config, "users")
const products = searchIndex(config, "products")

/** The `query` a request sends. */
const queryOf = (request: Parameters<typeof searchBody>[0]) => searchBody(request)["query"]

/** The one filter clause of a request with one `filter`. */
const filterOf = (request: Parameters<typeof searchBody>[0]) => queryOf(request)

describe("conditions", () => {
  it("text, identifier, keyword and their subfields", () => {
    expect(filterOf(users.filter((u) => u.fullName.match("ada", { operator: "and", fuzziness: "AUTO", minimumShouldMatch: "50%" })))).toEqual({
      bool: { filter: [{ match: { fullName: { query: "ada", operator: "and", fuzziness: "AUTO", minimum_should_match: "50%" } } }] }
    })
    const one = (request: Parameters<typeof searchBody>[0]) => (queryOf(request) as { bool: { filter: ReadonlyArray<unknown> } }).bool.filter[0]
    expect(one(users.filter((u) => u.fullName.phrase("ada lovelace", { slop: 2 })))).toEqual({ match_phrase: { fullName: { query: "ada lovelace", slop: 2 } } })
    expect(one(users.filter((u) => u.fullName.prefix("lov")))).toEqual({ match_phrase_prefix: { fullName: { query: "lov" } } })
    expect(one(users.filter((u) => u.fullName.keyword.term("Ada")))).toEqual({ term: { "fullName.keyword": { value: "Ada" } } })
    expect(one(users.filter((u) => u.fullName.lowercase.prefix("ad")))).toEqual({ prefix: { "fullName.keyword_lowercase": { value: "ad" } } })
    expect(one(products.filter((p) => p.sku.match("kb1001")))).toEqual({ match: { sku: { query: "kb1001" } } })
    expect(one(products.filter((p) => p.sku.term("KB-1001")))).toEqual({ term: { "sku.keyword": { value: "KB-1001" } } })
    expect(one(products.filter((p) => p.sku.prefix("kb-")))).toEqual({ prefix: { "sku.keyword_lowercase": { value: "kb-" } } })
    expect(one(users.filter((u) => u.email.terms(["a", "b"])))).toEqual({ terms: { email: ["a", "b"] } })
    expect(one(users.filter((u) => u.email.text.match("ada")))).toEqual({ match: { "email.text": { query: "ada" } } })
    expect(one(users.filter((u) => u.profile.website.exists()))).toEqual({ exists: { field: "profile.website" } })
  })

  it("numbers, dates (Date objects as ISO text), booleans, ids", () => {
    const one = (request: Parameters<typeof searchBody>[0]) => (queryOf(request) as { bool: { filter: ReadonlyArray<unknown> } }).bool.filter[0]
    expect(one(users.filter((u) => u.orderCount.between(2, 5)))).toEqual({ range: { orderCount: { gte: 2, lte: 5 } } })
    expect(one(users.filter((u) => u.totalSpent.gt(10.5)))).toEqual({ range: { totalSpent: { gt: 10.5 } } })
    expect(one(users.filter((u) => u.createdAt.lt(new Date(Date.UTC(2024, 0, 2)))))).toEqual({ range: { createdAt: { lt: "2024-01-02T00:00:00.000Z" } } })
    expect(one(users.filter((u) => u.profile.birthday.terms(["2000-01-01"])))).toEqual({ terms: { "profile.birthday": ["2000-01-01"] } })
    expect(one(users.filter((u) => u.active.term(false)))).toEqual({ term: { active: { value: false } } })
    expect(one(users.filter((u) => u.tagIds.term(3)))).toEqual({ term: { tagIds: { value: 3 } } })
  })

  it("nested: any / all / none, two levels, full paths", () => {
    expect(queryOf(users.query((u) => u.recentOrders.any((o) => o.items.any((i) => i.product.sku.match("mn3001")), { scoreMode: "max" })))).toEqual({
      bool: {
        must: [{
          nested: {
            path: "recentOrders",
            score_mode: "max",
            query: { nested: { path: "recentOrders.items", query: { match: { "recentOrders.items.product.sku": { query: "mn3001" } } } } }
          }
        }]
      }
    })
    expect(queryOf(users.filter((u) => u.recentOrders.all((o) => [o.status.term("paid"), o.total.gt(5)])))).toEqual({
      bool: {
        filter: [{
          bool: {
            must_not: [{
              nested: {
                path: "recentOrders",
                query: { bool: { must_not: [{ bool: { must: [{ term: { "recentOrders.status": { value: "paid" } } }, { range: { "recentOrders.total": { gt: 5 } } }] } }] } }
              }
            }]
          }
        }]
      }
    })
    expect(queryOf(users.filter((u) => u.tags.none()))).toEqual({
      bool: { filter: [{ bool: { must_not: [{ nested: { path: "tags", query: { match_all: {} } } }] } }] }
    })
  })

  it("and / or / not, scoring and filtering together, raw clauses", () => {
    expect(queryOf(users
      .query((u) => or(u.fullName.match("ada"), u.fullName.match("grace")))
      .filter((u) => and(u.active.term(true), not(u.orderCount.term(0))))
      .filter(() => raw({ regexp: { email: "a.*" } })))).toEqual({
      bool: {
        must: [{ bool: { should: [{ match: { fullName: { query: "ada" } } }, { match: { fullName: { query: "grace" } } }], minimum_should_match: 1 } }],
        filter: [
          { bool: { must: [{ term: { active: { value: true } } }, { bool: { must_not: [{ term: { orderCount: { value: 0 } } }] } }] } },
          { regexp: { email: "a.*" } }
        ]
      }
    })
    expect(queryOf(users)).toEqual({ match_all: {} })
    expect(and().dsl).toEqual({ match_all: {} })
    expect(or().dsl).toEqual({ match_none: {} })
  })
})

describe("sort, pagination, projection", () => {
  it("every sort ends in the document key; an enum sorts by its ranked subfield; nested keys name their path", () => {
    const body = searchBody(users.sort((u) => [
      u.recentOrders.sortBy((o) => o.items.sortBy((i) => i.unitPrice.desc()), "max"),
      u.recentOrders.sortBy((o) => o.status.asc({ missing: "first" })),
      u.fullName.keyword.asc()
    ]).size(25).after([1, "x", null]))
    expect(body).toEqual({
      query: { match_all: {} },
      sort: [
        { "recentOrders.items.unitPrice": { order: "desc", mode: "max", nested: { path: "recentOrders", nested: { path: "recentOrders.items" } } } },
        { "recentOrders.status.sort": { order: "asc", missing: "_first", nested: { path: "recentOrders" } } },
        { "fullName.keyword": { order: "asc" } },
        { id: { order: "asc" } }
      ],
      size: 25,
      search_after: [1, "x", null],
      _source: true,
      track_total_hits: true,
      track_scores: true
    })
    // by score when no sort is given; the key is not repeated when the sort has it
    expect(searchBody(products)["sort"]).toEqual([{ _score: { order: "desc" } }, { id: { order: "asc" } }])
    expect(searchBody(users.sort((u) => [byScore("asc"), u.id.desc()]))["sort"]).toEqual([{ _score: { order: "asc" } }, { id: { order: "desc" } }])
    expect(searchBody(users.sort(() => rawSort({ _script: { type: "number" } })))["sort"]).toEqual([{ _script: { type: "number" } }, { id: { order: "asc" } }])
  })

  it("the tiebreaker is the field holding a one-column key, else _id", () => {
    const composite = defineIndex({ table: "pairs", primaryKey: ["a", "b"], fields: { a: t.long({ required: true }), b: t.long({ required: true }) } })
    expect(searchBody(searchIndex("pairs", composite))["sort"]).toEqual([{ _score: { order: "desc" } }, { _id: { order: "asc" } }])
    const renamed = defineIndex({ table: "things", primaryKey: "id", fields: { thingId: t.keyword({ column: "id" }), name: t.text() } })
    expect(searchBody(searchIndex("things", renamed))["sort"]).toEqual([{ _score: { order: "desc" } }, { thingId: { order: "asc" } }])
    const textKey = defineIndex({ table: "codes", primaryKey: "code", fields: { code: t.identifier() } })
    expect(searchBody(searchIndex("codes", textKey))["sort"]).toEqual([{ _score: { order: "desc" } }, { _id: { order: "asc" } }])
  })

  it("a projection asks for its paths, and an anchor of each array it reaches into", () => {
    expect(searchBody(users.select("fullName", "recentOrders.items.product.sku", "recentOrders"))["_source"]).toEqual({
      includes: ["fullName", "recentOrders"]
    })
    const fields = users.target.plan.fields
    expect(includesOf(selectionOf(["profile.bio", "profile.website", "email"]), fields)).toEqual(["profile.bio", "profile.website", "email"])
    // an order without items, an item without its product: kept as elements by their first leaf
    expect(includesOf(selectionOf(["recentOrders.items.product.sku", "tags.color"]), fields)).toEqual([
      "recentOrders.id",
      "recentOrders.items.quantity",
      "recentOrders.items.product.sku",
      "tags.name",
      "tags.color"
    ])
    const onlyJoins = defineIndex({
      table: "a",
      primaryKey: "id",
      fields: {
        id: t.long({ required: true }),
        bs: t.hasMany({
          table: "b",
          foreignKey: "a_id",
          primaryKey: "id",
          fields: {
            box: t.object({ fields: { w: t.integer() } }),
            cs: t.hasMany({ table: "c", foreignKey: "b_id", primaryKey: "id", fields: { x: t.text() } })
          }
        })
      }
    })
    expect(includesOf(selectionOf(["bs.cs.x"]), searchIndex("a", onlyJoins).target.plan.fields)).toEqual(["bs.box.w", "bs.cs.x"])
  })

  it("objects and arrays source filtering dropped come back as null and []", () => {
    const fields = users.target.plan.fields
    const selection = selectionOf(["fullName", "profile.bio", "recentOrders.items.product.sku"])
    expect(fillSelected({ fullName: "x" }, fields, selection)).toEqual({ fullName: "x", profile: null, recentOrders: [] })
    expect(fillSelected({ fullName: "x", recentOrders: [{}, { items: [{}] }] }, fields, selection)).toEqual({
      fullName: "x",
      profile: null,
      recentOrders: [{ items: [] }, { items: [{ product: null }] }]
    })
  })
})

describe("hits are checked against the config", () => {
  const decode = (source: unknown, paths?: ReadonlyArray<string>) =>
    Schema.decodeUnknownEither(fieldsSchema(products.target.plan.fields, paths === undefined ? true : selectionOf(paths)))(source)

  it("a document of the config's shape passes; nullability follows required", () => {
    const product = { id: "6f1c", sku: "KB-1001", name: "Keyboard", price: 89.9, unitsSold: null }
    expect(Either.getOrThrow(decode(product))).toEqual(product)
    expect(Either.isLeft(decode({ ...product, price: null }))).toBe(true)
    expect(Either.isLeft(decode({ ...product, price: "89.90" }))).toBe(true)
    expect(Either.getOrThrow(decode({ sku: "KB-1001" }, ["sku"]))).toEqual({ sku: "KB-1001" })
    // what a projection did not select (an anchor) is left out of the hit
    expect(Either.getOrThrow(decode({ sku: "KB-1001", id: "6f1c" }, ["sku"]))).toEqual({ sku: "KB-1001" })
  })

  it("an enum outside its variants, and a geo point in any stored form", () => {
    const index = defineIndex({
      table: "spots",
      primaryKey: "id",
      fields: { id: t.long({ required: true }), state: t.enum({ variants: ["a", "b"] }), at: t.geo({ column: "at" }) }
    })
    const schema = fieldsSchema(searchIndex("spots", index).target.plan.fields, true)
    const decode2 = Schema.decodeUnknownEither(schema)
    expect(Either.getOrThrow(decode2({ id: 1, state: "a", at: "45.5,9.25" }))).toEqual({ id: 1, state: "a", at: { lat: 45.5, lon: 9.25 } })
    expect(Either.getOrThrow(decode2({ id: 1, state: null, at: [9.25, 45.5] }))).toEqual({ id: 1, state: null, at: { lat: 45.5, lon: 9.25 } })
    expect(Either.isLeft(decode2({ id: 1, state: "c", at: null }))).toBe(true)
  })
})

describe("binding and connections", () => {
  it("a config run would refuse, or an index it lacks, throws ConfigInvalid", () => {
    expect(() => searchIndex("bad", { table: "x", primaryKey: "id", fields: { a: t.hasMany({ table: "y", foreignKey: "x_id", primaryKey: "id", fields: {}, required: true } as never) } })).toThrow(ConfigInvalid)
    expect(() => searchIndex(config, "nope" as "users")).toThrow(/indexes\.nope: no such index \(the config has: users, products\)/)
  })

  it("a config's sink resolves as run resolves it: env(), then <SINK>_OPENSEARCH_URL, then the literal", () => {
    const two = defineConfig({
      source: { type: "postgres" },
      sinks: {
        primary: { type: "opensearch", url: "http://127.0.0.1:9200", username: "reader", password: env("SEARCH_PASSWORD"), autoSubfields: false },
        backup: { type: "opensearch", url: "http://backup:9200" }
      },
      prefix: "shop_",
      indexes: {}
    })
    const resolved = Either.getOrThrow(connectionFromConfig(two, { sink: "primary", env: { SEARCH_PASSWORD: "s3cret", PRIMARY_OPENSEARCH_URL: "https://elsewhere:9200" } }))
    expect(resolved.prefix).toBe("shop_")
    expect(resolved.sink.url).toBe("https://elsewhere:9200")
    expect(resolved.sink.username).toBe("reader")
    expect(resolved.sink.password === undefined ? undefined : Redacted.value(resolved.sink.password)).toBe("s3cret")
    expect(resolved.sink.autoSubfields).toBe(false)
    const ambiguous = connectionFromConfig(two, { env: {} })
    expect(Either.isLeft(ambiguous) && ambiguous.left.message).toContain('2 OpenSearch sinks (primary, backup); name the one to search with { sink: "primary" }')
    const unset = connectionFromConfig(two, { sink: "primary", env: {} })
    expect(Either.isLeft(unset) && unset.left.message).toContain("environment variable SEARCH_PASSWORD is not set")
    const none = connectionFromConfig(defineConfig({ source: { type: "postgres" } }), { env: {} })
    expect(Either.isLeft(none) && none.left.message).toContain("no OpenSearch sink to search")
  })

  it("a connection given by hand takes the sink defaults; a bad URL is refused without its password", () => {
    const resolved = Either.getOrThrow(connectionFromParts({ url: "http://127.0.0.1:9200", prefix: "p_" }))
    expect(resolved).toMatchObject({ prefix: "p_", sink: { url: "http://127.0.0.1:9200", maxRetries: 5, timeoutSeconds: 30, autoSubfields: true, tlsVerify: true } })
    const bad = connectionFromParts({ url: "ftp://user:pw@host" })
    expect(Either.isLeft(bad) && bad.left.message).toContain("must be an http:// or https:// URL")
    expect(Either.isLeft(bad) && bad.left.message).not.toContain("pw")
  })
})
