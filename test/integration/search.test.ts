/**
 * Typed search (flusso/search) on real OpenSearch, over the example deployment's data
 * (examples/seed.sql, indexed by the real engine under its own prefix) plus a small
 * `places` index with the kinds the example lacks.
 *
 * Each operator family is checked against the same query written by hand in raw DSL,
 * sent straight to the alias: the typed search must return exactly those documents, and
 * at least one (and, where it says something, not all). Nested any / all / none are also
 * checked against the documents themselves, so a wrong DSL on both sides cannot pass.
 */
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { defineIndex, t } from "flusso"
import {
  and,
  BadQuery,
  byScore,
  IndexNotFound,
  not,
  or,
  raw,
  Search,
  SearchClient,
  searchIndex,
  SearchUnavailable,
  UnexpectedResponse,
  type Handles,
  type JsonObject,
  type Runnable
} from "flusso/search"
import { products as productsIndex, users as usersIndex } from "../../flusso.config.js"
import { type SearchDeployment, startSearchDeployment } from "../support/searchDeployment.js"

let s: SearchDeployment
let client: SearchClient

/** User 2's latest order has no items: projections into `items` must keep it as an element. */
const emptyOrder = "insert into orders (user_id, number, status, placed_at, total) values (2, 'SO-EMPTY', 'pending', '2025-01-01', 0)"

beforeAll(async () => {
  s = await startSearchDeployment(emptyOrder)
  // `env: {}`: the config's literal URL, whatever override variables the shell has.
  client = SearchClient.fromConfig(s.config, { env: {} })
})

afterAll(async () => {
  await client?.close()
  await s?.cleanup()
})

const users = () => searchIndex(s.config, "users")
const products = () => searchIndex(s.config, "products")
const places = () => searchIndex(s.config, "places")

type IndexName = "users" | "products" | "places"

interface RawHits {
  readonly hits: { readonly total: { readonly value: number }; readonly hits: ReadonlyArray<{ readonly _id: string; readonly _source?: unknown }> }
}

const rawSearch = async (index: IndexName, body: JsonObject): Promise<RawHits> => {
  const response = await s.d.raw("POST", `/${s.d.prefix}${index}/_search`, body)
  expect(response.status, response.text).toBe(200)
  return JSON.parse(response.text) as RawHits
}

/** The ids the hand-written query finds, sorted. */
const rawIds = async (index: IndexName, query: JsonObject): Promise<ReadonlyArray<string>> =>
  (await rawSearch(index, { query, size: 10_000, _source: false })).hits.hits.map((h) => h._id).sort()

/** The ids a typed request finds (all of them), sorted; its total must agree. */
const typedIds = async (request: Runnable<unknown> & { size(n: number): Runnable<unknown> }): Promise<ReadonlyArray<string>> => {
  const page = await client.search(request.size(10_000))
  expect(page.hits).toHaveLength(page.total)
  return page.hits.map((h) => h.id).sort()
}

const total = async (index: IndexName): Promise<number> => (await rawSearch(index, { size: 0, track_total_hits: true })).hits.total.value

/**
 * The typed request finds exactly what the raw query finds: at least one document and,
 * unless `all`, not every one.
 */
const same = async (
  index: IndexName,
  request: Runnable<unknown> & { size(n: number): Runnable<unknown> },
  query: JsonObject,
  options: { readonly all?: boolean } = {}
): Promise<ReadonlyArray<string>> => {
  const [typed, expected, count] = await Promise.all([typedIds(request), rawIds(index, query), total(index)])
  expect(typed).toEqual(expected)
  expect(typed.length).toBeGreaterThan(0)
  if (options.all !== true) expect(typed.length).toBeLessThan(count)
  return typed
}

/** Every user, typed (checked against the raw documents below). */
const allUsers = async () => (await client.search(users().size(10_000))).hits.map((h) => h.document)

