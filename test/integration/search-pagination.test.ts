/**
 * `search_after` pagination of typed search over a few thousand documents: the example
 * deployment plus 3,000 more users, paged by sorts with many ties (a boolean, a count, a
 * relevance score, an enum inside a nested array) and with none. Every document must come
 * exactly once, in the order of the sort — the tiebreaker flusso appends (the document
 * key) is what makes the pages meet without gaps or repeats.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Cursor, type Page, SearchClient, searchIndex, type SearchRequest } from "flusso/search"
import type { users as usersIndex } from "../../flusso.config.js"
import { type SearchDeployment, startSearchDeployment } from "../support/searchDeployment.js"

const EXTRA_USERS = 3000

const moreUsers = `
insert into users (email, full_name, active, created_at)
select 'bulk' || g || '@example.com', 'Bulk User ' || (g % 97), g % 3 <> 0, timestamptz '2024-06-01' + (g % 500) * interval '1 hour'
from generate_series(1, ${EXTRA_USERS}) as g;
insert into orders (user_id, number, status, placed_at, total)
select u.id, 'BO-' || u.id, (array['pending', 'paid', 'shipped', 'delivered']::order_status[])[u.id % 4 + 1], timestamptz '2024-07-01', 10
from users u where u.email like 'bulk%' and u.id % 5 = 0;
`

let s: SearchDeployment
let client: SearchClient

beforeAll(async () => {
  s = await startSearchDeployment(moreUsers)
  client = SearchClient.fromConfig(s.config, { env: {} })
}, 600_000)

afterAll(async () => {
  await client?.close()
  await s?.cleanup()
})

type Users = typeof usersIndex

/** Every page of `request`, following `next` until there is none. */
const allPages = async <D>(request: SearchRequest<Users, D>): Promise<ReadonlyArray<Page<D>>> => {
  const pages: Array<Page<D>> = []
  let after: Cursor | undefined
  for (;;) {
    const page = await client.search(request.after(after))
    pages.push(page)
    if (page.next === undefined) return pages
    after = page.next
  }
}

const expectEveryDocumentOnce = (ids: ReadonlyArray<string>, total: number) => {
  expect(ids).toHaveLength(total)
  expect(new Set(ids).size).toBe(total)
}

describe("search_after pagination", () => {
  it("by a boolean (two values for thousands of documents): every user once, in order", async () => {
    const users = searchIndex(s.config, "users")
    const total = await client.count(users)
    expect(total).toBe(17 + EXTRA_USERS)
    const pages = await allPages(users.sort((u) => u.active.desc()).select("active", "id").size(250))
    expect(pages.length).toBe(Math.ceil(total / 250))
    const hits = pages.flatMap((p) => p.hits)
    expectEveryDocumentOnce(hits.map((h) => h.id), total)
    // true first, then by id within each value (the tiebreaker)
    const keys = hits.map((h) => [h.document.active ? 0 : 1, h.document.id] as const)
    expect(keys).toEqual([...keys].sort(([a, x], [b, y]) => (a === b ? x - y : a - b)))
    for (const page of pages) expect(page.total).toBe(total)
  })

  it("by relevance: a match shared by a thousand users, scores tied in blocks", async () => {
    const users = searchIndex(s.config, "users")
    const matching = users.query((u) => u.fullName.match("bulk user"))
    const total = await client.count(matching)
    expect(total).toBe(EXTRA_USERS)
    const hits = (await allPages(matching.select("id").size(333))).flatMap((p) => p.hits)
    expectEveryDocumentOnce(hits.map((h) => h.id), total)
    const scores = hits.map((h) => h.score)
    expect(scores).toEqual([...scores].sort((a, b) => b - a))
  })

  it("by an enum inside a nested array, and with no sort at all", async () => {
    const users = searchIndex(s.config, "users")
    const total = 17 + EXTRA_USERS
    const byStatus = (await allPages(users.sort((u) => u.recentOrders.sortBy((o) => o.status.asc())).select("id").size(400))).flatMap((p) => p.hits)
    expectEveryDocumentOnce(byStatus.map((h) => h.id), total)
    const unsorted = (await allPages(users.select("id").size(1000))).flatMap((p) => p.hits)
    expectEveryDocumentOnce(unsorted.map((h) => h.id), total)
  })

  it("a page holds `size` hits; the last page has no `next`", async () => {
    const users = searchIndex(s.config, "users")
    const pages = await allPages(users.filter((u) => u.orderCount.gte(1)).sort((u) => [u.orderCount.desc(), u.createdAt.asc()]).size(100))
    const total = pages[0]?.total ?? 0
    expect(total).toBeGreaterThan(600)
    for (const page of pages.slice(0, -1)) expect(page.hits).toHaveLength(100)
    expect(pages.at(-1)?.next).toBeUndefined()
    expectEveryDocumentOnce(pages.flatMap((p) => p.hits.map((h) => h.id)), total)
  })
})
