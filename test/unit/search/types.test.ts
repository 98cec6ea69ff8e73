/**
 * The compiler's side of typed search: what compiles and what does not, and the exact
 * types of results. Checked by `tsc --noEmit` (npm test's typecheck covers test/): each
 * `@ts-expect-error` fails the typecheck if its line ever compiles. Misuses sit in
 * functions that never run (their calls would throw at run time, which is the point).
 */
import type { Effect } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { defineIndex, type DocumentOf, t } from "flusso"
import {
  and,
  type BooleanHandle,
  byScore,
  type Cursor,
  type DateHandle,
  type EnumHandle,
  type ExactHandle,
  type GeoHandle,
  type Handles,
  type IdentifierHandle,
  type KeywordHandle,
  type NumberHandle,
  not,
  or,
  type Page,
  type Query,
  raw,
  type Runnable,
  Search,
  SearchClient,
  type SearchError,
  searchIndex,
  type Sort,
  type StoredHandle,
  type TextHandle
} from "flusso/search"
import config, { users } from "../../../flusso.config.js"

/** One field of every kind, with the options that change its type. */
const kinds = defineIndex({
  table: "kinds",
  primaryKey: "id",
  fields: {
    id: t.long({ required: true }),
    title: t.text(),
    code: t.identifier({ required: true }),
    tag: t.keyword({ default: "none" }),
    ref: t.uuid(),
    state: t.enum({ variants: ["draft", "live", "gone"], required: true }),
    loose: t.enum(),
    flag: t.boolean(),
    small: t.short(),
    ratio: t.float(),
    amount: t.decimal({ required: true }),
    day: t.date(),
    at: t.timestamp(),
    blob: t.binary(),
    data: t.json(),
    spot: t.geo({ lat: "lat", lon: "lon", required: true }),
    labels: t.map({ values: "integer" }),
    always: t.constant("x"),
    addr: t.custom({ postgres: ["inet"], opensearch: "ip" }),
    box: t.object({ fields: { width: t.integer({ required: true }), note: t.text() } }),
    owner: t.belongsTo({ table: "owners", column: "owner_id", primaryKey: "id", required: true, fields: { name: t.text({ required: true }), exists: t.boolean() } }),
    parts: t.hasMany({
      table: "parts",
      foreignKey: "kind_id",
      primaryKey: "id",
      fields: {
        sku: t.keyword({ required: true }),
        stock: t.integer(),
        bins: t.manyToMany({
          table: "bins",
          through: { table: "part_bins", leftKey: "part_id", rightKey: "bin_id" },
          primaryKey: "id",
          fields: { shelf: t.keyword() }
        })
      }
    }),
    partCount: t.count({ table: "parts", foreignKey: "kind_id" }),
    stockSum: t.sum({ table: "parts", foreignKey: "kind_id", column: "stock", valueType: "integer" }),
    firstAt: t.min({ table: "parts", foreignKey: "kind_id", column: "made_at", valueType: "timestamp" }),
    lastSku: t.max({ table: "parts", foreignKey: "kind_id", column: "sku", valueType: "keyword" }),
    meanStock: t.avg({ table: "parts", foreignKey: "kind_id", column: "stock" }),
    partIds: t.ids({ table: "parts", foreignKey: "kind_id", elementType: "long" }),
    partKeys: t.ids({ table: "parts", foreignKey: "kind_id", elementType: "keyword" })
  }
})

type K = Handles<typeof kinds.fields>
type U = Handles<typeof users.fields>
const kindsSearch = searchIndex("kinds", kinds)
const usersSearch = searchIndex(config, "users")

/** Never called: the body is only for the compiler. */
const compileOnly = (body: () => void): void => void body