const idsWhere = <A extends { readonly id: string | number }>(docs: ReadonlyArray<A>, keep: (doc: A) => boolean) =>
  docs.filter(keep).map((d) => String(d.id)).sort()

describe("hits", () => {
  it("are the documents OpenSearch holds, typed, with their ids and scores", async () => {
    const raw = await rawSearch("users", { query: { match_all: {} }, size: 10_000 })
    const page = await client.search(users().size(10_000))
    expect(page.total).toBe(17) // 20 seeded users, 3 soft-deleted
    expect(Object.fromEntries(page.hits.map((h) => [h.id, h.document]))).toEqual(
      Object.fromEntries(raw.hits.hits.map((h) => [h._id, h._source]))
    )
    for (const hit of page.hits) expect(hit.score).toBe(1)
  })

  it("read a geo point stored as text as { lat, lon }", async () => {
    const p1 = await client.get(places(), "P1")
    expect(p1?.entrance).toEqual({ lat: 45.4643, lon: 9.1901 })
    expect(p1?.location).toEqual({ lat: 45.4642, lon: 9.19 })
  })
})

describe("operators, each equal to the same query in raw DSL", () => {
  it("text: match, match all words, phrase, prefix, exists; folded accents", async () => {
    await same("users", users().filter((u) => u.fullName.match("ada grace")), { match: { fullName: { query: "ada grace" } } })
    await same("users", users().filter((u) => u.fullName.match("alan turing", { operator: "and" })), {
      match: { fullName: { query: "alan turing", operator: "and" } }
    })
    await same("users", users().filter((u) => u.fullName.phrase("grace hopper")), { match_phrase: { fullName: "grace hopper" } })
    await same("users", users().filter((u) => u.fullName.prefix("gra")), { match_phrase_prefix: { fullName: "gra" } })
    await same("users", users().filter((u) => u.profile.bio.exists()), { exists: { field: "profile.bio" } })
    expect(await typedIds(users().filter((u) => u.fullName.match("zoe muller")))).toEqual(["18"])
  })

  it("text subfields: .keyword exact, .lowercase case-insensitive", async () => {
    await same("users", users().filter((u) => u.fullName.keyword.term("Ada Lovelace")), { term: { "fullName.keyword": "Ada Lovelace" } })
    expect(await typedIds(users().filter((u) => u.fullName.keyword.term("ada lovelace")))).toEqual([])
    await same("users", users().filter((u) => u.fullName.lowercase.term("ADA LOVELACE")), {
      term: { "fullName.keyword_lowercase": "ADA LOVELACE" }
    })
    await same("users", users().filter((u) => u.fullName.lowercase.prefix("D")), { prefix: { "fullName.keyword_lowercase": "D" } })
  })

  it("keyword: term, terms, prefix, exists, .text by parts, .lowercase", async () => {
    await same("users", users().filter((u) => u.email.term("ada.lovelace@example.com")), { term: { email: "ada.lovelace@example.com" } })
    await same("users", users().filter((u) => u.email.terms(["ada.lovelace@example.com", "alan.turing@example.com"])), {
      terms: { email: ["ada.lovelace@example.com", "alan.turing@example.com"] }
    })
    await same("users", users().filter((u) => u.email.prefix("d")), { prefix: { email: "d" } })
    await same("users", users().filter((u) => u.profile.website.exists()), { exists: { field: "profile.website" } })
    await same("users", users().filter((u) => u.profile.website.text.match("example")), {
      match: { "profile.website.text": "example" }
    }, { all: false })
    await same("places", places().filter((p) => p.address.city.lowercase.term("milano")), {
      term: { "address.city.keyword_lowercase": "milano" }
    })
  })

  it("identifier: match by parts, term exact, case-insensitive prefix", async () => {
    for (const text of ["kb1001", "KB-1001", "1001"]) {
      await same("products", products().filter((p) => p.sku.match(text)), { match: { sku: text } })
    }
    await same("products", products().filter((p) => p.sku.term("KB-1001")), { term: { "sku.keyword": "KB-1001" } })
    await same("products", products().filter((p) => p.sku.terms(["KB-1001", "MN-3001"])), { terms: { "sku.keyword": ["KB-1001", "MN-3001"] } })
    await same("products", products().filter((p) => p.sku.prefix("kb-")), { prefix: { "sku.keyword_lowercase": "kb-" } })
  })

  it("uuid: term, terms, prefix", async () => {
    const [row] = await s.d.sql("select id::text as id from products where sku = 'KB-1001'")
    const id = String(row?.["id"])
    await same("products", products().filter((p) => p.id.term(id)), { term: { id } })
    await same("products", products().filter((p) => p.id.terms([id])), { terms: { id: [id] } })
    await same("products", products().filter((p) => p.id.prefix(id.slice(0, 8))), { prefix: { id: id.slice(0, 8) } })
  })

  it("enum: term and terms of its variants", async () => {
    await same("places", places().filter((p) => p.kind.term("shop")), { term: { kind: "shop" } })
    await same("places", places().filter((p) => p.kind.terms(["cafe", "park"])), { terms: { kind: ["cafe", "park"] } })
    await same("users", users().filter((u) => u.recentOrders.any((o) => o.status.terms(["pending", "paid"]))), {
      nested: { path: "recentOrders", query: { terms: { "recentOrders.status": ["pending", "paid"] } } }
    })
  })

  it("numbers and decimals: term, terms, gt, gte, lt, lte, between", async () => {
    await same("users", users().filter((u) => u.orderCount.term(5)), { term: { orderCount: 5 } })
    await same("users", users().filter((u) => u.orderCount.terms([0, 8])), { terms: { orderCount: [0, 8] } })
    await same("users", users().filter((u) => u.orderCount.gt(6)), { range: { orderCount: { gt: 6 } } })
    await same("users", users().filter((u) => u.orderCount.gte(6)), { range: { orderCount: { gte: 6 } } })
    await same("users", users().filter((u) => u.orderCount.lt(2)), { range: { orderCount: { lt: 2 } } })
    await same("users", users().filter((u) => u.orderCount.lte(2)), { range: { orderCount: { lte: 2 } } })
    await same("users", users().filter((u) => u.totalSpent.between(500, 2000)), { range: { totalSpent: { gte: 500, lte: 2000 } } })
    await same("users", users().filter((u) => u.averageOrder.gt(400.5)), { range: { averageOrder: { gt: 400.5 } } })
    await same("products", products().filter((p) => p.price.lt(50)), { range: { price: { lt: 50 } } })
    await same("products", products().filter((p) => p.unitsSold.gte(20)), { range: { unitsSold: { gte: 20 } } })
    await same("places", places().filter((p) => p.rank.between(2, 3)), { range: { rank: { gte: 2, lte: 3 } } })
    await same("places", places().filter((p) => p.rating.gte(4.5)), { range: { rating: { gte: 4.5 } } })
    await same("places", places().filter((p) => p.popularity.term(0)), { term: { popularity: 0 } })
  })

  it("dates and timestamps: ISO text, Date objects, date math", async () => {
    await same("users", users().filter((u) => u.createdAt.gte("2024-03-01")), { range: { createdAt: { gte: "2024-03-01" } } })
    await same("users", users().filter((u) => u.createdAt.lt(new Date("2024-01-20T12:12:12Z"))), {
      range: { createdAt: { lt: "2024-01-20T12:12:12.000Z" } }
    })
    await same("users", users().filter((u) => u.createdAt.between("2024-02-01T00:00:00Z", "2024-02-28T23:59:59Z")), {
      range: { createdAt: { gte: "2024-02-01T00:00:00Z", lte: "2024-02-28T23:59:59Z" } }
    })
    await same("users", users().filter((u) => u.profile.birthday.lt("1970-01-01")), { range: { "profile.birthday": { lt: "1970-01-01" } } })
    await same("users", users().filter((u) => u.lastOrderAt.gt("2024-04-01")), { range: { lastOrderAt: { gt: "2024-04-01" } } })
    await same("users", users().filter((u) => u.createdAt.lte("now")), { range: { createdAt: { lte: "now" } } }, { all: true })
    await same("places", places().filter((p) => p.openedOn.term("2001-05-01")), { term: { openedOn: "2001-05-01" } })
    await same("places", places().filter((p) => p.firstVisit.lt("2024-02-01")), { range: { firstVisit: { lt: "2024-02-01" } } })
  })

  it("booleans", async () => {
    await same("users", users().filter((u) => u.active.term(false)), { term: { active: false } })
    await same("users", users().filter((u) => u.addresses.any((a) => a.isPrimary.term(true))), {
      nested: { path: "addresses", query: { term: { "addresses.isPrimary": true } } }
    }, { all: true })
  })

  it("geo: within a distance, inside a box", async () => {
    const milan = { lat: 45.4642, lon: 9.19 }
    await same("places", places().filter((p) => p.location.withinDistance(milan, "5km")), {
      geo_distance: { distance: "5km", location: milan }
    })
    await same("places", places().filter((p) => p.location.withinBox({ topLeft: { lat: 49, lon: 2 }, bottomRight: { lat: 48, lon: 3 } })), {
      geo_bounding_box: { location: { top_left: { lat: 49, lon: 2 }, bottom_right: { lat: 48, lon: 3 } } }
    })
    await same("places", places().filter((p) => p.entrance.withinDistance(milan, "500m")), {
      geo_distance: { distance: "500m", entrance: milan }
    })
    expect(await typedIds(places().filter((p) => p.location.withinDistance(milan, "5km")))).toEqual(["P1", "P2"])
  })

  it("objects and to-one joins: their fields; whether the related row is there", async () => {
    await same("users", users().filter((u) => u.profile.exists()), { exists: { field: "profile" } })
    await same("users", users().filter((u) => not(u.profile.exists())), { bool: { must_not: [{ exists: { field: "profile" } }] } })
    await same("places", places().filter((p) => p.address.city.term("Paris")), { term: { "address.city": "Paris" } })
    await same("places", places().filter((p) => p.address.street.match("bridge")), { match: { "address.street": "bridge" } })
  })

  it("aggregates by their value type: count, sum, avg, max, min, ids", async () => {
    await same("users", users().filter((u) => not(u.totalSpent.exists())), { bool: { must_not: [{ exists: { field: "totalSpent" } }] } })
    await same("users", users().filter((u) => u.tagIds.term(1)), { term: { tagIds: 1 } })
    await same("users", users().filter((u) => u.tagIds.terms([2, 3])), { terms: { tagIds: [2, 3] } })
    await same("places", places().filter((p) => p.visitIds.term("3")), { term: { visitIds: "3" } })
  })

  it("maps, json, custom: by key, presence, exact values", async () => {
    await same("places", places().filter((p) => p.attributes.key("wifi").term("yes")), { term: { "attributes.wifi": "yes" } })
    await same("places", places().filter((p) => p.attributes.key("dog").exists()), { exists: { field: "attributes.dog" } })
    await same("places", places().filter((p) => p.extra.exists()), { exists: { field: "extra" } })
    await same("places", places().filter((p) => p.ip.term("10.0.0.1")), { term: { ip: "10.0.0.1" } })
    await same("places", places().filter((p) => p.ip.terms(["10.0.0.2", "192.168.1.4"])), { terms: { ip: ["10.0.0.2", "192.168.1.4"] } })
  })

  it("and, or, not; scoring and filter context find the same documents, scored or not", async () => {
    const dsl = {
      bool: {
        must: [
          { bool: { should: [{ term: { active: false } }, { range: { orderCount: { gte: 7 } } }], minimum_should_match: 1 } },
          { bool: { must_not: [{ term: { email: "frances.allen@example.com" } }] } }
        ]
      }
    }
    const where = (u: Handles<typeof usersIndex.fields>) =>
      and(or(u.active.term(false), u.orderCount.gte(7)), not(u.email.term("frances.allen@example.com")))
    const filtered = await same("users", users().filter(where), dsl)
    expect(await typedIds(users().query(where))).toEqual(filtered)

    const scored = await client.search(users().query((u) => u.fullName.match("ada grace")).filter((u) => u.active.term(true)))
    expect(scored.hits.length).toBe(2)
    for (const hit of scored.hits) expect(hit.score).toBeGreaterThan(0)
    const unscored = await client.search(users().filter((u) => [u.fullName.match("ada grace"), u.active.term(true)]))
    expect(unscored.hits.map((h) => h.id).sort()).toEqual(scored.hits.map((h) => h.id).sort())
    for (const hit of unscored.hits) expect(hit.score).toBe(0)
  })

  it("raw DSL where the builder has no words, beside typed conditions, hits still typed", async () => {
    const request = users()
      .filter((u) => u.active.term(true))
      .filter(() => raw({ regexp: { email: "[a-d].*" } }))
      .filter((u) => u.recentOrders.any(() => raw({ range: { "recentOrders.total": { gt: 1000 } } })))
    await same("users", request, {
      bool: {
        filter: [
          { term: { active: true } },
          { regexp: { email: "[a-d].*" } },
          { nested: { path: "recentOrders", query: { range: { "recentOrders.total": { gt: 1000 } } } } }
        ]
      }
    })
    const page = await client.search(request)
    expect(page.hits[0]?.document.email).toMatch(/^[a-d]/)
  })
})

