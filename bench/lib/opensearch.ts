/** The few OpenSearch calls the bench makes itself, over fetch. */

export const call = async (base: string, method: string, urlPath: string, body?: unknown, timeoutMs = 60_000): Promise<{ status: number; json: unknown }> => {
  const res = await fetch(`${base}${urlPath}`, {
    method,
    signal: AbortSignal.timeout(timeoutMs),
    ...(body === undefined
      ? {}
      : typeof body === "string"
      ? { body, headers: { "content-type": "application/x-ndjson" } }
      : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  })
  const text = await res.text()
  let json: unknown = text
  try {
    json = JSON.parse(text)
  } catch {
    // not JSON
  }
  return { status: res.status, json }
}

const ok = async (base: string, method: string, urlPath: string, body?: unknown, timeoutMs?: number): Promise<unknown> => {
  const r = await call(base, method, urlPath, body, timeoutMs)
  if (r.status >= 300) throw new Error(`${method} ${urlPath} → ${r.status}: ${JSON.stringify(r.json).slice(0, 500)}`)
  return r.json
}

/** Deletes every index and alias whose name starts with `prefix` (refuses a prefix that would widen the wildcard). */
export const deleteIndexesWithPrefix = async (base: string, prefix: string): Promise<void> => {
  if (!/^bench[a-z0-9_]+$/.test(prefix)) throw new Error(`refusing to delete indexes with prefix "${prefix}"`)
  const r = await call(base, "GET", `/_alias/${prefix}*?expand_wildcards=all`)
  const aliases = r.status === 200 ? (r.json as Record<string, { aliases: Record<string, unknown> }>) : {}
  const actions = Object.entries(aliases).flatMap(([index, { aliases: names }]) =>
    Object.keys(names).filter((a) => a.startsWith(prefix)).map((alias) => ({ remove: { index, alias } }))
  )
  if (actions.length > 0) await ok(base, "POST", "/_aliases", { actions })
  await ok(base, "DELETE", `/${prefix}*?expand_wildcards=all&ignore_unavailable=true`)
}

/** The concrete index an alias points at, with its mapping and analysis settings. */
export const indexDefinition = async (base: string, alias: string): Promise<{ index: string; mappings: unknown; analysis: unknown }> => {
  const mappings = (await ok(base, "GET", `/${alias}/_mapping`)) as Record<string, { mappings: unknown }>
  const index = Object.keys(mappings)[0]
  if (index === undefined) throw new Error(`no index behind ${alias}`)
  const settings = (await ok(base, "GET", `/${index}/_settings`)) as Record<string, { settings: { index: { analysis?: unknown } } }>
  return { index, mappings: mappings[index]?.mappings, analysis: settings[index]?.settings.index.analysis }
}

export const createIndex = (base: string, name: string, mappings: unknown, analysis: unknown): Promise<unknown> =>
  ok(base, "PUT", `/${name}`, {
    settings: { index: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: "-1", ...(analysis === undefined ? {} : { analysis }) } },
    mappings
  })

/** One `_bulk` request; throws when any item failed. */
export const bulk = async (base: string, index: string, body: string): Promise<void> => {
  const r = (await ok(base, "POST", `/${index}/_bulk`, body, 120_000)) as { errors: boolean; items: Array<Record<string, { error?: unknown }>> }
  if (r.errors) {
    const failed = r.items.map((i) => Object.values(i)[0]?.error).find((e) => e !== undefined)
    throw new Error(`_bulk into ${index} had failures, e.g. ${JSON.stringify(failed).slice(0, 400)}`)
  }
}

/** `_mget` (realtime by default) of `ids`, returning id → the `marker` in `_source` (null when absent). */
export const mgetMarkers = async (base: string, index: string, ids: ReadonlyArray<string>): Promise<Map<string, number | null>> => {
  const r = (await ok(base, "POST", `/${index}/_mget?_source=marker`, { ids }, 10_000)) as {
    docs: Array<{ _id: string; found: boolean; _source?: { marker?: number | null } }>
  }
  const out = new Map<string, number | null>()
  for (const d of r.docs) out.set(d._id, d.found ? (d._source?.marker ?? null) : null)
  return out
}
