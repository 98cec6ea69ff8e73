/**
 * The names flusso gives what it owns in a cluster (see opensearch.md "Names"). The
 * prefix is literal, so two deployments sharing a cluster never touch each other's
 * indexes, aliases or meta index.
 */

/** Physical index holding generation `n` of shape `hash`. */
export const generationName = (prefix: string, index: string, hash: string, n: number): string =>
  `${prefix}${index}_${hash}_${n}`

/** Alias naming the serving generation of one shape. */
export const hashAliasName = (prefix: string, index: string, hash: string): string => `${prefix}${index}_${hash}`

/** Alias naming the serving generation of the current shape: what readers query. */
export const convenienceAliasName = (prefix: string, index: string): string => `${prefix}${index}`

/**
 * The hidden companion of a generation holding its documents' refs (mapping.ts
 * `REFS_FIELD`) under the same ids; created, written and retired with its generation. Its
 * tail is no generation number, so `parseGeneration` never takes it for a generation.
 */
export const refsIndexName = (generation: string): string => `${generation}_refs`

/** The index holding the CheckpointStore entries of this deployment. */
export const metaIndexName = (prefix: string): string => `${prefix}flusso_meta`

/** The id of one (sink, generation)'s CheckpointStore entry in the meta index. */
export const checkpointId = (sink: string, generation: string): string => `${sink}:${generation}`

/** Wildcard matching every generation of a logical index, whatever its shape (and more: filter with `parseGeneration`). */
export const generationPattern = (prefix: string, index: string): string => `${prefix}${index}_*`

/**
 * The shape hash and number of `name` if it is a generation of logical index `index`
 * (any shape), else undefined. Names are matched exactly, not by wildcard alone:
 * `users_archive_ab12cd34_1` is not a generation of `users`, nor `users_ab12cd34_1x`.
 */
export const parseGeneration = (
  prefix: string,
  index: string,
  name: string
): { readonly hash: string; readonly n: number } | undefined => {
  const head = `${prefix}${index}_`
  if (!name.startsWith(head)) return undefined
  const match = /^([0-9a-f]{8})_([1-9][0-9]*)$/.exec(name.slice(head.length))
  if (match === null || match[1] === undefined || match[2] === undefined) return undefined
  const n = Number(match[2])
  return Number.isSafeInteger(n) ? { hash: match[1], n } : undefined
}