describe("nested: any / all / none at two levels", () => {
  it("any: the README's 'users who bought a product' query, and the documents agree", async () => {
    const ids = await same("users", users().filter((u) => u.recentOrders.any((o) => o.items.any((i) => i.product.sku.match("mn3001")))), {
      nested: {
        path: "recentOrders",
        query: { nested: { path: "recentOrders.items", query: { match: { "recentOrders.items.product.sku": "mn3001" } } } }
      }
    })
    expect(ids).toEqual(idsWhere(await allUsers(), (u) => u.recentOrders.some((o) => o.items.some((i) => i.product?.sku === "MN-3001"))))
  })

  it("conditions of one element hold on the same element", async () => {
    const request = users().filter((u) => u.recentOrders.any((o) => [o.status.term("delivered"), o.total.gt(1000)]))
    const ids = await same("users", request, {
      nested: { path: "recentOrders", query: { bool: { must: [{ term: { "recentOrders.status": "delivered" } }, { range: { "recentOrders.total": { gt: 1000 } } }] } } }
    })
    expect(ids).toEqual(idsWhere(await allUsers(), (u) => u.recentOrders.some((o) => o.status === "delivered" && o.total > 1000)))
  })

  it("all, at two levels: every item of every order (an empty array qualifies)", async () => {
    const ids = await typedIds(users().filter((u) => u.recentOrders.all((o) => o.items.all((i) => i.quantity.gte(2)))))
    const expected = idsWhere(await allUsers(), (u) => u.recentOrders.every((o) => o.items.every((i) => i.quantity >= 2)))
    expect(ids).toEqual(expected)
    expect(ids.length).toBeGreaterThan(0)
    expect(ids.length).toBeLessThan(17)
    await same("users", users().filter((u) => u.recentOrders.all((o) => o.items.all((i) => i.quantity.gte(2)))), {
      bool: {
        must_not: [{
          nested: {
            path: "recentOrders",
            query: { bool: { must_not: [{ bool: { must_not: [{ nested: { path: "recentOrders.items", query: { bool: { must_not: [{ range: { "recentOrders.items.quantity": { gte: 2 } } }] } } } }] } }] } }
          }
        }]
      }
    })
  })

  it("none, at two levels; any() and none() without a condition: non-empty and empty", async () => {
    const ids = await typedIds(users().filter((u) => u.recentOrders.none((o) => o.items.any((i) => i.unitPrice.gt(300)))))
    const everyone = await allUsers()
    expect(ids).toEqual(idsWhere(everyone, (u) => !u.recentOrders.some((o) => o.items.some((i) => i.unitPrice > 300))))
    expect(ids.length).toBeGreaterThan(0)
    expect(ids.length).toBeLessThan(17)
    const withOrders = await typedIds(users().filter((u) => u.recentOrders.any()))
    const without = await typedIds(users().filter((u) => u.recentOrders.none()))
    expect(withOrders).toEqual(idsWhere(everyone, (u) => u.recentOrders.length > 0))
    expect(without).toEqual(idsWhere(everyone, (u) => u.recentOrders.length === 0))
    expect(without.length).toBeGreaterThan(0)
  })

  it("manyToMany and mixed levels: a tag, and an order with a cheap item and no expensive one", async () => {
    const everyone = await allUsers()
    expect(await typedIds(users().filter((u) => u.tags.any((tag) => tag.name.term("vip"))))).toEqual(
      idsWhere(everyone, (u) => u.tags.some((tag) => tag.name === "vip"))
    )
    const ids = await typedIds(users().filter((u) =>
      u.recentOrders.any((o) => [o.items.any((i) => i.unitPrice.lt(40)), o.items.none((i) => i.unitPrice.gt(200))])
    ))
    expect(ids).toEqual(idsWhere(everyone, (u) =>
      u.recentOrders.some((o) => o.items.some((i) => i.unitPrice < 40) && !o.items.some((i) => i.unitPrice > 200))
    ))
    expect(ids.length).toBeGreaterThan(0)
  })
})