describe("binding", () => {
  it("from the config object or one defineIndex, hits typed as DocumentOf", () => {
    expectTypeOf(usersSearch).toEqualTypeOf(searchIndex("users", users))
    expectTypeOf<HitsOf<typeof usersSearch>>().toEqualTypeOf<DocumentOf<typeof users>>()
    compileOnly(() => {
      const client = SearchClient.fromConfig(config)
      expectTypeOf(client.search(usersSearch)).resolves.toEqualTypeOf<Page<DocumentOf<typeof users>>>()
      // @ts-expect-error no index "orders" in the config
      searchIndex(config, "orders")
    })
  })
})

describe("field handles, by kind", () => {
  it("each field's handle is its kind's", () => {
    expectTypeOf<K["title"]>().toEqualTypeOf<TextHandle<"">>()
    expectTypeOf<K["code"]>().toEqualTypeOf<IdentifierHandle<"">>()
    expectTypeOf<K["tag"]>().toEqualTypeOf<KeywordHandle<"">>()
    expectTypeOf<K["ref"]>().toEqualTypeOf<ExactHandle<"">>()
    expectTypeOf<K["state"]>().toEqualTypeOf<EnumHandle<"", "draft" | "live" | "gone">>()
    expectTypeOf<K["loose"]>().toEqualTypeOf<EnumHandle<"", string>>()
    expectTypeOf<K["flag"]>().toEqualTypeOf<BooleanHandle<"">>()
    expectTypeOf<K["small"]>().toEqualTypeOf<NumberHandle<"">>()
    expectTypeOf<K["ratio"]>().toEqualTypeOf<NumberHandle<"">>()
    expectTypeOf<K["amount"]>().toEqualTypeOf<NumberHandle<"">>()
    expectTypeOf<K["day"]>().toEqualTypeOf<DateHandle<"">>()
    expectTypeOf<K["at"]>().toEqualTypeOf<DateHandle<"">>()
    expectTypeOf<K["blob"]>().toEqualTypeOf<StoredHandle>()
    expectTypeOf<K["always"]>().toEqualTypeOf<StoredHandle>()
    expectTypeOf<K["spot"]>().toEqualTypeOf<GeoHandle<"">>()
    expectTypeOf<ReturnType<K["labels"]["key"]>>().toEqualTypeOf<NumberHandle<"">>()
    expectTypeOf<K["box"]["width"]>().toEqualTypeOf<NumberHandle<"">>()
    expectTypeOf<K["owner"]["name"]>().toEqualTypeOf<TextHandle<"">>()
    // aggregates, by their value type
    expectTypeOf<K["partCount"]>().toEqualTypeOf<NumberHandle<"">>()
    expectTypeOf<K["stockSum"]>().toEqualTypeOf<NumberHandle<"">>()
    expectTypeOf<K["firstAt"]>().toEqualTypeOf<DateHandle<"">>()
    expectTypeOf<K["lastSku"]>().toEqualTypeOf<KeywordHandle<"">>()
    expectTypeOf<K["meanStock"]>().toEqualTypeOf<NumberHandle<"">>()
    expectTypeOf<K["partIds"]>().toEqualTypeOf<NumberHandle<"">>()
    expectTypeOf<K["partKeys"]>().toEqualTypeOf<ExactHandle<"">>()
  })

  it("valid forms compile", () => {
    kindsSearch.filter((k) => [
      k.title.match("red box", { operator: "and", fuzziness: "AUTO" }),
      k.title.phrase("red box", { slop: 1 }),
      k.title.prefix("re"),
      k.title.exists(),
      k.title.keyword.term("Red Box"),
      k.title.lowercase.prefix("red"),
      k.code.match("ab12"),
      k.code.term("AB-12"),
      k.code.terms(["AB-12", "CD-34"]),
      k.code.prefix("ab-"),
      k.tag.term("x"),
      k.tag.terms(["x", "y"]),
      k.tag.prefix("x"),
      k.tag.text.match("x"),
      k.tag.lowercase.term("X"),
      k.ref.term("6f1c…"),
      k.state.term("live"),
      k.state.terms(["draft", "gone"]),
      k.loose.term("anything"),
      k.flag.term(true),
      k.small.between(1, 2),
      k.ratio.gt(0.5),
      k.amount.lte(10.25),
      k.amount.terms([1, 2]),
      k.day.gte("2024-01-31"),
      k.at.lt("2024-01-31T10:00:00Z"),
      k.at.gt(new Date()),
      k.at.gte("now-7d/d"),
      k.day.between("2024-01-01", "2024-12-31"),
      k.day.gte("2024-01"),
      k.spot.withinDistance({ lat: 45.4, lon: 9.1 }, "2km"),
      k.spot.withinBox({ topLeft: { lat: 46, lon: 9 }, bottomRight: { lat: 45, lon: 10 } }),
      k.labels.key("size").gte(3),
      k.data.exists(),
      k.addr.term("10.0.0.1"),
      k.box.width.gt(3),
      k.owner.exists.term(true),
      k.owner.name.match("ada"),
      k.partIds.term(7),
      k.partKeys.term("7"),
      k.lastSku.text.match("x"),
      k.firstAt.gte("2024-01-01")
    ])
    usersSearch.filter((u) => u.profile.exists())
  })

  it("a wrong field, an operator its kind lacks, or a value of the wrong type does not compile", () => {
    compileOnly(() => {
      kindsSearch.filter((k) => [
        // @ts-expect-error no such field
        k.titel.match("x"),
        // @ts-expect-error text has no term: use .keyword
        k.title.term("x"),
        // @ts-expect-error text is not sortable: use .keyword
        k.title.asc(),
        // @ts-expect-error text has no ranges
        k.title.gt("a"),
        // @ts-expect-error keyword is not analyzed: use .text
        k.tag.match("x"),
        // @ts-expect-error keyword values are strings
        k.tag.term(1),
        // @ts-expect-error not a variant
        k.state.term("deleted"),
        // @ts-expect-error one of them is not a variant
        k.state.terms(["live", "deleted"]),
        // @ts-expect-error an enum has no prefix
        k.state.prefix("li"),
        // @ts-expect-error a number, not text
        k.small.term("1"),
        // @ts-expect-error a number, not text
        k.amount.gt("10"),
        // @ts-expect-error numbers are not matched
        k.ratio.match("1"),
        // @ts-expect-error a date is not a number
        k.day.gte(20240131),
        // @ts-expect-error not a date
        k.at.gte("yesterday"),
        // @ts-expect-error OpenSearch reads no slashes
        k.day.gte("2024/01/31"),
        // @ts-expect-error nor a space before the time
        k.at.gte("2024-01-31 10:00:00"),
        // @ts-expect-error a boolean, not text
        k.flag.term("true"),
        // @ts-expect-error booleans have no ranges
        k.flag.gt(false),
        // @ts-expect-error a distance needs its unit
        k.spot.withinDistance({ lat: 1, lon: 2 }, 5),
        // @ts-expect-error a point is { lat, lon }
        k.spot.withinDistance([1, 2], "5km"),
        // @ts-expect-error geo has no term
        k.spot.term("1,2"),
        // @ts-expect-error map values here are integers
        k.labels.key("size").term("big"),
        // @ts-expect-error binary is stored, not searched
        k.blob.exists(),
        // @ts-expect-error a constant is the same in every document
        k.always.term("x"),
        // @ts-expect-error json has no term
        k.data.term("x"),
        // @ts-expect-error an object is not a value: navigate into it
        k.box.term("x"),
        // @ts-expect-error ids of longs are numbers
        k.partIds.term("7"),
        // @ts-expect-error a count is a number
        k.partCount.term("3"),
        // @ts-expect-error min of timestamps is a date
        k.firstAt.gt(3)
      ])
    })
  })

  it("a related row's field named `exists` wins over the operator", () => {
    expectTypeOf<K["owner"]["exists"]>().toEqualTypeOf<BooleanHandle<"">>()
    expectTypeOf<U["profile"]["exists"]>().toEqualTypeOf<() => Query<"">>()
  })
})

