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
 * tail is no generation number, so `generationNumber` never takes it for a generation.
 */
export const refsIndexName = (generation: string): string => `${generation}_refs`

/** The index holding the CheckpointStore entries of this deployment. */
export const metaIndexName = (prefix: string): string => `${prefix}flusso_meta`

/**
 * The generation number of `name` if it is a generation of shape `hash`, else undefined.
 * Index names are matched exactly (not by wildcard alone) so `users_ab12cd34_1x` or an
 * index of another logical index sharing the pattern is never taken for ours.
 */
export const generationNumber = (prefix: string, index: string, hash: string, name: string): number | undefined => {
  const head = `${hashAliasName(prefix, index, hash)}_`
  if (!name.startsWith(head)) return undefined
  const tail = name.slice(head.length)
  if (!/^[1-9][0-9]*$/.test(tail)) return undefined
  const n = Number(tail)
  return Number.isSafeInteger(n) ? n : undefined
}