describe("sort", () => {
  it("an enum sorts in its declared order, not alphabetically", async () => {
    const page = await client.search(places().sort((p) => [p.kind.asc(), p.code.asc()]))
    expect(page.hits.map((h) => h.document.kind)).toEqual(["shop", "shop", "cafe", "museum", "park"])
    const down = await client.search(places().sort((p) => p.kind.desc()))
    expect(down.hits.map((h) => h.document.kind)).toEqual(["park", "museum", "cafe", "shop", "shop"])
  })

  it("by an enum inside a nested array: the least status of each user's orders, users without orders last", async () => {
    const rank = ["pending", "paid", "shipped", "delivered", "cancelled", "refunded"]
    const page = await client.search(users().sort((u) => u.recentOrders.sortBy((o) => o.status.asc())).size(100))
    const least = (statuses: ReadonlyArray<string>) => Math.min(...statuses.map((x) => rank.indexOf(x)))
    const expected = [...await allUsers()]
      .sort((a, b) => {
        const ra = a.recentOrders.length === 0 ? Infinity : least(a.recentOrders.map((o) => o.status))
        const rb = b.recentOrders.length === 0 ? Infinity : least(b.recentOrders.map((o) => o.status))
        return ra === rb ? a.id - b.id : ra - rb
      })
      .map((u) => String(u.id))
    expect(page.hits.map((h) => h.id)).toEqual(expected)
  })

  it("by numbers, text's .keyword, missing values first; ties broken by the document key", async () => {
    const byCount = await client.search(users().sort((u) => u.orderCount.desc()).size(100))
    const counts = byCount.hits.map((h) => [h.document.orderCount, h.document.id] as const)
    expect(counts).toEqual([...counts].sort(([ca, ia], [cb, ib]) => (ca === cb ? ia - ib : cb - ca)))
    const byName = await client.search(products().sort((p) => p.name.keyword.asc()).size(100))
    const names = byName.hits.map((h) => h.document.name)
    expect(names).toEqual([...names].sort())
    const missingFirst = await client.search(places().sort((p) => p.rating.asc({ missing: "first" })))
    expect(missingFirst.hits.map((h) => h.document.rating)).toEqual([null, 3.1, 4, 4.5, 4.9])
    const byScoreThenName = await client.search(products().query((p) => p.name.match("usb cable")).sort((p) => [byScore(), p.sku.asc()]))
    expect(byScoreThenName.hits.length).toBeGreaterThan(1)
  })
})