describe("nested arrays", () => {
  it("any / all / none at any depth, conditions on the elements' own fields", () => {
    kindsSearch.filter((k) => [
      k.parts.any((p) => p.sku.term("a")),
      k.parts.any(),
      k.parts.none(),
      k.parts.all((p) => [p.stock.gt(0), p.bins.any((b) => b.shelf.term("A1"))]),
      k.parts.none((p) => p.bins.all((b) => b.shelf.exists())),
      k.parts.any((p) => raw({ term: { "parts.sku": "a" } }))
    ])
    usersSearch.filter((u) => u.recentOrders.any((o) => o.items.any((i) => i.product.sku.match("mn3001"))))
  })

  it("an element's field outside its array, or a root field inside it, does not compile", () => {
    compileOnly(() => {
      // @ts-expect-error a nested array's fields are reached through any / all / none
      kindsSearch.filter((k) => k.parts.sku.term("a"))
      // @ts-expect-error a condition on the root inside an element's condition
      kindsSearch.filter((k) => k.parts.any(() => k.flag.term(true)))
      // @ts-expect-error a condition on an element used at the root
      kindsSearch.filter((k) => k.parts.any((p) => p.bins.any(() => p.sku.term("a"))))
      let leaked: Query<"parts"> | undefined
      kindsSearch.filter((k) => k.parts.any((p) => (leaked = p.sku.term("a"))))
      // @ts-expect-error an element's condition is not a root condition
      kindsSearch.filter(() => leaked ?? raw({}))
      // @ts-expect-error and() of a root and an element condition fits neither
      kindsSearch.filter((k) => k.parts.any((p) => and(p.sku.term("a"), k.flag.term(true))))
      // @ts-expect-error `all` needs a condition
      kindsSearch.filter((k) => k.parts.all())
    })
  })
})

