/**
 * docs/searching.md, compiled: every snippet of the guide as written (against the
 * example config), the misuses it says do not compile marked `@ts-expect-error`, and the
 * result types it states. If the guide and the API drift apart, `tsc` says so. The
 * requests are built for real (no cluster needed); the calls that would go to a cluster
 * sit in a function that never runs.
 */
import { Effect } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import {
  and,
  byScore,
  type Cursor,
  type Handles,
  IndexNotFound,
  not,
  or,
  type Page,
  raw,
  rawSort,
  Search,
  SearchClient,
  searchIndex
} from "flusso/search"
import config, { users as usersIndex } from "../../../flusso.config.js"

const users = searchIndex(config, "users")
const products = searchIndex(config, "products")
type Status = "pending" | "paid" | "shipped" | "delivered" | "cancelled" | "refunded"

/** Never called: what would talk to a cluster. */
const compileOnly = (body: () => Promise<void>): void => void body

describe("docs/searching.md", () => {
  it("a first search", () => {
    const request = users
      .query((u) => u.fullName.match("ada"))
      .filter((u) => u.active.term(true))
      .sort((u) => u.createdAt.desc())
      .select("fullName", "email", "orderCount")
      .size(20)
    expect(request.state.size).toBe(20)
    compileOnly(async () => {
      const client = SearchClient.fromConfig(config)
      const page = await client.search(request)
      for (const hit of page.hits) {
        expectTypeOf(hit.document.email).toEqualTypeOf<string>()
        expectTypeOf(hit.document.fullName).toEqualTypeOf<string | null>()
        expectTypeOf(hit.id).toEqualTypeOf<string>()
        expectTypeOf(hit.score).toEqualTypeOf<number>()
      }
      await client.close()
    })
    compileOnly(async () => {
      // @ts-expect-error text has no term: match, or fullName.keyword.term
      users.filter((u) => u.fullName.term("Ada"))
      // @ts-expect-error a count is a number
      users.filter((u) => u.orderCount.gt("6"))
      // @ts-expect-error a nested array: any / all / none
      users.filter((u) => u.recentOrders.status.term("paid"))
      // @ts-expect-error not one of the enum's variants
      users.filter((u) => u.recentOrders.any((o) => o.status.term("lost")))
      // @ts-expect-error no such path
      users.select("profile.bioo")
      // @ts-expect-error Query<""> is not Query<"recentOrders">
      users.filter((u) => u.recentOrders.any(() => u.active.term(true)))
      return Promise.resolve()
    })
  })

  it("the example deployment, searched typed", () => {
    compileOnly(async () => {
      const client = SearchClient.fromConfig(config)
      const ada = await client.get(users, "1")
      expectTypeOf(ada).toEqualTypeOf<import("flusso").DocumentOf<typeof usersIndex> | undefined>()
      await client.search(users.query((u) => u.fullName.match("ada")))
      const big = await client.search(users.filter((u) => u.orderCount.gt(6)).select("fullName", "orderCount", "totalSpent"))
      expectTypeOf(big.hits[0]?.document).toEqualTypeOf<{ fullName: string | null; orderCount: number; totalSpent: number | null } | undefined>()
      await client.search(products.filter((p) => p.sku.match("kb1001")))
      await client.search(users.filter((u) => u.recentOrders.any((o) => o.items.any((i) => i.product.sku.match("mn3001")))).select("fullName"))
    })
  })

  it("binding", () => {
    expectTypeOf(searchIndex("users", usersIndex)).toEqualTypeOf(users)
    compileOnly(async () => {
      SearchClient.fromConfig(config, { sink: "primary" })
      SearchClient.fromConfig(config, { env: { PRIMARY_OPENSEARCH_URL: "https://search:9200" } })
      SearchClient.connect({ url: "https://search:9200", username: "reader", password: "secret", prefix: "shop_" })
      return Promise.resolve()
    })
  })

  it("requests, combinators, nested arrays, sorting", () => {
    users.filter((u) => and(or(u.active.term(false), u.orderCount.gte(7)), not(u.email.term("frances.allen@example.com"))))
    users.filter((u) => u.recentOrders.any((o) => [o.status.term("delivered"), o.total.gt(1000)]))
    users.filter((u) => u.recentOrders.all((o) => o.items.all((i) => i.quantity.gte(2))))
    users.filter((u) => u.recentOrders.none((o) => o.items.any((i) => i.unitPrice.gt(300))))
    users.sort((u) => [u.orderCount.desc(), u.fullName.keyword.asc({ missing: "first" })])
    users.sort((u) => u.recentOrders.sortBy((o) => o.status.asc()))
    users.sort((u) => u.recentOrders.sortBy((o) => o.total.desc(), "avg"))
    products.query((p) => p.name.match("usb")).sort((p) => [byScore(), p.sku.asc()])
    users.filter((u) => u.profile.bio.match("engineer"))
    const bigSpender = (u: Handles<typeof usersIndex.fields>) => and(u.active.term(true), u.totalSpent.gte(1000))
    users.filter(bigSpender)
  })

  it("projections, pagination, results", () => {
    const projected = users.select("fullName", "profile.bio", "recentOrders.status", "recentOrders.items.product.sku")
    compileOnly(async () => {
      const client = SearchClient.fromConfig(config)
      const page = await client.search(projected)
      expectTypeOf(page.hits[0]?.document).toEqualTypeOf<{
        fullName: string | null
        profile: { bio: string | null } | null
        recentOrders: Array<{ status: Status; items: Array<{ product: { sku: string } | null }> }>
      } | undefined>()
      await client.get(users.select("email"), "1")

      let after: Cursor | undefined
      do {
        const next = await client.search(users.filter((u) => u.active.term(true)).sort((u) => u.createdAt.desc()).size(500).after(after))
        for (const hit of next.hits) void hit.document
        after = next.next
      } while (after !== undefined)

      const [active, monitors] = await client.msearch([
        users.filter((u) => u.active.term(true)).size(5),
        products.query((p) => p.name.match("monitor")).select("sku", "price")
      ])
      expectTypeOf(active).toEqualTypeOf<Page<import("flusso").DocumentOf<typeof usersIndex>>>()
      expectTypeOf(monitors.hits[0]?.document.price).toEqualTypeOf<number | undefined>()
    })
  })

  it("the escape hatch", () => {
    const request = users
      .filter((u) => u.active.term(true))
      .filter(() => raw({ regexp: { email: "[a-d].*" } }))
      .filter((u) => u.recentOrders.any(() => raw({ range: { "recentOrders.total": { gt: 1000 } } })))
      .sort(() => rawSort({ _geo_distance: { location: { lat: 45.46, lon: 9.19 }, order: "asc" } }))
    expect(request.state.filters).toHaveLength(3)
  })

  it("Effect and Promise styles", () => {
    const emails = Effect.gen(function* () {
      const search = yield* Search
      const page = yield* search.search(users.filter((u) => u.active.term(true)).select("email").size(100))
      return page.hits.map((hit) => hit.document.email)
    }).pipe(Effect.catchTag("IndexNotFound", () => Effect.succeed([])))
    expectTypeOf<Effect.Effect.Success<typeof emails>>().toEqualTypeOf<Array<string> | Array<never>>()
    compileOnly(async () => {
      await Effect.runPromise(emails.pipe(Effect.provide(Search.layer(config))))
      const client = SearchClient.fromConfig(config)
      try {
        await client.search(users)
      } catch (error) {
        if (error instanceof IndexNotFound) console.error(error.message)
        else throw error
      } finally {
        await client.close()
      }
    })
  })
})