describe("projections", () => {
  it("hits carry exactly the selected fields, at any depth", async () => {
    const page = await client.search(users().select("fullName", "profile.bio", "recentOrders.status", "recentOrders.items.product.sku").size(100))
    const full = new Map((await allUsers()).map((u) => [String(u.id), u]))
    expect(page.total).toBe(17)
    for (const hit of page.hits) {
      const user = full.get(hit.id)
      expect(hit.document).toEqual({
        fullName: user?.fullName,
        profile: user?.profile === null ? null : { bio: user?.profile.bio },
        recentOrders: user?.recentOrders.map((o) => ({ status: o.status, items: o.items.map((i) => ({ product: i.product === null ? null : { sku: i.product.sku } })) }))
      })
    }
    // A user without a profile and one without orders: null and [], as the type says; an
    // order without items is still there, with `items: []`.
    expect(page.hits.some((h) => h.document.profile === null)).toBe(true)
    expect(page.hits.some((h) => h.document.recentOrders.length === 0)).toBe(true)
    expect(page.hits.find((h) => h.id === "2")?.document.recentOrders[0]).toEqual({ status: "pending", items: [] })
    const quantities = await client.get(users().select("recentOrders.items.quantity"), "2")
    expect(quantities?.recentOrders.map((o) => o.items.length)).toEqual(full.get("2")?.recentOrders.map((o) => o.items.length))
    expect(quantities?.recentOrders[0]).toEqual({ items: [] })
  })

  it("get by id: the whole document, a projection, or undefined", async () => {
    const raw = await s.d.doc("users", "1")
    expect(await client.get(users(), "1")).toEqual(raw)
    expect(await client.get(users().select("email", "tags.name"), "1")).toEqual({
      email: "ada.lovelace@example.com",
      tags: (await client.get(users(), "1"))?.tags.map((tag) => ({ name: tag.name }))
    })
    expect(await client.get(users(), "8")).toBeUndefined() // soft-deleted
    expect(await client.get(users(), "999")).toBeUndefined()
  })
})