describe("composition and sort", () => {
  it("and / or / not in either context; raw fits anywhere", () => {
    const q = usersSearch
      .query((u) => or(u.fullName.match("ada"), u.email.prefix("ada")))
      .filter((u) => and(u.active.term(true), not(u.orderCount.term(0))))
      .filter(() => raw({ match_all: {} }))
    expectTypeOf(q).toEqualTypeOf(usersSearch)
    expectTypeOf(and()).toEqualTypeOf<Query<never>>()
    usersSearch.filter(() => and()).filter(() => or()).filter((u) => and(raw({ match_all: {} }), u.active.term(true)))
  })

  it("only sortable fields sort, nested ones through sortBy", () => {
    usersSearch.sort((u) => [u.createdAt.desc(), u.fullName.keyword.asc({ missing: "first" }), u.recentOrders.sortBy((o) => o.status.asc(), "min"), byScore()])
    kindsSearch.sort((k) => [k.state.asc(), k.code.asc(), k.parts.sortBy((p) => p.bins.sortBy((b) => b.shelf.desc()))])
    expectTypeOf<ReturnType<K["parts"]["sortBy"]>>().toEqualTypeOf<Sort<"">>()
    compileOnly(() => {
      const elementKey = null as unknown as Sort<"parts">
      // @ts-expect-error an element's sort key is not the documents'
      kindsSearch.sort(() => [elementKey])
      // @ts-expect-error a root sort key inside an element's
      kindsSearch.sort((k) => k.parts.sortBy(() => k.flag.asc()))
      // @ts-expect-error geo does not sort
      kindsSearch.sort((k) => k.spot.asc())
      // @ts-expect-error json does not sort
      kindsSearch.sort((k) => k.data.asc())
      // @ts-expect-error a condition is not a sort key
      kindsSearch.sort((k) => k.flag.term(true))
    })
  })

  it("size takes a number, after a cursor", () => {
    usersSearch.size(20).after(undefined)
    compileOnly(() => {
      const page = null as unknown as Page<DocumentOf<typeof users>>
      usersSearch.after(page.next)
      // @ts-expect-error a page size is a number
      usersSearch.size("20")
      // @ts-expect-error a cursor is a list of sort values
      usersSearch.after("abc")
    })
    expectTypeOf<Cursor>().toEqualTypeOf<ReadonlyArray<string | number | boolean | null>>()
  })
})

