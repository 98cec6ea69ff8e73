/**
 * What an index holds, read straight from OpenSearch: every document by `_id`, and a wait
 * for a deployment to be fully settled (every index seeded *and* every committed change
 * acknowledged). Used by the differential test and the document tests.
 */
import { Cause, Exit, Schema } from "effect"
import type { Deployment, Running } from "../deployment.js"
import { waitFor } from "../deployment.js"

const Hits = Schema.Struct({
  _scroll_id: Schema.optional(Schema.String),
  hits: Schema.Struct({
    hits: Schema.Array(Schema.Struct({ _id: Schema.String, _source: Schema.Unknown }))
  })
})
const decodeHits = Schema.decodeUnknownSync(Schema.parseJson(Hits))

const Count = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({ count: Schema.Number })))

/**
 * Every document of `index` (through its alias) as `_id → _source`, in `_id` order.
 * Scrolls, so it is exact for any size.
 */
export const documents = async (d: Deployment, index: string): Promise<Map<string, unknown>> => {
  const refreshed = await d.raw("POST", `/${d.prefix}${index}/_refresh`)
  if (refreshed.status !== 200) throw new Error(`refresh of ${d.prefix}${index} failed: ${refreshed.status} ${refreshed.text}`)
  const found: Array<[string, unknown]> = []
  let response = await d.raw("POST", `/${d.prefix}${index}/_search?scroll=1m`, { size: 1000, query: { match_all: {} } })
  for (;;) {
    if (response.status !== 200) throw new Error(`search of ${d.prefix}${index} failed: ${response.status} ${response.text}`)
    const page = decodeHits(response.text)
    for (const hit of page.hits.hits) found.push([hit._id, hit._source])
    if (page.hits.hits.length === 0 || page._scroll_id === undefined) {
      if (page._scroll_id !== undefined) await d.raw("DELETE", "/_search/scroll", { scroll_id: [page._scroll_id] })
      break
    }
    response = await d.raw("POST", "/_search/scroll", { scroll: "1m", scroll_id: page._scroll_id })
  }
  found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return new Map(found)
}

/** `documents` as a plain object, for `toEqual` against an expected `{ id: document }`. */
export const documentsObject = async (d: Deployment, index: string): Promise<Record<string, unknown>> =>
  Object.fromEntries(await documents(d, index))

/**
 * `wait`, but failing at once with flusso's own error when the engine stops (a rejected
 * document under `onError: "stop"`, a fatal source error) instead of timing out blind.
 */
const unlessStopped = async (running: Running | undefined, wait: Promise<void>): Promise<void> => {
  if (running === undefined) return wait
  const stopped = running.exit.then((exit) => {
    throw new Error(`flusso stopped: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "without error"}`)
  })
  stopped.catch(() => undefined) // it may settle after the race, at cleanup
  await Promise.race([wait, stopped])
}

/** Waits until `indexes` generations are marked seeded in the meta index. */
export const seeded = (d: Deployment, indexes: number, timeoutMs = 60_000, running?: Running): Promise<void> =>
  unlessStopped(running, waitFor(`${indexes} index(es) to be seeded`, async () => {
    await d.raw("POST", `/${d.prefix}flusso_meta/_refresh`)
    const response = await d.raw("POST", `/${d.prefix}flusso_meta/_count`, { query: { term: { seeded: true } } })
    if (response.status !== 200) return undefined
    return Count(response.text).count >= indexes ? true : undefined
  }, timeoutMs).then(() => undefined))

/** `d.caughtUp`, failing at once when flusso stopped. */
export const caughtUp = (d: Deployment, timeoutMs = 60_000, running?: Running): Promise<void> =>
  unlessStopped(running, d.caughtUp(timeoutMs))

/** Seeded, then caught up: every document is final. */
export const settled = async (d: Deployment, indexes: number, timeoutMs = 60_000, running?: Running): Promise<void> => {
  await seeded(d, indexes, timeoutMs, running)
  await caughtUp(d, timeoutMs, running)
}