describe("count and _msearch", () => {
  it("count is the raw _count of the same query", async () => {
    const response = await s.d.raw("POST", `/${s.d.prefix}users/_count`, { query: { range: { orderCount: { gte: 3 } } } })
    const expected = (JSON.parse(response.text) as { count: number }).count
    expect(expected).toBeGreaterThan(0)
    expect(await client.count(users().filter((u) => u.orderCount.gte(3)))).toBe(expected)
    expect(await client.count(users())).toBe(17)
  })

  it("several searches in one round trip, each page what its own search returns", async () => {
    const a = users().filter((u) => u.active.term(true)).sort((u) => u.createdAt.asc()).size(5)
    const b = products().query((p) => p.name.match("monitor")).select("sku", "price")
    const c = places().filter((p) => p.kind.term("shop"))
    const [pa, pb, pc] = await client.msearch([a, b, c])
    expect(pa).toEqual(await client.search(a))
    expect(pb).toEqual(await client.search(b))
    expect(pc).toEqual(await client.search(c))
    expect(pb.hits.length).toBeGreaterThan(0)
    for (const hit of pb.hits) expect(Object.keys(hit.document).sort()).toEqual(["price", "sku"])
    expect(await client.msearch([])).toEqual([])
    const missing = await client.msearch([a, searchIndex("nothing", productsIndex)]).then(() => undefined, (e: unknown) => e)
    expect(missing).toBeInstanceOf(IndexNotFound)
    expect(missing).toMatchObject({ index: "nothing", alias: `${s.d.prefix}nothing` })
  })
})