describe("results", () => {
  it("documents follow DocumentOf: nullable unless required or defaulted", () => {
    type Kind = DocumentOf<typeof kinds>
    expectTypeOf<Kind["title"]>().toEqualTypeOf<string | null>()
    expectTypeOf<Kind["code"]>().toEqualTypeOf<string>()
    expectTypeOf<Kind["tag"]>().toEqualTypeOf<string>()
    expectTypeOf<Kind["state"]>().toEqualTypeOf<"draft" | "live" | "gone">()
    expectTypeOf<Kind["spot"]>().toEqualTypeOf<{ lat: number; lon: number }>()
    expectTypeOf<Kind["owner"]["exists"]>().toEqualTypeOf<boolean | null>()
    expectTypeOf<Kind["parts"][number]["bins"]>().toEqualTypeOf<Array<{ shelf: string | null }>>()
  })

  it("a projection carries exactly the selected paths, nested as in the document", () => {
    const projected = usersSearch.select("fullName", "email", "profile.bio", "recentOrders.status", "recentOrders.items.product.sku", "tagIds")
    expectTypeOf<HitsOf<typeof projected>>().toEqualTypeOf<{
      fullName: string | null
      email: string
      profile: { bio: string | null } | null
      recentOrders: Array<{
        status: "pending" | "paid" | "shipped" | "delivered" | "cancelled" | "refunded"
        items: Array<{ product: { sku: string } | null }>
      }>
      tagIds: Array<number>
    }>()
    const whole = kindsSearch.select("owner", "box.note", "parts.bins")
    expectTypeOf<HitsOf<typeof whole>>().toEqualTypeOf<{
      owner: { name: string; exists: boolean | null }
      box: { note: string | null }
      parts: Array<{ bins: Array<{ shelf: string | null }> }>
    }>()
    // a field whole and a path inside it: the field whole
    const both = kindsSearch.select("box", "box.note")
    expectTypeOf<HitsOf<typeof both>>().toEqualTypeOf<{
      box: { width: number; note: string | null }
    }>()
    compileOnly(() => {
      // @ts-expect-error no such path
      usersSearch.select("profile.bioo")
      // @ts-expect-error a scalar has no paths inside
      usersSearch.select("email.domain")
      // @ts-expect-error select names at least one path
      usersSearch.select()
    })
  })

  it("search, get, count, msearch: Promise and Effect", () => {
    compileOnly(() => {
      const client = SearchClient.fromConfig(config, { sink: "primary" })
      const byName = usersSearch.select("fullName")
      expectTypeOf(client.search(byName)).resolves.toEqualTypeOf<Page<{ fullName: string | null }>>()
      expectTypeOf(client.get(byName, "1")).resolves.toEqualTypeOf<{ fullName: string | null } | undefined>()
      expectTypeOf(client.count(usersSearch)).resolves.toEqualTypeOf<number>()
      const products = searchIndex(config, "products").select("sku", "price")
      expectTypeOf(client.msearch([byName, products])).resolves.toEqualTypeOf<
        [Page<{ fullName: string | null }>, Page<{ sku: string; price: number }>]
      >()
      type Hit = Page<{ fullName: string | null }>["hits"][number]
      expectTypeOf<Hit["id"]>().toEqualTypeOf<string>()
      expectTypeOf<Hit["score"]>().toEqualTypeOf<number>()
      const program = Search.pipe((search) => search)
      expectTypeOf<Effect.Effect.Success<typeof program>>().toHaveProperty("search")
      type Searched = ReturnType<Effect.Effect.Success<typeof program>["search"]>
      expectTypeOf<Effect.Effect.Error<Searched>>().toEqualTypeOf<SearchError>()
    })
  })
})

/** The document type of a request's hits. */
type HitsOf<R> = R extends Runnable<infer D> ? D : never
