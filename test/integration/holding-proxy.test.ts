/**
 * The holding proxy (test/support/faults/holdingProxy.ts) against the real OpenSearch:
 * it passes requests through unchanged, and a held `_bulk` whose client gave up is still
 * executed on `release()` — after a newer write, which it then overwrites. That
 * reordering is what the proxy exists to produce for the fault tests.
 */
import { Client } from "@opensearch-project/opensearch"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startHoldingProxy, type HoldingProxy } from "../support/faults/holdingProxy.js"
import { deleteIndexesWithPrefix, uniquePrefix } from "../support/services.js"

const opensearchUrl = (): string => {
  const url = process.env["FLUSSO_TEST_OPENSEARCH_URL"]
  // A missing service fails the tests; it never skips them.
  if (url === undefined || url === "") throw new Error("FLUSSO_TEST_OPENSEARCH_URL is not set (globalSetup sets it)")
  return url.replace(/\/+$/, "")
}

interface Answer {
  readonly status: number
  readonly body: Record<string, unknown>
}

const call = async (base: string, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Answer> => {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(signal === undefined ? {} : { signal }),
    ...(body === undefined
      ? {}
      : typeof body === "string"
        ? { body, headers: { "content-type": "application/x-ndjson" } }
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const ndjson = (...lines: ReadonlyArray<unknown>): string => lines.map((l) => JSON.stringify(l)).join("\n") + "\n"

describe("holding proxy", () => {
  const prefix = uniquePrefix()
  let proxy: HoldingProxy

  beforeAll(async () => {
    proxy = await startHoldingProxy(opensearchUrl())
  })
  afterAll(async () => {
    await proxy?.close()
    await deleteIndexesWithPrefix(opensearchUrl(), prefix)
  })

  it("listens on 127.0.0.1 below the ephemeral port range", () => {
    const url = new URL(proxy.url)
    expect(url.hostname).toBe("127.0.0.1")
    expect(Number(url.port)).toBeGreaterThanOrEqual(20_000)
    expect(Number(url.port)).toBeLessThan(32_768)
    expect(proxy.url.endsWith("/")).toBe(false)
  })

  it("passes plain requests through unchanged", async () => {
    const index = `${prefix}plain`
    const created = await call(proxy.url, "PUT", `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0 } })
    expect(created.status).toBe(200)
    expect(created.body["acknowledged"]).toBe(true)

    const indexed = await call(proxy.url, "PUT", `/${index}/_doc/a?refresh=true`, { name: "through the proxy" })
    expect(indexed.status).toBe(201)
    expect(indexed.body["result"]).toBe("created")

    const got = await call(proxy.url, "GET", `/${index}/_doc/a`)
    expect(got.status).toBe(200)
    expect(got.body["_source"]).toEqual({ name: "through the proxy" })
    // The same answer as from OpenSearch itself.
    expect(await call(opensearchUrl(), "GET", `/${index}/_doc/a`)).toEqual(got)

    const missing = await call(proxy.url, "GET", `/${index}/_doc/nope`)
    expect(missing.status).toBe(404)

    expect(proxy.forwarded()).toEqual(
      expect.arrayContaining([
        { method: "PUT", path: `/${index}` },
        { method: "PUT", path: `/${index}/_doc/a?refresh=true` },
        { method: "GET", path: `/${index}/_doc/a` }
      ])
    )
  })

  it("holds a _bulk its client gave up on and executes it on release(), after a newer write", async () => {
    const index = `${prefix}held`
    expect((await call(opensearchUrl(), "PUT", `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0 } })).status).toBe(200)

    const held = proxy.holdNext((r) => r.method === "POST" && r.path.startsWith("/_bulk") && r.body.includes(`"${index}"`))
    const older = ndjson({ index: { _index: index, _id: "1" } }, { v: "older" })
    const sent = call(proxy.url, "POST", "/_bulk", older, AbortSignal.timeout(500))

    const caught = await held.caught
    expect(caught).toEqual({ method: "POST", path: "/_bulk", body: older })
    // The client gives up: the proxy never answered.
    await expect(sent).rejects.toMatchObject({ name: "TimeoutError" })
    expect(proxy.forwarded()).not.toContainEqual({ method: "POST", path: "/_bulk" })

    // A newer write of the same document, straight to OpenSearch.
    const newer = await call(opensearchUrl(), "POST", "/_bulk", ndjson({ index: { _index: index, _id: "1" } }, { v: "newer" }))
    expect(newer.status).toBe(200)
    expect(newer.body["errors"]).toBe(false)

    // The abandoned request still reaches OpenSearch, and wins.
    const released = await held.release()
    expect(released.status).toBe(200)
    const answer = JSON.parse(released.body) as { errors: boolean; items: Array<{ index: { result: string; _version: number } }> }
    expect(answer.errors).toBe(false)
    expect(answer.items[0]?.index).toMatchObject({ result: "updated", _version: 2 })
    expect(proxy.forwarded()).toContainEqual({ method: "POST", path: "/_bulk" })
    // release() twice is the same answer, not a second write.
    expect(await held.release()).toBe(released)

    const doc = await call(opensearchUrl(), "GET", `/${index}/_doc/1?realtime=true`)
    expect(doc.body).toMatchObject({ found: true, _version: 2, _source: { v: "older" } })
  })

  it("lets the OpenSearch client's retry after its request timeout pass straight through", async () => {
    const index = `${prefix}retry`
    const client = new Client({ node: proxy.url, requestTimeout: 1_000, maxRetries: 1 })
    try {
      await client.indices.create({ index, body: { settings: { number_of_shards: 1, number_of_replicas: 0 } } })
      const held = proxy.holdNext((r) => r.path.startsWith("/_bulk") && r.body.includes(`"${index}"`))
      const before = proxy.forwarded().length

      const res = await client.bulk({ body: [{ index: { _index: index, _id: "1" } }, { v: "first try" }] })
      // The first attempt was held and timed out; the retry (same body) went through.
      expect(res.statusCode).toBe(200)
      expect(res.body.errors).toBe(false)
      expect((await held.caught).body).toContain("first try")
      expect(proxy.forwarded().slice(before)).toEqual([{ method: "POST", path: "/_bulk" }])

      const released = await held.release()
      expect(released.status).toBe(200)
      const doc = await client.get({ index, id: "1" })
      expect(doc.body._version).toBe(2)
      expect(proxy.forwarded().slice(before)).toEqual([
        { method: "POST", path: "/_bulk" },
        { method: "POST", path: "/_bulk" },
        { method: "GET", path: `/${index}/_doc/1` }
      ])
    } finally {
      await client.close()
    }
  })

  it("answers 'release() before anything was caught' with a rejection, and survives several holds", async () => {
    const index = `${prefix}many`
    expect((await call(opensearchUrl(), "PUT", `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0 } })).status).toBe(200)
    const match = (r: { path: string }) => r.path === `/${index}/_doc/x`
    const first = proxy.holdNext(match)
    const second = proxy.holdNext(match)
    await expect(first.release()).rejects.toThrow(/before any matching request/)

    const a = call(proxy.url, "PUT", `/${index}/_doc/x`, { n: 1 })
    const b = call(proxy.url, "PUT", `/${index}/_doc/x`, { n: 2 })
    const [ca, cb] = await Promise.all([first.caught, second.caught])
    expect([ca.body, cb.body].sort()).toEqual(['{"n":1}', '{"n":2}'])

    // Clients still waiting get OpenSearch's answer on release.
    const [ra, rb] = await Promise.all([first.release(), second.release()])
    expect([ra.status, rb.status].sort()).toEqual([200, 201])
    expect([(await a).status, (await b).status].sort()).toEqual([200, 201])
  })
})