describe("errors and deployments", () => {
  it("a deployment's prefix: the client reads <prefix><index>; another prefix finds no index", async () => {
    expect(s.d.prefix).not.toBe("")
    const elsewhere = SearchClient.connect({ url: s.d.opensearchUrl, prefix: `${s.d.prefix}other_`, maxRetries: 0 })
    try {
      const error = await elsewhere.search(users()).then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(IndexNotFound)
      expect(error).toMatchObject({ index: "users", alias: `${s.d.prefix}other_users` })
      const byHand = SearchClient.connect({ url: s.d.opensearchUrl, prefix: s.d.prefix })
      try {
        expect((await byHand.search(users())).total).toBe(17)
      } finally {
        await byHand.close()
      }
    } finally {
      await elsewhere.close()
    }
  })

  it("a query OpenSearch refuses is a BadQuery; so is a cursor of another sort", async () => {
    const bad = await client.search(users().filter(() => raw({ range: { createdAt: { gte: "not a date" } } }))).then(() => undefined, (e: unknown) => e)
    expect(bad).toBeInstanceOf(BadQuery)
    expect(String((bad as BadQuery).reason)).toContain("not a date")
    const cursor = await client.search(users().size(1)).then((p) => p.next)
    expect(cursor).toBeDefined()
    const wrong = await client.search(users().sort((u) => [u.active.asc(), u.createdAt.asc()]).after(cursor)).then(() => undefined, (e: unknown) => e)
    expect(wrong).toBeInstanceOf(BadQuery)
  })

  it("a subfield on a sink without autoSubfields fails before it is sent", async () => {
    const plain = SearchClient.connect({ url: s.d.opensearchUrl, prefix: s.d.prefix, autoSubfields: false })
    try {
      const error = await plain.search(users().filter((u) => u.fullName.keyword.term("Ada Lovelace"))).then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(BadQuery)
      expect((error as BadQuery).reason).toContain("fullName.keyword")
      expect((await plain.search(users().filter((u) => u.fullName.match("ada")))).total).toBe(1)
    } finally {
      await plain.close()
    }
  })

  it("an unreachable cluster is SearchUnavailable", async () => {
    const nowhere = SearchClient.connect({ url: "http://127.0.0.1:9", maxRetries: 0, timeoutSeconds: 5 })
    try {
      expect(await nowhere.count(users()).then(() => undefined, (e: unknown) => e)).toBeInstanceOf(SearchUnavailable)
    } finally {
      await nowhere.close()
    }
  })

  it("a document of another shape than the config says is an UnexpectedResponse naming it", async () => {
    const renamed = defineIndex({ ...productsIndex, fields: { ...productsIndex.fields, price: t.keyword({ required: true }) } })
    const id = (await client.search(products().size(1))).hits[0]?.id
    expect(id).toBeDefined()
    const error = await client.get(searchIndex("products", renamed), id ?? "").then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(UnexpectedResponse)
    expect((error as UnexpectedResponse).message).toContain("price")
  })

  it("the Effect service: a layer from the config, typed errors in the error channel", async () => {
    const program = Effect.gen(function* () {
      const search = yield* Search
      const page = yield* search.search(users().filter((u) => u.email.term("grace.hopper@example.com")).select("fullName"))
      const missing = yield* search.search(searchIndex("nothing", productsIndex)).pipe(
        Effect.map(() => "found"),
        Effect.catchTag("IndexNotFound", (e) => Effect.succeed(e.alias))
      )
      return { names: page.hits.map((h) => h.document.fullName), missing }
    })
    const result = await Effect.runPromise(program.pipe(Effect.provide(Search.layer(s.config, { env: {} }))))
    expect(result).toEqual({ names: ["Grace Hopper"], missing: `${s.d.prefix}nothing` })

    const misconfigured = await Effect.runPromiseExit(program.pipe(Effect.provide(Search.layer(s.config, { sink: "nope", env: {} }))))
    expect(Exit.isFailure(misconfigured) && String(misconfigured.cause)).toContain("sinks.nope")
  })
})
